import type { Notification } from '../../../domain/notification.js';
import { invalid, valid } from '../../../domain/result.js';
import { planBatch, type Planned } from '../../batch.js';
import { DeliveryError, type Channel, type DeliveryVerdict } from '../../channel.js';
import { classifyHttp, createChannelAgent, maskUrl, parseHookUrl, post } from '../http.js';
import type { ChannelContext, ChannelSpec } from '../spec.js';
import { alertAttachment, segmentMessage, type SlackMessage } from './render.js';

/** A Slack destination: an incoming webhook, or a channel the bot posts to (`SLACK_BOT_TOKEN`). */
export type SlackSettings = { mode: 'webhook'; url: string } | { mode: 'bot'; channel: string };

/** An error of Slack's Web API (`{ ok: false, error }`). */
export class SlackApiError extends Error {
  override readonly name = 'SlackApiError';
  constructor(readonly code: string) {
    super(`Slack answered ${code}`);
  }
}

/** Web API errors that mean the destination itself is gone (it is paused and the chat told). */
const GONE = new Set(['channel_not_found', 'not_in_channel', 'is_archived', 'invalid_auth', 'account_inactive', 'token_revoked', 'not_authed', 'missing_scope']);

/** Slack's answers in verdicts. */
export function classifySlack(err: unknown): DeliveryVerdict {
  if (err instanceof SlackApiError) {
    if (GONE.has(err.code)) return { action: 'drop', gone: true, why: `Slack answered ${err.code}` };
    if (err.code === 'ratelimited' || err.code === 'internal_error' || err.code === 'service_unavailable' || err.code === 'fatal_error') return { action: 'retry' };
    return { action: 'drop', why: `Slack answered ${err.code}` };
  }
  return classifyHttp(err);
}

/** An alert the bot posted: where, and what it showed (so it can be drawn again when it resolves). */
interface Posted {
  /** `<destination>|<first incident>` */
  id: string;
  channel: string;
  ts: string;
  incidents: Array<{ facts: Extract<Notification, { kind: 'down' }>['incident']; resolvedAt?: number; ackBy?: string; told?: boolean }>;
}

const CHANNEL_RE = /^[CGD][A-Z0-9]{6,20}$/;

/**
 * The `slack` kind. With an incoming-webhook URL, every group of notifications is one message with
 * coloured attachments (red DOWN, green UP, amber DEGRADED). With `SLACK_BOT_TOKEN` and a channel id,
 * the bot posts each alert with chat.postMessage, edits it with chat.update when it is resolved or
 * acknowledged, and replies in its thread with the resolution.
 */
/** Slack's Web API, unless `SLACK_API_URL` says otherwise. */
const SLACK_API_DEFAULT = 'https://slack.com/api';

export const slackChannel: ChannelSpec<SlackSettings> = {
  kind: 'slack',
  usage: '/notify add slack NAME https://hooks.slack.com/services/… (or a channel id C0123… with SLACK_BOT_TOKEN)',
  options: [],
  env: [
    { name: 'SLACK_BOT_TOKEN', description: 'a bot token (xoxb-…) for /notify add slack NAME CHANNEL_ID: alerts are edited when they resolve', secret: true, check: (v) => (/^xox[bp]-[A-Za-z0-9-]{10,}$/.test(v) ? undefined : 'must be a Slack bot token like xoxb-…') },
    { name: 'SLACK_API_URL', description: "Slack's Web API (a relay, tests)", default: SLACK_API_DEFAULT, check: (v) => (parseHookUrl(v, 'Slack API').ok ? undefined : 'must be an https:// URL') },
  ],
  defaultEvents: ['down', 'up'],
  parse(address, _options, env) {
    if (CHANNEL_RE.test(address)) {
      if (!env.SLACK_BOT_TOKEN) return invalid('a channel id needs SLACK_BOT_TOKEN (a bot token, xoxb-…); or give an incoming-webhook URL');
      return valid({ mode: 'bot', channel: address });
    }
    const url = parseHookUrl(address, 'Slack webhook');
    if (!url.ok) return invalid(`${url.error}; give an incoming-webhook URL (https://hooks.slack.com/services/…) or a channel id (C0123ABCD)`);
    if (url.value.protocol === 'https:' && url.value.hostname !== 'hooks.slack.com') return invalid('a Slack incoming webhook is https://hooks.slack.com/services/… (Slack app → Incoming Webhooks)');
    return valid({ mode: 'webhook', url: url.value.href });
  },
  describe: (s) => (s.mode === 'bot' ? `channel ${s.channel} (bot)` : maskUrl(new URL(s.url))),
  secrets: (s) => (s.mode === 'webhook' ? [s.url] : []),
  format: (s) => ({ address: s.mode === 'bot' ? s.channel : s.url, options: {} }),
  create: (ctx) => createSlackChannel(ctx),
};

function createSlackChannel(ctx: ChannelContext): Channel {
  const agent = createChannelAgent(ctx.allowMetadata);
  const api = ctx.env.SLACK_API_URL ?? SLACK_API_DEFAULT;
  const token = ctx.env.SLACK_BOT_TOKEN;
  // What was posted is kept 30 days (long enough to edit an alert on recovery), then Keyv lets it expire.
  const KEEP_MS = 30 * 86_400_000;
  const records = ctx.store.namespace<Posted>('slack-messages');
  const posted = {
    get: (id: string) => records.get(id),
    put: async (r: Posted) => void (await records.set(r.id, r, KEEP_MS)),
    async update(id: string, change: (r: Posted) => void): Promise<Posted | undefined> {
      const r = await records.get(id);
      if (!r) return undefined;
      change(r);
      await records.set(id, r, KEEP_MS);
      return r;
    },
  };
  const index = ctx.store.namespace<string>('slack-message-index');

  async function call(method: string, body: Record<string, unknown>): Promise<{ ts?: string; channel?: string }> {
    const { text } = await post(agent, `${api}/${method}`, JSON.stringify(body), {
      'content-type': 'application/json; charset=utf-8',
      authorization: `Bearer ${token ?? ''}`,
      'user-agent': 'Lookout',
    });
    const answer = JSON.parse(text) as { ok?: boolean; error?: string; ts?: string; channel?: string };
    if (!answer.ok) throw new SlackApiError(answer.error ?? 'an unknown error');
    return answer;
  }

  const redraw = async (p: Posted): Promise<void> => {
    const attachments =
      p.incidents.length === 1
        ? [alertAttachment(p.incidents[0]!.facts, { ...(p.incidents[0]!.resolvedAt !== undefined ? { resolvedAt: p.incidents[0]!.resolvedAt } : {}), ...(p.incidents[0]!.ackBy ? { ackBy: p.incidents[0]!.ackBy } : {}) })]
        : p.incidents.map((i) => alertAttachment(i.facts, { ...(i.resolvedAt !== undefined ? { resolvedAt: i.resolvedAt } : {}), ...(i.ackBy ? { ackBy: i.ackBy } : {}) }));
    const open = p.incidents.filter((i) => i.resolvedAt === undefined).length;
    await call('chat.update', { channel: p.channel, ts: p.ts, text: open === 0 ? 'resolved' : `${open} of ${p.incidents.length} DOWN`, attachments: attachments.slice(0, 20) });
  };

  /** Bot mode: alerts of a segment as one message remembered for edits; resolutions in its thread. */
  async function deliverBot(destination: string, channel: string, segment: Planned[], done: (ids: readonly string[]) => Promise<void>): Promise<void> {
    const part = async (ids: string[], work: () => Promise<void>): Promise<void> => {
      if (ids.length === 0) return;
      try {
        await work();
      } catch (err) {
        throw new DeliveryError(ids, err);
      }
      await done(ids);
    };
    const recordOf = async (incident: string): Promise<Posted | undefined> => {
      const id = await index.get(`${destination}|${incident}`);
      return id === undefined ? undefined : posted.get(id);
    };
    const downs: Array<Extract<Notification, { kind: 'down' }>> = [];
    const ends: Array<Extract<Notification, { kind: 'up' | 'closed' }>> = [];
    const acks: Array<Extract<Notification, { kind: 'acknowledged' }>> = [];
    const rest: Planned[] = [];
    for (const p of segment) {
      if (p.kind === 'one' && p.notification.kind === 'down') downs.push(p.notification);
      else if (p.kind === 'one' && (p.notification.kind === 'up' || p.notification.kind === 'closed') && (await recordOf(p.notification.incident.id))) ends.push(p.notification);
      else if (p.kind === 'one' && p.notification.kind === 'acknowledged') acks.push(p.notification);
      else rest.push(p);
    }
    // Alerts already posted before a crash cut the delivery short are not posted again.
    const fresh: typeof downs = [];
    for (const n of downs) if (!(await recordOf(n.incident.id))) fresh.push(n);
    await done(downs.filter((n) => !fresh.includes(n)).map((n) => n.id));
    await part(fresh.map((n) => n.id), async () => {
      const message = segmentMessage(fresh.map((notification) => ({ kind: 'one' as const, notification })));
      const answer = await call('chat.postMessage', { channel, ...message });
      const record: Posted = { id: `${destination}|${fresh[0]!.incident.id}`, channel: answer.channel ?? channel, ts: answer.ts ?? '', incidents: fresh.map((n) => ({ facts: n.incident })) };
      await posted.put(record);
      await Promise.all(fresh.map((n) => index.set(`${destination}|${n.incident.id}`, record.id, KEEP_MS)));
    });
    for (const n of ends) {
      await part([n.id], async () => {
        const record = (await recordOf(n.incident.id))!;
        const shown = record.incidents.find((i) => i.facts.id === n.incident.id);
        if (n.kind === 'up' && !shown?.told) {
          const message = segmentMessage([{ kind: 'one', notification: n }]);
          await call('chat.postMessage', { channel: record.channel, thread_ts: record.ts, ...message });
        }
        const updated = await posted.update(record.id, (r) => {
          const i = r.incidents.find((x) => x.facts.id === n.incident.id);
          if (i) {
            i.resolvedAt = n.resolvedAt;
            i.told = true;
          }
        });
        if (updated) await redraw(updated);
      });
    }
    for (const n of acks) {
      await part([n.id], async () => {
        for (const id of n.incidentIds) {
          const record = await recordOf(id);
          if (!record) continue;
          const updated = await posted.update(record.id, (r) => {
            const i = r.incidents.find((x) => x.facts.id === id);
            if (i) i.ackBy = n.by.name;
          });
          if (updated) await redraw(updated);
        }
      });
    }
    const ids = rest.flatMap((p) => (p.kind === 'blip' ? p.ids : [p.notification.id]));
    await part(ids, async () => {
      await call('chat.postMessage', { channel, ...segmentMessage(rest) });
    });
  }

  return {
    kind: 'slack',
    grouping: { windowMs: 5_000, maxIntervalMs: 60_000, immediate: (n) => n.kind === 'test' },
    classify: classifySlack,
    async deliver(destination, batch, done, signal) {
      const settings = ctx.settings(destination) as SlackSettings | undefined;
      for (const segment of planBatch(batch)) {
        if (signal.aborted) return;
        const ids = segment.flatMap((p) => (p.kind === 'blip' ? p.ids : [p.notification.id]));
        if (!settings) {
          await done(ids);
          continue;
        }
        if (settings.mode === 'bot') {
          await deliverBot(destination, settings.channel, segment, done);
          continue;
        }
        const message: SlackMessage = segmentMessage(segment);
        try {
          await post(agent, settings.url, JSON.stringify(message), { 'content-type': 'application/json', 'user-agent': 'Lookout' });
        } catch (err) {
          throw new DeliveryError(ids, err);
        }
        await done(ids);
      }
    },
  };
}
