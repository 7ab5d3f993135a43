import { unreachable, type IncidentFacts, type Notification, type TargetFacts } from '../../../domain/notification.js';

/** The version of the JSON body (`type`); a change of meaning gets a new one. */
export const WEBHOOK_TYPE = 'lookout.alert.v1';

/** The body of a webhook delivery (documented in README). */
export interface WebhookBody {
  type: typeof WEBHOOK_TYPE;
  /** The notification's id: the same on a retry, so receivers can drop a repeat. */
  id: string;
  event: string;
  at: string;
  chat: number;
  target?: { id: string; name: string; address: string; note?: string };
  /** The state this tells of, and the one before, where the event has them. */
  state?: string;
  previousState?: string;
  reason?: string;
  latencyMs?: number;
  incident?: { id: string; openedAt: string; failedChecks?: number; resolvedAt?: string; downtimeMs?: number; acknowledgedBy?: string };
  incidents?: string[];
  detail?: string;
  source?: { label: string; address?: string };
  links?: Record<string, string>;
}

const iso = (ms: number): string => new Date(ms).toISOString();
const target = (t: TargetFacts): NonNullable<WebhookBody['target']> => ({ id: t.id, name: t.name, address: t.address, ...(t.note ? { note: t.note } : {}) });
const incident = (i: IncidentFacts, extra: Partial<NonNullable<WebhookBody['incident']>> = {}): NonNullable<WebhookBody['incident']> => ({
  id: i.id,
  openedAt: iso(i.openedAt),
  failedChecks: i.failedChecks,
  ...extra,
});

/** Builds the body for one notification. */
export function webhookBody(n: Notification): WebhookBody {
  const base = { type: WEBHOOK_TYPE, id: n.id, event: n.kind, at: iso(n.at), chat: n.chatId } as const;
  switch (n.kind) {
    case 'down':
      return {
        ...base,
        target: target(n.incident.target),
        state: 'DOWN',
        reason: n.incident.reason,
        ...(n.incident.latencyMs !== undefined ? { latencyMs: Math.round(n.incident.latencyMs) } : {}),
        incident: incident(n.incident),
        source: n.incident.source,
      };
    case 'up':
    case 'closed':
      return {
        ...base,
        target: target(n.incident.target),
        state: n.kind === 'up' ? 'UP' : n.why === 'paused' ? 'PAUSED' : n.why === 'maintenance' ? 'MAINTENANCE' : 'REMOVED',
        previousState: 'DOWN',
        reason: n.incident.reason,
        incident: incident(n.incident, {
          resolvedAt: iso(n.resolvedAt),
          downtimeMs: n.resolvedAt - n.incident.openedAt,
          ...(n.kind === 'up' && n.ackBy ? { acknowledgedBy: n.ackBy } : {}),
        }),
        ...(n.kind === 'up' && n.now ? { detail: n.now } : {}),
      };
    case 'reminder':
    case 'escalation':
      return { ...base, target: target(n.incident.target), state: 'DOWN', reason: n.incident.reason, incident: incident(n.incident) };
    case 'acknowledged':
      return { ...base, incidents: n.incidentIds, detail: `acknowledged by ${n.by.name}` };
    case 'degraded':
    case 'maintenance':
      return { ...base, target: target(n.target), state: n.kind === 'degraded' ? 'DEGRADED' : 'MAINTENANCE', ...(n.detail ? { detail: n.detail } : {}) };
    case 'normal':
    case 'maintenance-over':
      return { ...base, target: target(n.target), state: 'UP', previousState: n.kind === 'normal' ? 'DEGRADED' : 'MAINTENANCE', detail: `after ${Math.round(n.durationMs / 1_000)} s` };
    case 'warning':
      return {
        ...base,
        target: target(n.target),
        detail: n.warning.what === 'rate' ? `rate limit: ${n.warning.remaining} of ${n.warning.limit} left` : `${n.warning.what === 'cert' ? 'TLS certificate' : 'token'} expires ${iso(n.warning.expiresAt)}`,
      };
    case 'window-started':
      return { ...base, detail: `maintenance of ${n.scope} until ${n.until}${n.reason ? `: ${n.reason}` : ''}` };
    case 'window-ended':
    case 'window-ended-up':
      return { ...base, detail: `${n.kind === 'window-ended' && n.window === 'mute' ? 'mute' : 'maintenance'} of ${n.scope} ended` };
    case 'trace':
      return { ...base, incidents: [n.incidentId], detail: `trace to ${n.trace.host}: ${n.trace.summary}` };
    case 'store-failing':
    case 'store-recovered':
    case 'destination-paused':
      return { ...base, detail: n.kind };
    case 'location':
      return { ...base, detail: `location ${n.location} ${n.lost ? 'lost' : 'back'}` };
    case 'change':
      return { ...base, detail: `${n.change.subject} ${n.change.action} by token ${n.change.by}` };
    case 'test':
      return { ...base, detail: `a test asked for by ${n.by}` };
    default:
      return unreachable(n);
  }
}
