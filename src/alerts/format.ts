import type { CheckResult } from '../domain/check.js';
import { escapeHtml } from '../lib/html.js';
import type { TargetState } from '../domain/state.js';

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
    if (result.summary !== undefined) return result.summary;
    const what = result.status !== undefined ? `HTTP ${result.status}` : (result.reason ?? 'connected');
    return `${what} in ${formatLatency(result.latencyMs)}`;
  }
  return result.reason ?? 'failed';
}
