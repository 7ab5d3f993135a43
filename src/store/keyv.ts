import { join } from 'node:path';
import { Keyv } from 'keyv';
import { systemClock, type Clock } from '../lib/clock.js';
import { deserialize, serialize } from './codec.js';
import type { Logger } from '../lib/logger.js';
import { createNamespaceAdapter } from './namespace-adapter.js';
import { createWriteLayer, DEFAULT_RETRY, type RetryBackoff, type StoreHealth } from './resilient.js';
import { redactUrl } from './database-url.js';
import type { Connection } from './resilient.js';
import { openSqliteFile } from './sqlite-file.js';

export { StoreError } from './faults.js';
export type { StoreHealth } from './resilient.js';

/** Namespaced Keyv instances over one backend, its health, and the means to close it. */
export interface KeyvStore {
  /** The Keyv for one aggregate (`targets`, `states`, ...); the same instance for the same name. */
  namespace<T>(name: string): Keyv<T>;
  /** Answers true when the backend reads and writes now and no write is waiting (for /healthz). */
  ping(): Promise<boolean>;
  /** Whether writes reach the disk, and since when they do not. */
  health(): StoreHealth;
  /**
   * Calls `listener` once when a failure episode starts (the first write the storage refuses, or the
   * database file lost) and once when it ends (every waiting write on disk); returns the unsubscribe.
   */
  onHealth(listener: (health: StoreHealth) => void): () => void;
  /** Tries the waiting writes once more, then closes; writes still waiting are logged as lost. */
  close(): Promise<void>;
}

/**
 * Where the store keeps its data: a SQLite file in `dataDir`, a PostgreSQL database (`DATABASE_URL`:
 * every namespace in one table, see `postgres.ts`), or memory (tests, benchmarks).
 */
export type StoreLocation = { kind: 'sqlite'; dataDir: string } | { kind: 'postgres'; url: string } | { kind: 'memory' };

/** Where a location keeps its data, in words for logs (a PostgreSQL URL without its password). */
export const describeLocation = (location: StoreLocation): string =>
  location.kind === 'sqlite' ? databaseFile(location.dataDir) : location.kind === 'postgres' ? redactUrl(location.url) : 'memory';

/** Timing and logging of a SQLite or PostgreSQL store (defaults: the system clock, 250 ms → 10 s retries, a file check every 5 s). */
export interface StoreOptions {
  clock?: Clock;
  logger?: Logger;
  /** Delays between retries of waiting writes (and of restoring a deleted file). */
  retryMs?: RetryBackoff;
  /** How often the database path is compared with the open file (ms; SQLite only). */
  fileCheckMs?: number;
}

/** What the store needs of a backend under the pending-write layer. */
interface Backend {
  /** The file, or the URL without its password. */
  where: string;
  dialect: 'sqlite' | 'postgres';
  slot(): () => Connection;
  /** Looks for a lost database file (SQLite). */
  verify(): void;
  /** Stops background work (the file watch). */
  stop(): Promise<void>;
  close(): Promise<void>;
}

/** The SQLite file of a data directory. */
export const databaseFile = (dataDir: string): string => join(dataDir, 'lookout.sqlite');

const HEALTHY: StoreHealth = { ok: true, pendingWrites: 0, failedWrites: 0, episodes: 0 };

/** Keyv emits 'error' events next to the errors it throws; a listener keeps them from being unhandled. */
const quietKeyv = <T>(keyv: Keyv<T>): Keyv<T> => {
  keyv.on('error', () => undefined);
  return keyv;
};

/**
 * Opens the store. With SQLite, it first checks that the file can be used (see `StoreError`), then
 * gives each namespace its own adapter (Keyv keeps the namespace on the adapter, so adapters cannot
 * be shared) over one database file in WAL mode, so readers never wait for writers and a write costs
 * no fsync of the whole file. Writes go through the pending-write layer (`resilient.ts`): a write the
 * storage refuses waits in memory and is retried, and the store reports the episode. With PostgreSQL,
 * it first connects and checks that a write reads back (else `StoreError`), and each namespace gets a
 * KeyvPostgres over one pool, behind the same layer: a database that stops answering is a disk that
 * refuses writes.
 */
export async function openStore(location: StoreLocation, options: StoreOptions = {}): Promise<KeyvStore> {
  const instances = new Map<string, Keyv<unknown>>();
  if (location.kind === 'memory') {
    const namespace = <T>(name: string): Keyv<T> => {
      let keyv = instances.get(name);
      if (!keyv) instances.set(name, (keyv = quietKeyv(new Keyv<unknown>({ namespace: name, throwOnErrors: true, serialize, deserialize }))));
      return keyv as Keyv<T>;
    };
    return {
      namespace,
      async ping() {
        await namespace('health').set('ping', Date.now());
        return (await namespace('health').get('ping')) !== undefined;
      },
      health: () => ({ ...HEALTHY }),
      onHealth: () => () => undefined,
      async close() {},
    };
  }

  const clock = options.clock ?? systemClock;
  const retry = options.retryMs ?? DEFAULT_RETRY;
  const where = describeLocation(location);
  const layer = createWriteLayer({ file: where, clock, retry, ...(options.logger ? { logger: options.logger } : {}) });
  let backend: Backend;
  if (location.kind === 'postgres') {
    // Loaded only for a PostgreSQL store: pg and @keyv/postgres are ~17 MB of a SQLite process's RSS.
    const { openPostgres } = await import('./postgres.js');
    const db = await openPostgres(location.url, options.logger);
    backend = { where, dialect: 'postgres', slot: db.slot, verify: () => undefined, stop: async () => undefined, close: db.close };
  } else {
    const sqlite = await openSqliteFile({ file: where, layer, clock, retry, checkMs: options.fileCheckMs ?? 5_000, ...(options.logger ? { logger: options.logger } : {}) });
    backend = { where, dialect: 'sqlite', slot: () => sqlite.slot(), verify: () => sqlite.verify(), stop: () => sqlite.stop(), close: () => sqlite.close() };
  }
  const file = where;
  let closing: Promise<void> | undefined;

  const namespace = <T>(name: string): Keyv<T> => {
    let keyv = instances.get(name);
    if (!keyv) {
      keyv = quietKeyv(new Keyv<unknown>({ store: createNamespaceAdapter(layer, backend.slot(), file, backend.dialect), namespace: name, throwOnErrors: true, serialize, deserialize }));
      instances.set(name, keyv);
    }
    return keyv as Keyv<T>;
  };
  const health = namespace<number>('health');

  return {
    namespace,
    async ping() {
      if (closing) return false;
      backend.verify();
      try {
        await health.set('ping', clock.now());
        return (await health.get('ping')) !== undefined && layer.health().ok;
      } catch {
        return false;
      }
    },
    health: () => layer.health(),
    onHealth: (listener) => layer.onHealth(listener),
    close: () =>
      (closing ??= (async () => {
        await backend.stop();
        layer.stop();
        const left = await layer.flush().catch(() => layer.health().pendingWrites);
        if (left > 0) {
          const cause = layer.health().cause;
          options.logger?.error({ event: 'store_writes_lost', file, count: left, cause }, `closing with ${left} writes not saved to ${file}: ${cause ?? 'the store is failing'}`);
        }
        await backend.close();
      })()),
  };
}
