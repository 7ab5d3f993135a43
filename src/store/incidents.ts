import type { Incident } from '../domain/incident.js';
import type { KeyvStore } from './keyv.js';
import { listAll } from './targets.js';

/** Incidents by id. */
export interface IncidentRepository {
  get(id: string): Promise<Incident | undefined>;
  put(incident: Incident): Promise<void>;
  /** Incidents not yet resolved (loaded once at start). */
  listOpen(): Promise<Incident[]>;
}

/** The incident repository over the `incidents` namespace. */
export function createIncidentRepository(store: KeyvStore): IncidentRepository {
  const keyv = store.namespace<Incident>('incidents');
  return {
    get: (id) => keyv.get(id),
    put: async (incident) => {
      await keyv.set(incident.id, incident);
    },
    listOpen: async () => (await listAll(keyv)).filter((i) => i.resolvedAt === undefined),
  };
}
