import type { StateRecord } from '../domain/state.js';
import type { KeyvStore } from './keyv.js';
import { listAll } from './targets.js';

/** Target states by target id. */
export interface StateRepository {
  all(): Promise<Map<string, StateRecord>>;
  get(targetId: string): Promise<StateRecord | undefined>;
  put(record: StateRecord): Promise<void>;
  putMany(records: readonly StateRecord[]): Promise<void>;
  delete(targetId: string): Promise<boolean>;
}

/** The state repository over the `states` namespace. */
export function createStateRepository(store: KeyvStore): StateRepository {
  const keyv = store.namespace<StateRecord>('states');
  return {
    async all() {
      const map = new Map<string, StateRecord>();
      for (const record of await listAll(keyv)) map.set(record.targetId, record);
      return map;
    },
    get: (id) => keyv.get(id),
    put: async (record) => {
      await keyv.set(record.targetId, record);
    },
    putMany: async (records) => {
      if (records.length === 0) return;
      await keyv.setMany(records.map((r) => ({ key: r.targetId, value: r })));
    },
    delete: (id) => keyv.delete(id),
  };
}
