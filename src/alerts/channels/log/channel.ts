import { formatDuration } from '../../../domain/duration.js';
import { unreachable, type Notification } from '../../../domain/notification.js';
import type { Logger } from '../../../lib/logger.js';
import type { Channel } from '../../channel.js';

/** The log event a notification is (`alert`, `resolved`, ...). */
export function logEvent(n: Notification): string {
  switch (n.kind) {
    case 'down':
      return 'alert';
    case 'up':
      return 'resolved';
    case 'closed':
      return 'closed';
    default:
      return n.kind;
  }
}

/** The fields of a notification's log line: flat, no HTML, secrets never among them. */
export function logFields(n: Notification): Record<string, unknown> {
  const base = { event: logEvent(n), chat: n.chatId, at: new Date(n.at).toISOString(), notification: n.id };
  switch (n.kind) {
    case 'down':
    case 'reminder':
    case 'escalation':
      return {
        ...base,
        target: n.incident.target.id,
        name: n.incident.target.name,
        address: n.incident.target.address,
        reason: n.incident.reason,
        failedChecks: n.incident.failedChecks,
        incident: n.incident.id,
        since: new Date(n.incident.openedAt).toISOString(),
      };
    case 'up':
    case 'closed':
      return {
        ...base,
        target: n.incident.target.id,
        name: n.incident.target.name,
        address: n.incident.target.address,
        reason: n.incident.reason,
        incident: n.incident.id,
        downtimeMs: n.resolvedAt - n.incident.openedAt,
        downtime: formatDuration(n.resolvedAt - n.incident.openedAt),
        ...(n.kind === 'closed' ? { why: n.why } : {}),
      };
    case 'degraded':
    case 'maintenance':
      return { ...base, target: n.target.id, name: n.target.name, ...(n.detail ? { detail: n.detail } : {}) };
    case 'normal':
    case 'maintenance-over':
      return { ...base, target: n.target.id, name: n.target.name, downtimeMs: n.durationMs };
    case 'warning':
      return { ...base, target: n.target.id, name: n.target.name, ...n.warning };
    case 'acknowledged':
      return { ...base, incidents: n.incidentIds, by: n.by.name };
    case 'window-started':
      return { ...base, scope: n.scope, until: n.until, ...(n.reason ? { reason: n.reason } : {}) };
    case 'window-ended':
      return { ...base, scope: n.scope, window: n.window };
    case 'window-ended-up':
      return { ...base, scope: n.scope };
    case 'trace':
      return { ...base, incident: n.incidentId, ok: n.trace.ok, summary: n.trace.summary };
    case 'store-failing':
      return { ...base, cause: n.cause };
    case 'store-recovered':
      return { ...base, retried: n.retried };
    case 'test':
      return { ...base, destination: n.destination };
    case 'destination-paused':
      return { ...base, destination: n.destination, why: n.why };
    case 'location':
      return { ...base, location: n.location, lost: n.lost, remaining: n.remaining, targets: n.targets };
    case 'change':
      return { ...base, action: n.change.action, subject: n.change.subject, by: n.change.by, ...(n.change.detail ? { detail: n.change.detail } : {}) };
    default:
      return unreachable(n);
  }
}

const LOUD: ReadonlySet<Notification['kind']> = new Set(['down', 'degraded', 'store-failing', 'destination-paused']);

/** `log:<chat>`: headless Lookout's destination for every chat. */
export const logDestination = (chatId: number): string => `log:${chatId}`;

/**
 * The `log` channel: every notification as one JSON log line (headless mode's alerts). Alerts and
 * DEGRADED at level warn, the rest at info. It cannot fail, so it never retries.
 */
export function createLogChannel(logger: Logger): Channel {
  return {
    kind: 'log',
    classify: () => ({ action: 'retry' }),
    async deliver(_destination, batch, done) {
      for (const n of batch) {
        const name = 'name' in logFields(n) ? String(logFields(n).name) : undefined;
        const words = name ? `${name}: ${logEvent(n)}` : logEvent(n);
        logger[LOUD.has(n.kind) ? 'warn' : 'info'](logFields(n), words);
        await done([n.id]);
      }
    },
  };
}
