import { formatDuration } from '../../../domain/duration.js';
import { unreachable, type ChangeFacts, type ClosedWhy, type IncidentFacts, type Notification, type PersonFacts, type SourceFacts, type TargetFacts, type TraceFacts, type WarningFacts } from '../../../domain/notification.js';
import { escapeHtml } from '../../../lib/html.js';
import { formatLatency, formatTime, STATE_ICONS } from '../../format.js';
import { MESSAGE_LIMIT } from '../../split.js';

// Telegram's words for every notification, in HTML parse mode; every user value is escaped.

/** One inline keyboard button: its label and callback data (at most 64 bytes). */
export interface Button {
  text: string;
  data: string;
}

/** A message ready to send: HTML text and optional inline keyboard rows. */
export interface Rendered {
  text: string;
  buttons?: Button[][];
}

/** Callback data of the alert buttons; parsed back by the bot. */
export const ALERT_ACTIONS = { recheck: 'rc', mute: 'mu', trace: 'tr', ack: 'ak' } as const;

/** Up to this many incidents, a grouped alert has a line each (name, reason, address). */
export const GROUP_MESSAGE_MAX = 25;
/** A larger group lists names by reason, this many per message (32-character names still fit 4096). */
export const COMPACT_MESSAGE_MAX = 100;

/** One incident as an alert message shows it now: its facts, and what became of it since. */
export interface ShownIncident {
  facts: IncidentFacts;
  ack?: { name: string; at: number };
  resolvedAt?: number;
  resolution?: 'recovered' | ClosedWhy;
}

const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);
const bold = (name: string): string => `<b>${escapeHtml(name)}</b>`;

/** `fra-1 (203.0.113.7)` */
export const formatSource = (source: SourceFacts): string => `${escapeHtml(source.label)}${source.address ? ` (${escapeHtml(source.address)})` : ''}`;

function singleButtons(facts: IncidentFacts, messageKey: string, withAck: boolean): Button[][] {
  const row: Button[] = [
    { text: 'Recheck', data: `${ALERT_ACTIONS.recheck}:${facts.target.id}` },
    { text: 'Mute 1h', data: `${ALERT_ACTIONS.mute}:${facts.target.id}` },
    { text: 'Trace', data: `${ALERT_ACTIONS.trace}:${facts.target.id}` },
  ];
  if (withAck) row.push({ text: 'Ack', data: `${ALERT_ACTIONS.ack}:${messageKey}` });
  return [row];
}

/** The DOWN alert of one target: what, where, why, since when, from where, and the target's note. */
export function formatAlert(facts: IncidentFacts): string {
  const lines = [
    `${STATE_ICONS.DOWN} ${bold(facts.target.name)} is DOWN`,
    escapeHtml(clip(facts.target.address, 300)),
    `Reason: ${escapeHtml(facts.reason)}`,
  ];
  if (facts.latencyMs !== undefined) lines.push(`Latency: ${formatLatency(facts.latencyMs)}`);
  lines.push(`When: ${formatTime(facts.openedAt)}`, `Failed checks: ${facts.failedChecks}`);
  lines.push(`From: ${formatSource(facts.source)}`);
  if (facts.target.note) lines.push(`Note: ${escapeHtml(facts.target.note)}`);
  return lines.join('\n');
}

/** One line of a grouped alert: name, reason and address, each clipped to 60 characters. */
export function formatAlertLine(facts: IncidentFacts): string {
  return `${bold(facts.target.name)} · ${escapeHtml(clip(facts.reason, 60))} · ${escapeHtml(clip(facts.target.address, 60))}`;
}

const closedWords: Record<ClosedWhy, string> = {
  paused: 'Closed: checks paused',
  removed: 'Closed: target removed',
  maintenance: 'Closed: planned maintenance',
};

function incidentStatus(i: ShownIncident): string {
  if (i.resolvedAt === undefined) return '';
  const how = i.resolution && i.resolution !== 'recovered' ? closedWords[i.resolution] : 'Resolved';
  return `✅ <b>${how}</b> at ${formatTime(i.resolvedAt)} after ${formatDuration(i.resolvedAt - i.facts.openedAt)}`;
}

/** A trace as an alert carries it: a title line and the table in a `<pre>` block. */
export function formatTrace(trace: TraceFacts): string {
  if (!trace.ok) return `🛰 Trace to ${bold(trace.host)} failed: ${escapeHtml(trace.summary)}`;
  return [
    `🛰 Trace to ${bold(trace.host)} from ${formatSource(trace.source)} (${escapeHtml(trace.mode)}): ${escapeHtml(trace.summary)}`,
    ...(trace.table !== undefined ? [`<pre>${escapeHtml(trace.table)}</pre>`] : []),
  ].join('\n');
}

/** Whether an alert and its trace fit one message together. */
export const traceFits = (facts: IncidentFacts, trace: TraceFacts): boolean => formatAlert(facts).length + formatTrace(trace).length + 200 <= MESSAGE_LIMIT;

/**
 * A DOWN alert message as it stands now. One incident: the full alert with Recheck, Mute 1h, Trace and
 * Ack, plus who acknowledged it and when it was resolved. Several: one line each with its status, and
 * an Ack button that acknowledges them all while any is open and unacknowledged.
 */
export function formatAlertMessage(messageKey: string, incidents: readonly ShownIncident[], trace?: TraceFacts): Rendered {
  const only = incidents.length === 1 ? incidents[0] : undefined;
  if (only) {
    const lines = [formatAlert(only.facts)];
    // The trace goes only while the whole message stays within Telegram's limit.
    if (trace && traceFits(only.facts, trace)) lines.push('', formatTrace(trace));
    if (only.ack) lines.push('', `👀 Acknowledged by ${escapeHtml(only.ack.name)} at ${formatTime(only.ack.at)}`);
    if (only.resolvedAt !== undefined) return { text: [...lines, '', incidentStatus(only)].join('\n') };
    return { text: lines.join('\n'), buttons: singleButtons(only.facts, messageKey, only.ack === undefined) };
  }
  const open = incidents.filter((i) => i.resolvedAt === undefined);
  const header =
    open.length === 0
      ? `✅ <b>${incidents.length} targets were DOWN</b>, all resolved`
      : `${STATE_ICONS.DOWN} <b>${open.length} of ${incidents.length} targets are DOWN</b>`;
  // 25 lines with long reasons and addresses (longer still once escaped) and long names of who
  // acknowledged can pass Telegram's limit, and a message that long is refused: then names only.
  const lineOf = (i: ShownIncident, full: boolean): string => {
    const what = full ? formatAlertLine(i.facts) : bold(i.facts.target.name);
    if (i.resolvedAt !== undefined) return `✅ ${what} · resolved after ${formatDuration(i.resolvedAt - i.facts.openedAt)}`;
    return `${STATE_ICONS.DOWN} ${what}${i.ack ? ` · 👀${full ? ` ${escapeHtml(i.ack.name)}` : ''}` : ''}`;
  };
  const first = incidents.reduce((min, i) => Math.min(min, i.facts.openedAt), Infinity);
  const render = (full: boolean): string => [header, ...incidents.map((i) => lineOf(i, full)), `Since: ${formatTime(first)}`].join('\n');
  const detailed = incidents.length <= GROUP_MESSAGE_MAX ? render(true) : '';
  const text =
    detailed !== '' && detailed.length <= MESSAGE_LIMIT ? detailed
    : incidents.length <= GROUP_MESSAGE_MAX ? render(false)
    : [header, ...compactLines(incidents), `Since: ${formatTime(first)}`].join('\n');
  const unacked = open.some((i) => i.ack === undefined);
  return unacked ? { text, buttons: [[{ text: 'Ack all', data: `${ALERT_ACTIONS.ack}:${messageKey}` }]] } : { text };
}

/** A storm's alert: open targets' names grouped by reason, then the resolved ones. */
function compactLines(incidents: readonly ShownIncident[]): string[] {
  const byReason = new Map<string, ShownIncident[]>();
  for (const i of incidents.filter((x) => x.resolvedAt === undefined)) {
    const list = byReason.get(i.facts.reason) ?? [];
    list.push(i);
    byReason.set(i.facts.reason, list);
  }
  const names = (list: readonly ShownIncident[]): string => list.map((i) => `${escapeHtml(i.facts.target.name)}${i.ack ? '👀' : ''}`).join(', ');
  const lines = [...byReason].map(([reason, list]) => `${STATE_ICONS.DOWN} <i>${escapeHtml(clip(reason, 60))}</i> (${list.length}): ${names(list)}`);
  const resolved = incidents.filter((x) => x.resolvedAt !== undefined);
  if (resolved.length > 0) lines.push(`✅ resolved (${resolved.length}): ${names(resolved)}`);
  return lines;
}

type Up = Extract<Notification, { kind: 'up' }>;

/** The resolution of one target, sent as a reply to its alert. */
export function formatResolution(up: Up): string {
  const lines = [
    `${STATE_ICONS.UP} ${bold(up.incident.target.name)} is UP again`,
    `Down for ${formatDuration(up.resolvedAt - up.incident.openedAt)} (since ${formatTime(up.incident.openedAt)})`,
  ];
  if (up.now) lines.push(`Now: ${escapeHtml(up.now)}`);
  if (up.ackBy) lines.push(`Acknowledged by ${escapeHtml(up.ackBy)}`);
  return lines.join('\n');
}

/** Several resolutions in one message. */
export function formatResolutionGroup(ups: readonly Up[]): string {
  return [
    `${STATE_ICONS.UP} <b>${ups.length} targets are UP again</b>`,
    ...ups.map((u) => `• ${bold(u.incident.target.name)} · down for ${formatDuration(u.resolvedAt - u.incident.openedAt)}`),
  ].join('\n');
}

/** An outage that began and ended before its alert went out: one quiet line, so no outage goes untold. */
export function formatBlip(facts: IncidentFacts, endedAt: number, why?: ClosedWhy): string {
  const end = why === undefined ? '' : why === 'maintenance' ? ' (then planned maintenance)' : why === 'paused' ? ' (then paused)' : ' (then removed)';
  return `⚡ ${bold(facts.target.name)} was DOWN for ${formatDuration(Math.max(0, endedAt - facts.openedAt))}: ${escapeHtml(clip(facts.reason, 80))}${end}`;
}

/** A reminder that targets are still DOWN and nobody acknowledged them. */
export function formatReminder(incidents: readonly IncidentFacts[], now: number): string {
  const only = incidents.length === 1 ? incidents[0] : undefined;
  if (only) {
    return `⏰ ${bold(only.target.name)} is still DOWN (for ${formatDuration(now - only.openedAt)}) and not acknowledged: ${escapeHtml(only.reason)}`;
  }
  return [
    `⏰ <b>${incidents.length} targets are still DOWN</b> and not acknowledged`,
    ...incidents.map((i) => `• ${bold(i.target.name)} · for ${formatDuration(now - i.openedAt)}`),
  ].join('\n');
}

/** How an on-call person is mentioned so that Telegram notifies them: @username, or a text mention by id. */
export function mentionOf(person: PersonFacts): string {
  if (person.username) return `@${escapeHtml(person.username)}`;
  if (person.id !== undefined) return `<a href="tg://user?id=${person.id}">${escapeHtml(person.name)}</a>`;
  return escapeHtml(person.name);
}

/** An unacknowledged alert escalated to the next person on call (a reply to the alert, never silent). */
export function formatEscalation(facts: IncidentFacts, person: PersonFacts, now: number, others = 0): string {
  const what = others > 0 ? `${bold(facts.target.name)} and ${others} more target${others === 1 ? '' : 's'} have` : `${bold(facts.target.name)} has`;
  return `🚨 ${mentionOf(person)}: ${what} been DOWN for ${formatDuration(now - facts.openedAt)} and nobody acknowledged it. Please take a look (Ack on the alert stops this).`;
}

/** 🟡 DEGRADED with its reason. */
export const formatDegraded = (t: TargetFacts, detail?: string): string => `🟡 ${bold(t.name)} is DEGRADED${detail ? `: ${escapeHtml(detail)}` : ''}`;
/** DEGRADED is over. */
export const formatNormal = (t: TargetFacts, durationMs: number): string => `🟢 ${bold(t.name)} is back to normal (was DEGRADED for ${formatDuration(durationMs)})`;
/** The service reports maintenance (sent quietly). */
export const formatMaintenance = (t: TargetFacts, detail?: string): string =>
  `🔧 ${bold(t.name)} reports maintenance${detail ? `: ${escapeHtml(detail)}` : ''}. Checks go on; no alert while it lasts.`;
/** The service's maintenance is over (sent quietly). */
export const formatMaintenanceOver = (t: TargetFacts, durationMs: number): string => `🔧 ${bold(t.name)} is out of maintenance after ${formatDuration(durationMs)}`;

/** A certificate, token or rate limit running out. */
export function formatWarning(t: TargetFacts, w: WarningFacts): string {
  if (w.what === 'rate') return `⚠️ ${bold(t.name)} is close to its rate limit: ${w.remaining} of ${w.limit} requests left.`;
  const label = w.what === 'cert' ? 'TLS certificate' : 'API token (JWT in the Authorization header)';
  const when = w.daysLeft <= 0 ? `expired on ${formatTime(w.expiresAt)}` : `expires in ${w.daysLeft} day${w.daysLeft === 1 ? '' : 's'} (${formatTime(w.expiresAt)})`;
  return `⚠️ The ${label} of ${bold(t.name)} ${when}.`;
}

/** A maintenance window began (sent quietly). */
export const formatWindowStarted = (scope: string, until: string, reason?: string): string =>
  `🔧 Maintenance started for ${bold(scope)} until ${escapeHtml(until)}${reason ? `: ${escapeHtml(reason)}` : ''}. Checks go on; alerts wait.`;

/** An `until-up` window ended because its target recovered (sent quietly). */
export const formatRecoveredWindowEnded = (scope: string): string => `🔧 Maintenance of ${bold(scope)} ended: it is UP again. Alerts are back on.`;

/** A window or mute ended (sent quietly). */
export const formatWindowEnded = (scope: string, window: 'maintenance' | 'mute'): string =>
  window === 'mute' ? `🔔 ${bold(scope)} is no longer muted.` : `🔧 Maintenance ended for ${bold(scope)}. Alerts are back on.`;

/** Lookout cannot save: said once per episode. */
export const formatStoreFailing = (cause: string, since: number): string =>
  `💾 Lookout cannot save to its database since ${formatTime(since)}: ${escapeHtml(clip(cause, 200))}. Checks and alerts go on from memory; saving is retried until it works. Whatever is not saved would be lost if Lookout stopped now.`;

/** Saving works again. */
export const formatStoreRecovered = (since: number, retried: number): string =>
  `💾 Lookout saves again (it could not since ${formatTime(since)}; ${retried} write${retried === 1 ? '' : 's'} caught up).`;

const CHANGE_WORDS: Readonly<Record<ChangeFacts['action'], [string, string]>> = {
  added: ['➕', 'added'],
  edited: ['✏️', 'edited'],
  removed: ['🗑', 'removed'],
  paused: ['⏸', 'paused'],
  resumed: ['▶️', 'resumed'],
  'window-added': ['🔧', 'window added'],
  'window-removed': ['✅', 'window removed'],
  'channel-added': ['📣', 'destination added'],
  'channel-removed': ['🗑', 'destination removed'],
  acknowledged: ['👀', 'acknowledged'],
};

/** `➕ <b>api</b> added by token ci-deploy: every 30s` (a change made through the REST API). */
export function formatChange(c: ChangeFacts): string {
  const [icon, words] = CHANGE_WORDS[c.action];
  const detail = c.detail ? `: ${escapeHtml(clip(c.detail, 300))}` : '';
  return `${icon} <b>${escapeHtml(clip(c.subject, 100))}</b> ${words} by token ${escapeHtml(clip(c.by, 64))}${detail}`;
}

/** A place stopped reporting (or checks again): the chat's admins hear which places judge its targets now. */
export function formatLocationNotice(location: string, lost: boolean, remaining: readonly string[], targets: number): string {
  const n = `${targets} target${targets === 1 ? '' : 's'}`;
  const places = remaining.length > 0 ? remaining.map(escapeHtml).join(', ') : 'no place';
  return lost
    ? `📍 Location <b>${escapeHtml(location)}</b> stopped reporting (its instances are gone): ${n} here are judged from ${places} until it is back.`
    : `📍 Location <b>${escapeHtml(location)}</b> checks again: ${n} here are judged from ${places}.`;
}

/** The text of a notification told as a plain message (not an alert, resolution, reminder or escalation). */
export function formatNotice(n: Notification): string | undefined {
  switch (n.kind) {
    case 'degraded':
      return formatDegraded(n.target, n.detail);
    case 'normal':
      return formatNormal(n.target, n.durationMs);
    case 'maintenance':
      return formatMaintenance(n.target, n.detail);
    case 'maintenance-over':
      return formatMaintenanceOver(n.target, n.durationMs);
    case 'warning':
      return formatWarning(n.target, n.warning);
    case 'window-started':
      return formatWindowStarted(n.scope, n.until, n.reason);
    case 'window-ended':
      return formatWindowEnded(n.scope, n.window);
    case 'window-ended-up':
      return formatRecoveredWindowEnded(n.scope);
    case 'store-failing':
      return formatStoreFailing(n.cause, n.since);
    case 'store-recovered':
      return formatStoreRecovered(n.since, n.retried);
    case 'test':
      return `🧪 A test notification from Lookout (asked for by ${escapeHtml(n.by)}).`;
    case 'destination-paused':
      return `⏸ Alerts to <b>${escapeHtml(n.destination)}</b> (${escapeHtml(n.channel)}) are paused: it answered ${escapeHtml(clip(n.why, 200))}. Fix it, then /notify resume ${escapeHtml(n.destination)}.`;
    case 'location':
      return formatLocationNotice(n.location, n.lost, n.remaining, n.targets);
    case 'change':
      return formatChange(n.change);
    case 'down':
    case 'up':
    case 'closed':
    case 'acknowledged':
    case 'reminder':
    case 'escalation':
    case 'trace':
      return undefined;
    default:
      return unreachable(n);
  }
}
