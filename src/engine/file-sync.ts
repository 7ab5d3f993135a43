import type { DocumentContents } from '../targets/document.js';
import { moduleOf, type Target } from '../kinds/index.js';
import type { Window } from '../domain/window.js';
import type { Catalog } from './catalog.js';

/** What applying a document did, by target id. */
export interface SyncReport {
  added: string[];
  changed: string[];
  unchanged: string[];
  removed: string[];
  /** Windows added (an import leaves windows that are already there alone). */
  windows: number;
  /** Windows of an import that were already there. */
  windowsKept?: number;
  /** Destinations (`channels:`) added or changed. */
  channels?: number;
}

/** Where declared targets and windows go. */
export interface SyncDeps {
  catalog: Catalog;
  /** Every stored target (of every chat). */
  allTargets(): Promise<Target[]>;
  windows: {
    list(): Window[];
    add(window: Window): Promise<void>;
    remove(id: string): Promise<boolean>;
  };
  /** Tells the alert policy that windows changed (re-evaluates boundaries). */
  windowsChanged?(): Promise<void>;
  /**
   * Applies the document's destinations: `declare` makes the file-managed ones match (removing what the
   * file no longer declares), `import` adds and updates; returns how many were added or changed.
   */
  applyChannels?(channels: readonly unknown[], mode: 'declare' | 'import'): Promise<number>;
}

/** How many new targets one store write takes. */
const ADD_BATCH = 1_000;

/** A target's settings without its bookkeeping, to tell whether the file changed it. */
const settingsOf = (t: Target): string => JSON.stringify({ ...t, createdAt: 0, updatedAt: 0 });


/** What a window is, without its id and bookkeeping: an import adds a window only once. */
const windowShape = (w: Window): string =>
  JSON.stringify([w.chatId, w.threadId, w.targetId, w.kind, w.start, w.cron, w.durationMs, w.tz, w.reason]);

/**
 * Makes the store match a declared document (TARGETS_FILE): declared targets are added or updated
 * (state kept), file-managed targets no longer declared are removed, and the file's windows replace
 * the ones it declared before. A chat-made target with a declared name is taken over by the file.
 */
export async function syncDeclared(contents: DocumentContents, deps: SyncDeps): Promise<SyncReport> {
  const stored = new Map((await deps.allTargets()).map((t) => [t.id, t]));
  const declared = new Set(contents.targets.map((t) => t.id));
  const removed: string[] = [];
  for (const t of stored.values()) {
    if (t.managed === 'file' && !declared.has(t.id)) {
      await deps.catalog.remove(t);
      removed.push(t.id);
    }
  }
  const report: SyncReport = { ...(await applyTargets(contents.targets, stored, deps, contents.given)), removed, windows: contents.windows.length };
  for (const w of deps.windows.list().filter((x) => x.managed === 'file')) await deps.windows.remove(w.id);
  for (const w of contents.windows) await deps.windows.add(w);
  await deps.windowsChanged?.();
  if (deps.applyChannels) report.channels = await deps.applyChannels(contents.channels, 'declare');
  return report;
}

/**
 * Applies an /import: its targets are added or updated in place (state kept), nothing is removed, and
 * its windows are added unless the same window is there already.
 */
export async function applyImport(contents: DocumentContents, deps: SyncDeps): Promise<SyncReport> {
  const stored = new Map((await deps.allTargets()).map((t) => [t.id, t]));
  const report: SyncReport = { ...(await applyTargets(contents.targets, stored, deps, contents.given)), removed: [], windows: 0, windowsKept: 0 };
  const present = new Set(deps.windows.list().map(windowShape));
  for (const w of contents.windows) {
    if (present.has(windowShape(w))) {
      report.windowsKept = (report.windowsKept ?? 0) + 1;
      continue;
    }
    await deps.windows.add(w);
    present.add(windowShape(w));
    report.windows++;
  }
  if (report.windows > 0) await deps.windowsChanged?.();
  if (deps.applyChannels && contents.channels.length > 0) report.channels = await deps.applyChannels(contents.channels, 'import');
  return report;
}

/** Adds new targets and updates changed ones in place. */
async function applyTargets(
  targets: readonly Target[],
  stored: ReadonlyMap<string, Target>,
  deps: SyncDeps,
  given?: ReadonlyMap<string, ReadonlySet<string>>,
): Promise<Pick<SyncReport, 'added' | 'changed' | 'unchanged'>> {
  const report: Pick<SyncReport, 'added' | 'changed' | 'unchanged'> = { added: [], changed: [], unchanged: [] };
  // New targets go in batches: one store write per batch and the engine told once per batch (a file of
  // 10,000 targets is applied in a few seconds, not one target at a time while checks already run).
  const fresh: Target[] = [];
  const addFresh = async (): Promise<void> => {
    for (let i = 0; i < fresh.length; i += ADD_BATCH) {
      const batch = fresh.slice(i, i + ADD_BATCH);
      const added = await deps.catalog.addMany(batch);
      if (!added.ok) throw new Error(`could not add declared targets: ${added.error}`);
      for (const t of batch) if (t.paused) await deps.catalog.pause(t);
      report.added.push(...batch.map((t) => t.id));
    }
  };
  for (const declared of targets) {
    const previous = stored.get(declared.id);
    // What the entry did not say is kept from the stored target where its kind says so (a heartbeat's token:
    // a targets file read at every start must not give the job a new URL each time).
    const keys = given?.get(declared.id);
    const target = previous && keys && previous.kind === declared.kind ? (moduleOf(declared).keep?.(declared, previous, keys) ?? declared) : declared;
    if (!previous) {
      fresh.push(target);
      continue;
    }
    const next = { ...target, createdAt: previous.createdAt };
    if (settingsOf(previous) === settingsOf(next)) {
      report.unchanged.push(target.id);
      continue;
    }
    const replaced = await deps.catalog.replace(previous, { ...next, paused: previous.paused });
    if (!replaced.ok) throw new Error(`could not update declared target ${target.id}: ${replaced.error}`);
    if (next.paused && !previous.paused) await deps.catalog.pause(next);
    if (!next.paused && previous.paused) await deps.catalog.resume(next);
    report.changed.push(target.id);
  }
  await addFresh();
  return report;
}
