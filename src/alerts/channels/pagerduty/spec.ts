import type { Notification } from '../../../domain/notification.js';
import { invalid, valid } from '../../../domain/result.js';
import { deliverEach, type Channel, type DeliveryVerdict } from '../../channel.js';
import { classifyHttp, createChannelAgent, HttpDeliveryError, parseHookUrl, post } from '../http.js';
import { mask, type ChannelContext, type ChannelSpec } from '../spec.js';

/** The severities of the Events API. */
const SEVERITIES = ['critical', 'error', 'warning', 'info'] as const;
type Severity = (typeof SEVERITIES)[number];

/** A PagerDuty destination: an Events API v2 integration key, and the severity its alerts carry. */
export interface PagerDutySettings {
  routingKey: string;
  severity: Severity;
}

/** Where events go unless `PAGERDUTY_EVENTS_URL` says otherwise (the EU service, a test receiver). */
export const PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
const KEY_RE = /^[A-Za-z0-9]{32}$/;

/** One Events API v2 event. */
export interface PagerDutyEvent {
  routing_key: string;
  event_action: 'trigger' | 'acknowledge' | 'resolve';
  dedup_key: string;
  client?: string;
  payload?: {
    summary: string;
    source: string;
    severity: Severity;
    timestamp: string;
    component: string;
    group: string;
    class?: string;
    custom_details: Record<string, unknown>;
  };
}

/** The events of one notification: a trigger, a resolve, or an acknowledge per incident. */
export function pagerDutyEvents(n: Notification, s: PagerDutySettings): PagerDutyEvent[] {
  const base = { routing_key: s.routingKey, client: 'Lookout' };
  switch (n.kind) {
    case 'down': {
      const i = n.incident;
      return [
        {
          ...base,
          event_action: 'trigger',
          dedup_key: i.id,
          payload: {
            summary: `${i.target.name} is DOWN: ${i.reason}`.slice(0, 1_024),
            source: i.target.address.slice(0, 255) || i.target.name,
            severity: s.severity,
            timestamp: new Date(i.openedAt).toISOString(),
            component: i.target.name,
            group: String(n.chatId),
            ...(i.failure ? { class: i.failure } : {}),
            custom_details: {
              reason: i.reason,
              ...(i.latencyMs !== undefined ? { latency_ms: Math.round(i.latencyMs) } : {}),
              failed_checks: i.failedChecks,
              from: i.source.label,
              ...(i.target.note ? { note: i.target.note } : {}),
            },
          },
        },
      ];
    }
    case 'up':
    case 'closed':
      return [{ ...base, event_action: 'resolve', dedup_key: n.incident.id }];
    case 'acknowledged':
      return n.incidentIds.map((id) => ({ ...base, event_action: 'acknowledge' as const, dedup_key: id }));
    default:
      // PagerDuty holds incidents; everything else is the chat's to tell.
      return [];
  }
}

/** 400 with an invalid key means the destination is gone; other answers as every HTTP destination. */
export function classifyPagerDuty(err: unknown): DeliveryVerdict {
  if (err instanceof HttpDeliveryError && err.status === 400 && /routing key|integration key|invalid.*key/i.test(err.body)) {
    return { action: 'drop', gone: true, why: 'PagerDuty refused the routing key (HTTP 400): check the integration key' };
  }
  return classifyHttp(err);
}

/**
 * The `pagerduty` kind: Events API v2. An alert triggers with the incident id as `dedup_key`, its
 * recovery (or closing) resolves it, and an Ack pressed in Telegram acknowledges it there: Lookout tells
 * PagerDuty, PagerDuty does not tell Lookout. No grouping: each incident is PagerDuty's own.
 */
export const pagerDutyChannel: ChannelSpec<PagerDutySettings> = {
  kind: 'pagerduty',
  usage: '/notify add pagerduty NAME ROUTING_KEY [severity=critical|error|warning|info]',
  options: [{ key: 'severity', help: 'critical (default), error, warning or info' }],
  env: [
    {
      name: 'PAGERDUTY_EVENTS_URL',
      description: 'where PagerDuty events go (https://events.eu.pagerduty.com/v2/enqueue for the EU service, a relay)',
      default: PAGERDUTY_EVENTS_URL,
      check: (value) => {
        const url = parseHookUrl(value, 'PagerDuty events');
        return url.ok ? undefined : `must be an https:// URL (${url.error})`;
      },
    },
  ],
  defaultEvents: ['down', 'up', 'ack'],
  parse(address, options) {
    const errors: string[] = [];
    if (!KEY_RE.test(address)) errors.push('the routing key is the 32-character Integration Key of an Events API v2 integration (Service → Integrations)');
    const severity = (options.get('severity') ?? 'critical').toLowerCase();
    if (!(SEVERITIES as readonly string[]).includes(severity)) errors.push(`severity must be one of ${SEVERITIES.join(', ')}, got "${severity.slice(0, 20)}"`);
    if (errors.length > 0) return invalid(...errors);
    return valid({ routingKey: address, severity: severity as Severity });
  },
  describe: (s) => `routing key ${mask(s.routingKey, 2)}, ${s.severity}`,
  secrets: (s) => [s.routingKey],
  format: (s) => ({ address: s.routingKey, options: { severity: s.severity } }),
  create: (ctx) => createPagerDutyChannel(ctx),
};

function createPagerDutyChannel(ctx: ChannelContext): Channel {
  const agent = createChannelAgent(ctx.allowMetadata);
  const url = ctx.env.PAGERDUTY_EVENTS_URL ?? PAGERDUTY_EVENTS_URL;
  return {
    kind: 'pagerduty',
    classify: classifyPagerDuty,
    async deliver(destination, batch, done, signal) {
      const settings = ctx.settings(destination) as PagerDutySettings | undefined;
      // Several events of one notification (an Ack of a grouped alert) may each be repeated: PagerDuty dedups by key.
      await deliverEach(batch, done, signal, async (n) => {
        for (const event of settings ? pagerDutyEvents(n, settings) : []) {
          await post(agent, url, JSON.stringify(event), { 'content-type': 'application/json', 'user-agent': 'Lookout' });
        }
      });
    },
  };
}
