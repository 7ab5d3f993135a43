import { activeWindowsFor, isExpired, nextBoundary, windowId, type Window } from '../domain/window.js';
import { createBook } from './book.js';
import type { KeyvStore } from './keyv.js';

/** Maintenance windows and mutes: all in memory (they are few), written through to the store. */
export interface WindowRegistry {
  load(): Promise<void>;
  /** Windows of one chat (or all), in creation order. */
  list(chatId?: number): Window[];
  get(id: string): Window | undefined;
  /** A new window id, unused and never handed out before by this registry (the chat, the API and /import share it). */
  nextId(now: number): string;
  add(window: Window): Promise<void>;
  remove(id: string): Promise<boolean>;
  /** Windows covering a target now. */
  activeFor(chatId: number, targetId: string, now: number): Window[];
  /** The next instant a window starts or ends. */
  nextBoundary(now: number): number | undefined;
  /** Points a renamed target's windows at its new id. */
  retarget(previousId: string, targetId: string): Promise<void>;
  /** Deletes one-off windows and mutes that have ended; returns them. */
  pruneExpired(now: number): Promise<Window[]>;
}

/** The window registry over the `windows` namespace. */
export function createWindowRegistry(store: KeyvStore): WindowRegistry {
  // One sequence for every caller: two windows made in the same second by different callers get different ids.
  let seq = 0;
  const handed = new Set<string>();
  const book = createBook(store.namespace<Window>('windows'));
  const all = (): Window[] => book.cached().sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  return {
    async load() {
      await book.load(() => true);
    },
    list: (chatId) => all().filter((w) => chatId === undefined || w.chatId === chatId),
    get: (id) => book.cached().find((w) => w.id === id),
    nextId(now) {
      for (;;) {
        const id = windowId(now, seq++);
        if (!handed.has(id) && !book.cached().some((w) => w.id === id)) {
          handed.add(id);
          return id;
        }
      }
    },
    async add(window) {
      await book.put(window);
    },
    async remove(id) {
      if (!book.cached().some((w) => w.id === id)) return false;
      await book.delete(id);
      return true;
    },
    async retarget(previousId, targetId) {
      for (const w of book.cached().filter((x) => x.targetId === previousId)) {
        await book.update(w.id, (x) => {
          x.targetId = targetId;
        });
      }
    },
    activeFor: (chatId, targetId, now) => activeWindowsFor(all(), chatId, targetId, now),
    nextBoundary: (now) => nextBoundary(all(), now),
    async pruneExpired(now) {
      const expired = all().filter((w) => isExpired(w, now));
      for (const w of expired) await book.delete(w.id);
      return expired;
    },
  };
}
