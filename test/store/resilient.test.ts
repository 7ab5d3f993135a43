import { describe, expect, it } from 'vitest';
import { createNamespaceAdapter } from '../../src/store/namespace-adapter.js';
import { createWriteLayer, type StoreHealth } from '../../src/store/resilient.js';
import type { RowAdapter } from '../../src/store/rows.js';
import { FakeClock, flushPromises } from '../support/fake-clock.js';

const FILE = '/data/lookout.sqlite';

/** A disk of rows behind a backend look-alike; `failWith` makes every write fail with that code. */
function fakeDisk(now: () => number) {
  const rows = new Map<string, unknown>();
  const attempts: number[] = [];
  const state = { failWith: undefined as string | undefined, bug: false, batches: [] as number[] };
  const refuse = (): void => {
    attempts.push(now());
    if (state.bug) throw new TypeError('a bug');
    if (state.failWith) throw Object.assign(new Error(`${state.failWith}: refused`), { code: state.failWith });
  };
  const adapter = {
    opts: { table: 'keyv' },
    async get(key: string) {
      return rows.get(key);
    },
    async getMany(keys: string[]) {
      return keys.map((k) => rows.get(k));
    },
    async has(key: string) {
      return rows.has(key);
    },
    async set(key: string, value: unknown) {
      refuse();
      rows.set(key, value);
    },
    async setMany(entries: Array<{ key: string; value: string }>) {
      refuse();
      state.batches.push(entries.length);
      for (const e of entries) rows.set(e.key, e.value);
    },
    async delete(key: string) {
      refuse();
      return rows.delete(key);
    },
    async page() {
      return [...rows].sort(([a], [b]) => a.localeCompare(b)).map(([key, value]) => ({ key, value }));
    },
    async clear() {},
  } as unknown as RowAdapter;
  return { rows, attempts, state, adapter };
}

function rig() {
  const clock = new FakeClock(0);
  const disk = fakeDisk(() => clock.now());
  const layer = createWriteLayer({ file: FILE, clock });
  const store = createNamespaceAdapter(layer, () => ({ adapter: disk.adapter }), FILE);
  const seen: StoreHealth[] = [];
  layer.onHealth((h) => seen.push(h));
  const tick = (ms: number): Promise<void> => clock.advance(ms);
  return { clock, disk, layer, store, seen, tick };
}

describe('the pending-write layer', () => {
  it('writes a batch in one statement when healthy; a refused batch waits key by key and lands in order', async () => {
    const r = rig();
    await r.store.setMany!([
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
      { key: 'a', value: '3' },
    ]);
    expect(r.disk.state.batches).toEqual([2]);
    expect([...r.disk.rows]).toEqual([
      ['a', '3'],
      ['b', '2'],
    ]);
    r.disk.state.failWith = 'SQLITE_FULL';
    await r.store.setMany!([
      { key: 'c', value: '4' },
      { key: 'd', value: '5' },
    ]);
    expect(r.layer.health()).toMatchObject({ ok: false, pendingWrites: 2 });
    // Read back from memory while they wait.
    expect(await r.store.get('c')).toBe('4');
    r.disk.state.failWith = undefined;
    await r.tick(250);
    await flushPromises();
    expect(r.disk.rows.get('c')).toBe('4');
    expect(r.disk.rows.get('d')).toBe('5');
    expect(r.layer.health()).toMatchObject({ ok: true, pendingWrites: 0 });
    // While writes wait, a batch joins them one by one (no statement of its own).
    r.disk.state.failWith = 'SQLITE_FULL';
    await r.store.set('e', '6');
    await r.store.setMany!([
      { key: 'f', value: '7' },
      { key: 'g', value: '8' },
    ]);
    expect(r.disk.state.batches).toEqual([2]);
    expect(r.layer.health().pendingWrites).toBe(3);
  });

  it('retries after 250 ms, doubling up to 10 s, until a write lands; then ends the episode once', async () => {
    const r = rig();
    r.disk.state.failWith = 'SQLITE_FULL';
    await expect(r.store.set('k', 'v')).resolves.toBe(true);
    expect(r.layer.health()).toMatchObject({ ok: false, since: 0, cause: 'the disk is full', pendingWrites: 1, failedWrites: 1, episodes: 1 });
    await r.tick(60_000);
    const gaps = r.disk.attempts.slice(1).map((at, i) => at - r.disk.attempts[i]!);
    expect(gaps.slice(0, 9)).toEqual([250, 500, 1_000, 2_000, 4_000, 8_000, 10_000, 10_000, 10_000]);
    expect(r.seen.map((h) => h.ok)).toEqual([false]);

    r.disk.state.failWith = undefined;
    await r.tick(10_000);
    expect(r.disk.rows.get('k')).toBe('v');
    expect(r.layer.health()).toMatchObject({ ok: true, pendingWrites: 0, episodes: 1 });
    expect(r.layer.health().failedWrites).toBe(r.disk.attempts.length - 1);
    expect(r.seen.map((h) => h.ok)).toEqual([false, true]);
    expect(r.clock.pending).toBe(0);

    // The next episode starts from 250 ms again.
    r.disk.state.failWith = 'SQLITE_IOERR';
    await r.store.set('k', 'w');
    const before = r.disk.attempts.length;
    await r.tick(250);
    expect(r.disk.attempts.length).toBe(before + 1);
    expect(r.layer.health().episodes).toBe(2);
  });

  it('keeps the latest write per key, in the order of the writes, a delete over an earlier set', async () => {
    const r = rig();
    r.disk.rows.set('gone', 'old');
    r.disk.state.failWith = 'SQLITE_FULL';
    await r.store.set('a', 1);
    await r.store.set('b', 2);
    await r.store.set('a', 3);
    await expect(r.store.delete('gone')).resolves.toBe(true);
    await r.store.set('c', 4);
    await expect(r.store.delete('c')).resolves.toBe(true);
    await expect(r.store.delete('never')).resolves.toBe(false);
    expect(r.layer.health().pendingWrites).toBe(5);
    expect(await r.store.get('a')).toBe(3);
    expect(await r.store.get('c')).toBeUndefined();
    expect(await r.store.getMany!(['a', 'b', 'gone'])).toEqual([3, 2, undefined]);
    const listed: unknown[] = [];
    for await (const row of r.store.iterator!()) listed.push(row);
    expect(listed).toEqual([
      ['b', 2],
      ['a', 3],
    ]);

    const order: string[] = [];
    const set = r.disk.adapter.set.bind(r.disk.adapter);
    const del = r.disk.adapter.delete.bind(r.disk.adapter);
    Object.assign(r.disk.adapter, {
      set: async (k: string, v: unknown) => (order.push(`set ${k}`), set(k, v)),
      delete: async (k: string) => (order.push(`delete ${k}`), del(k)),
    });
    r.disk.state.failWith = undefined;
    await r.tick(250);
    expect(order).toEqual(['set b', 'set a', 'delete gone', 'delete c', 'delete never']);
    expect([...r.disk.rows]).toEqual([
      ['b', 2],
      ['a', 3],
    ]);
  });

  it('throws what is a bug, not a storage fault, and keeps nothing for it', async () => {
    const r = rig();
    r.disk.state.bug = true;
    await expect(r.store.set('k', 'v')).rejects.toThrow('a bug');
    expect(r.layer.health()).toMatchObject({ ok: true, pendingWrites: 0, failedWrites: 0 });
  });

  it('flush at close waits for a retry already on its way, then tries what is left once', async () => {
    const r = rig();
    r.disk.state.failWith = 'SQLITE_FULL';
    await r.store.set('a', 1);
    await r.store.set('b', 2);
    r.disk.state.failWith = undefined;
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const set = r.disk.adapter.set.bind(r.disk.adapter);
    Object.assign(r.disk.adapter, { set: async (k: string, v: unknown) => (await slow, set(k, v)) });
    await r.tick(250);
    r.layer.stop();
    const flushed = r.layer.flush();
    await flushPromises();
    release();
    await expect(flushed).resolves.toBe(0);
    expect([...r.disk.rows]).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
  });

  it('holds writes while the file is recovered, and lets them go in order on release', async () => {
    const r = rig();
    r.layer.hold('the database file was deleted');
    expect(r.layer.health()).toMatchObject({ ok: false, cause: 'the database file was deleted' });
    await r.store.set('a', 1);
    await r.tick(60_000);
    expect(r.disk.rows.size).toBe(0);
    r.layer.release();
    await flushPromises();
    expect(r.disk.rows.get('a')).toBe(1);
    expect(r.seen.map((h) => [h.ok, h.cause])).toEqual([
      [false, 'the database file was deleted'],
      [true, undefined],
    ]);
  });
});
