import type { AlertMessage, Incident } from '../domain/incident.js';
import { createBook, type Book } from '../store/book.js';
import type { KeyvStore } from '../store/keyv.js';
import { listAll } from '../store/targets.js';

/** Incidents (open ones in memory, indexed by target) and the alert messages that carry them. */
export interface IncidentBook {
  /** Loads open incidents and the alert messages they refer to. */
  load(): Promise<void>;
  open(incident: Incident): Promise<Incident>;
  get(id: string): Promise<Incident | undefined>;
  /** The unresolved incident of a target, if any. */
  openFor(targetId: string): Incident | undefined;
  /** Every unresolved incident. */
  allOpen(): Incident[];
  update(id: string, change: (incident: Incident) => void): Promise<Incident | undefined>;
  messages: Book<AlertMessage>;
  /** The incidents of an alert message, in order (resolved ones included). */
  incidentsOf(message: AlertMessage): Promise<Incident[]>;
  /** Deletes incidents resolved before `before` and alert messages left with none open; returns how many incidents. */
  pruneResolved(before: number): Promise<number>;
  /** Waits for every pending write. */
  flush(): Promise<void>;
}

/** The incident book over the `incidents` and `alert-messages` namespaces. */
export function createIncidentBook(store: KeyvStore): IncidentBook {
  const incidents = createBook(store.namespace<Incident>('incidents'));
  const messages = createBook(store.namespace<AlertMessage>('alert-messages'));
  const openByTarget = new Map<string, string>();

  const index = (incident: Incident): void => {
    if (incident.resolvedAt === undefined) openByTarget.set(incident.targetId, incident.id);
    else if (openByTarget.get(incident.targetId) === incident.id) openByTarget.delete(incident.targetId);
  };

  return {
    async load() {
      const open = await incidents.load((i) => i.resolvedAt === undefined);
      for (const incident of open) index(incident);
      const keys = new Set(open.map((i) => i.alertKey).filter((k): k is string => k !== undefined));
      await messages.load((m) => keys.has(m.id));
    },
    async open(incident) {
      index(incident);
      return incidents.put(incident);
    },
    async get(id) {
      const incident = await incidents.get(id);
      // Resolved incidents read back to redraw an old alert are not kept in memory.
      if (incident?.resolvedAt !== undefined) incidents.forget(id);
      return incident;
    },
    openFor(targetId) {
      const id = openByTarget.get(targetId);
      return id === undefined ? undefined : incidents.cached().find((i) => i.id === id);
    },
    allOpen: () => incidents.cached().filter((i) => i.resolvedAt === undefined),
    async update(id, change) {
      const before = (await incidents.get(id))?.targetId;
      const updated = await incidents.update(id, change);
      if (updated && before !== undefined && before !== updated.targetId && openByTarget.get(before) === id) openByTarget.delete(before);
      if (updated) {
        index(updated);
        // Resolved incidents leave memory once written; the store keeps them.
        if (updated.resolvedAt !== undefined) incidents.forget(id);
      }
      return updated;
    },
    messages,
    async incidentsOf(message) {
      const list = await Promise.all(message.incidentIds.map((id) => incidents.get(id)));
      return list.filter((i): i is Incident => i !== undefined);
    },
    async pruneResolved(before) {
      const old = await listAll(store.namespace<Incident>('incidents'));
      const gone = old.filter((i) => i.resolvedAt !== undefined && i.resolvedAt < before);
      for (const i of gone) await incidents.delete(i.id);
      // A message goes with the last of its incidents: while one is kept, its alert may be edited yet.
      const kept = new Set(old.filter((i) => !gone.includes(i)).map((i) => i.id));
      for (const id of openByTarget.values()) kept.add(id);
      for (const m of await listAll(store.namespace<AlertMessage>('alert-messages'))) {
        if (!m.incidentIds.some((id) => kept.has(id))) await messages.delete(m.id);
      }
      return gone.length;
    },
    async flush() {
      await Promise.all([incidents.flush(), messages.flush()]);
    },
  };
}
