import { z } from 'zod';
import { clipText, quoteValue } from '../domain/errors.js';
import { headerNameError } from '../domain/header.js';
import type { CommandArgs } from '../domain/options.js';
import { invalid, valid, type Parsed } from '../domain/result.js';
import { isExpired, parseCron, parseStart, parseTimeZone, parseWindowDuration, WINDOW_LIMITS, type Window } from '../domain/window.js';
import { KIND_LIST, KIND_NAMES, moduleNamed, type Target, type TargetKind } from '../kinds/index.js';
import { ALIASES, allOptionKeys, buildTarget, isSecretOption, optionKeys } from './options.js';

// The targets document: what TARGETS_FILE declares and what /export writes and /import reads.
// Every value is written as it would be in `/add` (`every: 30s`, `expect: 200-299`), and goes through
// the same validation, so a file can never hold a target a chat command would refuse.

/** The format version written by {@link documentOf} and the only one {@link parseDocument} reads. */
export const DOCUMENT_VERSION = 1;

/** How secret values are written in an export without secrets. */
export const MASKED = '••••';

const scalar = z.union([z.string(), z.number()]);

/** The keys of a target entry besides the options: its name, kind, chat, topic and state. */
const ENTRY_BASE = {
  name: z.string(),
  kind: z.enum(KIND_NAMES as [TargetKind, ...TargetKind[]]),
  chat: z.number().int(),
  thread: z.number().int(),
  paused: z.boolean(),
};

/**
 * One target entry: the /add options of every kind (and their aliases), each kind's address key and its
 * other keys (http's `headers:`), plus name, kind, chat and topic. Built from the kinds; whether a key
 * belongs to the entry's kind is the option grammar's to say, with the same words as in the chat.
 */
function targetEntrySchema() {
  const shape: Record<string, z.ZodType> = {};
  for (const key of allOptionKeys()) shape[key] = z.union([scalar, z.array(scalar)]);
  for (const m of KIND_LIST) {
    if (!Object.hasOwn(shape, m.address.key)) shape[m.address.key] = scalar;
    for (const key of Object.keys(m.entryKeys ?? {})) shape[key] = z.unknown();
  }
  return z.object({ ...shape, ...ENTRY_BASE }).partial().strict();
}
const targetEntry = targetEntrySchema();
/** The schema of one target entry (the REST API's target body, and what it answers). */
export const TARGET_ENTRY_SCHEMA = targetEntry;

/** One window entry: a one-off (`start`) or recurring (`cron`) maintenance window or a mute. */
const windowEntry = z
  .object({
    target: z.string(),
    chat: z.number().int(),
    thread: z.number().int(),
    kind: z.enum(['maintenance', 'mute']),
    start: z.string(),
    cron: z.string(),
    duration: scalar,
    tz: z.string(),
    reason: z.string(),
  })
  .partial({ chat: true, thread: true, kind: true, start: true, cron: true, tz: true, reason: true })
  .strict();

/** The schema of one window entry. */
export const WINDOW_ENTRY_SCHEMA = windowEntry;

/** One destination entry: `/notify add` as keys (the kind's own options beside the shared ones). */
const channelEntry = z
  .object({
    name: z.string(),
    kind: z.string(),
    address: z.string(),
    chat: z.number().int(),
    events: z.union([z.string(), z.array(z.string())]),
    targets: z.union([z.string(), z.array(z.string())]),
  })
  .partial({ chat: true, events: true, targets: true })
  .catchall(scalar);

/** The schema of one destination entry (the REST API's channel body). */
export const CHANNEL_ENTRY_SCHEMA = channelEntry;

const documentSchema = z
  .object({
    version: z.literal(DOCUMENT_VERSION),
    chat: z.number().int(),
    targets: z.array(targetEntry),
    windows: z.array(windowEntry),
    channels: z.array(channelEntry),
  })
  .partial()
  .strict();

/** A target as written in a document: its base keys, and the options and kind keys by name. */
export type TargetEntry = Partial<{ name: string; kind: TargetKind; chat: number; thread: number; paused: boolean }> & Record<string, unknown>;
/** A window as written in a document. */
export type WindowEntry = z.infer<typeof windowEntry>;
/** A destination as written in a document. */
export type ChannelEntry = z.infer<typeof channelEntry>;
/** The whole document. */
export type TargetsDocument = z.infer<typeof documentSchema>;

/** A destination as a document gives it, for the channel kinds to validate (the domain knows none of them). */
export interface ChannelInput {
  kind: string;
  name: string;
  address: string;
  options: Array<{ key: string; value: string }>;
}

/** What a document is read against: the time, the deployment's rules and where targets go by default. */
export interface DocumentContext {
  now: number;
  allowMetadata: boolean;
  /** The chat of entries that name none (headless: 0; /import: the importing chat). */
  defaultChatId?: number;
  /** When set, the only chats an entry may name (ALLOWED_CHAT_IDS). */
  allowedChatIds?: readonly number[];
  /**
   * The one chat entries go to (an /import goes to the chat it is sent in): the document's `chat:` is
   * where it came from and is not used, an entry's own `chat:` must be this one.
   */
  forceChatId?: number;
  /** With `forceChatId`: the forum topic the entries go to (the topic /import was sent in). */
  forceThreadId?: number;
  /** A chat's time zone for windows without `tz` (default UTC). */
  tz?: (chatId: number) => string;
  /** The stored target a masked value stands for (/import keeps the stored secret). */
  existing?: (id: string) => Target | undefined;
  /** Marks what the document creates (`file` for TARGETS_FILE). */
  managed?: 'file';
  /** Ids for new windows, in order. */
  windowId?: (index: number) => string;
  /** `MAX_TARGETS_PER_CHAT`: a document declaring more for one chat is refused before its entries are read. */
  maxTargetsPerChat?: number;
  /**
   * Validates one destination of `channels:` (the kinds live outside the domain); without it a document
   * with channels is refused. `known` are the target names its chat will have.
   */
  parseChannel?(chatId: number, input: ChannelInput, known: ReadonlySet<string>): Parsed<unknown>;
}

/** The targets and windows a document declares, validated and ready to store. */
export interface DocumentContents {
  targets: Target[];
  windows: Window[];
  /** The destinations of `channels:`, as `parseChannel` made them. */
  channels: unknown[];
  /** The keys each target's entry gave, by target id: what a stored target keeps when applied (a heartbeat's token). */
  given?: ReadonlyMap<string, ReadonlySet<string>>;
}

/** `targets[2].every` from a zod path. */
function pathText(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text === '' ? clipText(String(part)) : `${text}.${clipText(String(part))}`), '');
}

/** Unknown keys as an error lists them: quoted, clipped, at most five. */
const listKeys = (keys: readonly string[]): string =>
  `${keys.slice(0, 5).map((k) => quoteValue(k)).join(', ')}${keys.length > 5 ? ` and ${keys.length - 5} more` : ''}`;

/** The value at a zod path of the input, to tell a missing key from a wrong one. */
function valueAt(data: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  return path.reduce<unknown>((v, part) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[part] : undefined), data);
}

function shapeErrors(error: z.ZodError, data: unknown): string[] {
  return error.issues.map((issue) => {
    const at = pathText(issue.path);
    const where = at === '' ? 'the document' : at;
    if (issue.code === 'unrecognized_keys') return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${listKeys(issue.keys.map(String))}`;
    if (issue.code === 'invalid_value' && at === 'version') return `version must be ${DOCUMENT_VERSION}`;
    if (at !== '' && valueAt(data, issue.path) === undefined) return `${where} is missing`;
    // The scalar union's own message is a bare "Invalid input".
    if (issue.code === 'invalid_union') return `${where}: expected text or a number`;
    return `${where}: ${issue.message}`;
  });
}

/** An entry's value as the /add grammar spells it. */
const optionText = (value: string | number): string => (typeof value === 'number' ? String(value) : value);

/** The keys of an entry that are not options of any kind. */
const NOT_OPTIONS = new Set(['kind', 'chat', 'thread', 'paused']);

/** The /add arguments an entry stands for; masked values are taken from the stored target. */
export function entryArgs(entry: TargetEntry, kind: TargetKind, existing: Target | undefined, errors: string[], at: string): CommandArgs {
  const module = moduleNamed(kind);
  const own = existing?.kind === kind ? existing : undefined;
  const address = entry[module.address.key] as string | number | undefined;
  const options: CommandArgs['options'] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (value === undefined || NOT_OPTIONS.has(key) || key === module.address.key) continue;
    const special = module.entryKeys?.[key];
    if (special) {
      const wrong = special.shape(value);
      if (wrong) errors.push(`${at}.${key}: ${wrong}`);
      else options.push(...special.options(value, own, at, errors));
      continue;
    }
    const values = (Array.isArray(value) ? value : [value]) as Array<string | number>;
    if (value === MASKED && isSecretOption(kind, key)) {
      const stored = own ? module.stored?.(own, ALIASES[key] ?? key) : undefined;
      if (stored === undefined) errors.push(`${at}.${key} is masked (${MASKED}): write the real value`);
      else options.push({ key, value: stored });
      continue;
    }
    // A list is one comma-separated value, except for options given once per value (`assert:`).
    const repeatable = module.options[ALIASES[key] ?? key]?.repeatable === true;
    if (Array.isArray(value) && repeatable) for (const v of values) options.push({ key, value: optionText(v) });
    else options.push({ key, value: values.map(optionText).join(',') });
  }
  return { positional: address === undefined ? [kind] : [kind, optionText(address)], options };
}

/** The keys an entry of the kind may hold (its options, its address, its own entry keys), made once per kind: a file has thousands of entries. */
const ENTRY_KEYS = new Map<TargetKind, ReadonlySet<string>>();
function entryKeysOf(kind: TargetKind): ReadonlySet<string> {
  let keys = ENTRY_KEYS.get(kind);
  if (!keys) {
    const module = moduleNamed(kind);
    keys = new Set([...optionKeys(kind), module.address.key, ...Object.keys(module.entryKeys ?? {})]);
    ENTRY_KEYS.set(kind, keys);
  }
  return keys;
}

/** Which kind an entry is: `kind:`, else the first kind (in registration order) whose address key it has. */
function entryKind(entry: TargetEntry, at: string, errors: string[]): TargetKind | undefined {
  const addressed = KIND_LIST.filter((m) => m.address.key !== 'name');
  const kind = entry.kind ?? addressed.find((m) => entry[m.address.key] !== undefined)?.kind ?? KIND_NAMES[0]!;
  const module = moduleNamed(kind);
  const wanted = module.address.key;
  const keys = entryKeysOf(kind);
  const wrong = [...new Set(addressed.map((m) => m.address.key))].filter((k) => !keys.has(k) && entry[k] !== undefined);
  if (wrong.length > 0) {
    errors.push(`${at}: a ${kind} target takes ${wanted}:, not ${wrong.map((k) => `${k}:`).join(' or ')}`);
    return undefined;
  }
  if (entry[wanted] === undefined) {
    const named = KIND_LIST.filter((m) => m.address.key === 'name').map((m) => `kind: ${m.kind} with name:`);
    const hints = [...addressed.map((m) => `${m.address.documentHint ?? `${m.address.key}:`} for ${m.kind}`), ...named].join(', ');
    errors.push(wanted === 'name' ? `${at}: a ${kind} target needs name:` : `${at}: give the address as ${wanted}: (${hints})`);
    return undefined;
  }
  return kind;
}

/** The chat an entry belongs to, or an error. */
function entryChat(entryChat: number | undefined, docChat: number | undefined, ctx: DocumentContext, at: string, errors: string[]): number | undefined {
  if (ctx.forceChatId !== undefined) {
    // Moving an entry to another chat silently would put its alerts where nobody expects them.
    if (entryChat === undefined || entryChat === ctx.forceChatId) return ctx.forceChatId;
    errors.push(`${at}: chat ${entryChat} is not this chat: /import adds to the chat it is sent in, so leave chat: out`);
    return undefined;
  }
  const chat = entryChat ?? docChat ?? ctx.defaultChatId;
  if (chat === undefined) {
    errors.push(`${at}: give chat: (the id of the chat that gets its alerts), here or at the top of the document`);
    return undefined;
  }
  if (ctx.allowedChatIds && !ctx.allowedChatIds.includes(chat)) {
    errors.push(`${at}: chat ${chat} is not one of ALLOWED_CHAT_IDS (${ctx.allowedChatIds.join(', ')})`);
    return undefined;
  }
  return chat;
}

/**
 * The forum topic of an entry: its own `thread:`, except in an /import into another chat, where
 * the other chat's topics mean nothing and the topic /import was sent in is taken.
 */
function threadOf(entryThread: number | undefined, docChat: number | undefined, ctx: DocumentContext): number | undefined {
  if (ctx.forceChatId === undefined || docChat === ctx.forceChatId) return entryThread;
  return ctx.forceThreadId;
}

function parseTargets(doc: TargetsDocument, ctx: DocumentContext, errors: string[], given: Map<string, ReadonlySet<string>>): Target[] {
  const targets: Target[] = [];
  const seen = new Map<string, string>();
  (doc.targets ?? []).forEach((entry, i) => {
    const at = `targets[${i}]${typeof entry.name === 'string' ? ` (${clipText(entry.name)})` : ''}`;
    const local: string[] = [];
    const kind = entryKind(entry, at, local);
    const chatId = entryChat(entry.chat, doc.chat, ctx, at, local);
    if (kind === undefined || chatId === undefined) return void errors.push(...local);
    const threadId = threadOf(entry.thread, doc.chat, ctx);
    const existing = entry.name !== undefined ? ctx.existing?.(`${chatId}/${entry.name}`) : undefined;
    const args = entryArgs(entry, kind, existing, local, at);
    if (local.length > 0) return void errors.push(...local);
    const built = buildTarget(args, {
      chatId,
      ...(threadId !== undefined ? { threadId } : {}),
      now: ctx.now,
      allowMetadata: ctx.allowMetadata,
      ...(ctx.managed === 'file' ? { declared: true } : {}),
    });
    if (!built.ok) return void errors.push(...built.errors.map((e) => `${at}: ${e}`));
    const module = moduleNamed(kind);
    const keys = new Set(Object.keys(entry));
    given.set(built.value.id, keys);
    const kept = existing?.kind === kind && module.keep ? module.keep(built.value, existing, keys) : built.value;
    const target: Target = { ...kept, paused: entry.paused ?? false, ...(ctx.managed ? { managed: ctx.managed } : {}) };
    const earlier = seen.get(target.id);
    if (earlier !== undefined) return void errors.push(`${at}: the name "${target.name}" is already used by ${earlier} in chat ${chatId}`);
    seen.set(target.id, at);
    targets.push(target);
  });
  return targets;
}

function parseWindows(doc: TargetsDocument, targets: readonly Target[], ctx: DocumentContext, errors: string[]): Window[] {
  const windows: Window[] = [];
  (doc.windows ?? []).forEach((entry, i) => {
    const at = `windows[${i}]`;
    const local: string[] = [];
    const chatId = entryChat(entry.chat, doc.chat, ctx, at, local);
    if (chatId === undefined) return void errors.push(...local);
    const scope = entry.target.trim().toLowerCase();
    const target = scope === 'all' ? undefined : targets.find((t) => t.chatId === chatId && t.name === scope);
    // A target whose own entry is invalid has its errors already; the window need not add one.
    const declaredButInvalid = (doc.targets ?? []).some((t) => t.name?.toLowerCase() === scope);
    if (scope !== 'all' && !target && !declaredButInvalid) local.push(`${at}.target: no target ${quoteValue(entry.target)} for chat ${chatId} in this document (or write all)`);
    const tzParsed = entry.tz === undefined ? undefined : parseTimeZone(entry.tz);
    if (tzParsed && !tzParsed.ok) local.push(...tzParsed.errors.map((e) => `${at}.tz: ${e}`));
    const tz = tzParsed?.ok ? tzParsed.value : (ctx.tz?.(chatId) ?? 'UTC');
    const duration = parseWindowDuration(optionText(entry.duration));
    if (!duration.ok) local.push(...duration.errors.map((e) => `${at}: ${e}`));
    let start: number | undefined;
    let cron: string | undefined;
    if ((entry.start === undefined) === (entry.cron === undefined)) {
      local.push(`${at}: give either start: (a date like 2026-12-01T02:00Z) or cron: ("0 2 * * SUN"), not both or neither`);
    } else if (entry.cron !== undefined) {
      const parsed = parseCron(entry.cron, tz);
      if (parsed.ok) cron = parsed.value;
      else local.push(...parsed.errors.map((e) => `${at}: ${e}`));
    } else if (!/^\d{4}-/.test(entry.start!.trim())) {
      local.push(`${at}: start must be a date like 2026-12-01T02:00Z, got ${quoteValue(entry.start!)}`);
    } else {
      // A document is read again at every start: a window in the past is not an error, just over.
      const parsed = parseStart(entry.start!, tz, 0);
      if (parsed.ok) start = parsed.value;
      else local.push(...parsed.errors.map((e) => `${at}: ${e}`));
    }
    if (entry.kind === 'mute' && cron !== undefined) local.push(`${at}: a mute has a start:, not a cron:`);
    const reason = entry.reason?.trim();
    if (reason !== undefined && reason.length > WINDOW_LIMITS.reasonMaxChars) {
      local.push(`${at}.reason must be at most ${WINDOW_LIMITS.reasonMaxChars} characters, got ${reason.length}`);
    }
    if (local.length > 0 || !duration.ok) return void errors.push(...local);
    const threadId = threadOf(entry.thread, doc.chat, ctx);
    const window: Window = {
      id: ctx.windowId?.(i) ?? `w${i + 1}`,
      chatId,
      ...(threadId !== undefined ? { threadId } : {}),
      ...(target ? { targetId: target.id } : {}),
      kind: entry.kind ?? 'maintenance',
      ...(start !== undefined ? { start } : {}),
      durationMs: duration.value,
      ...(cron !== undefined ? { cron } : {}),
      tz,
      ...(reason ? { reason } : {}),
      createdAt: ctx.now,
      ...(ctx.managed ? { managed: ctx.managed } : {}),
    };
    if (!isExpired(window, ctx.now)) windows.push(window);
  });
  return windows;
}

/** The destinations of `channels:`, each validated by its kind; places named like targets' (`channels[1] (ops): …`). */
function parseChannels(doc: TargetsDocument, targets: readonly Target[], ctx: DocumentContext, errors: string[]): unknown[] {
  const entries = doc.channels ?? [];
  if (entries.length === 0) return [];
  if (!ctx.parseChannel) {
    errors.push('channels: this document cannot declare destinations here');
    return [];
  }
  const out: unknown[] = [];
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    const at = `channels[${index}] (${clipText(entry.name, 32)})`;
    const chatId = entryChat(entry.chat, doc.chat, ctx, at, errors);
    if (chatId === undefined) return;
    const key = `${chatId}/${entry.name.toLowerCase()}`;
    if (seen.has(key)) {
      errors.push(`${at}: the name is given twice`);
      return;
    }
    seen.add(key);
    const list = (v: string | string[] | undefined): string | undefined => (v === undefined ? undefined : Array.isArray(v) ? v.join(',') : v);
    const { name, kind, address, events, targets: only, ...rest } = entry;
    const own = Object.entries(rest).filter(([k]) => k !== 'chat');
    const options = [
      ...(list(events) !== undefined ? [{ key: 'events', value: list(events)! }] : []),
      ...(list(only) !== undefined ? [{ key: 'targets', value: list(only)! }] : []),
      ...own.map(([k, v]) => ({ key: k.toLowerCase(), value: String(v) })),
    ];
    const known = new Set(targets.filter((t) => t.chatId === chatId).map((t) => t.name));
    const parsed = ctx.parseChannel!(chatId, { kind, name, address, options }, known);
    if (parsed.ok) out.push(parsed.value);
    else errors.push(...parsed.errors.map((e) => `${at}: ${e}`));
  });
  return out;
}

/**
 * Why the document declares more targets for one chat than a chat may have, or undefined. Read from the
 * raw entries, before any is validated: a document of thousands is answered at once.
 */
function crowdedChat(data: unknown, ctx: DocumentContext): string | undefined {
  const max = ctx.maxTargetsPerChat;
  if (max === undefined || data === null || typeof data !== 'object') return undefined;
  const { targets, chat } = data as { targets?: unknown; chat?: unknown };
  if (!Array.isArray(targets) || targets.length <= max) return undefined;
  const counts = new Map<number | undefined, number>();
  for (const entry of targets as unknown[]) {
    const own = entry !== null && typeof entry === 'object' ? (entry as { chat?: unknown }).chat : undefined;
    const chatId = ctx.forceChatId ?? (typeof own === 'number' ? own : typeof chat === 'number' ? chat : ctx.defaultChatId);
    counts.set(chatId, (counts.get(chatId) ?? 0) + 1);
  }
  for (const [chatId, count] of counts) {
    if (count <= max) continue;
    const where = ctx.forceChatId !== undefined ? 'this chat' : chatId === undefined ? 'one chat' : `chat ${chatId}`;
    return `the document declares ${count} targets for ${where}; a chat may have at most ${max} (MAX_TARGETS_PER_CHAT)`;
  }
  return undefined;
}

/**
 * Validates a parsed document (from JSON or YAML) completely: every error is reported with where it
 * is (`targets[2] (api): interval must be between 10s and 1d, got "5s"`), and nothing is returned
 * unless everything is valid. One-off windows that are already over are dropped.
 */
export function parseDocument(data: unknown, ctx: DocumentContext): Parsed<DocumentContents> {
  const crowded = crowdedChat(data, ctx);
  if (crowded) return invalid(crowded);
  const shape = documentSchema.safeParse(data ?? {});
  if (!shape.success) return invalid(...shapeErrors(shape.error, data));
  const doc = shape.data;
  if (doc.version === undefined) return invalid(`version: ${DOCUMENT_VERSION} is missing at the top of the document`);
  const errors: string[] = [];
  const given = new Map<string, ReadonlySet<string>>();
  const targets = parseTargets(doc, ctx, errors, given);
  const windows = parseWindows(doc, targets, ctx, errors);
  const channels = parseChannels(doc, targets, ctx, errors);
  return errors.length > 0 ? invalid(...errors) : valid({ targets, windows, channels, given });
}

/** `targets[0] (api): every must be…` → `every must be…`; `targets[0].every: …` → `every: …`. */
const withoutEntryPlace = (text: string): string => text.replace(/^targets\[0\](?: \([^)]*\))?(?:: |\.)?/, '');

/**
 * One target entry on its own (the REST API's body), read exactly as a document entry is: the same
 * schema, grammar and words, without the `targets[0]` in front of each error.
 */
export function parseTargetEntry(entry: unknown, ctx: DocumentContext): Parsed<{ target: Target; given: ReadonlySet<string> }> {
  const parsed = parseDocument({ version: DOCUMENT_VERSION, targets: [entry] }, ctx);
  if (!parsed.ok) return invalid(...parsed.errors.map(withoutEntryPlace));
  const target = parsed.value.targets[0];
  if (!target) return invalid('the entry declares no target');
  return valid({ target, given: parsed.value.given?.get(target.id) ?? new Set() });
}
