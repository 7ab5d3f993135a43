import { describe, expect, it } from 'vitest';
import { arrivalLateness, gapsAround } from '../../bench/arrivals.js';
import {
  bucketQuantile,
  counterDelta,
  histogramDelta,
  readChecksTotal,
  readHealth,
  readLateness,
  readLeaderGauge,
  type Histogram,
} from '../../bench/cluster-readers.js';
import { initialState } from '../../src/domain/state.js';
import type { CheckEvent } from '../../src/engine/engine.js';
import { createMetrics } from '../../src/http/metrics.js';
import { httpTarget } from '../support/target-server.js';

function check(id: string, ok: boolean, latenessMs: number): CheckEvent {
  return {
    target: httpTarget({ id, name: id.split('/')[1]! }),
    result: ok ? { ok, at: 0, latencyMs: 5, status: 200 } : { ok, at: 0, latencyMs: 5, failure: 'timeout', reason: 'timeout after 1s' },
    record: { ...initialState(id, 0), state: 'UP' },
    scheduledAt: 0,
    latenessMs,
    manual: false,
  };
}

describe('readHealth: the role /healthz names', () => {
  const cases: Array<[string, unknown, number, boolean, string | undefined, string | undefined]> = [
    ['a leader with shared checks', { status: 'ok', role: 'leader', instance: 'bench-1', peers: ['bench-1', 'bench-2'] }, 200, true, 'leader', 'leader'],
    ['a member', { status: 'ok', role: 'member', instance: 'bench-2', peers: [] }, 200, true, 'member', 'member'],
    ['a standby (before shared checks) reads as a member', { status: 'ok', role: 'standby' }, 200, true, 'member', 'standby'],
    ['no role (a leader before shared checks)', { status: 'ok' }, 200, true, undefined, undefined],
    ['unhealthy', { status: 'unhealthy', problems: ['store not answering'] }, 503, false, undefined, undefined],
    ['not JSON', undefined, 502, false, undefined, undefined],
  ];
  it.each(cases)('%s', (_, body, status, ok, role, rawRole) => {
    const got = readHealth(status, body);
    expect([got.ok, got.role, got.rawRole]).toEqual([ok, role, rawRole]);
  });

  it('reads the instance and its peers', () => {
    expect(readHealth(200, { status: 'ok', role: 'leader', instance: 'bench-1', peers: ['bench-1', 'bench-2'] })).toMatchObject({ instance: 'bench-1', peers: ['bench-1', 'bench-2'] });
  });
});

describe('the /metrics readers, against the metrics Lookout writes', () => {
  it('sum lookout_checks_total over every target and result, and read the lateness histogram', async () => {
    const metrics = createMetrics(() => 0);
    metrics.check(check('1/a', true, 3));
    metrics.check(check('1/a', false, 30));
    metrics.check(check('1/b', true, 300));
    const text = await metrics.registry.metrics();
    expect(readChecksTotal(text)).toBe(3);
    const lateness = readLateness(text)!;
    expect(lateness.count).toBe(3);
    expect(lateness.buckets.at(-1)).toEqual({ le: Infinity, count: 3 });
    expect(lateness.buckets.find((b) => b.le === 0.005)?.count).toBe(1);
    expect(lateness.buckets.find((b) => b.le === 0.05)?.count).toBe(2);
    expect(readLeaderGauge(text)).toBeUndefined();
  });

  it('read lookout_leader, not lookout_leadership_change_seconds', () => {
    expect(readLeaderGauge('# TYPE lookout_leader gauge\nlookout_leadership_change_seconds 12\nlookout_leader 1\n')).toBe(1);
    expect(readLeaderGauge('lookout_leader 0\n')).toBe(0);
  });
});

describe('histogram deltas and quantiles', () => {
  const h = (counts: number[]): Histogram => {
    const les = [0.001, 0.01, 0.1, 1, Infinity];
    return { buckets: les.map((le, i) => ({ le, count: counts[i]! })), sum: 0, count: counts.at(-1)! };
  };

  it('take the observations between two scrapes, and count from 0 after a reset', () => {
    expect(histogramDelta(h([1, 2, 3, 4, 4]), h([11, 52, 103, 104, 104])).buckets.map((b) => b.count)).toEqual([10, 50, 100, 100, 100]);
    expect(histogramDelta(h([10, 20, 30, 40, 40]), h([1, 1, 2, 2, 2])).buckets.map((b) => b.count)).toEqual([1, 1, 2, 2, 2]);
    expect(counterDelta(5, 9)).toBe(4);
    expect(counterDelta(9, 2)).toBe(2);
  });

  const cases: Array<[string, number[], number, number | undefined, number | undefined]> = [
    ['p99 in the 10-100 ms bucket, interpolated', [0, 50, 100, 100, 100], 0.99, 0.01 + 0.09 * (49 / 50), 0.1],
    ['p50 on a bucket edge', [0, 50, 100, 100, 100], 0.5, 0.01, 0.01],
    ['above the last finite bucket: its bound', [0, 0, 0, 0, 10], 0.99, 1, Infinity],
    ['no observations', [0, 0, 0, 0, 0], 0.99, undefined, undefined],
  ];
  it.each(cases)('%s', (_, counts, q, value, atMost) => {
    const got = bucketQuantile(h(counts), q);
    if (value === undefined) return expect(got).toBeUndefined();
    expect(got?.value).toBeCloseTo(value, 6);
    expect(got?.atMost).toBe(atMost);
  });
});

describe('arrivalLateness: requests against their target cadence', () => {
  const cases: Array<[string, number[][], Array<[number, number]>, number[]]> = [
    ['on time', [[1_000, 11_000, 21_000]], [], [0, 0, 0]],
    ['one late by 250 ms', [[1_000, 11_250, 21_000]], [], [0, 250, 0]],
    ['the first one late: the most punctual counts as on time', [[1_300, 11_000, 21_000]], [], [300, 0, 0]],
    ['a skipped check keeps the cadence', [[1_000, 21_040]], [], [0, 40]],
    ['excluded spans are left out', [[1_000, 11_500, 21_000]], [[11_000, 12_000]], [0, 0]],
    ['a single request says nothing', [[5_000], []], [], []],
  ];
  it.each(cases)('%s', (_, arrivals, exclude, expected) => {
    expect(arrivalLateness(arrivals, 10_000, exclude)).toEqual(expected);
  });
});

describe('gapsAround: how long targets went unchecked across a kill', () => {
  const cases: Array<[string, number[], number[][], number, { longestMs: number; delayed: number; unchecked: number }]> = [
    ['checked on cadence', [1_000, 5_000], [[11_000, 21_000], [15_000]], 22_000, { longestMs: 10_000, delayed: 0, unchecked: 0 }],
    ['taken over 15 s late', [1_000, 5_000], [[11_000, 21_000], [30_000]], 31_000, { longestMs: 25_000, delayed: 1, unchecked: 0 }],
    ['still waiting: the open gap counts', [1_000], [[]], 40_000, { longestMs: 39_000, delayed: 1, unchecked: 1 }],
    ['not due yet: no gap beyond the interval', [1_000], [[]], 9_000, { longestMs: 0, delayed: 0, unchecked: 1 }],
    ['requests from before the last one are ignored', [10_000], [[5_000, 20_000]], 21_000, { longestMs: 10_000, delayed: 0, unchecked: 0 }],
    ['never checked before: left out', [0], [[5_000]], 6_000, { longestMs: 0, delayed: 0, unchecked: 0 }],
  ];
  it.each(cases)('%s', (_, lastBefore, since, until, expected) => {
    expect(gapsAround(lastBefore, since, 10_000, until)).toEqual(expected);
  });
});
