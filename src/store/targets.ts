import type { Keyv } from 'keyv';
import type { Target } from '../kinds/index.js';
import type { KeyvStore } from './keyv.js';

/** Targets by id. */
export interface TargetRepository {
  list(): Promise<Target[]>;
  listByChat(chatId: number): Promise<Target[]>;
  get(id: string): Promise<Target | undefined>;
  /** Which of these ids are stored (one read). */
  existing(ids: readonly string[]): Promise<Set<string>>;
  put(target: Target): Promise<void>;
  /** Writes many targets in one statement (one transaction). */
  putMany(targets: readonly Target[]): Promise<void>;
  delete(id: string): Promise<boolean>;
}

async function all<T>(keyv: Keyv<T>): Promise<T[]> {
  const values: T[] = [];
  if (!keyv.iterator) throw new Error('the store cannot list its keys');
  for await (const [, value] of keyv.iterator(undefined)) values.push(value as T);
  return values;
}

/** The target repository over the `targets` namespace. */
export function createTargetRepository(store: KeyvStore): TargetRepository {
  const keyv = store.namespace<Target>('targets');
  return {
    list: async () => (await all(keyv)).sort((a, b) => a.id.localeCompare(b.id)),
    listByChat: async (chatId) => (await all(keyv)).filter((t) => t.chatId === chatId).sort((a, b) => a.name.localeCompare(b.name)),
    get: (id) => keyv.get(id),
    async existing(ids) {
      const found = ids.length === 0 ? [] : await keyv.getMany([...ids]);
      return new Set(ids.filter((_, i) => found[i] !== undefined));
    },
    put: async (target) => {
      await keyv.set(target.id, target);
    },
    putMany: async (targets) => {
      if (targets.length > 0) await keyv.setMany(targets.map((t) => ({ key: t.id, value: t })));
    },
    delete: (id) => keyv.delete(id),
  };
}

export { all as listAll };
