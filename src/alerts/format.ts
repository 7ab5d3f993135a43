import type { CheckResult } from '../domain/check.js';
import { formatDuration } from '../domain/duration.js';
import type { Incident } from '../domain/incident.js';
import type { StateChange, TargetState } from '../domain/state.js';
import { targetAddress, type Target } from '../domain/target.js';

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

/** Escapes text for Telegram's HTML parse mode. Every user-supplied value goes through it. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

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
  if (result.ok) return `${result.status !== undefined ? `HTTP ${result.status}` : 'connected'} in ${formatLatency(result.latencyMs)}`;
  return result.reason ?? 'failed';
}

/** Callback data of the alert buttons; parsed back by the bot. */
export const ALERT_ACTIONS = { recheck: 'rc', mute: 'mu', trace: 'tr', ack: 'ak' } as const;

/** Where Lookout runs, as alerts name it. */
export interface SourceInfo {
  label: string;
  address?: string;
}

function alertButtons(incident: Incident, withAck: boolean): Button[][] {
  const row: Button[] = [
    { text: 'Recheck', data: `${ALERT_ACTIONS.recheck}:${incident.targetId}` },
    { text: 'Mute 1h', data: `${ALERT_ACTIONS.mute}:${incident.targetId}` },
    { text: 'Trace', data: `${ALERT_ACTIONS.trace}:${incident.targetId}` },
  ];
  if (withAck) row.push({ text: 'Ack', data: `${ALERT_ACTIONS.ack}:${incident.id}` });
  return [row];
}

/** The DOWN alert: what, where, why, since when, from where, the target's note, and the buttons. */
export function formatAlert(target: Target, change: StateChange, source: SourceInfo): string {
  const result = change.result;
  const lines = [
    `${STATE_ICONS.DOWN} <b>${escapeHtml(target.name)}</b> is DOWN`,
    escapeHtml(targetAddress(target)),
    `Reason: ${escapeHtml(result?.reason ?? 'unknown')}`,
  ];
  if (result) lines.push(`Latency: ${formatLatency(result.latencyMs)}`);
  lines.push(`When: ${formatTime(change.at)}`, `Failed checks: ${change.failures}`);
  lines.push(`From: ${escapeHtml(source.label)}${source.address ? ` (${escapeHtml(source.address)})` : ''}`);
  if (target.note) lines.push(`Note: ${escapeHtml(target.note)}`);
  return lines.join('\n');
}

/** The alert message as it stands now: the original text plus acknowledgement and resolution. */
export function formatIncidentAlert(incident: Incident): Rendered {
  const lines = [incident.alertText];
  if (incident.ack) lines.push('', `👀 Acknowledged by ${escapeHtml(incident.ack.name)} at ${formatTime(incident.ack.at)}`);
  if (incident.resolvedAt !== undefined) {
    const took = formatDuration(incident.resolvedAt - incident.openedAt);
    const how =
      incident.resolution === 'paused' ? 'Closed: checks paused' : incident.resolution === 'removed' ? 'Closed: target removed' : 'Resolved';
    lines.push('', `✅ <b>${how}</b> at ${formatTime(incident.resolvedAt)} after ${took}`);
    return { text: lines.join('\n') };
  }
  return { text: lines.join('\n'), buttons: alertButtons(incident, incident.ack === undefined) };
}

/** The resolution message sent (as a reply to the alert) when a target is UP again. */
export function formatResolution(target: Target, incident: Incident, result: CheckResult | undefined): string {
  const lines = [
    `${STATE_ICONS.UP} <b>${escapeHtml(target.name)}</b> is UP again`,
    `Down for ${formatDuration((incident.resolvedAt ?? incident.openedAt) - incident.openedAt)} (since ${formatTime(incident.openedAt)})`,
  ];
  if (result?.ok) lines.push(`Now: ${escapeHtml(formatResult(result))}`);
  if (incident.ack) lines.push(`Acknowledged by ${escapeHtml(incident.ack.name)}`);
  return lines.join('\n');
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
