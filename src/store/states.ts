import type { StateRecord } from '../domain/state.js';
import type { KeyvStore } from './keyv.js';
import { listAll } from './targets.js';

/** Target states by target id. */
export interface StateRepository {
  all(): Promise<Map<string, StateRecord>>;
  get(targetId: string): Promise<StateRecord | undefined>;
  /** The states of these targets (one read), by target id; a target without one is absent. */
  getMany(targetIds: readonly string[]): Promise<Map<string, StateRecord>>;
  put(record: StateRecord): Promise<void>;
  putMany(records: readonly StateRecord[]): Promise<void>;
  delete(targetId: string): Promise<boolean>;
}

/** The state repository over the `states` namespace (or another: `states@fra`, one location's). */
export function createStateRepository(store: KeyvStore, namespace = 'states'): StateRepository {
  const keyv = store.namespace<StateRecord>(namespace);
  return {
    async all() {
      const map = new Map<string, StateRecord>();
      for (const record of await listAll(keyv)) map.set(record.targetId, record);
      return map;
    },
    get: (id) => keyv.get(id),
    async getMany(ids) {
      const out = new Map<string, StateRecord>();
      if (ids.length === 0) return out;
      const records = await keyv.getMany([...ids]);
      records.forEach((r, i) => {
        if (r) out.set(ids[i]!, r);
      });
      return out;
    },
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

/** The namespace of one location's states of the targets checked from several places. */
export const locationNamespace = (location: string): string => `states@${location}`;

/**
 * The states an instance's engine keeps, when instances check from several locations: a target checked
 * per location (`perLocation`) has this location's own state in `states@<location>` (the leader keeps the
 * verdict in `states`); every other target's state is in `states`, as with one place.
 */
export function createLocatedStateRepository(
  store: KeyvStore,
  location: string,
  perLocation: (targetId: string) => boolean,
  /** Whether this location checks the target (default: yes); a record of a target checked per location elsewhere is not written here. */
  checksHere: (targetId: string) => boolean = () => true,
): StateRepository {
  const plain = createStateRepository(store);
  const here = createStateRepository(store, locationNamespace(location));
  const of = (id: string): StateRepository => (perLocation(id) ? here : plain);
  // A copy of the verdict an engine holds for a target this place does not check (a rename moves it) is not
  // this place's view: written here, the leader would count this place for a target that does not ask for it.
  const mine = (r: StateRecord): boolean => !perLocation(r.targetId) || checksHere(r.targetId);
  return {
    async all() {
      const [a, b] = await Promise.all([plain.all(), here.all()]);
      const out = new Map<string, StateRecord>();
      for (const [id, r] of a) if (!perLocation(id)) out.set(id, r);
      for (const [id, r] of b) if (perLocation(id)) out.set(id, r);
      return out;
    },
    get: (id) => of(id).get(id),
    async getMany(ids) {
      const [a, b] = await Promise.all([plain.getMany(ids.filter((id) => !perLocation(id))), here.getMany(ids.filter((id) => perLocation(id)))]);
      return new Map([...a, ...b]);
    },
    put: async (record) => {
      if (mine(record)) await of(record.targetId).put(record);
    },
    async putMany(records) {
      await Promise.all([plain.putMany(records.filter((r) => !perLocation(r.targetId))), here.putMany(records.filter((r) => perLocation(r.targetId) && mine(r)))]);
    },
    async delete(id) {
      const [a, b] = await Promise.all([plain.delete(id), here.delete(id)]);
      return a || b;
    },
  };
}
