import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aggregateOf, migrate, MigrateError, parseArgs, runCli } from '../../src/cli/migrate.js';
import { initialState } from '../../src/domain/state.js';
import { databaseFile, openStore } from '../../src/store/keyv.js';
import { createStateRepository } from '../../src/store/states.js';
import { createTargetRepository } from '../../src/store/targets.js';
import { postgresTestsEnabled, startTestCluster, type TestCluster } from '../support/postgres.js';
import { httpTarget } from '../support/target-server.js';

const enabled = postgresTestsEnabled();
let cluster: TestCluster;
const dirs: string[] = [];
beforeAll(async () => {
  if (enabled) cluster = await startTestCluster();
}, 60_000);
afterAll(async () => {
  await cluster?.destroy();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-migrate-'));
  dirs.push(dir);
  return dir;
}

/** A SQLite install with a few rows in several aggregates. */
async function sqliteInstall(): Promise<string> {
  const dataDir = await tempDir();
  const store = await openStore({ kind: 'sqlite', dataDir });
  const targets = createTargetRepository(store);
  await targets.put(httpTarget({ id: '1/api', chatId: 1, name: 'api', url: 'http://127.0.0.1:1/health' }));
  await targets.put(httpTarget({ id: '1/web', chatId: 1, name: 'web', url: 'http://127.0.0.1:1/' }));
  await createStateRepository(store).putMany([{ ...initialState('1/api', 5), state: 'DOWN' }, initialState('1/web', 5)]);
  await store.namespace('incidents').set('1/api:1', { id: '1/api:1', target: '1/api' });
  await store.namespace('kind:heartbeat').set('tok:en', { last: 1 });
  await store.namespace('outbox').set('telegram:1', [{ id: 'x' }]);
  await store.close();
  return dataDir;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 1;
}

describe('lookout migrate: arguments and aggregates', () => {
  it('reads --from and --to (both spellings) and --force', () => {
    expect(parseArgs(['--from', './data', '--to=postgres://db/lookout'])).toEqual({ from: './data', to: 'postgres://db/lookout', force: false });
    expect(parseArgs(['--force', '--to', 'postgres://db/x', '--from=d'])).toEqual({ from: 'd', to: 'postgres://db/x', force: true });
    expect(parseArgs(['--from', './data'])).toHaveProperty('error');
    expect(parseArgs(['postgres://u:Secret-123@db/x'])).toEqual({ error: expect.not.stringContaining('Secret-123') as unknown as string });
  });

  it('names a row by its namespace; the kinds\' namespaces keep two parts', () => {
    expect(aggregateOf('targets:1/api')).toBe('targets');
    expect(aggregateOf('outbox:telegram:1')).toBe('outbox');
    expect(aggregateOf('kind:heartbeat:tok:en')).toBe('kind:heartbeat');
  });

  it('refuses a DATA_DIR without a database, and a URL that is not PostgreSQL', async () => {
    const empty = await tempDir();
    await expect(migrate({ from: empty, to: 'postgres://127.0.0.1/x', force: false })).rejects.toThrow(`no Lookout database in ${empty} (${databaseFile(empty)} does not exist)`);
    await expect(migrate({ from: empty, to: 'mysql://127.0.0.1/x', force: false })).rejects.toThrow(MigrateError);
  });

  it('exits 1 with one line and no password when the database cannot be reached', async () => {
    const dataDir = await sqliteInstall();
    const port = await closedPort();
    let out = '';
    let err = '';
    const code = await runCli(['--from', dataDir, '--to', `postgres://lookout:Very-Secret-99@127.0.0.1:${port}/lookout`], { out: (t) => (out += t), err: (t) => (err += t) });
    expect(code).toBe(1);
    expect(out).toBe('');
    expect(err).toBe(`lookout migrate: cannot use postgres://lookout@127.0.0.1:${port}/lookout: the database refuses connections (ECONNREFUSED)\n`);
  });
});

describe.runIf(enabled)('lookout migrate against a real PostgreSQL', () => {
  it('copies every aggregate, prints counts, refuses to copy twice, and replaces with --force', async () => {
    const dataDir = await sqliteInstall();
    const url = await cluster.createDatabase();
    let out = '';
    const io = { out: (t: string) => (out += t), err: (t: string) => (out += t) };
    expect(await runCli(['--from', dataDir, '--to', url], io)).toBe(0);
    expect(out.split('\n').map((l) => l.trim().replace(/\s+/g, ' '))).toEqual([
      `copied ${databaseFile(dataDir)} to ${url}:`,
      'incidents 1',
      'kind:heartbeat 1',
      'outbox 1',
      'states 2',
      'targets 2',
      'total 7',
      '',
    ]);

    // What Lookout reads from PostgreSQL is what it had in SQLite.
    const [sqlite, postgres] = [await openStore({ kind: 'sqlite', dataDir }), await openStore({ kind: 'postgres', url })];
    try {
      expect(await createTargetRepository(postgres).list()).toEqual(await createTargetRepository(sqlite).list());
      expect([...(await createStateRepository(postgres).all())]).toEqual([...(await createStateRepository(sqlite).all())]);
      expect(await postgres.namespace('kind:heartbeat').get('tok:en')).toEqual({ last: 1 });
      expect(await postgres.namespace('outbox').get('telegram:1')).toEqual([{ id: 'x' }]);
      await postgres.namespace('targets').set('stale', { id: 'stale' });
    } finally {
      await sqlite.close();
      await postgres.close();
    }

    // A second copy is refused, and changes nothing.
    let second = '';
    expect(await runCli(['--from', dataDir, '--to', url], { out: (t) => (second += t), err: (t) => (second += t) })).toBe(1);
    expect(second).toBe(`lookout migrate: ${url} already holds Lookout data (8 rows): nothing copied; run with --force to replace it\n`);

    const forced = await migrate({ from: dataDir, to: url, force: true });
    expect(forced).toMatchObject({ total: 7, replaced: 8 });
    const after = await openStore({ kind: 'postgres', url });
    try {
      expect(await after.namespace('targets').get('stale')).toBeUndefined();
      expect((await createTargetRepository(after).list()).map((t) => t.id)).toEqual(['1/api', '1/web']);
    } finally {
      await after.close();
    }
  });
});
