import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { KeyvSqlite } from '@keyv/sqlite';
import { Keyv } from 'keyv';

/** Namespaced Keyv instances over one backend, and the means to close it. */
export interface KeyvStore {
  /** The Keyv for one aggregate (`targets`, `states`, ...); the same instance for the same name. */
  namespace<T>(name: string): Keyv<T>;
  /** Answers true when the backend reads and writes (for /healthz). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Where the store keeps its data: a SQLite file in `dataDir`, or memory (tests, benchmarks). */
export type StoreLocation = { kind: 'sqlite'; dataDir: string } | { kind: 'memory' };

/** The SQLite file of a data directory. */
export const databaseFile = (dataDir: string): string => join(dataDir, 'lookout.sqlite');

/**
 * Opens the store. With SQLite, each namespace gets its own adapter (Keyv keeps the namespace on
 * the adapter, so adapters cannot be shared) over one database file in WAL mode, so readers never
 * wait for writers and a write costs no fsync of the whole file.
 */
export async function openStore(location: StoreLocation): Promise<KeyvStore> {
  const instances = new Map<string, Keyv<unknown>>();
  const adapters: KeyvSqlite[] = [];
  let file: string | undefined;
  if (location.kind === 'sqlite') {
    await mkdir(location.dataDir, { recursive: true });
    file = databaseFile(location.dataDir);
  }

  const adapterOptions = { uri: `sqlite://${file}`, busyTimeout: 10_000, iterationLimit: 2_000 };
  const newAdapter = (): KeyvSqlite => {
    const adapter = new KeyvSqlite(adapterOptions);
    adapters.push(adapter);
    // synchronous=NORMAL is per connection; it is queued before any query of the caller.
    void adapter.query('PRAGMA synchronous=NORMAL').catch(() => undefined);
    return adapter;
  };
  if (file) {
    // The first connection creates the file and switches it to WAL (a property of the file).
    await newAdapter().query('PRAGMA journal_mode=WAL');
  }
  let firstUnused = adapters[0];
  const create = (name: string): Keyv<unknown> => {
    if (!file) return new Keyv<unknown>({ namespace: name, throwOnErrors: true });
    const store = firstUnused ?? newAdapter();
    firstUnused = undefined;
    return new Keyv<unknown>({ store, namespace: name, throwOnErrors: true });
  };

  const health = create('health');
  instances.set('health', health);

  return {
    namespace<T>(name: string): Keyv<T> {
      let keyv = instances.get(name);
      if (!keyv) {
        keyv = create(name);
        instances.set(name, keyv);
      }
      return keyv as Keyv<T>;
    },
    async ping() {
      try {
        await health.set('ping', Date.now());
        return (await health.get('ping')) !== undefined;
      } catch {
        return false;
      }
    },
    async close() {
      await Promise.all(adapters.map((a) => a.disconnect().catch(() => undefined)));
      adapters.length = 0;
    },
  };
}
