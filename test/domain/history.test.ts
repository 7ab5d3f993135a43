import { describe, expect, it } from 'vitest';
import {
  addCheck,
  availability,
  bucketBounds,
  emptySummary,
  encodeBucket,
  latencyBucket,
  MAX_REASONS,
  mergeSameStart,
  percentile,
  pruneTimeline,
  sparkline,
  spansOf,
  summarize,
  topReasons,
  type TimelinePoint,
} from '../../src/domain/history.js';

/** A deterministic pseudo-random sequence (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const exact = (sorted: number[], q: number): number => sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1]!;

describe('latency histogram', () => {
  it('puts every latency inside its bucket', () => {
    for (const ms of [0, 0.4, 1, 1.07, 1.08, 2, 13, 99.9, 100, 1_234, 59_999, 300_000]) {
      const [low, high] = bucketBounds(latencyBucket(ms));
      expect(ms >= low && ms < high, `${ms} in [${low}, ${high})`).toBe(true);
    }
  });

  const distributions: Array<{ name: string; draw: (r: () => number) => number }> = [
    { name: 'lognormal around 120 ms', draw: (r) => Math.exp(Math.log(120) + 0.6 * Math.sqrt(-2 * Math.log(r() || 1e-9)) * Math.cos(2 * Math.PI * r())) },
    { name: 'uniform 5-800 ms', draw: (r) => 5 + 795 * r() },
    { name: 'bimodal: fast cache hits and slow misses', draw: (r) => (r() < 0.8 ? 8 + 4 * r() : 400 + 600 * r()) },
    { name: 'a long tail up to 30 s', draw: (r) => 50 / Math.max(0.0017, r()) },
  ];

  it.each(distributions)('p50/p95/p99 of $name are within 5% of the exact values', ({ draw }) => {
    const r = random(42);
    const values = Array.from({ length: 20_000 }, () => draw(r));
    // Spread over 60 buckets merged afterwards, the way minutes add up to an hour.
    const buckets = Array.from({ length: 60 }, (_, i) => {
      const s = emptySummary();
      for (let j = i; j < values.length; j += 60) addCheck(s, { ok: true, latencyMs: values[j]! });
      return encodeBucket(i * 60_000, s);
    });
    const merged = summarize(buckets);
    const sorted = [...values].sort((a, b) => a - b);
    expect(merged.checks).toBe(values.length);
    for (const q of [0.5, 0.95, 0.99]) {
      const estimate = percentile(merged, q)!;
      const truth = exact(sorted, q);
      expect(Math.abs(estimate - truth) / truth, `p${q * 100}: ${estimate} vs ${truth}`).toBeLessThan(0.05);
    }
    expect(Math.abs(merged.minMs - sorted[0]!)).toBeLessThanOrEqual(0.05);
    expect(Math.abs(merged.maxMs - sorted.at(-1)!)).toBeLessThanOrEqual(0.05);
  });

  it('one check is its own percentile; no checks have none', () => {
    const s = emptySummary();
    expect(percentile(s, 0.5)).toBeUndefined();
    addCheck(s, { ok: true, latencyMs: 123 });
    expect(percentile(s, 0.5)).toBe(123);
    expect(percentile(s, 0.99)).toBe(123);
  });

  it('counts failures by reason, at most a few distinct ones per bucket', () => {
    const s = emptySummary();
    addCheck(s, { ok: false, latencyMs: 10_000, reason: 'timeout after 10s' });
    addCheck(s, { ok: false, latencyMs: 10_000, reason: 'timeout after 10s' });
    addCheck(s, { ok: false, latencyMs: 3, reason: 'connection refused' });
    for (let i = 0; i < 20; i++) addCheck(s, { ok: false, latencyMs: 5, reason: `HTTP ${500 + i}` });
    expect(s.failures).toBe(23);
    expect(s.reasons.size).toBe(MAX_REASONS + 1);
    expect(topReasons(s, 2)).toEqual([['other', 14], ['timeout after 10s', 2]]);
    const stored = encodeBucket(0, s);
    expect(summarize([stored, stored]).reasons.get('timeout after 10s')).toBe(4);
  });

  it('merges buckets of the same start (continued after a restart)', () => {
    const a = emptySummary();
    addCheck(a, { ok: true, latencyMs: 10 });
    const b = emptySummary();
    addCheck(b, { ok: false, latencyMs: 30, reason: 'x' });
    const merged = mergeSameStart([encodeBucket(60_000, a), encodeBucket(0, a), encodeBucket(60_000, b)]);
    expect(merged.map((m) => [m.t, m.n, m.f, m.lo, m.hi])).toEqual([
      [0, 1, 0, 10, 10],
      [60_000, 2, 1, 10, 10],
    ]);
  });
});

describe('failed checks and latency', () => {
  it('percentiles, min and max are those of the successful checks; failures are counted apart', () => {
    const s = emptySummary();
    for (let i = 0; i < 40; i++) addCheck(s, { ok: false, latencyMs: 0.5, reason: 'connection refused' });
    for (let i = 0; i < 20; i++) addCheck(s, { ok: true, latencyMs: 100 + i });
    addCheck(s, { ok: false, latencyMs: 10_000, reason: 'timeout after 10s' });
    expect(s.checks).toBe(61);
    expect(s.failures).toBe(41);
    expect(percentile(s, 0.5)).toBeGreaterThanOrEqual(100);
    expect(percentile(s, 0.99)).toBeLessThanOrEqual(119);
    const stored = encodeBucket(0, s);
    expect([stored.lo, stored.hi]).toEqual([100, 119]);
  });

  it('a bucket of failures only has no latency at all', () => {
    const s = emptySummary();
    addCheck(s, { ok: false, latencyMs: 10_000, reason: 'timeout after 10s' });
    expect(percentile(s, 0.5)).toBeUndefined();
    const stored = encodeBucket(0, s);
    expect(stored).toMatchObject({ n: 1, f: 1, lo: 0, hi: 0, h: [] });
    const ok = emptySummary();
    addCheck(ok, { ok: true, latencyMs: 50 });
    const merged = summarize([stored, encodeBucket(0, ok)]);
    expect([merged.minMs, merged.maxMs, percentile(merged, 0.5)]).toEqual([50, 50, 50]);
  });
});

describe('failure reasons', () => {
  it('summaries without failures share one empty reasons map; the first failure gives a summary its own', () => {
    const [a, b, c] = [emptySummary(), emptySummary(), emptySummary()];
    // Shared: a target's open minute and hour buckets allocate no map until something fails.
    expect(a.reasons).toBe(b.reasons);
    addCheck(a, { ok: true, latencyMs: 10 });
    expect(a.reasons).toBe(b.reasons);
    addCheck(a, { ok: false, latencyMs: 1, reason: 'connection refused' });
    expect(a.reasons).not.toBe(b.reasons);
    expect([...a.reasons]).toEqual([['connection refused', 1]]);
    expect(b.reasons.size).toBe(0);
    // Merging into an empty summary writes its own map too, never the shared one.
    const merged = summarize([encodeBucket(0, a), encodeBucket(60_000, b)]);
    expect([...merged.reasons]).toEqual([['connection refused', 1]]);
    expect(c.reasons.size).toBe(0);
    expect(emptySummary().reasons.size).toBe(0);
  });
});

describe('timeline', () => {
  const H = 3_600_000;
  const timeline: TimelinePoint[] = [
    [0, 'UP'],
    [10 * H, 'DOWN'],
    [11 * H, 'UP'],
    [20 * H, 'MAINTENANCE'],
    [22 * H, 'UP'],
    [23 * H, 'DOWN'],
  ];

  it('spans are clipped to the period, UNKNOWN before the first point', () => {
    expect(spansOf(timeline, -H, 12 * H)).toEqual([
      { start: -H, end: 0, state: 'UNKNOWN' },
      { start: 0, end: 10 * H, state: 'UP' },
      { start: 10 * H, end: 11 * H, state: 'DOWN' },
      { start: 11 * H, end: 12 * H, state: 'UP' },
    ]);
  });

  it('uptime leaves maintenance and unknown time out, counts DOWN episodes begun in the period', () => {
    const a = availability(timeline, 0, 24 * H);
    expect(a).toMatchObject({ upMs: 20 * H, downMs: 2 * H, maintenanceMs: 2 * H, unknownMs: 0, incidents: 2 });
    expect(a.uptimePct).toBeCloseTo((20 / 22) * 100, 9);
    expect(availability(timeline, 10.5 * H, 12 * H)).toMatchObject({ downMs: 0.5 * H, incidents: 0 });
    expect(availability([], 0, H).uptimePct).toBeUndefined();
  });

  it('a stop of Lookout in the middle of an outage (UNKNOWN between DOWN points) is one incident, and its time counts neither way', () => {
    const t: TimelinePoint[] = [
      [0, 'UP'],
      [H, 'DOWN'],
      [2 * H, 'UNKNOWN'],
      [3 * H, 'DOWN'],
      [4 * H, 'UP'],
    ];
    expect(availability(t, 0, 5 * H)).toMatchObject({ upMs: 2 * H, downMs: 2 * H, unknownMs: H, incidents: 1 });
  });

  it('pruning keeps the point before the cutoff, which says the state the kept time starts in', () => {
    expect(pruneTimeline(timeline, 15 * H)).toEqual(timeline.slice(2));
    expect(pruneTimeline(timeline, 100 * H)).toEqual(timeline.slice(5));
    expect(pruneTimeline(timeline, -1)).toEqual(timeline);
  });
});

describe('sparkline', () => {
  it('scales values to eight bars, gaps stay gaps', () => {
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8, undefined, 8])).toBe('▁▂▃▄▅▆▇█ █');
    expect(sparkline([5, 5])).toBe('▁▁');
    expect(sparkline([undefined])).toBe('');
  });
});
