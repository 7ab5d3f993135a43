import { formatDuration } from './duration.js';
import { DOCUMENT_VERSION, MASKED, type TargetEntry, type TargetsDocument, type WindowEntry } from './document.js';
import { formatExpect, type Target } from './target.js';
import type { Window } from './window.js';

// Writing the targets document (/export): the other half of document.ts, which reads it.

/** A secret as an export writes it. */
const secretOut = (value: string, secrets: boolean): string => (secrets ? value : MASKED);

/** One target as a document entry (defaults left out, secrets masked unless asked for). */
export function targetEntryOf(t: Target, secrets: boolean): TargetEntry {
  const entry: TargetEntry = { name: t.name };
  if (t.kind !== 'http') entry.kind = t.kind;
  if (t.kind === 'http') entry.url = t.url;
  else if (t.kind === 'tcp') entry.host = t.host.includes(':') ? `[${t.host}]:${t.port}` : `${t.host}:${t.port}`;
  else entry.endpoint = t.endpoint;
  if (t.threadId !== undefined) entry.thread = t.threadId;
  entry.every = formatDuration(t.everyMs);
  entry.timeout = formatDuration(t.timeoutMs);
  entry.retry = formatDuration(t.retryMs);
  entry.confirm = t.confirm;
  entry.recover = t.recover;
  if (t.remindMs !== undefined) entry.remind = t.remindMs === 0 ? 0 : formatDuration(t.remindMs);
  if (t.errorRatePct !== undefined) entry.errorrate = `${t.errorRatePct}%`;
  if (t.slaPct !== undefined) entry.sla = t.slaPct;
  if (t.escalateMs !== undefined) entry.escalate = t.escalateMs === 0 ? 0 : formatDuration(t.escalateMs);
  if (t.notify !== undefined) entry.notify = t.notify;
  if (t.kind === 'http') {
    if (t.method !== 'GET') entry.method = t.method;
    entry.expect = formatExpect(t.expect);
    if (t.keyword !== undefined) entry.keyword = t.keyword;
    if (t.maintenance !== undefined) entry.maintenance = t.maintenance;
    if (t.latencyMs !== undefined) entry.latency = t.latencyMs;
    if (t.headers.length > 0) entry.headers = Object.fromEntries(t.headers.map((h) => [h.name, secretOut(h.value, secrets)]));
  }
  if (t.kind === 'ec2') {
    entry.region = t.region;
    if (t.accessKeyId !== undefined) entry.key = secrets ? t.accessKeyId : MASKED;
    if (t.secretAccessKey !== undefined) entry.secret = secretOut(t.secretAccessKey, secrets);
    if (t.sessionToken !== undefined) entry.token = secretOut(t.sessionToken, secrets);
  }
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
