import { describe, expect, it } from 'vitest';
import { createGrouper, type Grouper } from '../../src/alerts/grouping.js';
import { FakeClock, flushPromises } from '../support/fake-clock.js';

/** One hand-over: when, for which key, what. */
interface Flushed {
  at: number;
  key: string;
  items: number[];
}

interface Rig {
  clock: FakeClock;
  t0: number;
  grouper: Grouper<number>;
  flushed: Flushed[];
  errors: unknown[];
  /** Flushes running right now, and the most ever at once (per key). */
  maxConcurrent: Map<string, number>;
}

/** A grouper over a fake clock (5 s window, 60 s at most) that records every hand-over; `slow` makes flushes wait. */
function rig(options: { windowMs?: number; maxIntervalMs?: number; flush?: (key: string, items: number[]) => Promise<void> } = {}): Rig {
  const clock = new FakeClock();
  const flushed: Flushed[] = [];
  const errors: unknown[] = [];
  const running = new Map<string, number>();
  const maxConcurrent = new Map<string, number>();
  const grouper = createGrouper<number>({
    clock,
    windowMs: options.windowMs ?? 5_000,
    maxIntervalMs: options.maxIntervalMs ?? 60_000,
    async flush(key, items) {
      const now = (running.get(key) ?? 0) + 1;
      running.set(key, now);
      maxConcurrent.set(key, Math.max(maxConcurrent.get(key) ?? 0, now));
      flushed.push({ at: clock.now(), key, items });
      try {
        await options.flush?.(key, items);
      } finally {
        running.set(key, (running.get(key) ?? 1) - 1);
      }
    },
    onError: (err) => errors.push(err),
  });
  return { clock, t0: clock.now(), grouper, flushed, errors, maxConcurrent };
}

/** A flush that waits until released; `started` counts the calls. */
function gate(): { flush: () => Promise<void>; release: () => void; started: () => number } {
  const waiting: Array<() => void> = [];
  let started = 0;
  return {
    flush: () =>
      new Promise<void>((resolve) => {
        started++;
        waiting.push(resolve);
      }),
    release: () => {
      for (const resolve of waiting.splice(0)) resolve();
    },
    started: () => started,
  };
}

const times = (r: Rig): number[] => r.flushed.map((f) => f.at - r.t0);

describe('grouper', () => {
  it('hands over the first item after a quiet spell at once', async () => {
    const r = rig();
    r.grouper.add('chat', 1);
    await flushPromises();
    expect(r.flushed).toEqual([{ at: r.t0, key: 'chat', items: [1] }]);
    expect(r.grouper.pending()).toBe(0);
    expect(r.clock.pending).toBe(0);
  });

  it('buffers later items within the window and hands them over together when it closes', async () => {
    const r = rig();
    r.grouper.add('chat', 1);
    await flushPromises();
    await r.clock.advance(1_000);
    r.grouper.add('chat', 2);
    await r.clock.advance(2_000);
    r.grouper.add('chat', 3);
    expect(r.grouper.pending()).toBe(2);
    await r.clock.advance(1_999);
    expect(r.flushed.map((f) => f.items)).toEqual([[1]]);
    await r.clock.advance(1);
    expect(r.flushed).toEqual([
      { at: r.t0, key: 'chat', items: [1] },
      { at: r.t0 + 5_000, key: 'chat', items: [2, 3] },
    ]);
    expect(r.grouper.pending()).toBe(0);
  });

  it('a key quiet for a whole window sends its next item at once again', async () => {
    const r = rig();
    r.grouper.add('chat', 1);
    await flushPromises();
    await r.clock.advance(5_000);
    r.grouper.add('chat', 2);
    await flushPromises();
    await r.clock.advance(60_000);
    r.grouper.add('chat', 3);
    await flushPromises();
    expect(times(r)).toEqual([0, 5_000, 65_000]);
    expect(r.flushed.map((f) => f.items)).toEqual([[1], [2], [3]]);
  });

  it('during a storm the groups come 5 s, 10 s, 20 s, 40 s apart, then every 60 s at most', async () => {
    const r = rig();
    // One item a second for six minutes.
    for (let n = 0; n < 360; n++) {
      r.grouper.add('chat', n);
      await flushPromises();
      await r.clock.advance(1_000);
    }
    const gaps = times(r).slice(1).map((t, i) => t - times(r)[i]!);
    expect(times(r).slice(0, 6)).toEqual([0, 5_000, 15_000, 35_000, 75_000, 135_000]);
    expect(gaps.slice(0, 4)).toEqual([5_000, 10_000, 20_000, 40_000]);
    expect(gaps.slice(4).every((g) => g === 60_000)).toBe(true);
    expect(r.flushed.length).toBeLessThan(12);
    // Every item is handed over once, in order (the last ones when the storm's group closes).
    await r.clock.advance(60_000);
    expect(r.flushed.flatMap((f) => f.items)).toEqual(Array.from({ length: 360 }, (_, n) => n));
  });

  it('after a storm the pace returns to the fast first message once the key is quiet', async () => {
    const r = rig();
    for (let n = 0; n < 40; n++) {
      r.grouper.add('chat', n);
      await r.clock.advance(1_000);
    }
    await r.clock.advance(120_000);
    const before = r.flushed.length;
    const quietAt = r.clock.now();
    r.grouper.add('chat', 100);
    await flushPromises();
    expect(r.flushed.slice(before)).toEqual([{ at: quietAt, key: 'chat', items: [100] }]);
    // And the window is back to 5 s.
    r.grouper.add('chat', 101);
    await r.clock.advance(5_000);
    expect(r.flushed.at(-1)).toEqual({ at: quietAt + 5_000, key: 'chat', items: [101] });
  });

  it('never runs two flushes of a key at once: a slow flush holds the next group', async () => {
    const slow = gate();
    const r = rig({ flush: slow.flush });
    r.grouper.add('chat', 1);
    await flushPromises();
    r.grouper.add('chat', 2);
    r.grouper.add('chat', 3);
    await r.clock.advance(5_000);
    // The group's time came, but the first flush has not finished.
    expect(slow.started()).toBe(1);
    expect(r.flushed.map((f) => f.items)).toEqual([[1]]);
    r.grouper.add('chat', 4);
    await r.clock.advance(10_000);
    expect(slow.started()).toBe(1);
    slow.release();
    await flushPromises();
    expect(slow.started()).toBe(2);
    slow.release();
    await flushPromises();
    slow.release();
    await flushPromises();
    expect(r.flushed.map((f) => f.items)).toEqual([[1], [2, 3], [4]]);
    expect(r.maxConcurrent.get('chat')).toBe(1);
  });

  it('keys are independent: a storm in one chat does not delay or hold another', async () => {
    const slow = gate();
    const r = rig({ flush: async (key) => (key === 'busy' ? slow.flush() : undefined) });
    r.grouper.add('busy', 1);
    r.grouper.add('busy', 2);
    await flushPromises();
    await r.clock.advance(2_000);
    r.grouper.add('calm', 10);
    await flushPromises();
    expect(r.flushed.map((f) => [f.at - r.t0, f.key, f.items])).toEqual([
      [0, 'busy', [1]],
      [2_000, 'calm', [10]],
    ]);
    r.grouper.add('calm', 11);
    await r.clock.advance(5_000);
    expect(r.flushed.filter((f) => f.key === 'calm').map((f) => [f.at - r.t0, f.items])).toEqual([
      [2_000, [10]],
      [7_000, [11]],
    ]);
    slow.release();
    await flushPromises();
    slow.release();
    await flushPromises();
    expect(r.flushed.filter((f) => f.key === 'busy').map((f) => f.items)).toEqual([[1], [2]]);
  });

  it('flushAll hands over everything buffered at once and waits for the flushes', async () => {
    const slow = gate();
    const r = rig({ flush: slow.flush });
    r.grouper.add('a', 1);
    r.grouper.add('a', 2);
    r.grouper.add('a', 3);
    r.grouper.add('b', 4);
    r.grouper.add('b', 5);
    expect(r.grouper.pending()).toBe(3);
    let done = false;
    const all = r.grouper.flushAll().then(() => (done = true));
    expect(r.grouper.pending()).toBe(0);
    expect(r.clock.pending).toBe(0);
    await flushPromises();
    expect(done).toBe(false);
    for (let i = 0; i < 4; i++) {
      slow.release();
      await flushPromises();
    }
    await all;
    expect(r.clock.now()).toBe(r.t0);
    expect(r.flushed.map((f) => [f.key, f.items])).toEqual([
      ['a', [1]],
      ['b', [4]],
      ['a', [2, 3]],
      ['b', [5]],
    ]);
  });

  it('a failing flush is reported and does not stop the next group', async () => {
    let calls = 0;
    const r = rig({
      flush: async () => {
        if (++calls === 1) throw new Error('store down');
      },
    });
    r.grouper.add('chat', 1);
    r.grouper.add('chat', 2);
    await r.clock.advance(5_000);
    expect(r.errors).toEqual([new Error('store down')]);
    expect(r.flushed.map((f) => f.items)).toEqual([[1], [2]]);
  });

  it('loses nothing: every item added comes out once, in order per key, with slow flushes and many keys', async () => {
    const r = rig({ flush: () => new Promise<void>((resolve) => setTimeout(resolve, 1)) });
    const added = new Map<string, number[]>();
    let n = 0;
    // Three chats, irregular bursts over ten minutes: 25 ms to 7 s apart.
    for (let step = 0; step < 400; step++) {
      const key = `chat-${(step * 7) % 3}`;
      const item = n++;
      r.grouper.add(key, item);
      added.set(key, [...(added.get(key) ?? []), item]);
      await r.clock.advance(step % 11 === 0 ? 7_000 : (step % 5) * 25 + 25);
    }
    await r.grouper.flushAll();
    const out = new Map<string, number[]>();
    for (const f of r.flushed) out.set(f.key, [...(out.get(f.key) ?? []), ...f.items]);
    expect(r.flushed.reduce((sum, f) => sum + f.items.length, 0)).toBe(n);
    expect(out).toEqual(added);
    expect(r.grouper.pending()).toBe(0);
    expect([...r.maxConcurrent.values()].every((m) => m === 1)).toBe(true);
    // Far fewer hand-overs than items.
    expect(r.flushed.length).toBeLessThan(n / 4);
  });
});
