import type { Keyv } from 'keyv';
import { createSerial } from '../lib/serial.js';

/** Records cached in memory and written through to a Keyv namespace, one write chain per record. */
export interface Book<T extends { id: string }> {
  get(id: string): Promise<T | undefined>;
  /** Adds or replaces a record. */
  put(record: T): Promise<T>;
  /**
   * Changes a record in place and writes it. All changes go to the one in-memory copy and the writes
   * of one record are chained, so concurrent changes never overwrite each other.
   */
  update(id: string, change: (record: T) => void): Promise<T | undefined>;
  delete(id: string): Promise<void>;
  /** Every record in memory (those loaded or touched since start). */
  cached(): T[];
  /** Loads the records matching `keep` into memory. */
  load(keep: (record: T) => boolean): Promise<T[]>;
  /** Drops a record from memory (the store keeps it). */
  forget(id: string): void;
  /** Waits for every pending write. */
  flush(): Promise<void>;
}

/** A book over one Keyv namespace. */
export function createBook<T extends { id: string }>(keyv: Keyv<T>): Book<T> {
  const byId = new Map<string, T>();
  const writes = createSerial();
  const chain = async (id: string, write: () => Promise<unknown>): Promise<void> => {
    await writes.run(id, write);
  };

  return {
    async get(id) {
      const known = byId.get(id);
      if (known) return known;
      const stored = await keyv.get(id);
      if (stored && !byId.has(id)) byId.set(id, stored);
      return byId.get(id);
    },
    async put(record) {
      byId.set(record.id, record);
      const snapshot = structuredClone(record);
      await chain(record.id, () => keyv.set(record.id, snapshot));
      return record;
    },
    async update(id, change) {
      const record = await this.get(id);
      if (!record) return undefined;
      change(record);
      const snapshot = structuredClone(record);
      await chain(id, () => keyv.set(id, snapshot));
      return record;
    },
    async delete(id) {
      byId.delete(id);
      await chain(id, () => keyv.delete(id));
    },
    cached: () => [...byId.values()],
    async load(keep) {
      if (!keyv.iterator) throw new Error('the store cannot list its keys');
      const loaded: T[] = [];
      for await (const [, value] of keyv.iterator(undefined)) {
        const record = value as T;
        if (keep(record)) {
          byId.set(record.id, record);
          loaded.push(record);
        }
      }
      return loaded;
    },
    forget(id) {
      // A record with a write still on its way stays: reading it back now would give the older copy.
      if (!writes.busy(id)) byId.delete(id);
    },
    flush: () => writes.drain(),
  };
}
