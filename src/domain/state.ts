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
}

/** The thresholds of a target that drive its state. */
export interface StateRules {
  confirm: number;
  recover: number;
  everyMs: number;
  retryMs: number;
}

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
  };
}

/**
 * The state machine: applies one check result.
 * - UNKNOWN or UP → DOWN after `confirm` failures in a row; UNKNOWN → UP on the first success.
 * - DOWN → UP after `recover` successes in a row.
 * - While a change is pending (some failures but fewer than `confirm`, or some successes while DOWN
 *   but fewer than `recover`) the next check comes after `retryMs` instead of a whole interval.
 * - PAUSED ignores results (a manual check of a paused target reports but changes nothing).
 */
export function nextState(prev: StateRecord, result: CheckResult, rules: StateRules): Step {
  const retry = Math.min(rules.retryMs, rules.everyMs);
  if (prev.state === 'PAUSED') return { record: prev, nextDelayMs: rules.everyMs };
  const at = result.at + result.latencyMs;
  const record: StateRecord = {
    ...prev,
    consecutiveFailures: result.ok ? 0 : prev.consecutiveFailures + 1,
    consecutiveSuccesses: result.ok ? prev.consecutiveSuccesses + 1 : 0,
    checks: prev.checks + 1,
    failures: prev.failures + (result.ok ? 0 : 1),
    lastCheckAt: at,
    lastResult: result,
  };
  let to = prev.state;
  let pending = false;
  if (prev.state === 'DOWN') {
    if (result.ok) {
      if (record.consecutiveSuccesses >= rules.recover) to = 'UP';
      else pending = true;
    }
  } else if (result.ok) {
    if (prev.state === 'UNKNOWN') to = 'UP';
  } else if (record.consecutiveFailures >= rules.confirm) {
    to = 'DOWN';
  } else {
    pending = true;
  }
  const nextDelayMs = pending ? retry : rules.everyMs;
  if (to === prev.state) return { record, nextDelayMs };
  const changed: StateRecord = { ...record, state: to, since: at };
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
