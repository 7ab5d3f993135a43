import type { Notification } from '../domain/notification.js';
import { createBook } from '../store/book.js';
import type { KeyvStore } from '../store/keyv.js';
import { wants, type EventClass } from './routing.js';

/** A destination of a chat besides the chat itself: a Slack channel, a mailing list, a PagerDuty service. */
export interface Destination {
  /** `<kind>:<chat>:<name>`: the outbox's destination key. */
  id: string;
  chatId: number;
  /** Unique in its chat, like a target's name. */
  name: string;
  kind: string;
  /** As the kind's `parse` made them. */
  settings: unknown;
  events: EventClass[];
  /** Only these targets (names); all of the chat's when absent. */
  targets?: string[];
  /** Set when it answered "gone" (or an admin paused it): nothing is routed to it until resumed. */
  paused?: { at: number; why: string };
  /** Declared in TARGETS_FILE: the chat cannot change it. */
  managed?: 'file';
  createdAt: number;
}

/** The key of a destination. */
export const destinationId = (kind: string, chatId: number, name: string): string => `${kind}:${chatId}:${name}`;

/** Every destination, in memory (they are few), written through to the store. */
export interface Destinations {
  load(): Promise<void>;
  list(chatId?: number): Destination[];
  get(id: string): Destination | undefined;
  byName(chatId: number, name: string): Destination | undefined;
  put(destination: Destination): Promise<void>;
  remove(id: string): Promise<boolean>;
  update(id: string, change: (d: Destination) => void): Promise<Destination | undefined>;
  /**
   * Where a notification of a chat goes besides the chat: the destinations that asked for its class of
   * events and its target, are not paused, and are among the target's own `notify=` when it has one.
   */
  route(n: Notification, target: { name: string; notify?: readonly string[] } | undefined): string[];
}

/** The destinations over the `destinations` namespace. */
export function createDestinations(store: KeyvStore): Destinations {
  const book = createBook(store.namespace<Destination>('destinations'));
  const all = (): Destination[] => book.cached().sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  return {
    async load() {
      await book.load(() => true);
    },
    list: (chatId) => all().filter((d) => chatId === undefined || d.chatId === chatId),
    get: (id) => book.cached().find((d) => d.id === id),
    byName: (chatId, name) => book.cached().find((d) => d.chatId === chatId && d.name === name),
    async put(destination) {
      await book.put(destination);
    },
    async remove(id) {
      if (!book.cached().some((d) => d.id === id)) return false;
      await book.delete(id);
      return true;
    },
    update: (id, change) => book.update(id, change),
    route(n, target) {
      const out: string[] = [];
      for (const d of book.cached()) {
        if (d.chatId !== n.chatId || d.paused) continue;
        if (target?.notify && target.notify.length > 0 && !target.notify.includes(d.name)) continue;
        if (wants(n, d.events, d.targets, target?.name)) out.push(d.id);
      }
      return out;
    },
  };
}
