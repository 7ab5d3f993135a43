import type { CheckResult } from '../../domain/check.js';
import { formatDuration } from '../../domain/duration.js';
import type { HeartbeatTarget } from './index.js';

/** Limits and defaults of a heartbeat. */
export const HEARTBEAT_LIMITS = {
  periodMinMs: 60_000,
  periodMaxMs: 30 * 86_400_000,
  graceMinMs: 10_000,
  graceMaxMs: 7 * 86_400_000,
  graceDefaultMs: 5 * 60_000,
} as const;

/** What Lookout heard from a heartbeat's job, kept on disk by token. */
export interface Beat {
  lastPingAt?: number;
  /** When the job said it started (`/start`) and has not pinged since. */
  startedAt?: number;
  /** How long the last run took, from its `/start` to its ping. */
  durationMs?: number;
  /** When the job reported a failure (`/fail`), and what it said (at most 200 characters). */
  failedAt?: number;
  failure?: string;
}

/**
 * The check of a heartbeat at `now`: DOWN when the job reported a failure since its last ping, or when no
 * ping came within `every` + `grace` of the last one (of the target's last change, before the first ping);
 * UP otherwise, with the last run's duration as latency when the job reported its start.
 */
export function describeBeat(t: Pick<HeartbeatTarget, 'periodMs' | 'graceMs' | 'createdAt' | 'updatedAt'>, beat: Beat, now: number): CheckResult {
  if (beat.failedAt !== undefined && (beat.lastPingAt === undefined || beat.failedAt >= beat.lastPingAt)) {
    return {
      ok: false,
      at: now,
      latencyMs: 0,
      failure: 'error',
      reason: `the job reported a failure${beat.failure ? `: ${beat.failure}` : ''}`,
    };
  }
  // Before the first ping (of this token: a new URL starts over), the target's last change counts.
  const since = beat.lastPingAt ?? Math.max(t.createdAt, t.updatedAt);
  const late = now - since - t.periodMs - t.graceMs;
  if (late > 0) {
    const silent = formatDuration(Math.max(1_000, now - since));
    return {
      ok: false,
      at: now,
      latencyMs: 0,
      failure: 'timeout',
      reason: `${beat.lastPingAt === undefined ? 'no ping yet' : `no ping for ${silent}`} (expected every ${formatDuration(t.periodMs)}, grace ${formatDuration(t.graceMs)})`,
    };
  }
  const ran = beat.durationMs !== undefined ? `, the run took ${formatDuration(Math.max(1_000, beat.durationMs))}` : '';
  const summary = beat.lastPingAt === undefined ? `waiting for the first ping (due within ${formatDuration(t.periodMs + t.graceMs)})` : `last ping ${formatDuration(Math.max(1_000, now - beat.lastPingAt))} ago${ran}`;
  return { ok: true, at: now, latencyMs: beat.durationMs ?? 0, summary };
}
