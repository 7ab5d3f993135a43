import { untold, type Incident } from '../domain/incident.js';
import { createBook } from '../store/book.js';
import type { KeyvStore } from '../store/keyv.js';
import { listAll } from '../store/targets.js';

/** Incidents: open ones (and ended ones with an announcement still to queue) in memory, indexed by target. */
export interface IncidentBook {
  /** Loads open incidents and those with an announcement not yet queued. */
  load(): Promise<void>;
  open(incident: Incident): Promise<Incident>;
  get(id: string): Promise<Incident | undefined>;
  /** The unresolved incident of a target, if any. */
  openFor(targetId: string): Incident | undefined;
  /** Every unresolved incident. */
  allOpen(): Incident[];
  /** Incidents with something decided and not yet queued (see `untold`). */
  pending(): Incident[];
  update(id: string, change: (incident: Incident) => void): Promise<Incident | undefined>;
  /** Deletes incidents resolved before `before`; returns how many. */
  pruneResolved(before: number): Promise<number>;
  /** Waits for every pending write. */
  flush(): Promise<void>;
  /** Incidents of a chat resolved at or after `since`, newest first (read from the store: the REST API, the status page). */
  recent(chatId: number, since: number, limit: number): Promise<Incident[]>;
}

/** An incident saved by a version before notifications: its facts rebuilt from what it kept. */
function upgrade(record: Incident): Incident {
  if (record.facts) return record;
  const old = record as Incident & { alertKey?: string };
  return {
    ...record,
    facts: {
      id: record.id,
      target: { id: record.targetId, name: record.name, address: record.host ?? '' },
      reason: record.reason,
      ...(record.failure ? { failure: record.failure } : {}),
      openedAt: record.openedAt,
      failedChecks: 0,
      source: { label: '' },
    },
    // Its alert went out under the old outbox; what is left of it there is not redone.
    told:
      old.alertKey !== undefined || record.resolvedAt !== undefined
        ? ['down', ...(record.ack ? (['ack'] as const) : []), ...(record.resolvedAt !== undefined ? (['end'] as const) : [])]
        : [],
  };
}

/** The incident book over the `incidents` namespace. */
export function createIncidentBook(store: KeyvStore): IncidentBook {
  const incidents = createBook(store.namespace<Incident>('incidents'));
  const openByTarget = new Map<string, string>();
  // Kept in memory while something is left to tell, even once resolved.
  const keep = (i: Incident): boolean => i.resolvedAt === undefined || untold(i).length > 0;

  const index = (incident: Incident): void => {
    if (incident.resolvedAt === undefined) openByTarget.set(incident.targetId, incident.id);
    else if (openByTarget.get(incident.targetId) === incident.id) openByTarget.delete(incident.targetId);
  };

  return {
    async load() {
      const loaded = await incidents.load((i) => keep(upgrade(i)));
      for (const record of loaded) {
        const incident = upgrade(record);
        if (incident !== record) Object.assign(record, incident);
        index(record);
      }
    },
    async open(incident) {
      index(incident);
      return incidents.put(incident);
    },
    async get(id) {
      const incident = await incidents.get(id);
      if (incident && !incident.facts) Object.assign(incident, upgrade(incident));
      // Resolved incidents read back (an Ack on an old alert) are not kept in memory.
      if (incident && !keep(incident)) incidents.forget(id);
      return incident;
    },
    openFor(targetId) {
      const id = openByTarget.get(targetId);
      return id === undefined ? undefined : incidents.cached().find((i) => i.id === id);
    },
    allOpen: () => incidents.cached().filter((i) => i.resolvedAt === undefined),
    pending: () => incidents.cached().filter((i) => untold(i).length > 0),
    async update(id, change) {
      const before = (await incidents.get(id))?.targetId;
      const updated = await incidents.update(id, change);
      if (updated && before !== undefined && before !== updated.targetId && openByTarget.get(before) === id) openByTarget.delete(before);
      if (updated) {
        index(updated);
        // Resolved and fully told, an incident leaves memory once written; the store keeps it.
        if (!keep(updated)) incidents.forget(id);
      }
      return updated;
    },
    async pruneResolved(before) {
      const old = await listAll(store.namespace<Incident>('incidents'));
      const gone = old.filter((i) => i.resolvedAt !== undefined && i.resolvedAt < before);
      for (const i of gone) await incidents.delete(i.id);
      return gone.length;
    },
    async flush() {
      await incidents.flush();
    },
    async recent(chatId, since, limit) {
      const all = await listAll(store.namespace<Incident>('incidents'));
      return all
        .filter((i) => i.chatId === chatId && i.resolvedAt !== undefined && i.resolvedAt >= since)
        .sort((a, b) => b.resolvedAt! - a.resolvedAt!)
        .slice(0, limit);
    },
  };
}
