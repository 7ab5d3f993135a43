import type { StateRecord } from '../domain/state.js';
import type { Target } from '../kinds/index.js';
import type { TargetRepository } from '../store/targets.js';
import type { Engine } from './engine.js';

/** Something a target change must also tell (the alert policy closes incidents). */
export interface CatalogHooks {
  /** A target was added or changed (its secrets are kept out of the logs from now on). */
  onSaved?(target: Target): void;
  onPaused?(target: Target): Promise<void>;
  onRemoved?(target: Target): Promise<void>;
  onRenamed?(previousId: string, target: Target): Promise<void>;
  /** After every change is in the store and the engine (the other instances on the database read it again). */
  onChanged?(targetId: string, previousId?: string, previous?: Target): void;
}

/** The refusal of one more target in a chat that has `count` of at most `max` (`MAX_TARGETS_PER_CHAT`), or undefined while there is room. */
export function chatFullText(count: number, max: number): string | undefined {
  if (count < max) return undefined;
  return `this chat has ${count} targets, the most it may have (MAX_TARGETS_PER_CHAT is ${max}): /remove one first`;
}

/** Why a catalog change was refused, in words for the user. */
export type CatalogResult<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * The one way targets change at runtime (chat commands today, TARGETS_FILE and /import later):
 * the store is written first and the engine told after, so a failed write changes nothing.
 */
export interface Catalog {
  add(target: Target): Promise<CatalogResult<Target>>;
  /** Adds many new targets at once (a targets file): one store write for all, then the engine; refused whole if a name is taken. */
  addMany(targets: readonly Target[]): Promise<CatalogResult<Target[]>>;
  /** Replaces `previous` by `next` (which may have a new name). */
  replace(previous: Target, next: Target): Promise<CatalogResult<Target>>;
  remove(target: Target): Promise<void>;
  pause(target: Target): Promise<StateRecord | undefined>;
  resume(target: Target): Promise<StateRecord | undefined>;
  get(chatId: number, name: string): Promise<Target | undefined>;
  list(chatId: number): Promise<Target[]>;
}

/** Creates the catalog over the target repository and the engine. */
export function createCatalog(targets: TargetRepository, engine: Engine, hooks: CatalogHooks = {}): Catalog {
  return {
    async add(target) {
      if (await targets.get(target.id)) {
        return { ok: false, error: `a target named "${target.name}" already exists in this chat; choose another with name=` };
      }
      hooks.onSaved?.(target);
      await targets.put(target);
      await engine.upsert(target);
      hooks.onChanged?.(target.id);
      return { ok: true, value: target };
    },

    async addMany(list) {
      if (list.length === 0) return { ok: true, value: [] };
      const stored = await targets.existing(list.map((t) => t.id));
      const taken = list.find((t) => stored.has(t.id));
      if (taken) return { ok: false, error: `a target named "${taken.name}" already exists in this chat; choose another with name=` };
      for (const t of list) hooks.onSaved?.(t);
      await targets.putMany(list);
      await engine.addMany(list);
      for (const t of list) hooks.onChanged?.(t.id);
      return { ok: true, value: [...list] };
    },

    async replace(previous, next) {
      if (next.id !== previous.id && (await targets.get(next.id))) {
        return { ok: false, error: `a target named "${next.name}" already exists in this chat` };
      }
      hooks.onSaved?.(next);
      await targets.put(next);
      if (next.id !== previous.id) await targets.delete(previous.id);
      await engine.upsert(next, previous.id);
      if (next.id !== previous.id) await hooks.onRenamed?.(previous.id, next);
      hooks.onChanged?.(next.id, next.id !== previous.id ? previous.id : undefined, previous);
      return { ok: true, value: next };
    },

    async remove(target) {
      await targets.delete(target.id);
      await engine.remove(target.id);
      // Told before the clean-up (history, incidents, windows): an instance that dies during a slow clean-up
      // must not leave the others checking a target that is gone.
      hooks.onChanged?.(target.id);
      await hooks.onRemoved?.(target);
    },

    async pause(target) {
      await targets.put({ ...target, paused: true });
      const record = await engine.pause(target.id);
      await hooks.onPaused?.(target);
      hooks.onChanged?.(target.id);
      return record;
    },

    async resume(target) {
      await targets.put({ ...target, paused: false });
      const record = await engine.resume(target.id);
      hooks.onChanged?.(target.id);
      return record;
    },

    get: (chatId, name) => targets.get(`${chatId}/${name}`),
    list: (chatId) => targets.listByChat(chatId),
  };
}
