import type { StateChange } from '../domain/state.js';
import type { Target } from '../domain/target.js';
import type { Window } from '../domain/window.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { alertLogFields } from './format.js';

/** The log event a state change is in headless mode. */
export type LogAlertEvent = 'alert' | 'resolved' | 'degraded' | 'normal' | 'maintenance' | 'state';

/** What a change means to someone reading the log: an alert, its resolution, or just a state. */
export function logAlertEvent(change: StateChange): LogAlertEvent {
  if (change.to === 'DOWN') return 'alert';
  if (change.from === 'DOWN' && (change.to === 'UP' || change.to === 'DEGRADED')) return 'resolved';
  if (change.to === 'DEGRADED') return 'degraded';
  if (change.from === 'DEGRADED' && change.to === 'UP') return 'normal';
  if (change.to === 'MAINTENANCE') return 'maintenance';
  return 'state';
}

/** Headless mode's alerts: every state change as one JSON log line, alerts and resolutions by name. */
export function createLogAlerts(deps: { logger: Logger; clock: Clock; windows: { activeFor(chatId: number, targetId: string, now: number): Window[] } }) {
  return (change: StateChange, target: Target): void => {
    const event = logAlertEvent(change);
    const fields: Record<string, unknown> = { event, ...alertLogFields(target, change) };
    if (event === 'alert') fields.failedChecks = change.failures;
    if (event === 'resolved' || event === 'normal') fields.downtimeMs = change.at - change.fromSince;
    if (change.detail !== undefined) fields.detail = change.detail;
    // A window silences Telegram alerts; in the log the line stays, marked, so nothing is hidden.
    const windows = deps.windows.activeFor(target.chatId, target.id, deps.clock.now());
    if (windows.length > 0) fields.muted = windows.map((w) => w.id);
    const loud = event === 'alert' || event === 'degraded';
    deps.logger[loud && windows.length === 0 ? 'warn' : 'info'](fields, `${target.name} is ${change.to}`);
  };
}
