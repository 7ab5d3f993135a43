import type { CheckResult } from '../domain/check.js';
import { escapeHtml } from '../lib/html.js';
import { formatDuration } from '../domain/duration.js';
import type { Incident } from '../domain/incident.js';
import type { StateChange, TargetState } from '../domain/state.js';
import { formatWindowTime, type Window } from '../domain/window.js';
import { targetAddress, type Target } from '../domain/target.js';
import { MESSAGE_LIMIT } from './split.js';

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

export { escapeHtml };

/** The icon of a state, as alerts and lists show it. */
export const STATE_ICONS: Record<TargetState, string> = {
  UP: '🟢',
  DOWN: '🔴',
  DEGRADED: '🟡',
  MAINTENANCE: '🔧',
  PAUSED: '⏸',
  UNKNOWN: '⚪',
};

/** `2026-11-23 18:00:05 UTC` */
export function formatTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `123 ms`, `1.25 s` */
export function formatLatency(ms: number): string {
  // Compared after rounding: a measured 999.6 ms reads `1.00 s`, not `1000 ms`.
  return Math.round(ms) < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1_000).toFixed(2)} s`;
}

/** A check result in words: `HTTP 200 in 123 ms`, `timeout after 10s`. */
export function formatResult(result: CheckResult): string {
  if (result.ok) {
    const what = result.status !== undefined ? `HTTP ${result.status}` : (result.reason ?? 'connected');
    return `${what} in ${formatLatency(result.latencyMs)}`;
  }
  return result.reason ?? 'failed';
}

/** Callback data of the alert buttons; parsed back by the bot. */
export const ALERT_ACTIONS = { recheck: 'rc', mute: 'mu', trace: 'tr', ack: 'ak' } as const;

/** Where Lookout runs, as alerts name it. */
export interface SourceInfo {
  label: string;
  address?: string;
}

/** Up to this many incidents, a grouped alert has a line each (name, reason, address). */
export const GROUP_MESSAGE_MAX = 25;
/** A larger group lists names by reason, this many per message (32-character names still fit 4096). */
export const COMPACT_MESSAGE_MAX = 100;

const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

function singleButtons(incident: Incident, messageKey: string, withAck: boolean): Button[][] {
  const row: Button[] = [
    { text: 'Recheck', data: `${ALERT_ACTIONS.recheck}:${incident.targetId}` },
    { text: 'Mute 1h', data: `${ALERT_ACTIONS.mute}:${incident.targetId}` },
    { text: 'Trace', data: `${ALERT_ACTIONS.trace}:${incident.targetId}` },
  ];
  if (withAck) row.push({ text: 'Ack', data: `${ALERT_ACTIONS.ack}:${messageKey}` });
  return [row];
}

/** The DOWN alert of one target: what, where, why, since when, from where, and the target's note. */
export function formatAlert(target: Target, change: StateChange, source: SourceInfo): string {
  const result = change.result;
  const lines = [
    `${STATE_ICONS.DOWN} <b>${escapeHtml(target.name)}</b> is DOWN`,
    escapeHtml(clip(targetAddress(target), 300)),
    `Reason: ${escapeHtml(result?.reason ?? 'unknown')}`,
  ];
  if (result) lines.push(`Latency: ${formatLatency(result.latencyMs)}`);
  lines.push(`When: ${formatTime(change.at)}`, `Failed checks: ${change.failures}`);
  lines.push(`From: ${escapeHtml(source.label)}${source.address ? ` (${escapeHtml(source.address)})` : ''}`);
  if (target.note) lines.push(`Note: ${escapeHtml(target.note)}`);
  return lines.join('\n');
}

/** One line of a grouped alert: name, reason and address, each clipped to 60 characters. */
export function formatAlertLine(target: Target, change: StateChange): string {
  return `<b>${escapeHtml(target.name)}</b> · ${escapeHtml(clip(change.result?.reason ?? 'unknown', 60))} · ${escapeHtml(clip(targetAddress(target), 60))}`;
}

function incidentStatus(incident: Incident): string {
  if (incident.resolvedAt !== undefined) {
    const how =
      incident.resolution === 'paused' ? 'Closed: checks paused'
      : incident.resolution === 'removed' ? 'Closed: target removed'
      : incident.resolution === 'maintenance' ? 'Closed: planned maintenance'
      : 'Resolved';
    return `✅ <b>${how}</b> at ${formatTime(incident.resolvedAt)} after ${formatDuration(incident.resolvedAt - incident.openedAt)}`;
  }
  return '';
}

/**
 * A DOWN alert message as it stands now. One incident: the full alert with Recheck, Mute 1h, Trace and
 * Ack, plus who acknowledged it and when it was resolved. Several: one line each with its status, and
 * an Ack button that acknowledges them all while any is open and unacknowledged.
 */
export function formatAlertMessage(messageKey: string, incidents: readonly Incident[], trace?: string): Rendered {
  const only = incidents.length === 1 ? incidents[0] : undefined;
  if (only) {
    const lines = [only.alertText];
    // The trace goes only while the whole message stays within Telegram's limit.
    if (trace && only.alertText.length + trace.length + 200 <= MESSAGE_LIMIT) lines.push('', trace);
    if (only.ack) lines.push('', `👀 Acknowledged by ${escapeHtml(only.ack.name)} at ${formatTime(only.ack.at)}`);
    if (only.resolvedAt !== undefined) return { text: [...lines, '', incidentStatus(only)].join('\n') };
    return { text: lines.join('\n'), buttons: singleButtons(only, messageKey, only.ack === undefined) };
  }
  const open = incidents.filter((i) => i.resolvedAt === undefined);
  const header =
    open.length === 0
      ? `✅ <b>${incidents.length} targets were DOWN</b>, all resolved`
      : `${STATE_ICONS.DOWN} <b>${open.length} of ${incidents.length} targets are DOWN</b>`;
  // 25 lines with long reasons and addresses (longer still once escaped) and long names of who
  // acknowledged can pass Telegram's limit, and a message that long is refused: then names only.
  const lineOf = (i: Incident, full: boolean): string => {
    const what = full ? i.line : `<b>${escapeHtml(i.name)}</b>`;
    if (i.resolvedAt !== undefined) return `✅ ${what} · resolved after ${formatDuration(i.resolvedAt - i.openedAt)}`;
    return `${STATE_ICONS.DOWN} ${what}${i.ack ? ` · 👀${full ? ` ${escapeHtml(i.ack.name)}` : ''}` : ''}`;
  };
  const first = incidents.reduce((min, i) => Math.min(min, i.openedAt), Infinity);
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
function compactLines(incidents: readonly Incident[]): string[] {
  const byReason = new Map<string, Incident[]>();
  for (const i of incidents.filter((x) => x.resolvedAt === undefined)) {
    const list = byReason.get(i.reason) ?? [];
    list.push(i);
    byReason.set(i.reason, list);
  }
  const names = (list: readonly Incident[]): string => list.map((i) => `${escapeHtml(i.name)}${i.ack ? '👀' : ''}`).join(', ');
  const lines = [...byReason].map(([reason, list]) => `${STATE_ICONS.DOWN} <i>${escapeHtml(clip(reason, 60))}</i> (${list.length}): ${names(list)}`);
  const resolved = incidents.filter((x) => x.resolvedAt !== undefined);
  if (resolved.length > 0) lines.push(`✅ resolved (${resolved.length}): ${names(resolved)}`);
  return lines;
}

/** The resolution of one target, sent as a reply to its alert. */
export function formatResolution(target: Target, incident: Incident, result: CheckResult | undefined): string {
  const lines = [
    `${STATE_ICONS.UP} <b>${escapeHtml(target.name)}</b> is UP again`,
    `Down for ${formatDuration((incident.resolvedAt ?? incident.openedAt) - incident.openedAt)} (since ${formatTime(incident.openedAt)})`,
  ];
  if (result?.ok) lines.push(`Now: ${escapeHtml(formatResult(result))}`);
  if (incident.ack) lines.push(`Acknowledged by ${escapeHtml(incident.ack.name)}`);
  return lines.join('\n');
}

/** Several resolutions in one message. */
export function formatResolutionGroup(incidents: readonly Incident[]): string {
  return [
    `${STATE_ICONS.UP} <b>${incidents.length} targets are UP again</b>`,
    ...incidents.map((i) => `• <b>${escapeHtml(i.name)}</b> · down for ${formatDuration((i.resolvedAt ?? i.openedAt) - i.openedAt)}`),
  ].join('\n');
}

/** A reminder that targets are still DOWN and nobody acknowledged them. */
export function formatReminder(incidents: readonly Incident[], now: number): string {
  const only = incidents.length === 1 ? incidents[0] : undefined;
  if (only) {
    return `⏰ <b>${escapeHtml(only.name)}</b> is still DOWN (for ${formatDuration(now - only.openedAt)}) and not acknowledged: ${escapeHtml(only.reason)}`;
  }
  return [
    `⏰ <b>${incidents.length} targets are still DOWN</b> and not acknowledged`,
    ...incidents.map((i) => `• <b>${escapeHtml(i.name)}</b> · for ${formatDuration(now - i.openedAt)}`),
  ].join('\n');
}

/** How an on-call person is mentioned so that Telegram notifies them: @username, or a text mention by id. */
export function mentionOf(person: { id?: number; username?: string; name: string }): string {
  if (person.username) return `@${escapeHtml(person.username)}`;
  if (person.id !== undefined) return `<a href="tg://user?id=${person.id}">${escapeHtml(person.name)}</a>`;
  return escapeHtml(person.name);
}

/** An unacknowledged alert escalated to the next person on call (a reply to the alert, never silent). */
export function formatEscalation(incident: Incident, person: { id?: number; username?: string; name: string }, now: number, others = 0): string {
  const what = others > 0 ? `<b>${escapeHtml(incident.name)}</b> and ${others} more target${others === 1 ? '' : 's'} have` : `<b>${escapeHtml(incident.name)}</b> has`;
  return `🚨 ${mentionOf(person)}: ${what} been DOWN for ${formatDuration(now - incident.openedAt)} and nobody acknowledged it. Please take a look (Ack on the alert stops this).`;
}

/** A maintenance window began (sent quietly). */
export function formatWindowStarted(window: Window, scope: string, end: number): string {
  const reason = window.reason ? `: ${escapeHtml(window.reason)}` : '';
  return `🔧 Maintenance started for <b>${escapeHtml(scope)}</b> until ${escapeHtml(formatWindowTime(end, window.tz))}${reason}. Checks go on; alerts wait.`;
}

/** An `until-up` window ended because its target recovered (sent quietly). */
export function formatRecoveredWindowEnded(scope: string): string {
  return `🔧 Maintenance of <b>${escapeHtml(scope)}</b> ended: it is UP again. Alerts are back on.`;
}

/** A window or mute ended (sent quietly). */
export function formatWindowEnded(window: Window, scope: string): string {
  return window.kind === 'mute'
    ? `🔔 <b>${escapeHtml(scope)}</b> is no longer muted.`
    : `🔧 Maintenance ended for <b>${escapeHtml(scope)}</b>. Alerts are back on.`;
}

/** A transition as one JSON-friendly log record (headless mode's alerts). */
export function alertLogFields(target: Target, change: StateChange): Record<string, unknown> {
  return {
    target: target.id,
    chat: target.chatId,
    name: target.name,
    address: targetAddress(target),
    from: change.from,
    to: change.to,
    reason: change.result?.reason,
    at: new Date(change.at).toISOString(),
  };
}
