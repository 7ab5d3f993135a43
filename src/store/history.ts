import type { CheckResult } from '../domain/check.js';
import {
  addCheck,
  emptySummary,
  encodeBucket,
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

  /**
   * Appends buckets to their rows: the rows of a whole flush are read with getMany, extended and
   * written back together (writes are pipelined; each key's writes stay in order).
   */
  const appendAll = async (appends: ReadonlyArray<{ key: string; start: number; span: number; buckets: StoredBucket[] }>): Promise<void> => {
    for (let i = 0; i < appends.length; i += BATCH) {
      const batch = appends.slice(i, i + BATCH);
      await Promise.all(batch.map((a) => writes.run(a.key, async () => undefined)));
      const started = performance.now();
      const stored = await keyv.getMany(batch.map((a) => a.key));
      await Promise.all(
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
      stats.writes += batch.length;
      stats.writeMs += performance.now() - started;
    }
  };

  /** Flushes run one after the other: two at once would read the same row and one append would be lost. */
  let flushing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => (flushing = flushing.then(flushNow));
  const flushNow = async (): Promise<void> => {
    const now = deps.clock.now();
    const appends: Array<{ key: string; start: number; span: number; buckets: StoredBucket[] }> = [];
    const timelines: Array<[string, TimelinePoint[]]> = [];
    for (const [id, l] of live) {
      roll(l, now);
      for (const [start, group] of groupBy(l.minutes.splice(0), HOUR)) appends.push({ key: minuteKey(id, start), start, span: MINUTE, buckets: group });
      for (const [start, group] of groupBy(l.hours.splice(0), DAY)) appends.push({ key: hourKey(id, start), start, span: HOUR, buckets: group });
      if (l.changes.length > 0) timelines.push([id, l.changes.splice(0)]);
    }
    try {
      await appendAll(appends);
      for (const [id, changes] of timelines) {
        await writes.run(timelineKey(id), async () => {
          const stored = ((await keyv.get(timelineKey(id))) as TimelinePoint[] | undefined) ?? [];
          const merged = [...stored, ...changes].sort((a, b) => a[0] - b[0]);
          await keyv.set(timelineKey(id), pruneTimeline(merged, deps.clock.now() - settings.hourDays * DAY));
        });
      }
    } catch (err) {
      deps.logger?.error({ err, event: 'history_write_failed' }, 'could not write history');
    }
  };

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

    async rename(previousId, id) {
      const l = live.get(previousId);
      if (l) {
        live.delete(previousId);
        live.set(id, l);
      }
      await writes.drain();
      const keys = [...slotKeys(previousId, minuteSlots, 'm'), ...slotKeys(previousId, hourSlots, 'h'), timelineKey(previousId)];
      for (const key of keys) {
        const value = await keyv.get(key);
        if (value === undefined) continue;
        await keyv.set(`${id}${key.slice(previousId.length)}`, value);
        await keyv.delete(key);
      }
    },

    async remove(id) {
      live.delete(id);
      await writes.drain();
      for (const key of [...slotKeys(id, minuteSlots, 'm'), ...slotKeys(id, hourSlots, 'h'), timelineKey(id)]) await keyv.delete(key);
    },

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
