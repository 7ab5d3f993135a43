import type { Incident } from '../domain/incident.js';
import type { IncidentRepository } from '../store/incidents.js';

/**
 * Open incidents in memory, written through to the store. Every change goes through `update`, which
 * mutates the one in-memory copy and chains the writes per incident, so concurrent changes (an ack
 * while the alert's message id is being recorded) never overwrite each other.
 */
export interface IncidentBook {
  load(): Promise<void>;
  open(incident: Incident): Promise<Incident>;
  get(id: string): Promise<Incident | undefined>;
  /** The unresolved incident of a target, if any. */
  openFor(targetId: string): Incident | undefined;
  update(id: string, change: (incident: Incident) => void): Promise<Incident | undefined>;
  /** Waits for every pending write. */
  flush(): Promise<void>;
}

/** An incident book over a repository. */
export function createIncidentBook(repo: IncidentRepository): IncidentBook {
  const byId = new Map<string, Incident>();
  const openByTarget = new Map<string, string>();
  const writes = new Map<string, Promise<void>>();

  const persist = (incident: Incident): Promise<void> => {
    const snapshot = structuredClone(incident);
    const previous = writes.get(incident.id) ?? Promise.resolve();
    const next = previous.then(() => repo.put(snapshot));
    writes.set(incident.id, next);
    void next.finally(() => {
      if (writes.get(incident.id) === next) writes.delete(incident.id);
    }).catch(() => undefined);
    return next;
  };

  const remember = (incident: Incident): void => {
    byId.set(incident.id, incident);
    if (incident.resolvedAt === undefined) openByTarget.set(incident.targetId, incident.id);
    else if (openByTarget.get(incident.targetId) === incident.id) openByTarget.delete(incident.targetId);
  };

  return {
    async load() {
      for (const incident of await repo.listOpen()) remember(incident);
    },
    async open(incident) {
      remember(incident);
      await persist(incident);
      return incident;
    },
    async get(id) {
      const known = byId.get(id);
      if (known) return known;
      const stored = await repo.get(id);
      if (stored && !byId.has(id)) byId.set(id, stored);
      return byId.get(id);
    },
    openFor(targetId) {
      const id = openByTarget.get(targetId);
      return id === undefined ? undefined : byId.get(id);
    },
    async update(id, change) {
      const incident = await this.get(id);
      if (!incident) return undefined;
      change(incident);
      remember(incident);
      // Resolved incidents leave memory once written; the store keeps them.
      const written = persist(incident);
      if (incident.resolvedAt !== undefined) void written.then(() => {
        if (!writes.has(id)) byId.delete(id);
      }, () => undefined);
      await written;
      return incident;
    },
    async flush() {
      while (writes.size > 0) await Promise.allSettled([...writes.values()]);
    },
  };
}
