import type { CheckResult } from './check.js';
import type { TargetState } from './state.js';

// History as fixed-size aggregates: per bucket (a minute or an hour) the check count, failures by
// reason, min/max latency and a latency histogram with logarithmic buckets, from which percentiles
// are read to within a few percent. And a timeline of state changes for uptime and shading.

/** Ratio between consecutive histogram bucket bounds: a percentile is off by at most ~4% (half a bucket). */
export const HISTOGRAM_RATIO = 1.08;
const LOG_RATIO = Math.log(HISTOGRAM_RATIO);
/** At most this many distinct failure reasons are kept per bucket; the rest count as "other". */
export const MAX_REASONS = 8;

/** One bucket as stored: compact, so 1,000 targets for 90 days stay small. */
export interface StoredBucket {
  /** Start of the bucket (epoch ms). */
  t: number;
  /** Checks. */
  n: number;
  /** Failed checks. */
  f: number;
  /** Latency of the fastest and slowest successful check (ms, to 0.1 ms; 0 when none succeeded). */
  lo: number;
  hi: number;
  /** Histogram as flat pairs: bucket index, count, bucket index, count ... */
  h: number[];
  /** Failures by reason (only when there were any). */
  r?: Record<string, number>;
}

/** Aggregated checks of any span: buckets merged. */
export interface Summary {
  checks: number;
  failures: number;
  minMs: number;
  maxMs: number;
  histogram: Map<number, number>;
  /** Failures by reason; written only through addReason (a summary without failures shares one empty map). */
  reasons: ReadonlyMap<string, number>;
}

/**
 * The reasons of every summary that has no failure yet: shared and never written. Most buckets of most
 * targets have no failure, and a Map each was 5 MB of a 10,000-target process.
 */
const NO_REASONS: ReadonlyMap<string, number> = new Map();

/** The histogram bucket of a latency: 0 holds [0, 1 ms), i ≥ 1 holds [r^(i-1), r^i) ms. */
export function latencyBucket(ms: number): number {
  if (!(ms >= 1)) return 0;
  return 1 + Math.floor(Math.log(ms) / LOG_RATIO + 1e-9);
}

/** The bounds [low, high) of a histogram bucket, in ms. */
export function bucketBounds(index: number): [number, number] {
  if (index <= 0) return [0, 1];
  return [HISTOGRAM_RATIO ** (index - 1), HISTOGRAM_RATIO ** index];
}

/** An empty summary. */
export const emptySummary = (): Summary => ({ checks: 0, failures: 0, minMs: Infinity, maxMs: -Infinity, histogram: new Map(), reasons: NO_REASONS });

/**
 * Adds one check to a summary (the accumulator of the current bucket is a summary too). Latency is
 * that of successful checks only: a timeout's 10 s or a refused connection's 1 ms says nothing about
 * how fast the service answers, and would drag the percentiles either way.
 */
export function addCheck(summary: Summary, result: Pick<CheckResult, 'ok' | 'latencyMs' | 'reason'>): void {
  summary.checks++;
  if (!result.ok) {
    summary.failures++;
    addReason(summary, result.reason ?? 'failed', 1);
    return;
  }
  const ms = Math.max(0, result.latencyMs);
  summary.minMs = Math.min(summary.minMs, ms);
  summary.maxMs = Math.max(summary.maxMs, ms);
  const index = latencyBucket(ms);
  summary.histogram.set(index, (summary.histogram.get(index) ?? 0) + 1);
}

/** Checks whose latency the histogram holds (the successful ones). */
const timed = (s: Summary): number => s.checks - s.failures;

function addReason(summary: Summary, reason: string, count: number): void {
  // The summary's own map once it has a failure; the cast is safe because the shared empty one is replaced first.
  const reasons = (summary.reasons === NO_REASONS ? (summary.reasons = new Map<string, number>()) : summary.reasons) as Map<string, number>;
  const key = reasons.has(reason) || reasons.size < MAX_REASONS ? reason : 'other';
  reasons.set(key, (reasons.get(key) ?? 0) + count);
}

/** A summary as a stored bucket starting at `t`. */
export function encodeBucket(t: number, s: Summary): StoredBucket {
  const h: number[] = [];
  for (const [index, count] of [...s.histogram].sort((a, b) => a[0] - b[0])) h.push(index, count);
  const ok = timed(s) > 0;
  const bucket: StoredBucket = { t, n: s.checks, f: s.failures, lo: ok ? Math.round(s.minMs * 10) / 10 : 0, hi: ok ? Math.round(s.maxMs * 10) / 10 : 0, h };
  if (s.reasons.size > 0) bucket.r = Object.fromEntries(s.reasons);
  return bucket;
}

/** Adds stored buckets (or other summaries) into `into`. */
export function mergeInto(into: Summary, bucket: StoredBucket | Summary): Summary {
  if ('t' in bucket) {
    if (bucket.n === 0) return into;
    into.checks += bucket.n;
    into.failures += bucket.f;
    if (bucket.n > bucket.f) {
      into.minMs = Math.min(into.minMs, bucket.lo);
      into.maxMs = Math.max(into.maxMs, bucket.hi);
    }
    for (let i = 0; i + 1 < bucket.h.length; i += 2) into.histogram.set(bucket.h[i]!, (into.histogram.get(bucket.h[i]!) ?? 0) + bucket.h[i + 1]!);
    for (const [reason, count] of Object.entries(bucket.r ?? {})) addReason(into, reason, count);
    return into;
  }
  if (bucket.checks === 0) return into;
  into.checks += bucket.checks;
  into.failures += bucket.failures;
  // Infinity/-Infinity when none succeeded: min/max ignore them.
  into.minMs = Math.min(into.minMs, bucket.minMs);
  into.maxMs = Math.max(into.maxMs, bucket.maxMs);
  for (const [index, count] of bucket.histogram) into.histogram.set(index, (into.histogram.get(index) ?? 0) + count);
  for (const [reason, count] of bucket.reasons) addReason(into, reason, count);
  return into;
}

/** Merges buckets into one summary. */
export const summarize = (buckets: Iterable<StoredBucket | Summary>): Summary => {
  const s = emptySummary();
  for (const b of buckets) mergeInto(s, b);
  return s;
};

/**
 * The latency below which a fraction `q` (0-1) of the successful checks fall, read from the histogram:
 * interpolated geometrically inside its bucket and clamped to the exact min and max.
 */
export function percentile(s: Summary, q: number): number | undefined {
  const total = timed(s);
  if (total <= 0) return undefined;
  const rank = Math.min(total, Math.max(1, Math.ceil(q * total)));
  let seen = 0;
  for (const [index, count] of [...s.histogram].sort((a, b) => a[0] - b[0])) {
    if (seen + count >= rank) {
      const [low, high] = bucketBounds(index);
      const within = (rank - seen - 0.5) / count;
      const value = index === 0 ? low + (high - low) * within : low * (high / low) ** within;
      return Math.min(s.maxMs, Math.max(s.minMs, value));
    }
    seen += count;
  }
  return s.maxMs;
}

/** Buckets with the same start merged into one (a bucket continued after a restart is stored twice). */
export function mergeSameStart(buckets: readonly StoredBucket[]): StoredBucket[] {
  const byStart = new Map<number, StoredBucket[]>();
  for (const b of buckets) byStart.set(b.t, [...(byStart.get(b.t) ?? []), b]);
  return [...byStart]
    .sort((a, b) => a[0] - b[0])
    .map(([t, group]) => (group.length === 1 ? group[0]! : encodeBucket(t, summarize(group))));
}

/** The failure reasons of a summary, most frequent first. */
export const topReasons = (s: Summary, n = 3): Array<[string, number]> => [...s.reasons].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, n);

/** A state change as the timeline keeps it: when, and the state from then on. */
export type TimelinePoint = [at: number, state: TargetState];

/** A stretch of time in one state. */
export interface Span {
  start: number;
  end: number;
  state: TargetState;
}

/** The spans of the timeline clipped to [from, to); before the first point the state is UNKNOWN. */
export function spansOf(timeline: readonly TimelinePoint[], from: number, to: number): Span[] {
  const spans: Span[] = [];
  let state: TargetState = 'UNKNOWN';
  let since = -Infinity;
  const push = (end: number): void => {
    const start = Math.max(since, from);
    const stop = Math.min(end, to);
    if (stop > start) spans.push({ start, end: stop, state });
  };
  for (const [at, next] of timeline) {
    if (next === state) continue;
    push(at);
    state = next;
    since = at;
  }
  push(to);
  return spans;
}

/** Time in each kind of state over a period, and the DOWN episodes that began in it. */
export interface Availability {
  upMs: number;
  downMs: number;
  maintenanceMs: number;
  /** UNKNOWN or PAUSED: not counted either way. */
  unknownMs: number;
  /** DOWN episodes that began inside the period. */
  incidents: number;
  /** Up time over up + down time (DEGRADED counts as up; maintenance, paused and unknown not at all); undefined without either. */
  uptimePct?: number;
}

/** Uptime and downtime over [from, to) from a timeline. */
export function availability(timeline: readonly TimelinePoint[], from: number, to: number): Availability {
  const a: Availability = { upMs: 0, downMs: 0, maintenanceMs: 0, unknownMs: 0, incidents: 0 };
  for (const span of spansOf(timeline, from, to)) {
    const ms = span.end - span.start;
    if (span.state === 'UP' || span.state === 'DEGRADED') a.upMs += ms;
    else if (span.state === 'DOWN') a.downMs += ms;
    else if (span.state === 'MAINTENANCE') a.maintenanceMs += ms;
    else a.unknownMs += ms;
  }
  // UNKNOWN between two DOWN points is Lookout having been stopped: still the same episode.
  let previous: TargetState = 'UNKNOWN';
  for (const [at, state] of timeline) {
    if (state === 'DOWN' && previous !== 'DOWN' && at >= from && at < to) a.incidents++;
    if (state !== 'UNKNOWN') previous = state;
  }
  const counted = a.upMs + a.downMs;
  if (counted > 0) a.uptimePct = (a.upMs / counted) * 100;
  return a;
}

/** Drops points older than `cutoff`, keeping the last one before it (it says what state the kept time starts in). */
export function pruneTimeline(timeline: readonly TimelinePoint[], cutoff: number): TimelinePoint[] {
  let firstKept = timeline.findIndex(([at]) => at >= cutoff);
  if (firstKept === -1) firstKept = timeline.length;
  return timeline.slice(Math.max(0, firstKept - 1));
}

/** Eight-level bars of values (undefined = no data, shown as a gap). */
export function sparkline(values: ReadonlyArray<number | undefined>): string {
  const bars = '▁▂▃▄▅▆▇█';
  const known = values.filter((v): v is number => v !== undefined);
  if (known.length === 0) return '';
  const low = Math.min(...known);
  const high = Math.max(...known);
  return values
    .map((v) => (v === undefined ? ' ' : bars[high === low ? 0 : Math.min(7, Math.floor(((v - low) / (high - low)) * 8))]!))
    .join('');
}
