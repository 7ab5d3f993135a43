import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { summarize } from '../../src/domain/history.js';
import { createHistory } from '../../src/store/history.js';
import { openStore, type KeyvStore } from '../../src/store/keyv.js';
import { FakeClock } from '../support/fake-clock.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

async function sqlite(dir?: string): Promise<{ store: KeyvStore; dir: string }> {
  const dataDir = dir ?? (await mkdtemp(join(tmpdir(), 'lookout-history-')));
  if (!dir) cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const store = await openStore({ kind: 'sqlite', dataDir });
  return { store, dir: dataDir };
}

/** Counts the writes the store gets. */
function countWrites(store: KeyvStore): () => number {
  const keyv = store.namespace('history');
  let writes = 0;
  const set = keyv.set.bind(keyv);
  keyv.set = ((...args: Parameters<typeof set>) => {
    writes++;
    return set(...args);
  }) as typeof keyv.set;
  return () => writes;
}

describe('history store', () => {
  it('writes in batches: nothing per check, one row write per target and flush', async () => {
    const { store } = await sqlite();
    cleanups.push(() => store.close());
    const writes = countWrites(store);
    const clock = new FakeClock(T0);
    const history = createHistory({ store, clock, settings: { flushMs: 60_000 } });
    history.start();
    for (let s = 0; s < 600; s += 10) {
      for (const id of ['1/a', '1/b', '1/c']) history.record(id, { ok: true, latencyMs: 50 + s / 10, at: T0 + s * 1_000 });
    }
    expect(writes()).toBe(0);
    // Ten minutes of checks for three targets: per flush, one minute row per target.
    for (let m = 1; m <= 10; m++) {
      for (let s = 0; s < 60; s += 10) for (const id of ['1/a', '1/b', '1/c']) history.record(id, { ok: true, latencyMs: 40, at: T0 + m * MIN + s * 1_000 });
      await clock.advance(MIN);
    }
    await history.flush();
    expect(writes()).toBeLessThanOrEqual(3 * 11);
    expect(writes()).toBeGreaterThan(0);
    const minutes = await history.minutes('1/a', T0, T0 + HOUR);
    expect(minutes.map((b) => b.t)).toEqual(Array.from({ length: 11 }, (_, i) => T0 + i * MIN));
    expect(summarize(minutes).checks).toBe(120);
    await history.stop();
  });

  it('per-minute buckets for 48 h, per-hour buckets for 90 days: older ones are gone, the rows are reused', async () => {
    const { store } = await sqlite();
    cleanups.push(() => store.close());
    const clock = new FakeClock(T0);
    const history = createHistory({ store, clock, settings: { minuteHours: 48, hourDays: 90 } });
    // One check every 10 minutes for 100 days, flushed every 6 hours.
    for (let t = T0; t < T0 + 100 * DAY; t += 10 * MIN) {
      history.record('1/a', { ok: true, latencyMs: 20, at: t });
      if ((t - T0) % (6 * HOUR) === 0) {
        clock.now = () => t;
        await history.flush();
      }
    }
    const end = T0 + 100 * DAY;
    clock.now = () => end;
    await history.flush();
    const minutes = await history.minutes('1/a', T0, end);
    expect(minutes[0]!.t).toBeGreaterThanOrEqual(end - 49 * HOUR);
    expect(minutes.length).toBeGreaterThanOrEqual(48 * 6);
    expect(minutes.length).toBeLessThanOrEqual(49 * 6);
    const hours = await history.hours('1/a', T0, end);
    expect(hours[0]!.t).toBeGreaterThanOrEqual(end - 91 * DAY);
    expect(hours.length).toBeGreaterThanOrEqual(90 * 24);
    // The ring: never more rows than the retention, however long it runs.
    const keys: string[] = [];
    for await (const [key] of store.namespace('history').iterator!(undefined)) keys.push(String(key));
    expect(keys.filter((k) => k.includes('|m')).length).toBeLessThanOrEqual(49);
    expect(keys.filter((k) => k.includes('|h')).length).toBeLessThanOrEqual(91);
  }, 30_000);

  it('keeps the state timeline for 90 days (and the state it starts in)', async () => {
    const { store } = await sqlite();
    cleanups.push(() => store.close());
    const clock = new FakeClock(T0);
    const history = createHistory({ store, clock, settings: { hourDays: 90 } });
    history.change('1/a', T0, 'UP');
    history.change('1/a', T0 + DAY, 'DOWN');
    history.change('1/a', T0 + DAY + HOUR, 'UP');
    await history.flush();
    clock.now = () => T0 + 200 * DAY;
    history.change('1/a', T0 + 200 * DAY, 'DOWN');
    await history.flush();
    expect(await history.timeline('1/a')).toEqual([
      [T0 + DAY + HOUR, 'UP'],
      [T0 + 200 * DAY, 'DOWN'],
    ]);
  });

  it('a restart keeps history: the open buckets are written at stop and merge with what follows', async () => {
    const { store, dir } = await sqlite();
    const clock = new FakeClock(T0);
    const first = createHistory({ store, clock });
    first.record('1/a', { ok: true, latencyMs: 10, at: T0 + 1_000 });
    first.record('1/a', { ok: false, latencyMs: 10_000, reason: 'timeout after 10s', at: T0 + 20_000 });
    first.change('1/a', T0 + 20_000, 'DOWN');
    await first.stop();
    await store.close();

    const again = await sqlite(dir);
    cleanups.push(() => again.store.close());
    const second = createHistory({ store: again.store, clock });
    second.record('1/a', { ok: true, latencyMs: 30, at: T0 + 40_000 });
    const minutes = await second.minutes('1/a', T0, T0 + HOUR);
    expect(minutes).toHaveLength(1);
    // Latency is that of the successful checks: the 10 s timeout is a failure, not a slow answer.
    expect(minutes[0]).toMatchObject({ t: T0, n: 3, f: 1, lo: 10, hi: 30, r: { 'timeout after 10s': 1 } });
    expect(summarize(await second.hours('1/a', T0, T0 + DAY)).checks).toBe(3);
    expect(await second.timeline('1/a')).toEqual([[T0 + 20_000, 'DOWN']]);
  });

  it('moves with a rename and goes with a removal', async () => {
    const { store } = await sqlite();
    cleanups.push(() => store.close());
    const clock = new FakeClock(T0);
    const history = createHistory({ store, clock });
    history.record('1/a', { ok: true, latencyMs: 10, at: T0 });
    history.change('1/a', T0, 'UP');
    await history.stop();
    await history.rename('1/a', '1/b');
    expect(await history.minutes('1/a', T0, T0 + HOUR)).toEqual([]);
    expect((await history.minutes('1/b', T0, T0 + HOUR)).map((b) => b.n)).toEqual([1]);
    expect(await history.timeline('1/b')).toEqual([[T0, 'UP']]);
    await history.remove('1/b');
    expect(await history.minutes('1/b', T0, T0 + HOUR)).toEqual([]);
    expect(await history.hours('1/b', T0, T0 + DAY)).toEqual([]);
    expect(await history.timeline('1/b')).toEqual([]);
  });

  it('a failed write loses nothing: the buckets wait for the next flush', async () => {
    const { store } = await sqlite();
    cleanups.push(() => store.close());
    const keyv = store.namespace('history');
    const set = keyv.set.bind(keyv);
    let failures = 2;
    keyv.set = ((...args: Parameters<typeof set>) => (failures-- > 0 ? Promise.reject(new Error('disk full')) : set(...args))) as typeof keyv.set;
    const clock = new FakeClock(T0);
    const history = createHistory({ store, clock });
    history.record('1/a', { ok: true, latencyMs: 10, at: T0 });
    history.change('1/a', T0, 'UP');
    clock.now = () => T0 + HOUR + MIN;
    history.record('1/a', { ok: true, latencyMs: 20, at: T0 + HOUR });
    await history.flush();
    expect(failures).toBeLessThanOrEqual(0);
    await history.flush();
    await history.stop();
    const fresh = createHistory({ store, clock });
    expect(summarize(await fresh.minutes('1/a', T0, T0 + 2 * HOUR)).checks).toBe(2);
    expect(summarize(await fresh.hours('1/a', T0, T0 + DAY)).checks).toBe(2);
    expect(await fresh.timeline('1/a')).toEqual([[T0, 'UP']]);
  });

  it('a rename merges what the new id counted already, also while flushes run', async () => {
    const { store } = await sqlite();
    cleanups.push(() => store.close());
    const clock = new FakeClock(T0);
    const history = createHistory({ store, clock });
    history.record('1/a', { ok: true, latencyMs: 10, at: T0 });
    await history.flush();
    history.record('1/a', { ok: true, latencyMs: 11, at: T0 + 1_000 });
    // The engine already checks under the new id when the rename reaches the history.
    history.record('1/b', { ok: true, latencyMs: 12, at: T0 + 2_000 });
    await Promise.all([history.flush(), history.rename('1/a', '1/b'), history.flush()]);
    history.record('1/b', { ok: true, latencyMs: 13, at: T0 + 3_000 });
    await history.stop();
    expect(summarize(await history.minutes('1/b', T0, T0 + HOUR)).checks).toBe(4);
    expect(summarize(await history.hours('1/b', T0, T0 + DAY)).checks).toBe(4);
    expect(await history.minutes('1/a', T0, T0 + HOUR)).toEqual([]);
  });
});
