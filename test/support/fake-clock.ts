import type { Clock, TimerHandle } from '../../src/lib/clock.js';

/** A clock that moves only when told; `advance` runs due timers in time order. */
export class FakeClock implements Clock {
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;

  constructor(private current = Date.UTC(2026, 10, 23, 12, 0, 0)) {}

  now = (): number => this.current;

  setTimeout = (fn: () => void, ms: number): TimerHandle => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.current + Math.max(0, ms), fn });
    return id as unknown as TimerHandle;
  };

  clearTimeout = (handle: TimerHandle): void => {
    this.timers.delete(handle as unknown as number);
  };

  /** Number of pending timers. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time forward by `ms`, firing each due timer at its own time and letting promises settle between. */
  async advance(ms: number): Promise<void> {
    const end = this.current + ms;
    for (;;) {
      let nextId: number | undefined;
      let nextAt = Infinity;
      for (const [id, t] of this.timers) {
        if (t.at < nextAt || (t.at === nextAt && id < (nextId ?? Infinity))) {
          nextAt = t.at;
          nextId = id;
        }
      }
      if (nextId === undefined || nextAt > end) break;
      const timer = this.timers.get(nextId)!;
      this.timers.delete(nextId);
      this.current = Math.max(this.current, nextAt);
      timer.fn();
      await flushPromises();
    }
    this.current = end;
    await flushPromises();
  }
}

/** Lets pending promise callbacks (and one macrotask turn) run. */
export async function flushPromises(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
