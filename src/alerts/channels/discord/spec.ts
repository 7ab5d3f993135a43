import { formatDuration } from '../../../domain/duration.js';
import type { Notification } from '../../../domain/notification.js';
import { invalid, valid } from '../../../domain/result.js';
import { deliverSegments, type Planned } from '../../batch.js';
import type { Channel } from '../../channel.js';
import { formatLatency } from '../../format.js';
import { classifyHttp, createChannelAgent, maskUrl, parseHookUrl, post } from '../http.js';
import type { ChannelContext, ChannelSpec } from '../spec.js';
import { webhookBody } from '../webhook/body.js';

/** A Discord destination: its webhook URL (which carries the token). */
export interface DiscordSettings {
  url: string;
}

/** An embed as Discord takes it. */
interface Embed {
  title: string;
  description?: string;
  color: number;
  timestamp: string;
  fields?: Array<{ name: string; value: string; inline?: boolean }>;
}

const COLOURS = { down: 0xd83c3e, up: 0x2eb67d, degraded: 0xecb22e, quiet: 0x95a5a6 } as const;
const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
/** Discord's markdown: `*_~|>\` and backticks lose their meaning. */
const plain = (text: string): string => text.replace(/([\\*_~`|>#[\]()-])/g, '\\$1');

/** One notification as an embed. */
function embedOf(n: Notification): Embed {
  const at = new Date(n.at).toISOString();
  const body = webhookBody(n);
  switch (n.kind) {
    case 'down':
      return {
        title: clip(`🔴 ${n.incident.target.name} is DOWN`, 256),
        description: clip(plain(n.incident.reason), 4_000),
        color: COLOURS.down,
        timestamp: at,
        fields: [
          { name: 'Address', value: clip(plain(n.incident.target.address), 1_000) },
          ...(n.incident.latencyMs !== undefined ? [{ name: 'Latency', value: formatLatency(n.incident.latencyMs), inline: true }] : []),
          { name: 'Failed checks', value: String(n.incident.failedChecks), inline: true },
          { name: 'From', value: clip(plain(n.incident.source.label), 200), inline: true },
          ...(n.incident.target.note ? [{ name: 'Note', value: clip(plain(n.incident.target.note), 1_000) }] : []),
        ],
      };
    case 'up':
      return { title: clip(`🟢 ${n.incident.target.name} is UP again`, 256), description: `Down for ${formatDuration(n.resolvedAt - n.incident.openedAt)}`, color: COLOURS.up, timestamp: at };
    case 'closed':
      return { title: clip(`✅ ${n.incident.target.name}: incident closed (${n.why})`, 256), color: COLOURS.quiet, timestamp: at };
    case 'degraded':
      return { title: clip(`🟡 ${n.target.name} is DEGRADED`, 256), ...(n.detail ? { description: clip(plain(n.detail), 4_000) } : {}), color: COLOURS.degraded, timestamp: at };
    case 'normal':
      return { title: clip(`🟢 ${n.target.name} is back to normal`, 256), description: `was DEGRADED for ${formatDuration(n.durationMs)}`, color: COLOURS.up, timestamp: at };
    default:
      return { title: clip(`${n.kind}`, 256), ...(body.detail ? { description: clip(plain(body.detail), 4_000) } : {}), color: COLOURS.quiet, timestamp: at };
  }
}

/** Discord takes at most 6,000 characters of embeds a message: a long list goes out in several. */
const EMBED_BUDGET = 5_500;
const sizeOf = (e: Embed): number => e.title.length + (e.description?.length ?? 0) + (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);

/** Splits a long list embed into several of at most `max` characters of description. */
function splitList(e: Embed, max = 3_500): Embed[] {
  if (!e.description || e.description.length <= max) return [e];
  const out: Embed[] = [];
  let current: string[] = [];
  for (const line of e.description.split('\n')) {
    if (current.join('\n').length + line.length + 1 > max && current.length > 0) {
      out.push({ ...e, description: current.join('\n') });
      current = [];
    }
    current.push(line);
  }
  if (current.length > 0) out.push({ ...e, description: current.join('\n') });
  return out.map((x, i) => (i === 0 ? x : { ...x, title: `${e.title} (continued)` }));
}

/** Embeds as messages: at most 10 each and within Discord's size budget. */
function messagesOf(embeds: Embed[]): Embed[][] {
  const messages: Embed[][] = [];
  let current: Embed[] = [];
  let size = 0;
  for (const e of embeds.flatMap((x) => splitList(x))) {
    if (current.length === 10 || (current.length > 0 && size + sizeOf(e) > EMBED_BUDGET)) {
      messages.push(current);
      current = [];
      size = 0;
    }
    current.push(e);
    size += sizeOf(e);
  }
  if (current.length > 0) messages.push(current);
  return messages;
}

/** A segment of a batch as embeds: several alerts (or resolutions, or short outages) as one list each. */
function embedsOf(segment: Planned[], at: string): { embeds: Embed[]; ids: string[] } {
  const ids = segment.flatMap((p) => (p.kind === 'blip' ? p.ids : [p.notification.id]));
  const downs = segment.flatMap((p) => (p.kind === 'one' && p.notification.kind === 'down' ? [p.notification] : []));
  const ups = segment.flatMap((p) => (p.kind === 'one' && p.notification.kind === 'up' ? [p.notification] : []));
  const blips = segment.flatMap((p) => (p.kind === 'blip' ? [p] : []));
  const rest = segment.flatMap((p) => (p.kind === 'one' && p.notification.kind !== 'down' && p.notification.kind !== 'up' ? [p.notification] : []));
  const embeds: Embed[] = [];
  const list = (title: string, lines: string[], color: number): Embed => ({ title, description: lines.join('\n'), color, timestamp: at });
  if (downs.length === 1) embeds.push(embedOf(downs[0]!));
  else if (downs.length > 1) embeds.push(list(`🔴 ${downs.length} targets are DOWN`, downs.map((d) => d.kind === 'down' ? `**${plain(d.incident.target.name)}** · ${plain(clip(d.incident.reason, 80))}` : ''), COLOURS.down));
  if (blips.length > 0) {
    embeds.push(list(`⚡ ${blips.length === 1 ? 'An outage' : `${blips.length} outages`} already over`, blips.map((b) => `**${plain(b.down.incident.target.name)}** was DOWN for ${formatDuration(Math.max(0, b.end.resolvedAt - b.down.incident.openedAt))}: ${plain(clip(b.down.incident.reason, 80))}`), COLOURS.quiet));
  }
  if (ups.length === 1) embeds.push(embedOf(ups[0]!));
  else if (ups.length > 1) embeds.push(list(`🟢 ${ups.length} targets are UP again`, ups.map((u) => u.kind === 'up' ? `**${plain(u.incident.target.name)}** · down for ${formatDuration(u.resolvedAt - u.incident.openedAt)}` : ''), COLOURS.up));
  for (const n of rest) embeds.push(embedOf(n));
  return { embeds, ids };
}

/**
 * The `discord` kind: a Discord channel's webhook. Storms are grouped like Telegram's (one message per
 * group, up to 10 embeds, lists beyond one target); colours by state; the webhook's own rate limit
 * (429 with `retry_after`) is waited out; "Unknown Webhook" (404) pauses the destination.
 */
export const discordChannel: ChannelSpec<DiscordSettings> = {
  kind: 'discord',
  usage: '/notify add discord NAME https://discord.com/api/webhooks/ID/TOKEN',
  options: [],
  env: [],
  defaultEvents: ['down', 'up'],
  parse(address) {
    const url = parseHookUrl(address, 'Discord webhook');
    if (!url.ok) return invalid(url.error);
    if (url.value.protocol === 'https:' && !/(^|\.)discord(app)?\.com$/i.test(url.value.hostname)) {
      return invalid('a Discord webhook URL is https://discord.com/api/webhooks/ID/TOKEN (Channel settings → Integrations → Webhooks)');
    }
    return valid({ url: url.value.href });
  },
  describe: (s) => maskUrl(new URL(s.url)),
  secrets: (s) => [s.url],
  format: (s) => ({ address: s.url, options: {} }),
  create: (ctx) => createDiscordChannel(ctx),
};

function createDiscordChannel(ctx: ChannelContext): Channel {
  const agent = createChannelAgent(ctx.allowMetadata);
  return {
    kind: 'discord',
    grouping: { windowMs: 5_000, maxIntervalMs: 60_000, immediate: (n) => n.kind === 'test' },
    classify: classifyHttp,
    async deliver(destination, batch, done, signal) {
      const settings = ctx.settings(destination) as DiscordSettings | undefined;
      await deliverSegments(batch, done, signal, async (segment) => {
        const { embeds } = embedsOf(segment, new Date(ctx.clock.now()).toISOString());
        if (!settings || embeds.length === 0) return;
        const url = new URL(settings.url);
        url.searchParams.set('wait', 'true');
        // A long storm takes several messages; a failure between them repeats the group.
        for (const part of messagesOf(embeds)) {
          await post(agent, url.href, JSON.stringify({ username: 'Lookout', allowed_mentions: { parse: [] }, embeds: part }), { 'content-type': 'application/json', 'user-agent': 'Lookout' });
        }
      });
    },
  };
}
