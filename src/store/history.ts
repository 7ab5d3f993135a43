import type { CheckResult } from '../domain/check.js';
import {
  addCheck,
  emptySummary,
  encodeBucket,
  mergeInto,
  mergeSameStart,
  pruneTimeline,
  type StoredBucket,
  type Summary,
  type TimelinePoint,
} from '../domain/history.js';
import type { TargetState } from '../domain/state.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { createSerial } from '../lib/serial.js';
import { decodeRow, encodeRow, type Row } from './history-codec.js';
import type { KeyvStore } from './keyv.js';

/** How much history is kept and how often it is written. */
export interface HistorySettings {
  /** Per-minute buckets are kept this many hours (default 48). */
  minuteHours: number;
  /** Per-hour buckets, the state timeline and resolved incidents are kept this many days (default 90). */
  hourDays: number;
  /** Completed buckets are written every this many ms (default 5 min; and at stop), not once per check. */
  flushMs: number;
}

/** The defaults of {@link HistorySettings}. */
export const DEFAULT_HISTORY: HistorySettings = { minuteHours: 48, hourDays: 90, flushMs: 300_000 };

const MINUTE = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

/** Per-target history: fixed-size aggregates per minute and per hour, and the state timeline. */
export interface History {
  /** Counts one check (hot path: memory only). */
  record(targetId: string, result: Pick<CheckResult, 'ok' | 'latencyMs' | 'reason' | 'at'>): void;
  /** Notes a state change for uptime and the chart's shading. */
  change(targetId: string, at: number, state: TargetState): void;
  /** Per-minute buckets with `from <= t < to` (stored and in memory), oldest first. */
  minutes(targetId: string, from: number, to: number): Promise<StoredBucket[]>;
  /** Per-hour buckets with `from <= t < to`, oldest first. */
  hours(targetId: string, from: number, to: number): Promise<StoredBucket[]>;
  /** The state changes of the last `hourDays` days (and the one before, which says where they start). */
  timeline(targetId: string): Promise<TimelinePoint[]>;
  /** Moves a renamed target's history to its new id. */
  rename(previousId: string, targetId: string): Promise<void>;
  /** Deletes a removed target's history. */
  remove(targetId: string): Promise<void>;
  /** Writes every completed bucket and timeline change now. */
  flush(): Promise<void>;
  /** Starts the periodic flush. */
  start(): void;
  /** Closes the current buckets, writes everything and stops the timer. */
  stop(): Promise<void>;
  /** Writes done so far and their total time, for /health and the benchmark. */
  readonly stats: { writes: number; writeMs: number };
}


/** What is in memory for one target: the open buckets and what awaits the next flush. */
interface Live {
  minuteT: number;
  minute: Summary;
  hourT: number;
  hour: Summary;
  minutes: StoredBucket[];
  hours: StoredBucket[];
  changes: TimelinePoint[];
}

/** The history over the `history` namespace; rows are ring slots, so storage never grows past the retention. */
export function createHistory(deps: { store: KeyvStore; clock: Clock; logger?: Logger; settings?: Partial<HistorySettings> }): History {
  const settings = { ...DEFAULT_HISTORY, ...deps.settings };
  const keyv = deps.store.namespace<string | TimelinePoint[]>('history');
  const live = new Map<string, Live>();
  const writes = createSerial();
  const stats = { writes: 0, writeMs: 0 };
  // One slot more than the retention: the oldest hour (day) is still whole when the newest begins.
  const minuteSlots = settings.minuteHours + 1;
  const hourSlots = settings.hourDays + 1;
  const minuteKey = (id: string, hourStart: number): string => `${id}|m${Math.floor(hourStart / HOUR) % minuteSlots}`;
  const hourKey = (id: string, dayStart: number): string => `${id}|h${Math.floor(dayStart / DAY) % hourSlots}`;
  const timelineKey = (id: string): string => `${id}|t`;
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  let running = false;

  const liveOf = (id: string, at: number): Live => {
    let l = live.get(id);
    if (!l) {
      l = { minuteT: floor(at, MINUTE), minute: emptySummary(), hourT: floor(at, HOUR), hour: emptySummary(), minutes: [], hours: [], changes: [] };
      live.set(id, l);
    }
    return l;
  };

  /** Closes the open buckets that `at` is past (or all of them with `force`). */
  const roll = (l: Live, at: number, force = false): void => {
    if ((force || floor(at, MINUTE) !== l.minuteT) && l.minute.checks > 0) {
      l.minutes.push(encodeBucket(l.minuteT, l.minute));
      l.minute = emptySummary();
    }
    if (floor(at, MINUTE) !== l.minuteT) l.minuteT = floor(at, MINUTE);
    if ((force || floor(at, HOUR) !== l.hourT) && l.hour.checks > 0) {
      l.hours.push(encodeBucket(l.hourT, l.hour));
      l.hour = emptySummary();
    }
    if (floor(at, HOUR) !== l.hourT) l.hourT = floor(at, HOUR);
  };

  /** Rows read per query: one getMany instead of a round trip per row. */
  const BATCH = 200;

  /** Buckets waiting to be appended to one row, and where they came from (to put them back on failure). */
  interface Append {
    id: string;
    level: 'minutes' | 'hours';
    key: string;
    start: number;
    span: number;
    buckets: StoredBucket[];
  }

  /** A failed write keeps its data: the buckets go back in front of what waits for the next flush. */
  const putBack = (a: Append): void => {
    const l = live.get(a.id);
    if (l) l[a.level].unshift(...a.buckets);
  };

  /**
   * Appends buckets to their rows: the rows of a whole flush are read with getMany, extended and
   * written back together (writes are pipelined; each key's writes stay in order).
   */
  const appendAll = async (appends: readonly Append[]): Promise<number> => {
    let failed = 0;
    for (let i = 0; i < appends.length; i += BATCH) {
      const batch = appends.slice(i, i + BATCH);
      await Promise.all(batch.map((a) => writes.run(a.key, async () => undefined)));
      const started = performance.now();
      let stored: unknown[];
      try {
        stored = await keyv.getMany(batch.map((a) => a.key));
      } catch (err) {
        batch.forEach(putBack);
        failed += batch.length;
        deps.logger?.error({ err, event: 'history_write_failed' }, 'could not read history rows');
        continue;
      }
      const results = await Promise.allSettled(
        batch.map((a, j) =>
          writes.run(a.key, async () => {
            const previous = decodeRow(stored[j], a.span);
            // A slot holding an older hour (or day) is reused: that is how old data expires.
            const row: Row = previous && previous.t === a.start ? previous : { t: a.start, b: [] };
            row.b.push(...a.buckets);
            await keyv.set(a.key, encodeRow(row, a.span));
          }),
        ),
      );
      results.forEach((r, j) => {
        if (r.status === 'rejected') {
          putBack(batch[j]!);
          failed++;
          deps.logger?.error({ err: r.reason, target: batch[j]!.id, event: 'history_write_failed' }, 'could not write history');
        }
      });
      stats.writes += batch.length;
      stats.writeMs += performance.now() - started;
    }
    return failed;
  };

  const writeTimeline = (id: string, changes: TimelinePoint[]): Promise<void> =>
    writes.run(timelineKey(id), async () => {
      try {
        const stored = ((await keyv.get(timelineKey(id))) as TimelinePoint[] | undefined) ?? [];
        const merged = [...stored, ...changes].sort((a, b) => a[0] - b[0]);
        await keyv.set(timelineKey(id), pruneTimeline(merged, deps.clock.now() - settings.hourDays * DAY));
      } catch (err) {
        live.get(id)?.changes.unshift(...changes);
        deps.logger?.error({ err, target: id, event: 'history_write_failed' }, 'could not write the state timeline');
      }
    });

  /**
   * Everything that touches rows runs in this chain: two flushes at once would read the same row and
   * lose one append, and a rename or removal must not race a flush.
   */
  let chain: Promise<unknown> = Promise.resolve();
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(work, work);
    chain = next.catch(() => undefined);
    return next;
  };

  const flushNow = async (): Promise<void> => {
    const now = deps.clock.now();
    const appends: Append[] = [];
    const timelines: Array<[string, TimelinePoint[]]> = [];
    for (const [id, l] of live) {
      roll(l, now);
      for (const [start, buckets] of groupBy(l.minutes.splice(0), HOUR)) appends.push({ id, level: 'minutes', key: minuteKey(id, start), start, span: MINUTE, buckets });
      for (const [start, buckets] of groupBy(l.hours.splice(0), DAY)) appends.push({ id, level: 'hours', key: hourKey(id, start), start, span: HOUR, buckets });
      if (l.changes.length > 0) timelines.push([id, l.changes.splice(0)]);
    }
    await appendAll(appends);
    for (const [id, changes] of timelines) await writeTimeline(id, changes);
  };
  const flush = (): Promise<void> => serialized(flushNow);

  const schedule = (): void => {
    if (!running) return;
    timer = deps.clock.setTimeout(() => {
      void flush().finally(schedule);
    }, settings.flushMs);
  };

  /** Rows of `[from, to)` for one level, stored and in memory, buckets in range only. */
  const read = async (id: string, from: number, to: number, span: number, key: (id: string, start: number) => string, memory: (l: Live) => StoredBucket[]): Promise<StoredBucket[]> => {
    const keep = (b: StoredBucket): boolean => b.t >= from && b.t < to;
    const starts: number[] = [];
    for (let t = floor(from, span); t < to; t += span) starts.push(t);
    const values = await keyv.getMany(starts.map((start) => key(id, start)));
    const stored = starts.flatMap((start, i) => {
      const row = decodeRow(values[i], span === HOUR ? MINUTE : HOUR);
      return row && row.t === start ? row.b.filter(keep) : [];
    });
    const l = live.get(id);
    return mergeSameStart([...stored, ...(l ? memory(l).filter(keep) : [])]);
  };

  return {
    record(id, result) {
      const l = liveOf(id, result.at);
      roll(l, result.at);
      addCheck(l.minute, result);
      addCheck(l.hour, result);
    },

    change(id, at, state) {
      liveOf(id, at).changes.push([at, state]);
    },

    minutes: (id, from, to) =>
      read(id, from, to, HOUR, minuteKey, (l) => [...l.minutes, ...(l.minute.checks > 0 ? [encodeBucket(l.minuteT, l.minute)] : [])]),

    hours: (id, from, to) => read(id, from, to, DAY, hourKey, (l) => [...l.hours, ...(l.hour.checks > 0 ? [encodeBucket(l.hourT, l.hour)] : [])]),

    async timeline(id) {
      await writes.run(timelineKey(id), async () => undefined);
      const stored = ((await keyv.get(timelineKey(id))) as TimelinePoint[] | undefined) ?? [];
      // Changes arrive in time order from the engine; sorting (stable) keeps a late writer harmless.
      return [...stored, ...(live.get(id)?.changes ?? [])].sort((a, b) => a[0] - b[0]);
    },

    rename: (previousId, id) =>
      serialized(async () => {
        // Checks may already be counted under the new id (the engine switched first): merge, never overwrite.
        const moved = live.get(previousId);
        live.delete(previousId);
        if (moved) {
          const current = live.get(id);
          if (!current) live.set(id, moved);
          else mergeLive(current, moved);
        }
        await writes.drain();
        const oldKeys = [...slotKeys(previousId, minuteSlots, 'm'), ...slotKeys(previousId, hourSlots, 'h'), timelineKey(previousId)];
        const newKeys = oldKeys.map((key) => `${id}${key.slice(previousId.length)}`);
        const [oldValues, newValues] = await Promise.all([keyv.getMany(oldKeys), keyv.getMany(newKeys)]);
        for (const [i, key] of oldKeys.entries()) {
          const value = oldValues[i];
          if (value === undefined) continue;
          const span = key.includes('|m') ? MINUTE : HOUR;
          await keyv.set(newKeys[i]!, key.endsWith('|t') ? mergeTimelines(value, newValues[i]) : mergeRows(value, newValues[i], span));
          await keyv.delete(key);
        }
      }),

    remove: (id) =>
      serialized(async () => {
        live.delete(id);
        await writes.drain();
        for (const key of [...slotKeys(id, minuteSlots, 'm'), ...slotKeys(id, hourSlots, 'h'), timelineKey(id)]) await keyv.delete(key);
      }),

    flush,

    start() {
      if (running) return;
      running = true;
      schedule();
    },

    async stop() {
      running = false;
      if (timer !== undefined) deps.clock.clearTimeout(timer);
      const now = deps.clock.now();
      // The open buckets are written as they are; a bucket continued after a restart merges with them.
      for (const l of live.values()) roll(l, now, true);
      await flush();
      await writes.drain();
    },

    stats,
  };
}

const floor = (at: number, span: number): number => Math.floor(at / span) * span;

/** Moves what `from` holds in memory into `into` (a renamed target whose new id already counted checks). */
function mergeLive(into: Live, from: Live): void {
  into.minutes.unshift(...from.minutes);
  into.hours.unshift(...from.hours);
  into.changes.unshift(...from.changes);
  if (from.minute.checks > 0) {
    if (from.minuteT === into.minuteT) mergeInto(into.minute, from.minute);
    else into.minutes.unshift(encodeBucket(from.minuteT, from.minute));
  }
  if (from.hour.checks > 0) {
    if (from.hourT === into.hourT) mergeInto(into.hour, from.hour);
    else into.hours.unshift(encodeBucket(from.hourT, from.hour));
  }
}

/** Two stored rows of one slot as one: the same hour (or day) merged, else the newer one. */
function mergeRows(moved: string | TimelinePoint[], present: string | TimelinePoint[] | undefined, span: number): string {
  const a = decodeRow(moved, span);
  const b = decodeRow(present, span);
  if (!a) return typeof present === 'string' ? present : (moved as string);
  if (!b || b.t < a.t) return moved as string;
  if (b.t > a.t) return present as string;
  return encodeRow({ t: a.t, b: [...a.b, ...b.b] }, span);
}

/** Two timelines as one, in time order. */
function mergeTimelines(moved: string | TimelinePoint[], present: string | TimelinePoint[] | undefined): TimelinePoint[] {
  const list = (v: unknown): TimelinePoint[] => (Array.isArray(v) ? (v as TimelinePoint[]) : []);
  return [...list(moved), ...list(present)].sort((x, y) => x[0] - y[0]);
}

function groupBy(buckets: readonly StoredBucket[], span: number): Map<number, StoredBucket[]> {
  const groups = new Map<number, StoredBucket[]>();
  for (const b of buckets) {
    const start = floor(b.t, span);
    groups.set(start, [...(groups.get(start) ?? []), b]);
  }
  return groups;
}

function slotKeys(id: string, slots: number, level: 'm' | 'h'): string[] {
  return Array.from({ length: slots }, (_, i) => `${id}|${level}${i}`);
}
