import type { IncidentFacts, TraceFacts } from '../../../domain/notification.js';
import { createBook } from '../../../store/book.js';
import type { KeyvStore } from '../../../store/keyv.js';
import { listAll } from '../../../store/targets.js';
import type { ShownIncident } from './render.js';

/** One incident of an alert message, and what the chat was told of it since. */
export interface RecordIncident extends ShownIncident {
  /** The resolution message went out (a retried delivery edits the alert but says it no second time). */
  endTold?: boolean;
}

/** A DOWN alert message in a chat: one incident, or several grouped; what its edits are drawn from. */
export interface AlertRecord {
  /** The first incident's id: stable, so a retried delivery finds the record it began. */
  id: string;
  chatId: number;
  threadId?: number;
  /** Telegram's message id once delivered. */
  messageId?: number;
  incidents: RecordIncident[];
  /** A trace attached to a single-target alert. */
  trace?: TraceFacts;
  /** Escalation steps already mentioned (a grouped alert calls each person once). */
  escalated?: number[];
  createdAt: number;
}

/** The Telegram channel's alert messages, found by their id or by one of their incidents. */
export interface AlertRecords {
  /** Loads the records that still have an open incident. */
  load(): Promise<void>;
  get(id: string): Promise<AlertRecord | undefined>;
  /** The record carrying an incident, if one was made. */
  forIncident(incidentId: string): Promise<AlertRecord | undefined>;
  /** Creates (or, while never delivered, replaces) the record of these incidents. */
  create(record: AlertRecord): Promise<AlertRecord>;
  update(id: string, change: (record: AlertRecord) => void): Promise<AlertRecord | undefined>;
  /** Deletes records created before `before` whose incidents are all resolved; returns how many. */
  prune(before: number): Promise<number>;
  flush(): Promise<void>;
}

const isOpen = (r: AlertRecord): boolean => r.incidents.some((i) => i.resolvedAt === undefined);

/** The records over the `telegram-alerts` namespace, with an incident → record index beside it. */
export function createAlertRecords(store: KeyvStore): AlertRecords {
  const book = createBook(store.namespace<AlertRecord>('telegram-alerts'));
  const index = store.namespace<string>('telegram-alert-index');
  const byIncident = new Map<string, string>();
  const remember = (r: AlertRecord): void => {
    for (const i of r.incidents) byIncident.set(i.facts.id, r.id);
  };

  return {
    async load() {
      for (const r of await book.load(isOpen)) remember(r);
    },
    get: (id) => book.get(id),
    async forIncident(incidentId) {
      const id = byIncident.get(incidentId) ?? (await index.get(incidentId));
      return id === undefined ? undefined : book.get(id);
    },
    async create(record) {
      remember(record);
      await Promise.all(record.incidents.map((i) => index.set(i.facts.id, record.id)));
      return book.put(record);
    },
    async update(id, change) {
      const updated = await book.update(id, change);
      // A record with nothing open leaves memory once written; the store keeps it for later edits.
      if (updated && !isOpen(updated)) {
        book.forget(id);
        for (const i of updated.incidents) if (byIncident.get(i.facts.id) === id) byIncident.delete(i.facts.id);
      }
      return updated;
    },
    async prune(before) {
      const old = (await listAll(store.namespace<AlertRecord>('telegram-alerts'))).filter((r) => r.createdAt < before && !isOpen(r));
      for (const r of old) {
        await book.delete(r.id);
        await Promise.all(r.incidents.map((i) => index.delete(i.facts.id)));
      }
      return old.length;
    },
    flush: () => book.flush(),
  };
}

/** The facts of a record's incidents (for reminders and escalations of a grouped alert). */
export const factsOf = (r: AlertRecord): IncidentFacts[] => r.incidents.map((i) => i.facts);
