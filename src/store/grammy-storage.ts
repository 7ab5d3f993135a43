import type { StorageAdapter } from 'grammy';
import type { KeyvStore } from './keyv.js';

/** A grammY storage adapter over one Keyv namespace (conversations survive restarts this way). */
export function createGrammyStorage<T>(store: KeyvStore, namespace: string): StorageAdapter<T> {
  const keyv = store.namespace<T>(namespace);
  return {
    read: (key) => keyv.get(key),
    write: async (key, value) => {
      await keyv.set(key, value);
    },
    delete: async (key) => {
      await keyv.delete(key);
    },
  };
}
