import { describe, expect, it } from 'vitest';
import { DueQueue } from '../../src/engine/due-queue.js';
import { phaseOffset } from '../../src/engine/jitter.js';
import { createLimiter } from '../../src/engine/limiter.js';
import { createScheduler } from '../../src/engine/scheduler.js';
import { FakeClock } from '../support/fake-clock.js';

describe('DueQueue', () => {
  it('pops in time order, replaces and cancels keys', () => {
    const q = new DueQueue();
    q.schedule('c', 30);
    q.schedule('a', 10);
    q.schedule('b', 20);
    q.schedule('a', 25); // replaces a@10
    q.cancel('c');
    expect(q.size).toBe(2);
    expect(q.peekTime()).toBe(20);
    expect(q.popDue(19)).toBeUndefined();
    expect(q.popDue(100)).toEqual({ key: 'b', at: 20 });
    expect(q.popDue(100)).toEqual({ key: 'a', at: 25 });
    expect(q.popDue(100)).toBeUndefined();
    expect(q.size).toBe(0);
  });

  it('stays correct under many replacements (compaction)', () => {
    const q = new DueQueue();
    for (let round = 0; round < 50; round++) for (let i = 0; i < 100; i++) q.schedule(`k${i}`, round * 1000 + (i * 7919) % 1000);
    const out: number[] = [];
    for (let e = q.popDue(Infinity); e; e = q.popDue(Infinity)) out.push(e.at);
    expect(out).toHaveLength(100);
    expect(out).toEqual([...out].sort((x, y) => x - y));
    expect(Math.min(...out)).toBeGreaterThanOrEqual(49_000);
  });
});

describe('scheduler', () => {
  it('fires each key at its due time with the scheduled time', async () => {
    const clock = new FakeClock(0);
    const fired: Array<[string, number, number]> = [];
    const s = createScheduler(clock, (key, at) => fired.push([key, at, clock.now()]));
    s.schedule('b', 200);
    s.schedule('a', 100);
    s.schedule('c', 100);
    await clock.advance(99);
    expect(fired).toEqual([]);
    await clock.advance(1);
    expect(fired).toEqual([
      ['a', 100, 100],
      ['c', 100, 100],
    ]);
    await clock.advance(100);
    expect(fired.map((f) => f[0])).toEqual(['a', 'c', 'b']);
    expect(s.size).toBe(0);
  });

  it('re-arms when an earlier key arrives, and cancels', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    const s = createScheduler(clock, (key) => fired.push(key));
    s.schedule('late', 1_000);
    s.schedule('early', 10);
    s.schedule('gone', 20);
    s.cancel('gone');
    expect(s.has('gone')).toBe(false);
    await clock.advance(50);
    expect(fired).toEqual(['early']);
    s.schedule('late', 60); // moved earlier
    await clock.advance(20);
    expect(fired).toEqual(['early', 'late']);
    await clock.advance(2_000);
    expect(fired).toEqual(['early', 'late']);
  });

  it('stops firing after stop()', async () => {
    const clock = new FakeClock(0);
    const fired: string[] = [];
    const s = createScheduler(clock, (key) => fired.push(key));
    s.schedule('a', 10);
    s.stop();
    await clock.advance(100);
    expect(fired).toEqual([]);
    expect(clock.pending).toBe(0);
  });
});

describe('phaseOffset (jitter)', () => {
  it('is stable per id and inside the span', () => {
    expect(phaseOffset('1/api', 10_000)).toBe(phaseOffset('1/api', 10_000));
    for (let i = 0; i < 1_000; i++) {
      const o = phaseOffset(`1/t${i}`, 10_000);
      expect(o).toBeGreaterThanOrEqual(0);
      expect(o).toBeLessThan(10_000);
    }
    expect(phaseOffset('x', 1)).toBe(0);
  });

  it('spreads targets with the same interval evenly', () => {
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) buckets[Math.floor(phaseOffset(`-100123/target-${i}`, 10_000) / 1_000)]!++;
    for (const count of buckets) {
      expect(count).toBeGreaterThan(850);
      expect(count).toBeLessThan(1_150);
    }
  });
});

describe('limiter', () => {
  it('runs at most `limit` tasks at once, in arrival order', async () => {
    const limiter = createLimiter(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    const releases: Array<() => void> = [];
    const tasks = Array.from({ length: 5 }, (_, i) =>
      limiter.run(async () => {
        active++;
        peak = Math.max(peak, active);
        order.push(i);
        await new Promise<void>((r) => releases.push(r));
        active--;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(limiter.active).toBe(2);
    expect(limiter.queued).toBe(3);
    while (releases.length > 0 || order.length < 5) {
      releases.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(tasks)).toEqual([0, 1, 2, 3, 4]);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(limiter.active).toBe(0);
  });

  it('releases the slot when a task throws', async () => {
    const limiter = createLimiter(1);
    await expect(limiter.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await limiter.run(async () => 7)).toBe(7);
  });

  it('refuses a bad limit', () => {
    expect(() => createLimiter(0)).toThrow(RangeError);
  });
});
