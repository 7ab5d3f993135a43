import type { KeyvStoreAdapter, StoredData } from 'keyv';
import type { Connection, WriteLayer, WriteOp } from './resilient.js';

/** Rows per page when a namespace is listed. */
const PAGE = 2_000;

const valueOf = <Value>(op: WriteOp): StoredData<Value> | undefined => (op.kind === 'set' ? (op.value as StoredData<Value>) : undefined);

/**
 * The Keyv store adapter of one namespace: every write (`set`, `delete`, `setMany`, `deleteMany`) goes
 * through the pending-write layer, and reads answer a key with a waiting write from that write. A listing
 * (`iterator`) takes the namespace's waiting writes when it starts and lays them over the rows it reads:
 * a waiting set replaces or adds its row, a waiting delete hides it, so no waiting write is lost from a
 * listing; writes made while the listing runs may or may not show, as with any paged read.
 */
export function createNamespaceAdapter(layer: WriteLayer, connection: () => Connection, file: string, dialect: 'sqlite' | 'postgres' = 'sqlite'): KeyvStoreAdapter {
  const space = layer.space(connection);
  const store: KeyvStoreAdapter = {
    // The dialect makes Keyv offer `iterator` for this adapter; `file` is the SQLite file, or the database URL without its password.
    opts: { dialect, url: dialect === 'sqlite' ? `sqlite://${file}` : file },
    // Nothing to forward: the layer keeps storage errors, and every other error is thrown to the caller.
    on: () => store,
    async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
      const op = layer.pending(space, key);
      if (op) return valueOf<Value>(op);
      return layer.read(space, (a) => a.get<Value>(key));
    },
    async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
      const fromDisk = keys.filter((k) => !layer.pending(space, k));
      const stored = fromDisk.length > 0 ? await layer.read(space, (a) => a.getMany<Value>(fromDisk)) : [];
      const byKey = new Map(fromDisk.map((k, i) => [k, stored[i]]));
      return keys.map((k) => {
        const op = layer.pending(space, k);
        return op ? valueOf<Value>(op) : byKey.get(k);
      });
    },
    async has(key) {
      const op = layer.pending(space, key);
      if (op) return op.kind === 'set';
      return layer.read(space, (a) => a.has(key));
    },
    set: (key, value: unknown) => layer.write(space, key, { kind: 'set', value }),
    delete: (key) => layer.write(space, key, { kind: 'delete' }),
    // One statement for the batch (layer.writeMany). Keyv's setMany answers what this resolves with (a
    // boolean per entry), though the adapter type says void.
    setMany: (async (entries: Array<{ key: string; value: unknown }>) => {
      await layer.writeMany(space, entries);
      return entries.map(() => true);
    }) as unknown as KeyvStoreAdapter['setMany'],
    async deleteMany(keys) {
      const existed = await Promise.all(keys.map((k) => layer.write(space, k, { kind: 'delete' })));
      return existed.some(Boolean);
    },
    async clear() {
      layer.forget(space);
      const prefix = store.namespace ? `${store.namespace}:` : '';
      await layer.read(space, (a) => a.clear(prefix));
    },
    // Pages by key (not by offset), so rows landing meanwhile neither repeat nor hide others.
    async *iterator(namespace?: string) {
      const prefix = namespace ? `${namespace}:` : '';
      const mine = layer.pendingUnder(space, prefix);
      let after: string | undefined;
      for (;;) {
        const from = after;
        const rows = await layer.read(space, (a) => a.page(prefix, from, PAGE));
        for (const row of rows) {
          const op = mine.get(row.key);
          mine.delete(row.key);
          if (op?.kind === 'delete') continue;
          yield [row.key, op ? (op.value as string) : row.value];
        }
        if (rows.length < PAGE) break;
        after = rows[rows.length - 1]!.key;
      }
      for (const [key, op] of mine) if (op.kind === 'set') yield [key, op.value as string];
    },
  };
  return store;
}
