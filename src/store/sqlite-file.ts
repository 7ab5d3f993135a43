import { constants, existsSync, statSync } from 'node:fs';
import { access, mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KeyvSqlite } from '@keyv/sqlite';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { describeFault, spaceProblem, StoreError } from './faults.js';
import type { Connection, RetryBackoff, WriteLayer } from './resilient.js';
import { sqliteRows, type RowAdapter } from './rows.js';
import { headerProblem } from './sqlite-header.js';

/** The SQLite file under the store: one connection per namespace, watched for being deleted. */
export interface SqliteFile {
  readonly file: string;
  /** A new connection (Keyv keeps the namespace on the adapter, so each namespace needs its own). */
  slot(): () => Connection;
  /** Compares the path with the file that was opened; a deleted or replaced file starts its recovery. */
  verify(): void;
  /** Stops watching the path; a recovery still waiting to try again is given up. */
  stop(): Promise<void>;
  close(): Promise<void>;
}

/** What {@link openSqliteFile} needs. */
export interface SqliteFileDeps {
  file: string;
  layer: WriteLayer;
  clock: Clock;
  logger?: Logger;
  /** How often the path is compared with the open file (ms). */
  checkMs: number;
  /** Delays between recovery attempts. */
  retry: RetryBackoff;
}

interface Opened {
  adapter: KeyvSqlite;
  /** The same connection as the layer uses it. */
  rows: RowAdapter;
  /** Settles when the connection is open (rejects when it cannot be). */
  ready: Promise<unknown>;
}

interface Slot {
  opened?: Opened;
}

type Identity = { dev: number; ino: number };

const identityOf = (file: string): Identity => {
  const s = statSync(file);
  return { dev: s.dev, ino: s.ino };
};

const identityIfAny = (file: string): Identity | undefined => {
  try {
    return identityOf(file);
  } catch {
    return undefined;
  }
};

const same = (a: Identity | undefined, b: Identity | undefined): boolean => a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino;

/** The copy a recovery writes before it takes the database's place. */
export const recoveredFile = (file: string): string => `${file}.recovered`;

/** A promise that never counts as unhandled (nobody may be waiting on it). */
const quiet = <T>(p: Promise<T>): Promise<T> => {
  p.catch(() => undefined);
  return p;
};

function connect(file: string): Opened {
  const adapter = new KeyvSqlite({ uri: `sqlite://${file}`, busyTimeout: 10_000 });
  // A failed open reaches the caller as failed queries; an 'error' event without a listener would end the process.
  adapter.on('error', () => undefined);
  // synchronous=NORMAL is per connection; it is queued before any query of the caller.
  return { adapter, rows: sqliteRows(adapter), ready: quiet(adapter.query('PRAGMA synchronous=NORMAL')) };
}

const disconnect = async (opened: Opened | undefined): Promise<void> => {
  await opened?.adapter.disconnect().catch(() => undefined);
};

/** The first thing quick_check found, on one line (its report starts with a `*** in database main ***` heading). */
const firstFinding = (verdict: string): string => {
  const line = verdict.split('\n').map((l) => l.trim()).find((l) => l !== '' && !l.startsWith('***')) ?? verdict.trim();
  return line.length > 160 ? `${line.slice(0, 159)}…` : line;
};

/**
 * Checks that the store can work before anything else starts: the directory can be created and written,
 * the file is a whole SQLite database (its header, then PRAGMA quick_check, which reads every page) and
 * it takes a write that reads back. Throws a {@link StoreError} otherwise. A copy left by a recovery that
 * was cut short takes the place of a missing database.
 */
async function checkFile(file: string, logger?: Logger): Promise<Opened> {
  const fail = (err: unknown): StoreError => (err instanceof StoreError ? err : new StoreError(file, describeFault(err, file), { cause: err }));
  try {
    await mkdir(dirname(file), { recursive: true });
    if (!existsSync(file) && existsSync(recoveredFile(file))) {
      await rename(recoveredFile(file), file);
      logger?.warn({ event: 'store_file_restored', file }, `${file} was missing: restored the copy a recovery left`);
    }
    // Before SQLite opens the file: a connection whose first statement fails is never closed (see sqlite-header.ts).
    await access(dirname(file), constants.W_OK);
    if (existsSync(file)) await access(file, constants.R_OK | constants.W_OK);
    const problem = headerProblem(file) ?? spaceProblem(dirname(file));
    if (problem) throw new StoreError(file, problem);
  } catch (err) {
    throw fail(err);
  }
  const first = connect(file);
  try {
    await first.ready;
    // The first connection creates the file and switches it to WAL (a property of the file).
    await first.adapter.query('PRAGMA journal_mode=WAL');
    const check = (await first.adapter.query('PRAGMA quick_check(1)')) as Array<Record<string, unknown>>;
    const verdict = String(Object.values(check[0] ?? {})[0] ?? '');
    if (verdict !== 'ok') throw new StoreError(file, `the database is corrupt (${firstFinding(verdict)})`);
    const stamp = String(Date.now());
    await first.adapter.set('health:opened', JSON.stringify({ value: stamp }));
    const read = await first.adapter.get<string>('health:opened');
    if (read === undefined || !read.includes(stamp)) throw new StoreError(file, 'a write could not be read back');
    return first;
  } catch (err) {
    await disconnect(first);
    throw fail(err);
  }
}

/**
 * Opens the database file after {@link checkFile} and watches its path (every `checkMs`, and at each
 * ping). When the file is deleted while Lookout runs, the open connections still hold it: one of them
 * writes a consistent copy (VACUUM INTO `<file>.recovered`, which includes what is still in the -wal),
 * the connections are closed, the -wal and -shm left at the path (they belong to the deleted file and
 * would be replayed into the copy) are removed, the copy is renamed into place and the connections
 * reopen. A file replaced by another one is switched to once its header looks whole; until then the old
 * connections keep serving reads. Writes wait in the layer meanwhile and land afterwards.
 */
export async function openSqliteFile(deps: SqliteFileDeps): Promise<SqliteFile> {
  const { file, layer, clock, logger } = deps;
  const slots: Slot[] = [{ opened: await checkFile(file, logger) }];
  let firstUnused: Slot | undefined = slots[0];
  let identity = identityOf(file);
  /** The -wal our connections use, so that after a replacement ours is told from one that came with the new file. */
  let walIdentity = identityIfAny(`${file}-wal`);
  /** While a recovery runs: connections that cannot be used wait on it (and fail when an attempt fails). */
  let gate: { promise: Promise<void>; resolve: () => void; reject: (err: unknown) => void } | undefined;
  /** The connections are closed (for a recovery, or for good after close()). */
  let closed = false;
  let shut = false;
  let recovery: Promise<void> | undefined;
  let watch: TimerHandle | undefined;
  let sleeper: { timer: TimerHandle; wake: () => void } | undefined;

  const openGate = (): void => {
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const promise = quiet(
      new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      }),
    );
    gate = { promise, resolve, reject };
  };
  const failGate = (err: unknown): void => {
    gate?.reject(err);
    gate = undefined;
  };

  const connection = (slot: Slot): Connection => {
    if (!closed && slot.opened) return { adapter: slot.opened.rows };
    if (gate) return { wait: gate.promise };
    return { wait: quiet(Promise.reject(new StoreError(file, shut ? 'the store is closed' : 'the database is being recovered'))) };
  };

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const wake = (): void => {
        sleeper = undefined;
        resolve();
      };
      sleeper = { timer: clock.setTimeout(wake, ms), wake };
    });

  // One after another: only the connection that closes last checkpoints the -wal into the file and removes
  // it, and connections closing side by side can each see another still open.
  const closeAll = async (): Promise<void> => {
    for (const s of slots) {
      await disconnect(s.opened);
      delete s.opened;
    }
  };

  /** Opens every slot on the path again: the first one alone (it sets WAL, a property of the file), then the rest. */
  const reopen = async (): Promise<void> => {
    const [head, ...rest] = slots;
    head!.opened = connect(file);
    await head!.opened.ready;
    await head!.opened.adapter.query('PRAGMA journal_mode=WAL');
    for (const s of rest) s.opened = connect(file);
    await Promise.all(rest.map((s) => s.opened!.ready));
  };

  const recover = async (kind: 'deleted' | 'replaced'): Promise<void> => {
    const copy = recoveredFile(file);
    let copied = false;
    let wroteCopy = false;
    let delay = deps.retry.base;
    let told = false;
    while (!shut) {
      if (!gate) openGate();
      try {
        if (!closed) {
          // Looked at on every try: a replacement that is removed again is a deleted file.
          if (!copied && !existsSync(file)) {
            const open = slots.find((s) => s.opened)?.opened;
            if (!open) throw new StoreError(file, 'no connection holds the deleted file any more');
            await mkdir(dirname(file), { recursive: true });
            await rm(copy, { force: true });
            // Writes are held from now on; the copy must come after the last one still on its way.
            await layer.idle();
            await open.adapter.query('VACUUM INTO ?', copy);
            copied = true;
            wroteCopy = true;
          }
          // Checked while the old connections still serve reads: a bad file leaves them open, and is tried again.
          const problem = headerProblem(copied ? copy : file);
          if (problem) throw new StoreError(file, problem);
          closed = true;
          await layer.idle();
          await closeAll();
          // SQLite does not checkpoint a moved or deleted file on close: its -wal stays at the path, and replayed
          // into the copy or the new file it would bring the old pages back. The -shm is only an index of the -wal.
          if (copied || same(identityIfAny(`${file}-wal`), walIdentity)) await rm(`${file}-wal`, { force: true });
          await rm(`${file}-shm`, { force: true });
        }
        if (copied) {
          await rename(copy, file);
          copied = false;
        }
        const full = spaceProblem(dirname(file));
        if (full) throw new StoreError(file, full);
        await reopen();
        identity = identityOf(file);
        walIdentity = identityIfAny(`${file}-wal`);
        closed = false;
        gate?.resolve();
        gate = undefined;
        logger?.info({ event: 'store_file_recovered', file, kind: wroteCopy ? 'deleted' : kind }, wroteCopy ? `${file} written again from the open connection` : `switched to the new ${file}`);
        layer.release();
        return;
      } catch (err) {
        if (closed) await closeAll();
        failGate(err);
        if (!told) {
          told = true;
          const why = err instanceof StoreError ? err.reason : describeFault(err, file);
          logger?.error({ err, event: 'store_recovery_failed', file, cause: why }, `cannot restore ${file} yet: ${why}; trying again`);
        }
        await sleep(delay);
        delay = Math.min(delay * 2, deps.retry.max);
      }
    }
    failGate(new StoreError(file, 'the store is closed'));
  };

  const verify = (): void => {
    if (recovery || closed) return;
    let now: Identity | undefined;
    try {
      now = identityOf(file);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return;
    }
    if (same(now, identity)) {
      walIdentity = identityIfAny(`${file}-wal`) ?? walIdentity;
      return;
    }
    const kind = now ? 'replaced' : 'deleted';
    if (kind === 'deleted') {
      logger?.error({ event: 'store_file_deleted', file }, `${file} was deleted while Lookout runs: writing it again from the open connection`);
      layer.hold('the database file was deleted');
    } else {
      logger?.warn({ event: 'store_file_replaced', file }, `${file} was replaced while Lookout runs: switching to the new file`);
      layer.hold('the database file was replaced');
    }
    openGate();
    recovery = recover(kind).finally(() => {
      recovery = undefined;
    });
  };

  const scheduleWatch = (): void => {
    watch = clock.setTimeout(() => {
      watch = undefined;
      verify();
      if (!shut) scheduleWatch();
    }, deps.checkMs);
  };
  scheduleWatch();

  const stop = async (): Promise<void> => {
    shut = true;
    if (watch !== undefined) clock.clearTimeout(watch);
    watch = undefined;
    if (sleeper) {
      clock.clearTimeout(sleeper.timer);
      sleeper.wake();
    }
    await recovery;
  };

  return {
    file,
    slot() {
      // A connection opens by path: on a deleted file it would create an empty one, so look first; while a
      // recovery runs, the new slot is opened with the others when it reopens them.
      verify();
      const slot: Slot = firstUnused ?? {};
      if (!firstUnused) {
        slots.push(slot);
        if (!recovery && !closed) slot.opened = connect(file);
      }
      firstUnused = undefined;
      return () => connection(slot);
    },
    verify,
    stop,
    async close() {
      await stop();
      closed = true;
      await closeAll();
    },
  };
}
