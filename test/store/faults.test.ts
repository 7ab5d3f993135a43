import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';
import { describeFault, isStorageFault } from '../../src/store/faults.js';
import { databaseFile, openStore, StoreError, type KeyvStore, type StoreHealth, type StoreOptions } from '../../src/store/keyv.js';
import { logSink } from '../support/log-sink.js';
import { mountTmpfs, tmpfsTestsRun, type Tmpfs } from '../support/tmpfs.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  const errors: unknown[] = [];
  for (const c of cleanups.splice(0).reverse()) {
    try {
      await c();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw errors[0];
});

async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-faults-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function tmpfs(size = '512k'): Tmpfs {
  const fs = mountTmpfs(size);
  cleanups.push(() => fs.unmount());
  return fs;
}

/** Opens a store with fast retries and a log to look at; closed in cleanup (before any unmount registered earlier). */
async function open(dataDir: string, options: StoreOptions = {}): Promise<{ store: KeyvStore; log: ReturnType<typeof logSink>; episodes: StoreHealth[] }> {
  const log = logSink();
  const store = await openStore({ kind: 'sqlite', dataDir }, { logger: createLogger('info', log.stream), retryMs: { base: 10, max: 40 }, fileCheckMs: 60_000, ...options });
  cleanups.push(() => store.close());
  const episodes: StoreHealth[] = [];
  store.onHealth((h) => episodes.push(h));
  return { store, log, episodes };
}

const events = (log: ReturnType<typeof logSink>, event: string): Array<Record<string, unknown>> => log.lines.filter((l) => l.event === event);

/** What openStore throws for `dataDir`, checked to be one StoreError line. */
async function startError(dataDir: string): Promise<string> {
  const err: unknown = await openStore({ kind: 'sqlite', dataDir }).then(
    async (s) => {
      await s.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  const message = (err as StoreError).message;
  expect(message.split('\n')).toHaveLength(1);
  expect((err as StoreError).file).toBe(databaseFile(dataDir));
  return message;
}

async function listed(store: KeyvStore, name: string): Promise<Record<string, unknown>> {
  const keyv = store.namespace<unknown>(name);
  const out: Record<string, unknown> = {};
  for await (const [key, value] of keyv.iterator!(undefined)) out[String(key)] = value;
  return out;
}

describe.skipIf(!tmpfsTestsRun)('a store on a disk that fills up (a real tmpfs)', () => {
  it('keeps refused writes waiting, answers reads from them, saves them once there is space, and reports one episode', async () => {
    const fs = tmpfs();
    const { store, log, episodes } = await open(fs.dir);
    const things = store.namespace<string>('things');
    await things.set('a', 'one');
    await things.set('c', 'three');

    fs.fill();
    const big = 'x'.repeat(4_000);
    // Every write resolves: the caller goes on from memory.
    await things.set('b', big);
    expect(store.health()).toMatchObject({ ok: false, cause: 'the disk is full', pendingWrites: 1, episodes: 1 });
    expect(store.health().since).toBeTypeOf('number');
    await things.set('b', `${big}!`);
    await things.delete('a');
    await things.setMany([
      { key: 'd', value: 'four' },
      { key: 'e', value: 'five' },
    ]);
    await things.delete(['c']);
    await store.namespace<number>('other').set('a', 1);
    expect(store.health().pendingWrites).toBe(6);

    // Reads see the waiting writes: the latest value, a later delete over an earlier value.
    expect(await things.get('b')).toBe(`${big}!`);
    expect(await things.get('a')).toBeUndefined();
    expect(await things.has('a')).toBe(false);
    expect(await things.has('d')).toBe(true);
    expect(await things.get(['a', 'b', 'c', 'd'])).toEqual([undefined, `${big}!`, undefined, 'four']);
    expect(await listed(store, 'things')).toEqual({ b: `${big}!`, d: 'four', e: 'five' });
    expect(await store.namespace<number>('other').get('a')).toBe(1);
    expect(await store.ping()).toBe(false);

    // Retries keep failing while the disk is full: counted, but still one episode and one log line.
    const failedBefore = store.health().failedWrites;
    await until(() => store.health().failedWrites >= failedBefore + 3);
    expect(episodes).toHaveLength(1);
    expect(episodes[0]).toMatchObject({ ok: false, cause: 'the disk is full', episodes: 1 });
    expect(events(log, 'store_failing')).toEqual([expect.objectContaining({ level: 50, file: databaseFile(fs.dir), cause: 'the disk is full' })]);

    fs.free();
    await until(() => store.health().ok);
    expect(store.health()).toMatchObject({ ok: true, pendingWrites: 0, episodes: 1 });
    expect(store.health().since).toBeUndefined();
    expect(episodes.map((h) => h.ok)).toEqual([false, true]);
    const recovered = events(log, 'store_recovered');
    expect(recovered).toHaveLength(1);
    expect(recovered[0]).toMatchObject({ file: databaseFile(fs.dir), cause: 'the disk is full', retriedWrites: expect.any(Number) });
    expect(recovered[0]!.durationMs).toBeTypeOf('number');
    expect(await store.ping()).toBe(true);
    await store.close();

    const again = await open(fs.dir);
    expect(await listed(again.store, 'things')).toEqual({ b: `${big}!`, d: 'four', e: 'five' });
    expect(await again.store.namespace<number>('other').get('a')).toBe(1);
  });

  it('writes made while writes wait land after them, in order, and healthy writes resolve only once on disk', async () => {
    const fs = tmpfs();
    const { store } = await open(fs.dir);
    const things = store.namespace<string>('things');
    fs.fill();
    await things.set('k', 'first');
    await things.delete('k');
    await things.set('k', 'last');
    expect(await things.get('k')).toBe('last');
    fs.free();
    await until(() => store.health().ok);
    // Healthy again: this write is on disk when it resolves (a second connection reads it).
    await things.set('after', 'on disk');
    const reader = await open(fs.dir);
    expect(await reader.store.namespace<string>('things').get('after')).toBe('on disk');
    expect(await reader.store.namespace<string>('things').get('k')).toBe('last');
  });

  it('refuses to start on a full disk: one line naming the file and the cause', async () => {
    const fs = tmpfs();
    const { store } = await open(fs.dir);
    await store.namespace<string>('things').set('a', 'one');
    await store.close();
    fs.fill();
    expect(await startError(fs.dir)).toBe(`cannot use ${databaseFile(fs.dir)}: the disk is full`);
  });

  it('refuses to start on a read-only DATA_DIR, new or with a database in it', async () => {
    const empty = tmpfs();
    empty.readOnly();
    expect(await startError(empty.dir)).toBe(`cannot use ${databaseFile(empty.dir)}: the directory is read-only`);

    const used = tmpfs();
    const { store } = await open(used.dir);
    await store.namespace<string>('things').set('a', 'one');
    await store.close();
    used.readOnly();
    expect(await startError(used.dir)).toBe(`cannot use ${databaseFile(used.dir)}: the directory is read-only`);
  });
});

describe('a database that cannot be used at start', () => {
  it('a file that is not SQLite', async () => {
    const dir = await tempDir();
    await writeFile(databaseFile(dir), 'this is not a database, it is a note somebody left here\n'.repeat(50));
    expect(await startError(dir)).toBe(`cannot use ${databaseFile(dir)}: the file is not a SQLite database`);
  });

  it('a truncated database, and one with a damaged page', async () => {
    const dir = await tempDir();
    const { store } = await open(dir);
    const rows = store.namespace<string>('rows');
    for (let i = 0; i < 200; i++) await rows.set(`r${i}`, `row ${i} `.repeat(40));
    await store.close();
    // Closed cleanly: everything is in the file itself, nothing left in a -wal that would make up for a cut.
    expect(existsSync(`${databaseFile(dir)}-wal`)).toBe(false);
    const whole = (await stat(databaseFile(dir))).size;
    const copy = join(dir, 'whole.sqlite');
    await copyFile(databaseFile(dir), copy);

    await truncate(databaseFile(dir), Math.floor(whole / 2 / 4096) * 4096);
    expect(await startError(dir)).toBe(`cannot use ${databaseFile(dir)}: the database is truncated (${Math.floor(whole / 2 / 4096) * 4096} of ${whole} bytes)`);
    await truncate(databaseFile(dir), 60);
    expect(await startError(dir)).toBe(`cannot use ${databaseFile(dir)}: the database is truncated (60 bytes, less than its header)`);

    // The header is whole, a page in the middle is not: only reading every page (quick_check) finds it.
    await copyFile(copy, databaseFile(dir));
    const { open: openFile } = await import('node:fs/promises');
    const handle = await openFile(databaseFile(dir), 'r+');
    await handle.write(Buffer.alloc(4096, 0xa5), 0, 4096, 4096 * 3);
    await handle.close();
    expect(await startError(dir)).toMatch(new RegExp(`^cannot use ${databaseFile(dir)}: the database is corrupt \\((Tree|Page) [^*]+\\)$`));
  });
});

describe('the database file deleted while Lookout runs', () => {
  it.each([
    ['the file alone', ['']],
    ['the file, its -wal and its -shm', ['', '-wal', '-shm']],
  ])('%s: noticed, logged once, written again from the open connection; nothing is lost', async (_name, suffixes) => {
    const dir = await tempDir();
    const { store, log, episodes } = await open(dir, { fileCheckMs: 30 });
    const things = store.namespace<string>('things');
    for (let i = 0; i < 50; i++) await things.set(`before${i}`, `value ${i}`);
    for (const s of suffixes) await rm(`${databaseFile(dir)}${s}`, { force: true });
    // Written before the check notices: it lands in the deleted file, which the copy is made from.
    await things.set('unnoticed', 'yes');
    await until(() => events(log, 'store_file_deleted').length > 0);
    // Written while the file is being restored: waits, and reads answer it.
    await things.set('during', 'yes');
    expect(await things.get('during')).toBe('yes');
    await until(() => store.health().ok && existsSync(databaseFile(dir)));
    await things.set('after', 'yes');
    expect(events(log, 'store_file_deleted')).toEqual([expect.objectContaining({ level: 50, file: databaseFile(dir) })]);
    expect(events(log, 'store_file_recovered')).toHaveLength(1);
    expect(episodes.map((h) => [h.ok, h.cause])).toEqual([
      [false, 'the database file was deleted'],
      [true, undefined],
    ]);
    expect(existsSync(`${databaseFile(dir)}.recovered`)).toBe(false);
    await store.close();

    const again = await open(dir);
    const all = await listed(again.store, 'things');
    expect(Object.keys(all)).toHaveLength(53);
    expect(all).toMatchObject({ before0: 'value 0', before49: 'value 49', unnoticed: 'yes', during: 'yes', after: 'yes' });
  });

  it('a file put in its place: garbage is not switched to (reads go on, writes wait), a database is', async () => {
    const dir = await tempDir();
    const { store, log, episodes } = await open(dir, { fileCheckMs: 30 });
    const things = store.namespace<string>('things');
    await things.set('old', 'yes');
    const junk = join(dir, 'junk');
    await writeFile(junk, 'not a database\n'.repeat(100));
    await rename(junk, databaseFile(dir));
    await until(() => events(log, 'store_recovery_failed').length > 0);
    await things.set('meanwhile', 'yes');
    expect(await things.get('old')).toBe('yes');
    expect(store.health()).toMatchObject({ ok: false, cause: 'the database file was replaced', pendingWrites: 1 });
    expect(events(log, 'store_recovery_failed')).toEqual([expect.objectContaining({ cause: 'the file is not a SQLite database' })]);

    const other = await tempDir();
    const seed = await open(other);
    await seed.store.namespace<string>('things').set('restored', 'yes');
    await seed.store.close();
    await rename(databaseFile(other), databaseFile(dir));
    await until(() => store.health().ok);
    expect(events(log, 'store_file_replaced')).toHaveLength(1);
    expect(events(log, 'store_recovery_failed')).toHaveLength(1);
    expect(episodes.map((h) => h.ok)).toEqual([false, true]);
    await store.close();
    const again = await open(dir);
    expect(await listed(again.store, 'things')).toEqual({ restored: 'yes', meanwhile: 'yes' });
  });

  it('a copy left by a recovery cut short takes the place of the missing file at the next start', async () => {
    const dir = await tempDir();
    const { store } = await open(dir);
    await store.namespace<string>('things').set('kept', 'yes');
    await store.close();
    await rm(`${databaseFile(dir)}.recovered`, { force: true });
    await copyFile(databaseFile(dir), `${databaseFile(dir)}.recovered`);
    await rm(databaseFile(dir));
    const again = await open(dir);
    expect(await again.store.namespace<string>('things').get('kept')).toBe('yes');
    expect(events(again.log, 'store_file_restored')).toHaveLength(1);
  });
});

describe('what a storage failure means', () => {
  const sqliteError = (code: string): Error => Object.assign(new Error(`${code}: something`), { code });
  it.each([
    ['SQLITE_FULL', true, 'the disk is full'],
    ['SQLITE_NOTADB', true, 'the file is not a SQLite database (SQLITE_NOTADB)'],
    ['SQLITE_CORRUPT', true, 'the database is corrupt (SQLITE_CORRUPT)'],
    ['SQLITE_IOERR', true, 'a disk I/O error (SQLITE_IOERR)'],
    ['SQLITE_READONLY', true, 'the database is read-only (SQLITE_READONLY)'],
    ['SQLITE_CANTOPEN', true, 'the file cannot be opened (SQLITE_CANTOPEN)'],
    ['SQLITE_BUSY', true, 'the database is locked by another process (SQLITE_BUSY)'],
    ['SQLITE_ERROR', false, 'SQLITE_ERROR: something'],
    ['SQLITE_MISUSE', false, 'SQLITE_MISUSE: something'],
  ])('%s: retried %s, "%s"', async (code, retried, words) => {
    const dir = await tempDir();
    expect(isStorageFault(sqliteError(code))).toBe(retried);
    expect(describeFault(sqliteError(code), databaseFile(dir))).toBe(words);
  });

  it('a bug is not a storage fault', () => {
    expect(isStorageFault(new TypeError('x is not a function'))).toBe(false);
    expect(isStorageFault(new StoreError('/data/lookout.sqlite', 'the database is being recovered'))).toBe(true);
  });
});
