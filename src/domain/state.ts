import type { CheckResult } from './check.js';

/** States a target can be in; DEGRADED and MAINTENANCE are set by later rules (latency, windows). */
export type TargetState = 'UNKNOWN' | 'UP' | 'DEGRADED' | 'DOWN' | 'MAINTENANCE' | 'PAUSED';

/** What Lookout knows about one target: survives restarts. */
export interface StateRecord {
  targetId: string;
  state: TargetState;
  /** When the current state began (epoch ms). */
  since: number;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  checks: number;
  failures: number;
  lastCheckAt?: number;
  lastResult?: CheckResult;
  /** Successes in a row slower than the latency threshold, and in a row within it (DEGRADED). */
  consecutiveSlow?: number;
  consecutiveNormal?: number;
  /** Checks and failures per minute over the error-rate window: [minute, checks, failures]. */
  recent?: Array<[number, number, number]>;
  /** Why the target is DEGRADED or in MAINTENANCE, in words. */
  detail?: string;
}

/** The thresholds of a target that drive its state. */
export interface StateRules {
  confirm: number;
  recover: number;
  everyMs: number;
  retryMs: number;
  /** Latency warning threshold (ms): `confirm` slower successes in a row make the target DEGRADED. */
  latencyMs?: number;
  /** Error rate (%) over the window that makes a target DEGRADED while it is not DOWN; 0 = off. Default 10. */
  errorRatePct?: number;
}

/** The error-rate window and the checks it needs before it judges. */
export const ERROR_RATE = { windowMinutes: 15, minChecks: 10, defaultPct: 10 } as const;

/** A state change: the engine emits it, alerts turn it into messages. */
export interface StateChange {
  targetId: string;
  from: TargetState;
  to: TargetState;
  at: number;
  /** When the previous state began: a resolution's downtime is `at - fromSince`. */
  fromSince: number;
  /** The check that caused it (absent for pause/resume). */
  result?: CheckResult;
  /** Consecutive failures at the time of the change. */
  failures: number;
  /** Why, for DEGRADED and MAINTENANCE. */
  detail?: string;
}

/** What one check result does to a target: the new record, the change if any, and when to check next. */
export interface Step {
  record: StateRecord;
  change?: StateChange;
  /** Delay until the next check: the retry delay while a change is being confirmed, else the interval. */
  nextDelayMs: number;
}

/** A fresh record for a target never checked. */
export function initialState(targetId: string, now: number, paused = false): StateRecord {
  return {
    targetId,
    state: paused ? 'PAUSED' : 'UNKNOWN',
    since: now,
    consecutiveFailures: 0,
    consecutiveSuccesses: 0,
    checks: 0,
    failures: 0,
  };
}

function transition(prev: StateRecord, next: StateRecord, to: StateRecord['state'], result: CheckResult | undefined, at: number): StateChange {
  return {
    targetId: prev.targetId,
    from: prev.state,
    to,
    at,
    fromSince: prev.since,
    ...(result ? { result } : {}),
    failures: next.consecutiveFailures,
    ...(next.detail !== undefined ? { detail: next.detail } : {}),
  };
}

function updateRecent(recent: StateRecord['recent'], at: number, ok: boolean): Array<[number, number, number]> {
  const minute = Math.floor(at / 60_000);
  const kept = (recent ?? []).filter(([m]) => m > minute - ERROR_RATE.windowMinutes);
  const last = kept.at(-1);
  if (last && last[0] === minute) kept[kept.length - 1] = [minute, last[1] + 1, last[2] + (ok ? 0 : 1)];
  else kept.push([minute, 1, ok ? 0 : 1]);
  return kept;
}

/** The error rate over the window, when it has enough checks to judge. */
export function errorRate(record: StateRecord): { pct: number; checks: number; failures: number } | undefined {
  let checks = 0;
  let failures = 0;
  for (const [, c, f] of record.recent ?? []) {
    checks += c;
    failures += f;
  }
  return checks >= ERROR_RATE.minChecks ? { pct: (failures / checks) * 100, checks, failures } : undefined;
}

const ms = (n: number): string => (n < 1_000 ? `${Math.round(n)} ms` : `${(n / 1_000).toFixed(2)} s`);

/**
 * The state machine: applies one check result.
 * - UNKNOWN, UP or DEGRADED → DOWN after `confirm` failures in a row; UNKNOWN → UP on the first success.
 * - DOWN or MAINTENANCE → UP after `recover` successes in a row.
 * - A failed check whose answer is a maintenance page → MAINTENANCE at once (the service said so).
 * - UP → DEGRADED after `confirm` successes in a row slower than `latencyMs`, or when the error rate
 *   over the last 15 minutes passes `errorRatePct`; back UP after `recover` normal successes with the
 *   error rate under the threshold.
 * - While a change is pending (some failures but fewer than `confirm`, or some successes while DOWN
 *   but fewer than `recover`) the next check comes after `retryMs` instead of a whole interval.
 * - PAUSED ignores results (a manual check of a paused target reports but changes nothing).
 */
export function nextState(prev: StateRecord, result: CheckResult, rules: StateRules): Step {
  const retry = Math.min(rules.retryMs, rules.everyMs);
  if (prev.state === 'PAUSED') return { record: prev, nextDelayMs: rules.everyMs };
  const at = result.at + result.latencyMs;
  const slow = result.ok && rules.latencyMs !== undefined && result.latencyMs > rules.latencyMs;
  const record: StateRecord = {
    ...prev,
    consecutiveFailures: result.ok ? 0 : prev.consecutiveFailures + 1,
    consecutiveSuccesses: result.ok ? prev.consecutiveSuccesses + 1 : 0,
    consecutiveSlow: slow ? (prev.consecutiveSlow ?? 0) + 1 : 0,
    consecutiveNormal: result.ok && !slow ? (prev.consecutiveNormal ?? 0) + 1 : 0,
    checks: prev.checks + 1,
    failures: prev.failures + (result.ok ? 0 : 1),
    lastCheckAt: at,
    lastResult: result,
    recent: updateRecent(prev.recent, at, result.ok),
  };
  const threshold = rules.errorRatePct ?? ERROR_RATE.defaultPct;
  const rate = threshold > 0 ? errorRate(record) : undefined;
  const rateHigh = rate !== undefined && rate.pct > threshold;
  let to = prev.state;
  let detail: string | undefined;
  let pending = false;
  if (!result.ok && result.maintenance) {
    to = 'MAINTENANCE';
    detail = result.maintenance.reason;
  } else if (!result.ok) {
    if (prev.state !== 'DOWN') {
      if (record.consecutiveFailures >= rules.confirm) to = 'DOWN';
      else pending = true;
    }
  } else if (prev.state === 'DOWN' || prev.state === 'MAINTENANCE') {
    if (record.consecutiveSuccesses >= rules.recover) to = 'UP';
    else pending = true;
  } else if (prev.state === 'UNKNOWN') {
    to = 'UP';
  }
  if (to === 'UP' && prev.state === 'UP' && result.ok) {
    if ((record.consecutiveSlow ?? 0) >= rules.confirm) {
      to = 'DEGRADED';
      detail = `latency ${ms(result.latencyMs)} over ${ms(rules.latencyMs!)} for ${record.consecutiveSlow} checks in a row`;
    }
  }
  // Flapping: failures too few in a row for DOWN, but too many over the window.
  if (to === 'UP' && prev.state === 'UP' && rateHigh) {
    to = 'DEGRADED';
    detail = `error rate ${Math.round(rate.pct)}% over the last ${ERROR_RATE.windowMinutes} min (${rate.failures} of ${rate.checks} checks failed)`;
  }
  if (prev.state === 'DEGRADED' && to === 'DEGRADED' && result.ok && (record.consecutiveNormal ?? 0) >= rules.recover && !rateHigh) {
    to = 'UP';
  }
  const nextDelayMs = pending ? retry : rules.everyMs;
  if (to === prev.state) return { record, nextDelayMs };
  const changed: StateRecord = { ...record, state: to, since: at };
  if (detail !== undefined) changed.detail = detail;
  else delete changed.detail;
  // The error rate judges flapping while up: an outage's own failures do not count after it ends.
  if (prev.state === 'DOWN' || prev.state === 'MAINTENANCE') changed.recent = [];
  return { record: changed, change: transition(prev, changed, to, result, at), nextDelayMs };
}

/** Pauses a target: checks stop, the state says so. */
export function pauseState(prev: StateRecord, now: number): Step {
  if (prev.state === 'PAUSED') return { record: prev, nextDelayMs: 0 };
  const record: StateRecord = { ...prev, state: 'PAUSED', since: now, consecutiveFailures: 0, consecutiveSuccesses: 0 };
  return { record, change: transition(prev, record, 'PAUSED', undefined, now), nextDelayMs: 0 };
}

/** Resumes a paused target: it starts again from UNKNOWN, so its next result sets the state afresh. */
export function resumeState(prev: StateRecord, now: number): Step {
  if (prev.state !== 'PAUSED') return { record: prev, nextDelayMs: 0 };
  const record: StateRecord = { ...prev, state: 'UNKNOWN', since: now, consecutiveFailures: 0, consecutiveSuccesses: 0 };
  return { record, change: transition(prev, record, 'UNKNOWN', undefined, now), nextDelayMs: 0 };
}
