import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/domain/check.js';
import {
  initialState,
  nextState,
  pauseState,
  resumeState,
  type StateChange,
  type StateRecord,
  type StateRules,
  type TargetState,
} from '../../src/domain/state.js';

const ID = '-100123/api';
const SINCE = 1_700_000_000_000;
const CHECK_AT = SINCE + 3_600_000;
const LATENCY = 150;
/** A check's record time is when it ended: start plus latency. */
const ENDED = CHECK_AT + LATENCY;

const RULES: StateRules = { confirm: 2, recover: 1, everyMs: 60_000, retryMs: 5_000 };

const success = (at = CHECK_AT): CheckResult => ({ ok: true, at, latencyMs: LATENCY, status: 200 });
const failure = (at = CHECK_AT): CheckResult => ({
  ok: false,
  at,
  latencyMs: LATENCY,
  status: 503,
  failure: 'status',
  reason: 'HTTP 503, expected 200-299',
});

/** A record that has seen 10 checks, 3 of them failed, in `state` since SINCE. */
function record(state: TargetState, fields: Partial<StateRecord> = {}): StateRecord {
  return {
    targetId: ID,
    state,
    since: SINCE,
    consecutiveFailures: 0,
    consecutiveSuccesses: 0,
    checks: 10,
    failures: 3,
    ...fields,
  };
}

interface Row {
  name: string;
  prev: StateRecord;
  ok: boolean;
  rules: Partial<StateRules>;
  state: TargetState;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  nextDelayMs: number;
  /** The change expected: its failure count; undefined when the state stays. */
  changeFailures?: number;
}

describe('nextState', () => {
  const rows: Row[] = [
    { name: 'UNKNOWN + ok → UP', prev: record('UNKNOWN'), ok: true, rules: {}, state: 'UP', consecutiveFailures: 0, consecutiveSuccesses: 1, nextDelayMs: 60_000, changeFailures: 0 },
    { name: 'UNKNOWN + fail, confirm=2 → UNKNOWN, retry soon', prev: record('UNKNOWN'), ok: false, rules: {}, state: 'UNKNOWN', consecutiveFailures: 1, consecutiveSuccesses: 0, nextDelayMs: 5_000 },
    { name: 'UNKNOWN + second fail, confirm=2 → DOWN', prev: record('UNKNOWN', { consecutiveFailures: 1 }), ok: false, rules: {}, state: 'DOWN', consecutiveFailures: 2, consecutiveSuccesses: 0, nextDelayMs: 60_000, changeFailures: 2 },
    { name: 'UNKNOWN + fail, confirm=1 → DOWN', prev: record('UNKNOWN'), ok: false, rules: { confirm: 1 }, state: 'DOWN', consecutiveFailures: 1, consecutiveSuccesses: 0, nextDelayMs: 60_000, changeFailures: 1 },
    { name: 'UNKNOWN after a fail + ok → UP', prev: record('UNKNOWN', { consecutiveFailures: 1 }), ok: true, rules: {}, state: 'UP', consecutiveFailures: 0, consecutiveSuccesses: 1, nextDelayMs: 60_000, changeFailures: 0 },
    { name: 'UP + ok → UP', prev: record('UP', { consecutiveSuccesses: 4 }), ok: true, rules: {}, state: 'UP', consecutiveFailures: 0, consecutiveSuccesses: 5, nextDelayMs: 60_000 },
    { name: 'UP + fail, confirm=1 → DOWN', prev: record('UP', { consecutiveSuccesses: 4 }), ok: false, rules: { confirm: 1 }, state: 'DOWN', consecutiveFailures: 1, consecutiveSuccesses: 0, nextDelayMs: 60_000, changeFailures: 1 },
    { name: 'UP + fail, confirm=2 → UP, retry soon', prev: record('UP', { consecutiveSuccesses: 4 }), ok: false, rules: {}, state: 'UP', consecutiveFailures: 1, consecutiveSuccesses: 0, nextDelayMs: 5_000 },
    { name: 'UP + second fail, confirm=2 → DOWN', prev: record('UP', { consecutiveFailures: 1 }), ok: false, rules: {}, state: 'DOWN', consecutiveFailures: 2, consecutiveSuccesses: 0, nextDelayMs: 60_000, changeFailures: 2 },
    { name: 'UP + second fail, confirm=3 → UP, retry soon', prev: record('UP', { consecutiveFailures: 1 }), ok: false, rules: { confirm: 3 }, state: 'UP', consecutiveFailures: 2, consecutiveSuccesses: 0, nextDelayMs: 5_000 },
    { name: 'UP after a fail + ok → UP, back to the interval', prev: record('UP', { consecutiveFailures: 1 }), ok: true, rules: {}, state: 'UP', consecutiveFailures: 0, consecutiveSuccesses: 1, nextDelayMs: 60_000 },
    { name: 'DOWN + ok, recover=1 → UP', prev: record('DOWN', { consecutiveFailures: 7 }), ok: true, rules: {}, state: 'UP', consecutiveFailures: 0, consecutiveSuccesses: 1, nextDelayMs: 60_000, changeFailures: 0 },
    { name: 'DOWN + ok, recover=3 → DOWN, retry soon', prev: record('DOWN', { consecutiveFailures: 7 }), ok: true, rules: { recover: 3 }, state: 'DOWN', consecutiveFailures: 0, consecutiveSuccesses: 1, nextDelayMs: 5_000 },
    { name: 'DOWN + second ok, recover=3 → DOWN, retry soon', prev: record('DOWN', { consecutiveSuccesses: 1 }), ok: true, rules: { recover: 3 }, state: 'DOWN', consecutiveFailures: 0, consecutiveSuccesses: 2, nextDelayMs: 5_000 },
    { name: 'DOWN + third ok, recover=3 → UP', prev: record('DOWN', { consecutiveSuccesses: 2 }), ok: true, rules: { recover: 3 }, state: 'UP', consecutiveFailures: 0, consecutiveSuccesses: 3, nextDelayMs: 60_000, changeFailures: 0 },
    { name: 'DOWN + fail → DOWN, whole interval', prev: record('DOWN', { consecutiveFailures: 7 }), ok: false, rules: {}, state: 'DOWN', consecutiveFailures: 8, consecutiveSuccesses: 0, nextDelayMs: 60_000 },
    { name: 'DOWN with pending successes + fail → DOWN, successes reset', prev: record('DOWN', { consecutiveSuccesses: 2 }), ok: false, rules: { recover: 3 }, state: 'DOWN', consecutiveFailures: 1, consecutiveSuccesses: 0, nextDelayMs: 60_000 },
    { name: 'retry delay longer than the interval is cut to the interval (failure)', prev: record('UP'), ok: false, rules: { confirm: 3, everyMs: 30_000, retryMs: 90_000 }, state: 'UP', consecutiveFailures: 1, consecutiveSuccesses: 0, nextDelayMs: 30_000 },
    { name: 'retry delay longer than the interval is cut to the interval (recovery)', prev: record('DOWN'), ok: true, rules: { recover: 2, everyMs: 30_000, retryMs: 90_000 }, state: 'DOWN', consecutiveFailures: 0, consecutiveSuccesses: 1, nextDelayMs: 30_000 },
    { name: 'retry delay equal to the interval', prev: record('UNKNOWN'), ok: false, rules: { everyMs: 10_000, retryMs: 10_000 }, state: 'UNKNOWN', consecutiveFailures: 1, consecutiveSuccesses: 0, nextDelayMs: 10_000 },
  ];

  it.each(rows)('$name', (row) => {
    const result = row.ok ? success() : failure();
    const rules = { ...RULES, ...row.rules };
    const before = structuredClone(row.prev);
    const step = nextState(row.prev, result, rules);

    expect(step.nextDelayMs).toBe(row.nextDelayMs);
    // The DEGRADED counters and the error-rate window have their own tests below.
    const { consecutiveSlow, consecutiveNormal, recent, ...core } = step.record;
    expect(consecutiveSlow).toBe(0);
    expect(consecutiveNormal).toBe(row.ok ? 1 : 0);
    // Leaving DOWN starts the error-rate window afresh.
    const recovered = row.prev.state === 'DOWN' && row.state === 'UP';
    expect(recent).toEqual(recovered ? [] : [[Math.floor(ENDED / 60_000), 1, row.ok ? 0 : 1]]);
    expect(core).toStrictEqual({
      targetId: ID,
      state: row.state,
      since: row.changeFailures !== undefined ? ENDED : SINCE,
      consecutiveFailures: row.consecutiveFailures,
      consecutiveSuccesses: row.consecutiveSuccesses,
      checks: 11,
      failures: row.ok ? 3 : 4,
      lastCheckAt: ENDED,
      lastResult: result,
    });
    if (row.changeFailures !== undefined) {
      expect(step.change).toStrictEqual({
        targetId: ID,
        from: row.prev.state,
        to: row.state,
        at: ENDED,
        fromSince: SINCE,
        result,
        failures: row.changeFailures,
      } satisfies StateChange);
    } else {
      expect(step.change).toBeUndefined();
    }
    expect(row.prev).toStrictEqual(before);
  });

  it.each([true, false])('PAUSED ignores a result with ok=%s', (ok) => {
    const prev = record('PAUSED', { consecutiveFailures: 0 });
    const before = structuredClone(prev);
    const step = nextState(prev, ok ? success() : failure(), { ...RULES, confirm: 1 });
    expect(step).toStrictEqual({ record: before, nextDelayMs: 60_000 });
    expect(step.record).toBe(prev);
  });

  it('keeps the last result and a check time that includes the latency', () => {
    const result: CheckResult = { ok: true, at: CHECK_AT, latencyMs: 1_234.5, status: 204 };
    const step = nextState(record('UP'), result, RULES);
    expect(step.record.lastCheckAt).toBe(CHECK_AT + 1_234.5);
    expect(step.record.lastResult).toBe(result);
  });

  it('runs a whole incident: confirm=2, recover=3', () => {
    const rules: StateRules = { confirm: 2, recover: 3, everyMs: 60_000, retryMs: 5_000 };
    let rec = initialState(ID, SINCE);
    let at = SINCE;
    const seen: Array<[TargetState, number]> = [];
    const changes: StateChange[] = [];
    for (const ok of [true, true, false, false, false, true, false, true, true, true, true]) {
      const step = nextState(rec, ok ? { ok, at, latencyMs: 0 } : { ok, at, latencyMs: 0, failure: 'timeout', reason: 'timeout after 10s' }, rules);
      rec = step.record;
      if (step.change) changes.push(step.change);
      seen.push([rec.state, step.nextDelayMs]);
      at += step.nextDelayMs;
    }
    expect(seen).toEqual([
      ['UP', 60_000],
      ['UP', 60_000],
      ['UP', 5_000],
      ['DOWN', 60_000],
      ['DOWN', 60_000],
      ['DOWN', 5_000],
      ['DOWN', 60_000],
      ['DOWN', 5_000],
      ['DOWN', 5_000],
      ['UP', 60_000],
      ['UP', 60_000],
    ]);
    expect(changes.map((c) => [c.from, c.to, c.at, c.fromSince, c.failures])).toEqual([
      ['UNKNOWN', 'UP', SINCE, SINCE, 0],
      ['UP', 'DOWN', SINCE + 125_000, SINCE, 2],
      ['DOWN', 'UP', SINCE + 320_000, SINCE + 125_000, 0],
    ]);
    expect(rec).toMatchObject({ checks: 11, failures: 4, consecutiveFailures: 0, consecutiveSuccesses: 4, since: SINCE + 320_000 });
  });
});

describe('initialState', () => {
  it('starts UNKNOWN with zero counters', () => {
    expect(initialState(ID, SINCE)).toStrictEqual({
      targetId: ID,
      state: 'UNKNOWN',
      since: SINCE,
      consecutiveFailures: 0,
      consecutiveSuccesses: 0,
      checks: 0,
      failures: 0,
    });
  });

  it('starts PAUSED for a paused target', () => {
    expect(initialState(ID, SINCE, true)).toMatchObject({ state: 'PAUSED', since: SINCE, checks: 0 });
  });
});

describe('pauseState', () => {
  const NOW = SINCE + 7_200_000;

  it.each<TargetState>(['UNKNOWN', 'UP', 'DEGRADED', 'DOWN', 'MAINTENANCE'])('pauses a %s target', (state) => {
    const prev = record(state, { consecutiveFailures: 3, consecutiveSuccesses: 0, lastCheckAt: CHECK_AT });
    const before = structuredClone(prev);
    expect(pauseState(prev, NOW)).toStrictEqual({
      record: { ...before, state: 'PAUSED', since: NOW, consecutiveFailures: 0, consecutiveSuccesses: 0 },
      change: { targetId: ID, from: state, to: 'PAUSED', at: NOW, fromSince: SINCE, failures: 0 },
      nextDelayMs: 0,
    });
    expect(prev).toStrictEqual(before);
  });

  it('does nothing to a paused target', () => {
    const prev = record('PAUSED');
    const step = pauseState(prev, NOW);
    expect(step).toStrictEqual({ record: prev, nextDelayMs: 0 });
    expect(step.record).toBe(prev);
  });
});

describe('resumeState', () => {
  const NOW = SINCE + 7_200_000;

  it('resumes a paused target as UNKNOWN', () => {
    const prev = record('PAUSED', { lastCheckAt: CHECK_AT });
    const before = structuredClone(prev);
    expect(resumeState(prev, NOW)).toStrictEqual({
      record: { ...before, state: 'UNKNOWN', since: NOW, consecutiveFailures: 0, consecutiveSuccesses: 0 },
      change: { targetId: ID, from: 'PAUSED', to: 'UNKNOWN', at: NOW, fromSince: SINCE, failures: 0 },
      nextDelayMs: 0,
    });
    expect(prev).toStrictEqual(before);
  });

  it.each<TargetState>(['UNKNOWN', 'UP', 'DEGRADED', 'DOWN', 'MAINTENANCE'])('does nothing to a %s target', (state) => {
    const prev = record(state);
    const step = resumeState(prev, NOW);
    expect(step).toStrictEqual({ record: prev, nextDelayMs: 0 });
    expect(step.record).toBe(prev);
  });

  it('lets the first result after a resume set the state afresh', () => {
    const paused = pauseState(record('DOWN', { consecutiveFailures: 5 }), NOW).record;
    const resumed = resumeState(paused, NOW + 1_000).record;
    const step = nextState(resumed, success(NOW + 2_000), RULES);
    expect(step.record.state).toBe('UP');
    expect(step.change).toMatchObject({ from: 'UNKNOWN', to: 'UP', fromSince: NOW + 1_000, at: NOW + 2_000 + LATENCY });
  });
});

describe('DEGRADED and MAINTENANCE', () => {
  const rules: StateRules = { confirm: 2, recover: 2, everyMs: 60_000, retryMs: 5_000, latencyMs: 800 };
  const up = (): StateRecord => ({ ...initialState(ID, SINCE), state: 'UP' });
  const run = (start: StateRecord, results: Array<Partial<CheckResult>>, r = rules): { rec: StateRecord; changes: StateChange[] } => {
    let rec = start;
    let at = SINCE;
    const changes: StateChange[] = [];
    for (const partial of results) {
      const step = nextState(rec, { ok: true, at, latencyMs: 100, ...partial }, r);
      rec = step.record;
      if (step.change) changes.push(step.change);
      at += 60_000;
    }
    return { rec, changes };
  };

  it.each([
    ['one slow check is not enough', [{ latencyMs: 900 }], 'UP'],
    ['confirm slow checks in a row → DEGRADED', [{ latencyMs: 900 }, { latencyMs: 1_200 }], 'DEGRADED'],
    ['slow, fast, slow stays UP', [{ latencyMs: 900 }, { latencyMs: 100 }, { latencyMs: 900 }], 'UP'],
    ['DEGRADED needs recover normal checks to be UP', [{ latencyMs: 900 }, { latencyMs: 900 }, { latencyMs: 100 }], 'DEGRADED'],
    ['… and is UP after them', [{ latencyMs: 900 }, { latencyMs: 900 }, { latencyMs: 100 }, { latencyMs: 100 }], 'UP'],
    ['DEGRADED and failing → DOWN after confirm', [{ latencyMs: 900 }, { latencyMs: 900 }, { ok: false }, { ok: false }], 'DOWN'],
  ] as const)('latency: %s', (_name, results, state) => {
    expect(run(up(), [...results]).rec.state).toBe(state);
  });

  it('says why it is DEGRADED by latency, and resolves', () => {
    const { changes } = run(up(), [{ latencyMs: 900 }, { latencyMs: 1_250 }, { latencyMs: 90 }, { latencyMs: 90 }]);
    expect(changes.map((c) => [c.from, c.to, c.detail])).toEqual([
      ['UP', 'DEGRADED', 'latency 1.25 s over 800 ms for 2 checks in a row'],
      ['DEGRADED', 'UP', undefined],
    ]);
  });

  it('goes DEGRADED when the error rate over 15 minutes passes 10% without ever going DOWN', () => {
    // Every fifth check fails once (confirm=2 never reached): 20% over the window.
    const results: Array<Partial<CheckResult>> = Array.from({ length: 10 }, (_, i) => (i % 5 === 4 ? { ok: false } : {}));
    const { rec, changes } = run(up(), results, { ...rules, latencyMs: undefined });
    expect(rec.state).toBe('DEGRADED');
    expect(changes.at(-1)?.detail).toBe('error rate 20% over the last 15 min (2 of 10 checks failed)');
  });

  it('judges the error rate only with 10 checks, and not at all with errorRatePct 0', () => {
    const results: Array<Partial<CheckResult>> = [{}, { ok: false }, {}, { ok: false }, {}];
    expect(run(up(), results, { ...rules, latencyMs: undefined }).rec.state).toBe('UP');
    const many: Array<Partial<CheckResult>> = Array.from({ length: 12 }, (_, i) => (i % 2 ? { ok: false } : {}));
    expect(run(up(), many, { ...rules, latencyMs: undefined, errorRatePct: 0 }).rec.state).toBe('UP');
  });

  it('forgets failures older than 15 minutes', () => {
    const results: Array<Partial<CheckResult>> = [{ ok: false }, ...Array.from({ length: 20 }, () => ({}))];
    const { rec } = run(up(), results, { ...rules, latencyMs: undefined, errorRatePct: 1 });
    expect(rec.state).toBe('UP');
    expect(rec.recent?.length).toBeLessThanOrEqual(15);
  });

  it('a maintenance page puts the target in MAINTENANCE at once, and success brings it back', () => {
    const page = { ok: false, failure: 'status' as const, reason: 'HTTP 503, expected 200-299', maintenance: { reason: 'HTTP 503 with Retry-After: 600', retryAfterS: 600 } };
    const { rec, changes } = run(up(), [page, page, {}, {}]);
    expect(changes.map((c) => [c.from, c.to, c.detail])).toEqual([
      ['UP', 'MAINTENANCE', 'HTTP 503 with Retry-After: 600'],
      ['MAINTENANCE', 'UP', undefined],
    ]);
    expect(rec.state).toBe('UP');
  });

  it('from MAINTENANCE, plain failures count toward DOWN as usual', () => {
    const page = { ok: false, maintenance: { reason: 'maintenance page' } };
    const { rec } = run(up(), [page, { ok: false }, { ok: false }]);
    expect(rec.state).toBe('DOWN');
  });
});
