import type { Clock, TimerHandle } from '../lib/clock.js';
import { createSerial } from '../lib/serial.js';

/** Collects items per key and hands them over in groups. */
export interface Grouper<T> {
  add(key: string, item: T): void;
  /** Hands over everything buffered now (shutdown). */
  flushAll(): Promise<void>;
  /** Items waiting, for health and tests. */
  pending(): number;
}

/** How a grouper paces its key. */
export interface GrouperOptions<T> {
  clock: Clock;
  /** A key quiet for this long sends its next item at once; otherwise items wait for the group. */
  windowMs: number;
  /** While items keep coming, each group waits twice as long as the previous one, up to this. */
  maxIntervalMs: number;
  flush(key: string, items: T[]): Promise<void>;
  onError?(err: unknown): void;
}

/**
 * Alertmanager-style grouping with a fast first message: the first item after a quiet spell goes out
 * at once (a single outage is not delayed), later items within the window are buffered and sent
 * together when it closes, and while a storm lasts the groups come ever further apart (5 s, 10 s,
 * 20 s, ... up to `maxIntervalMs`), so hundreds of changes make a handful of messages and none is lost.
 */
export function createGrouper<T>(options: GrouperOptions<T>): Grouper<T> {
  const { clock } = options;
  const keys = new Map<string, { buffer: T[]; timer?: TimerHandle; lastFlushAt: number; intervalMs: number }>();
  const inFlight = new Set<Promise<void>>();
  // Groups of one key are handed over one after the other, never overlapping.
  const serial = createSerial();

  const hand = (key: string, items: T[]): void => {
    const work = serial.run(key, () => options.flush(key, items)).catch((err: unknown) => options.onError?.(err));
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };

  const fire = (key: string): void => {
    const state = keys.get(key);
    if (!state) return;
    state.timer = undefined;
    const items = state.buffer.splice(0);
    if (items.length === 0) return;
    state.lastFlushAt = clock.now();
    hand(key, items);
    state.intervalMs = Math.min(state.intervalMs * 2, options.maxIntervalMs);
  };

  return {
    add(key, item) {
      const now = clock.now();
      let state = keys.get(key);
      if (!state) {
        state = { buffer: [], lastFlushAt: -Infinity, intervalMs: options.windowMs };
        keys.set(key, state);
      }
      const quiet = state.timer === undefined && state.buffer.length === 0 && now - state.lastFlushAt >= state.intervalMs;
      if (quiet) {
        state.intervalMs = options.windowMs;
        state.lastFlushAt = now;
        hand(key, [item]);
        return;
      }
      state.buffer.push(item);
      if (state.timer === undefined) {
        const at = Math.max(now, state.lastFlushAt + state.intervalMs);
        state.timer = clock.setTimeout(() => fire(key), at - now);
      }
    },
    async flushAll() {
      for (const [key, state] of keys) {
        if (state.timer !== undefined) clock.clearTimeout(state.timer);
        state.timer = undefined;
        const items = state.buffer.splice(0);
        if (items.length > 0) hand(key, items);
      }
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    pending: () => [...keys.values()].reduce((n, s) => n + s.buffer.length, 0),
  };
}
