import { formatDuration } from '../domain/duration.js';
import { formatLocations } from '../domain/locations.js';
import type { Window } from '../domain/window.js';
import { KIND_NAMES, moduleOf, type Target } from '../kinds/index.js';
import { DOCUMENT_VERSION, type TargetEntry, type TargetsDocument, type WindowEntry } from './document.js';

// Writing the targets document (/export): the other half of document.ts, which reads it.

/** One target as a document entry (defaults left out, secrets masked unless asked for); the kind writes its own keys. */
export function targetEntryOf(t: Target, secrets: boolean): TargetEntry {
  const module = moduleOf(t);
  const own = module.entry(t, secrets);
  const { [module.address.key]: address, ...rest } = own;
  const entry: TargetEntry = { name: t.name };
  // The first kind is the default: its entries leave `kind:` out.
  if (t.kind !== KIND_NAMES[0]) entry.kind = t.kind;
  if (module.address.key !== 'name') entry[module.address.key] = address;
  if (t.threadId !== undefined) entry.thread = t.threadId;
  entry.every = formatDuration(t.everyMs);
  if (!module.omits?.includes('timeout')) entry.timeout = formatDuration(t.timeoutMs);
  if (!module.omits?.includes('retry')) entry.retry = formatDuration(t.retryMs);
  entry.confirm = t.confirm;
  entry.recover = t.recover;
  if (t.remindMs !== undefined) entry.remind = t.remindMs === 0 ? 0 : formatDuration(t.remindMs);
  if (t.errorRatePct !== undefined) entry.errorrate = `${t.errorRatePct}%`;
  if (t.slaPct !== undefined) entry.sla = t.slaPct;
  if (t.escalateMs !== undefined) entry.escalate = t.escalateMs === 0 ? 0 : formatDuration(t.escalateMs);
  if (t.notify !== undefined) entry.notify = t.notify;
  if (t.locations !== undefined) entry.locations = formatLocations(t.locations);
  if (t.quorum !== undefined) entry.quorum = t.quorum.kind === 'count' ? t.quorum.n : t.quorum.kind;
  Object.assign(entry, rest);
  if (t.note !== undefined) entry.note = t.note;
  if (t.paused) entry.paused = true;
  return entry;
}

/** One window as a document entry; `names` turns a target id into its name. */
export function windowEntryOf(w: Window, names: (targetId: string) => string | undefined): WindowEntry {
  const target = w.targetId === undefined ? 'all' : (names(w.targetId) ?? w.targetId.slice(w.targetId.indexOf('/') + 1));
  return {
    target,
    ...(w.threadId !== undefined ? { thread: w.threadId } : {}),
    ...(w.kind === 'mute' ? { kind: 'mute' as const } : {}),
    ...(w.cron !== undefined ? { cron: w.cron } : { start: new Date(w.start ?? 0).toISOString() }),
    duration: formatDuration(w.durationMs),
    tz: w.tz,
    ...(w.reason !== undefined ? { reason: w.reason } : {}),
  };
}

/** A chat's targets and windows as a document: what /export sends and /import and TARGETS_FILE read. */
export function documentOf(chatId: number, targets: readonly Target[], windows: readonly Window[], secrets = false): TargetsDocument {
  const names = new Map(targets.map((t) => [t.id, t.name]));
  return {
    version: DOCUMENT_VERSION,
    chat: chatId,
    targets: [...targets].sort((a, b) => a.name.localeCompare(b.name)).map((t) => targetEntryOf(t, secrets)),
    windows: windows.map((w) => windowEntryOf(w, (id) => names.get(id))),
  };
}
