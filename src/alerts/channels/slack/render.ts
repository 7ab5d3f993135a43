import { formatDuration } from '../../../domain/duration.js';
import type { IncidentFacts, Notification } from '../../../domain/notification.js';
import type { Planned } from '../../batch.js';
import { formatLatency, formatTime } from '../../format.js';

/** A Slack attachment: a coloured bar with blocks. */
export interface Attachment {
  color: string;
  fallback: string;
  blocks: Array<Record<string, unknown>>;
}

/** A message as chat.postMessage and incoming webhooks take it. */
export interface SlackMessage {
  text: string;
  attachments: Attachment[];
}

export const COLOURS = { down: '#d83c3e', up: '#2eb67d', degraded: '#ecb22e', quiet: '#95a5a6' } as const;
const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
/** Slack's mrkdwn escapes: `&`, `<` and `>` only. */
export const esc = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const section = (text: string): Record<string, unknown> => ({ type: 'section', text: { type: 'mrkdwn', text: clip(text, 2_900) } });
const context = (text: string): Record<string, unknown> => ({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(text, 2_900) }] });

/** An incident's alert: name, reason, latency, since, failed checks, note, source. */
export function alertAttachment(i: IncidentFacts, state?: { resolvedAt?: number; ackBy?: string }): Attachment {
  const resolved = state?.resolvedAt !== undefined;
  const title = resolved
    ? `:white_check_mark: *${esc(i.target.name)}* was DOWN for ${formatDuration(state.resolvedAt! - i.openedAt)}, resolved at ${formatTime(state.resolvedAt!)}`
    : `:red_circle: *${esc(i.target.name)}* is DOWN`;
  const facts = [`*Reason:* ${esc(i.reason)}`, ...(i.latencyMs !== undefined ? [`*Latency:* ${formatLatency(i.latencyMs)}`] : []), `*Since:* ${formatTime(i.openedAt)}`, `*Failed checks:* ${i.failedChecks}`];
  return {
    color: resolved ? COLOURS.up : COLOURS.down,
    fallback: clip(`${i.target.name} is DOWN: ${i.reason}`, 300),
    blocks: [
      section(`${title}\n${esc(clip(i.target.address, 300))}\n${facts.join(' · ')}`),
      ...(i.target.note ? [section(`*Note:* ${esc(i.target.note)}`)] : []),
      context(`From ${esc(i.source.label)}${i.source.address ? ` (${esc(i.source.address)})` : ''}${state?.ackBy ? ` · :eyes: acknowledged by ${esc(state.ackBy)}` : ''}`),
    ],
  };
}

/** A list of several, as one attachment. */
/** A list of several, as one attachment: sections of at most 2,900 characters each, so every line is kept. */
function list(color: string, title: string, lines: string[]): Attachment {
  const blocks: Array<Record<string, unknown>> = [];
  let current = title;
  for (const line of lines) {
    if (current.length + line.length + 1 > 2_900) {
      blocks.push(section(current));
      current = line;
    } else current = `${current}\n${line}`;
  }
  blocks.push(section(current));
  return { color, fallback: clip(title.replace(/[*:]/g, ''), 300), blocks };
}

/** Anything that is not an alert, in one line. */
export function noticeLine(n: Notification): { color: string; text: string } {
  switch (n.kind) {
    case 'up':
      return { color: COLOURS.up, text: `:large_green_circle: *${esc(n.incident.target.name)}* is UP again after ${formatDuration(n.resolvedAt - n.incident.openedAt)}${n.now ? ` (${esc(n.now)})` : ''}` };
    case 'closed':
      return { color: COLOURS.quiet, text: `:white_check_mark: *${esc(n.incident.target.name)}*: incident closed (${n.why})` };
    case 'acknowledged':
      return { color: COLOURS.quiet, text: `:eyes: acknowledged by ${esc(n.by.name)}` };
    case 'degraded':
      return { color: COLOURS.degraded, text: `:large_yellow_circle: *${esc(n.target.name)}* is DEGRADED${n.detail ? `: ${esc(n.detail)}` : ''}` };
    case 'normal':
      return { color: COLOURS.up, text: `:large_green_circle: *${esc(n.target.name)}* is back to normal (was DEGRADED for ${formatDuration(n.durationMs)})` };
    case 'maintenance':
      return { color: COLOURS.quiet, text: `:wrench: *${esc(n.target.name)}* reports maintenance${n.detail ? `: ${esc(n.detail)}` : ''}` };
    case 'maintenance-over':
      return { color: COLOURS.quiet, text: `:wrench: *${esc(n.target.name)}* is out of maintenance after ${formatDuration(n.durationMs)}` };
    case 'warning':
      return {
        color: COLOURS.degraded,
        text: `:warning: *${esc(n.target.name)}*: ${n.warning.what === 'rate' ? `${n.warning.remaining} of ${n.warning.limit} requests left` : `${n.warning.what === 'cert' ? 'TLS certificate' : 'API token'} expires ${formatTime(n.warning.expiresAt)}`}`,
      };
    case 'window-started':
      return { color: COLOURS.quiet, text: `:wrench: Maintenance started for *${esc(n.scope)}* until ${esc(n.until)}${n.reason ? `: ${esc(n.reason)}` : ''}` };
    case 'window-ended':
    case 'window-ended-up':
      return { color: COLOURS.quiet, text: `:bell: ${n.kind === 'window-ended' && n.window === 'mute' ? 'Mute' : 'Maintenance'} of *${esc(n.scope)}* ended` };
    case 'reminder':
    case 'escalation':
      return { color: COLOURS.down, text: `:alarm_clock: *${esc(n.incident.target.name)}* is still DOWN (since ${formatTime(n.incident.openedAt)})` };
    case 'trace':
      return { color: COLOURS.quiet, text: `:satellite: Trace to ${esc(n.trace.host)}: ${esc(n.trace.summary)}` };
    case 'test':
      return { color: COLOURS.quiet, text: `:test_tube: A test notification from Lookout (asked for by ${esc(n.by)})` };
    case 'down':
      return { color: COLOURS.down, text: `:red_circle: *${esc(n.incident.target.name)}* is DOWN: ${esc(n.incident.reason)}` };
    default:
      return { color: COLOURS.quiet, text: n.kind };
  }
}

/** One segment of a batch as one message: its alerts, its short outages, then everything else. */
export function segmentMessage(segment: Planned[]): SlackMessage {
  const downs = segment.flatMap((p) => (p.kind === 'one' && p.notification.kind === 'down' ? [p.notification.incident] : []));
  const blips = segment.flatMap((p) => (p.kind === 'blip' ? [p] : []));
  const rest = segment.flatMap((p) => (p.kind === 'one' && p.notification.kind !== 'down' ? [p.notification] : []));
  const attachments: Attachment[] = [];
  if (downs.length === 1) attachments.push(alertAttachment(downs[0]!));
  else if (downs.length > 1) attachments.push(list(COLOURS.down, `:red_circle: *${downs.length} targets are DOWN*`, downs.map((i) => `• *${esc(i.target.name)}* · ${esc(clip(i.reason, 80))}`)));
  if (blips.length > 0) {
    attachments.push(
      list(COLOURS.quiet, `:zap: *${blips.length === 1 ? 'An outage' : `${blips.length} outages`} already over*`, blips.map((b) => `• *${esc(b.down.incident.target.name)}* was DOWN for ${formatDuration(Math.max(0, b.end.resolvedAt - b.down.incident.openedAt))}: ${esc(clip(b.down.incident.reason, 80))}`)),
    );
  }
  // Notices of one colour share an attachment, so a storm of resolutions is one list.
  const byColour = new Map<string, string[]>();
  for (const n of rest) {
    const { color, text } = noticeLine(n);
    byColour.set(color, [...(byColour.get(color) ?? []), text]);
  }
  for (const [color, lines] of byColour) attachments.push({ color, fallback: clip(lines[0]!.replace(/[*:]/g, ''), 300), blocks: [section(lines.join('\n'))] });
  const text =
    downs.length === 1 ? `${downs[0]!.target.name} is DOWN: ${downs[0]!.reason}`
    : downs.length > 1 ? `${downs.length} targets are DOWN`
    : (attachments[0]?.fallback ?? 'Lookout');
  // Slack takes 50 blocks a message: beyond, the last attachments are cut (a storm of thousands).
  let blocks = 0;
  const kept = attachments.filter((a) => (blocks += a.blocks.length) <= 48);
  return { text: clip(text, 300), attachments: kept };
}
