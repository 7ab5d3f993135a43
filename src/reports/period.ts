import {
  availability,
  percentile,
  spansOf,
  summarize,
  type Availability,
  type Span,
  type StoredBucket,
  type Summary,
  type TimelinePoint,
} from '../domain/history.js';
import { invalid, valid, type Parsed } from '../domain/result.js';
import type { History } from '../store/history.js';
import { quoteValue } from '../domain/errors.js';

/** The periods /history and /report take, with the resolution of their chart columns. */
export const PERIODS = {
  '24h': { ms: 86_400_000, columnMs: 15 * 60_000, level: 'minutes' },
  '7d': { ms: 7 * 86_400_000, columnMs: 2 * 3_600_000, level: 'hours' },
  '30d': { ms: 30 * 86_400_000, columnMs: 6 * 3_600_000, level: 'hours' },
} as const;

/** One of {@link PERIODS}. */
export type PeriodName = keyof typeof PERIODS;

/** Parses `24h`, `7d` or `30d` (`fallback` when absent). */
export function parsePeriod(word: string | undefined, allowed: readonly PeriodName[], fallback: PeriodName): Parsed<PeriodName> {
  if (word === undefined || word === '') return valid(fallback);
  const lower = word.toLowerCase();
  if ((allowed as readonly string[]).includes(lower)) return valid(lower as PeriodName);
  return invalid(`the period must be ${allowed.join(', ')}, got ${quoteValue(word)}`);
}

/** One chart column: its start, the checks in it and their p50/p95 latency (none without checks). */
export interface Column {
  t: number;
  checks: number;
  failures: number;
  p50?: number;
  p95?: number;
}

/** What /history, /report and /status show of one target over a period. */
export interface PeriodStats {
  from: number;
  to: number;
  summary: Summary;
  availability: Availability;
  spans: Span[];
  columns: Column[];
  p50?: number;
  p95?: number;
  p99?: number;
}

/** Buckets of a period from the right level of the history. */
async function bucketsOf(history: History, targetId: string, period: PeriodName, from: number, to: number): Promise<StoredBucket[]> {
  return PERIODS[period].level === 'minutes' ? history.minutes(targetId, from, to) : history.hours(targetId, from, to);
}

/** Pure: the stats of a period from its buckets and the state timeline. */
export function periodStats(buckets: readonly StoredBucket[], timeline: readonly TimelinePoint[], from: number, to: number, columnMs: number): PeriodStats {
  const summary = summarize(buckets);
  const columns: Column[] = [];
  const start = Math.floor(from / columnMs) * columnMs;
  const byColumn = new Map<number, StoredBucket[]>();
  for (const b of buckets) {
    const c = Math.floor(b.t / columnMs) * columnMs;
    byColumn.set(c, [...(byColumn.get(c) ?? []), b]);
  }
  for (let t = start; t < to; t += columnMs) {
    const s = summarize(byColumn.get(t) ?? []);
    const column: Column = { t, checks: s.checks, failures: s.failures };
    const p50 = percentile(s, 0.5);
    const p95 = percentile(s, 0.95);
    if (p50 !== undefined) column.p50 = p50;
    if (p95 !== undefined) column.p95 = p95;
    columns.push(column);
  }
  const stats: PeriodStats = { from, to, summary, availability: availability(timeline, from, to), spans: spansOf(timeline, from, to), columns };
  const p50 = percentile(summary, 0.5);
  const p95 = percentile(summary, 0.95);
  const p99 = percentile(summary, 0.99);
  if (p50 !== undefined) stats.p50 = p50;
  if (p95 !== undefined) stats.p95 = p95;
  if (p99 !== undefined) stats.p99 = p99;
  return stats;
}

/** The stats of a target over the period ending `now` (or ending `period` earlier with `offset` 1, for trends). */
export async function statsFor(history: History, targetId: string, period: PeriodName, now: number, offset = 0, places: readonly string[] = []): Promise<PeriodStats> {
  const to = now - offset * PERIODS[period].ms;
  const from = to - PERIODS[period].ms;
  // Checked from several places: the verdict's timeline (the uptime it saw) over every place's checks.
  const series = places.length > 0 ? places.map((p) => `${targetId}@${p}`) : [targetId];
  const [buckets, timeline] = await Promise.all([Promise.all(series.map((id) => bucketsOf(history, id, period, from, to))).then((b) => b.flat()), history.timeline(targetId)]);
  return periodStats(buckets, timeline, from, to, PERIODS[period].columnMs);
}

/**
 * A target checked from several places: the verdict's timeline (its availability and shading) over every
 * place's checks, and each place's own series (`<id>@<place>` in the history).
 */
export async function statsForPlaces(history: History, targetId: string, places: readonly string[], period: PeriodName, now: number): Promise<{ stats: PeriodStats; places: Array<{ label: string; stats: PeriodStats }> }> {
  const to = now;
  const from = to - PERIODS[period].ms;
  const timeline = await history.timeline(targetId);
  const own = await Promise.all(places.map(async (p) => ({ label: p, buckets: await bucketsOf(history, `${targetId}@${p}`, period, from, to), timeline: await history.timeline(`${targetId}@${p}`) })));
  const all = own.flatMap((o) => o.buckets);
  return {
    stats: periodStats(all, timeline, from, to, PERIODS[period].columnMs),
    places: own.map((o) => ({ label: o.label, stats: periodStats(o.buckets, o.timeline, from, to, PERIODS[period].columnMs) })),
  };
}
