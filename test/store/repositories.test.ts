import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { initialState, type StateRecord } from '../../src/domain/state.js';
import type { HttpTarget } from '../../src/kinds/http/index.js';
import type { TcpTarget } from '../../src/kinds/tcp/index.js';
import { databaseFile, openStore, type KeyvStore, type StoreLocation } from '../../src/store/keyv.js';
import { createStateRepository } from '../../src/store/states.js';
import { createTargetRepository } from '../../src/store/targets.js';
import { existsSync } from 'node:fs';
import { postgresTestsEnabled, startTestCluster, type TestCluster } from '../support/postgres.js';

const http = (chatId: number, name: string): HttpTarget => ({
  id: `${chatId}/${name}`,
  chatId,
  name,
  kind: 'http',
  url: `https://${name}.example.com/health`,
  method: 'GET',
  expect: [{ from: 200, to: 299 }],
  headers: [{ name: 'Authorization', value: 'Bearer secret' }],
  everyMs: 60_000,
  timeoutMs: 10_000,
  retryMs: 5_000,
  confirm: 2,
  recover: 1,
  paused: false,
  createdAt: 1,
  updatedAt: 2,
});

const tcp = (chatId: number, name: string): TcpTarget => ({
  id: `${chatId}/${name}`,
  chatId,
  threadId: 7,
  name,
  kind: 'tcp',
  host: 'db.internal',
  port: 5432,
  everyMs: 30_000,
  timeoutMs: 5_000,
  retryMs: 5_000,
  confirm: 1,
  recover: 2,
  note: 'call <b>Bob</b>',
  paused: true,
  createdAt: 3,
  updatedAt: 4,
});

let dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-store-'));
  dirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  dirs = [];
});

// A throwaway PostgreSQL cluster for this file (skipped with a warning where PostgreSQL is missing, except in CI).
const withPostgres = postgresTestsEnabled();
let cluster: TestCluster | undefined;
beforeAll(async () => {
  if (withPostgres) cluster = await startTestCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.destroy();
});

// The same contract for every backend: in-memory Keyv, a real SQLite file and a real PostgreSQL (a new database per test).
const backends: Array<[string, () => Promise<StoreLocation>]> = [
  ['memory', async () => ({ kind: 'memory' })],
  ['sqlite', async () => ({ kind: 'sqlite', dataDir: await tempDir() })],
  ...(withPostgres ? [['postgres', async () => ({ kind: 'postgres', url: await cluster!.createDatabase() })] as [string, () => Promise<StoreLocation>]] : []),
];

describe.each(backends)('repositories over %s', (_name, location) => {
  let store: KeyvStore;
  beforeEach(async () => {
    store = await openStore(await location());
  });
  afterEach(async () => {
    await store.close();
  });

  it('puts, gets, lists and deletes targets', async () => {
    const repo = createTargetRepository(store);
    expect(await repo.list()).toEqual([]);
    await repo.put(http(1, 'b'));
    await repo.put(tcp(1, 'a'));
    await repo.put(http(2, 'c'));
    expect(await repo.get('1/b')).toEqual(http(1, 'b'));
    expect(await repo.get('1/zzz')).toBeUndefined();
    expect((await repo.list()).map((t) => t.id)).toEqual(['1/a', '1/b', '2/c']);
    expect((await repo.listByChat(1)).map((t) => t.name)).toEqual(['a', 'b']);
    expect(await repo.listByChat(3)).toEqual([]);
    expect(await repo.delete('1/b')).toBe(true);
    expect(await repo.delete('1/b')).toBe(false);
    expect((await repo.list()).map((t) => t.id)).toEqual(['1/a', '2/c']);
  });

  it('replaces a target on put and keeps every field', async () => {
    const repo = createTargetRepository(store);
    await repo.put(tcp(1, 'a'));
    const edited = { ...tcp(1, 'a'), port: 6543, note: undefined, updatedAt: 9 };
    await repo.put(edited);
    const got = await repo.get('1/a');
    expect(got).toMatchObject({ port: 6543, updatedAt: 9, threadId: 7 });
    expect(got?.note).toBeUndefined();
  });

  it('lists more targets than one iteration page', async () => {
    const repo = createTargetRepository(store);
    await Promise.all(Array.from({ length: 2_500 }, (_, i) => repo.put(http(1, `t${String(i).padStart(4, '0')}`))));
    const list = await repo.list();
    expect(list).toHaveLength(2_500);
    expect(new Set(list.map((t) => t.id)).size).toBe(2_500);
  });

  it('puts many targets in one batch (replacing those it names again) and reads them back whole', async () => {
    const repo = createTargetRepository(store);
    await repo.put(tcp(1, 'a'));
    const batch = [{ ...tcp(1, 'a'), port: 7000 }, ...Array.from({ length: 1_200 }, (_, i) => http(2, `t${String(i).padStart(4, '0')}`))];
    await repo.putMany(batch);
    expect(await repo.get('1/a')).toMatchObject({ port: 7000, threadId: 7 });
    expect(await repo.get('2/t0042')).toEqual(http(2, 't0042'));
    expect(await repo.list()).toHaveLength(1_201);
  });

  it('keeps targets and states apart', async () => {
    const targets = createTargetRepository(store);
    const states = createStateRepository(store);
    await targets.put(http(1, 'a'));
    await states.put(initialState('1/a', 5));
    expect(await targets.list()).toHaveLength(1);
    expect([...(await states.all()).keys()]).toEqual(['1/a']);
  });

  it('puts, gets, lists and deletes states, one or many', async () => {
    const states = createStateRepository(store);
    const down: StateRecord = {
      ...initialState('1/a', 5),
      state: 'DOWN',
      since: 10,
      consecutiveFailures: 3,
      checks: 9,
      failures: 3,
      lastCheckAt: 11,
      lastResult: { ok: false, at: 10, latencyMs: 12.5, status: 503, failure: 'status', reason: 'HTTP 503, expected 200-299' },
    };
    await states.put(down);
    expect(await states.get('1/a')).toEqual(down);
    await states.putMany([initialState('1/b', 1), { ...down, state: 'UP' }]);
    expect(await states.putMany([])).toBeUndefined();
    const all = await states.all();
    expect([...all.keys()].sort()).toEqual(['1/a', '1/b']);
    expect(all.get('1/a')?.state).toBe('UP');
    expect(await states.delete('1/a')).toBe(true);
    expect(await states.get('1/a')).toBeUndefined();
  });

  it('answers ping', async () => {
    expect(await store.ping()).toBe(true);
  });
});

describe('sqlite store', () => {
  it('keeps data across close and reopen of the same DATA_DIR', async () => {
    const dataDir = await tempDir();
    const first = await openStore({ kind: 'sqlite', dataDir });
    await createTargetRepository(first).put(http(1, 'a'));
    await createStateRepository(first).put({ ...initialState('1/a', 5), state: 'DOWN' });
    await first.close();
    expect(existsSync(databaseFile(dataDir))).toBe(true);

    const second = await openStore({ kind: 'sqlite', dataDir });
    expect(await createTargetRepository(second).get('1/a')).toEqual(http(1, 'a'));
    expect((await createStateRepository(second).get('1/a'))?.state).toBe('DOWN');
    await second.close();
  });

  it('creates a missing data directory', async () => {
    const dataDir = join(await tempDir(), 'nested', 'data');
    const store = await openStore({ kind: 'sqlite', dataDir });
    expect(await store.ping()).toBe(true);
    await store.close();
    expect(existsSync(databaseFile(dataDir))).toBe(true);
  });
});
