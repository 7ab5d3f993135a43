import { formatDuration, parseDuration } from '../domain/duration.js';
import { quoteValue } from '../domain/errors.js';
import type { CommandArgs } from '../domain/options.js';
import { parseLocations, parseQuorum } from '../domain/locations.js';
import { invalid, valid, type Parsed } from '../domain/result.js';
import {
  LIMITS,
  NAME_RE,
  nameError,
  nameFromHost,
  parseBoundedDuration,
  parseWhole,
  targetId,
  type TargetCommon,
  type TargetContext,
} from '../domain/target.js';
import { isKind, KIND_LIST, KIND_NAMES, moduleNamed, moduleOf, type Target, type TargetKind } from '../kinds/index.js';
import { errorOf, type Draft, type KindModule, type OptionSpec } from '../kinds/kind.js';

// The option grammar of targets: every `key=value` of /add and /edit, the options every kind shares
// and each kind's own (from its module), and building and editing targets. The targets document reads
// its entries through the same grammar, so the chat and a file accept the same keys and aliases.

type AnyDraft = Draft<Target>;
type CommonDraft = Draft<TargetCommon & { kind: string }>;

/** `escalate=15m`: a duration between 1m and 1d, or 0 (off, never escalate). */
export function parseEscalate(v: string, key = 'escalate'): Parsed<number> {
  if (v === '0' || v === 'off' || v === 'never') return valid(0);
  const parsed = parseDuration(v, key);
  if (!parsed.ok || parsed.value < LIMITS.escalateMinMs || parsed.value > LIMITS.escalateMaxMs) {
    return invalid(`${key} must be a duration between 1m and 1d, or 0 for never, got ${quoteValue(v)}`);
  }
  return parsed;
}

/** The options every kind accepts (a kind may replace one with its own). */
const COMMON: Readonly<Record<string, OptionSpec<CommonDraft>>> = {
  name: { apply: (d, v) => nameError(v) ?? void (d.name = v) },
  every: { apply: (d, v, { key }) => errorOf(parseBoundedDuration(key, v, LIMITS.everyMinMs, LIMITS.everyMaxMs), (ms) => (d.everyMs = ms)) },
  timeout: { apply: (d, v, { key }) => errorOf(parseBoundedDuration(key, v, LIMITS.timeoutMinMs, LIMITS.timeoutMaxMs), (ms) => (d.timeoutMs = ms)) },
  retry: { apply: (d, v, { key }) => errorOf(parseBoundedDuration(key, v, LIMITS.retryMinMs, LIMITS.everyMaxMs), (ms) => (d.retryMs = ms)) },
  confirm: { apply: (d, v, { key }) => errorOf(parseWhole(key, v, LIMITS.thresholdMin, LIMITS.thresholdMax), (n) => (d.confirm = n)) },
  recover: { apply: (d, v, { key }) => errorOf(parseWhole(key, v, LIMITS.thresholdMin, LIMITS.thresholdMax), (n) => (d.recover = n)) },
  note: {
    apply: (d, v, { key }) => {
      if (v.length > LIMITS.noteMaxChars) return `${key} must be at most ${LIMITS.noteMaxChars} characters, got ${v.length}`;
      d.note = v.trim() === '' ? undefined : v;
      return undefined;
    },
  },
  remind: {
    apply: (d, v, { key }) => {
      if (v === '0' || v === 'off' || v === 'never') {
        d.remindMs = 0;
        return undefined;
      }
      const parsed = parseDuration(v, key);
      if (!parsed.ok || parsed.value < LIMITS.remindMinMs || parsed.value > LIMITS.remindMaxMs) {
        return `${key} must be a duration between 1m and 7d, or 0 for never, got ${quoteValue(v)}`;
      }
      d.remindMs = parsed.value;
      return undefined;
    },
  },
  errorrate: {
    apply: (d, v, { key }) => {
      const m = /^(\d{1,2}|100)%?$/.exec(v);
      if (!m) return `${key} must be a percentage between 0 and 100 (0 = off), like 10%, got ${quoteValue(v)}`;
      d.errorRatePct = Number(m[1]);
      return undefined;
    },
  },
  sla: {
    apply: (d, v, { key }) => {
      if (v === '0' || v === 'off') {
        d.slaPct = undefined;
        return undefined;
      }
      const m = /^(\d{1,3}(?:\.\d{1,3})?)%?$/.exec(v);
      const pct = m ? Number(m[1]) : NaN;
      if (!(pct > 0 && pct <= 100)) return `${key} must be an uptime percentage above 0 and at most 100, like 99.9, or 0 for none, got ${quoteValue(v)}`;
      d.slaPct = pct;
      return undefined;
    },
  },
  notify: {
    apply: (d, v, { key }) => {
      if (v === '' || v === 'all') {
        d.notify = undefined;
        return undefined;
      }
      const names = v.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== '');
      const bad = names.find((n) => !NAME_RE.test(n));
      if (names.length === 0 || bad !== undefined) return `${key} must be destination names from /notify, comma-separated (or all), got ${quoteValue(bad ?? v)}`;
      if (names.length > 20) return `${key} takes at most 20 destinations, got ${names.length}`;
      d.notify = [...new Set(names)];
      return undefined;
    },
  },
  escalate: { apply: (d, v, { key }) => errorOf(parseEscalate(v, key), (ms) => (d.escalateMs = ms)) },
  locations: {
    apply: (d, v) => {
      const parsed = parseLocations(v);
      if (!parsed.ok) return parsed.error;
      d.locations = parsed.value.kind === 'all' ? undefined : parsed.value;
      return undefined;
    },
  },
  quorum: {
    apply: (d, v) => {
      const parsed = parseQuorum(v);
      if (!parsed.ok) return parsed.error;
      d.quorum = parsed.value.kind === 'majority' ? undefined : parsed.value;
      return undefined;
    },
  },
};

/** Options spelled differently by habit, the same in the chat and in a document: `interval=30s` is `every=30s`. */
export const ALIASES: Readonly<Record<string, string>> = { interval: 'every' };

/** The option `key` (an alias resolved) of a kind, or undefined. */
function optionOf(kind: TargetKind, key: string): OptionSpec<AnyDraft> | undefined {
  const module = moduleNamed(kind);
  if (Object.hasOwn(module.options, key)) return module.options[key] as OptionSpec<AnyDraft>;
  if (module.omits?.includes(key)) return undefined;
  return Object.hasOwn(COMMON, key) ? (COMMON[key] as OptionSpec<AnyDraft>) : undefined;
}

/** Option keys a kind accepts (its address aside), for help texts and error messages: the shared ones first. */
export function optionKeys(kind: TargetKind): string[] {
  const module = moduleNamed(kind);
  const own = Object.keys(module.options).filter((k) => k !== module.address.key);
  const shared = Object.keys(COMMON).filter((k) => !own.includes(k) && !module.omits?.includes(k) && !(k === 'name' && module.address.key === 'name'));
  return [...shared, ...own];
}

/** Every option key of any kind (and the aliases): what a document entry may hold besides its own keys. */
export function allOptionKeys(): string[] {
  const keys = new Set<string>([...Object.keys(COMMON), ...Object.keys(ALIASES)]);
  for (const module of KIND_LIST) for (const key of Object.keys(module.options)) keys.add(key);
  return [...keys];
}

/** Whether `key` is a secret option of any kind (a chat message carrying it is deleted). */
export const isSecretAnywhere = (key: string): boolean => KIND_LIST.some((m) => m.options[ALIASES[key] ?? key]?.secret === true);

/** Whether an option of the kind holds a secret (a masked value in a document stands for the stored one). */
export const isSecretOption = (kind: TargetKind, key: string): boolean => optionOf(kind, ALIASES[key] ?? key)?.secret === true;

function applyOptions(draft: AnyDraft, options: CommandArgs['options'], ctx: TargetContext): string[] {
  const errors: string[] = [];
  const seen = new Set<string>();
  const module = moduleNamed(draft.kind);
  for (const { key: rawKey, value } of options) {
    const key = ALIASES[rawKey] ?? rawKey;
    const spec = optionOf(draft.kind, key);
    if (!spec || (key === 'name' && module.address.key === 'name')) {
      const hint = key === 'name' ? `: a ${draft.kind} target's name is the word after ${draft.kind}` : `; expected one of ${optionKeys(draft.kind).join(', ')}`;
      errors.push(`unknown option ${quoteValue(rawKey)} for a ${draft.kind} target${hint}`);
      continue;
    }
    if (seen.has(key) && !spec.repeatable) {
      errors.push(`option ${quoteValue(rawKey)} is given twice`);
      continue;
    }
    seen.add(key);
    const error = spec.apply(draft, value, { ...ctx, key: rawKey });
    if (error) errors.push(error);
  }
  return errors;
}

/** The timeout a target gets when none is given: 10s, or 80% of a shorter interval. */
export const defaultTimeoutMs = (everyMs: number): number => Math.min(LIMITS.timeoutDefaultMs, Math.floor((everyMs * 0.8) / 1_000) * 1_000);

/** Rules between fields, checked after every option is applied. */
function crossCheck(t: Target): string[] {
  const errors = [...(moduleOf(t).check?.(t) ?? [])];
  if (t.timeoutMs >= t.everyMs) {
    errors.push(`timeout must be shorter than the interval (${formatDuration(t.everyMs)}), got "${formatDuration(t.timeoutMs)}"`);
  }
  if (t.retryMs > t.everyMs) {
    errors.push(`retry must not be longer than the interval (${formatDuration(t.everyMs)}), got "${formatDuration(t.retryMs)}"`);
  }
  // A quorum the named places could never make would be silently `all`.
  if (t.quorum?.kind === 'count' && t.locations?.kind === 'named' && t.quorum.n > t.locations.names.length) {
    errors.push(`quorum ${t.quorum.n} is more than the ${t.locations.names.length} location${t.locations.names.length === 1 ? '' : 's'} named in locations (${t.locations.names.join(',')})`);
  }
  return errors;
}

function finish(draft: AnyDraft, ctx: TargetContext, created: number): Target {
  const module = moduleNamed(draft.kind);
  const defaults = module.defaults ?? {};
  const everyMs = draft.everyMs ?? defaults.everyMs ?? LIMITS.everyDefaultMs;
  // Optional fields are set when given rather than spread in (`...(x ? { x } : {})`): a file of
  // thousands of entries builds thousands of targets at start, and each spread is an object made and
  // copied. The keys keep their order (a file's unchanged targets are found by comparing JSON).
  const common = { id: targetId(ctx.chatId, draft.name as string), chatId: ctx.chatId } as TargetCommon;
  if (ctx.threadId !== undefined) common.threadId = ctx.threadId;
  common.name = draft.name as string;
  common.everyMs = everyMs;
  common.timeoutMs = draft.timeoutMs ?? defaults.timeoutMs ?? defaultTimeoutMs(everyMs);
  common.retryMs = draft.retryMs ?? defaults.retryMs ?? Math.min(LIMITS.retryDefaultMs, everyMs);
  common.confirm = draft.confirm ?? defaults.confirm ?? LIMITS.confirmDefault;
  common.recover = draft.recover ?? defaults.recover ?? LIMITS.recoverDefault;
  if (draft.note !== undefined) common.note = draft.note;
  if (draft.remindMs !== undefined) common.remindMs = draft.remindMs;
  if (draft.errorRatePct !== undefined) common.errorRatePct = draft.errorRatePct;
  if (draft.slaPct !== undefined) common.slaPct = draft.slaPct;
  if (draft.escalateMs !== undefined) common.escalateMs = draft.escalateMs;
  if (draft.notify !== undefined) common.notify = draft.notify;
  if (draft.locations !== undefined) common.locations = draft.locations;
  if (draft.quorum !== undefined) common.quorum = draft.quorum;
  common.paused = draft.paused ?? false;
  common.createdAt = created;
  common.updatedAt = ctx.now;
  return Object.assign(common, { kind: draft.kind }, module.finish(draft, ctx)) as Target;
}

/** The kind a `/add` starts with, and the words after it. */
function kindOfWords(words: string[]): TargetKind {
  const first = words[0]?.toLowerCase();
  if (first !== undefined && isKind(first)) {
    words.shift();
    return first;
  }
  return KIND_NAMES[0]!;
}

/**
 * Builds a new target from `/add` arguments: `URL [options]` for the default kind (http), `KIND ADDRESS
 * [options]` for the others (`tcp HOST:PORT`, `ec2 ENDPOINT region=R`, ...). Every problem is reported, not just the first.
 */
export function buildTarget(args: CommandArgs, ctx: TargetContext): Parsed<Target> {
  const words = [...args.positional];
  const kind = kindOfWords(words);
  const module: KindModule<Target> = moduleNamed(kind);
  const address = words.shift();
  if (address === undefined) return invalid(module.address.missing);
  const errors: string[] = [];
  if (words.length > 0) {
    errors.push(`unexpected ${quoteValue(words[0]!)}: options are written key=value, like every=30s`);
  }
  const draft: AnyDraft = { kind };
  const addressError = module.address.apply(draft, address, { ...ctx, key: module.address.key });
  if (addressError) errors.push(addressError);
  errors.push(...applyOptions(draft, args.options, ctx));
  errors.push(...(module.required?.(draft, new Set(args.options.map((o) => o.key)), ctx) ?? []));
  if (errors.length > 0) return invalid(...errors);
  if (draft.name === undefined) draft.name = nameFromHost(module.nameHost(draft));
  const target = finish(draft, ctx, ctx.now);
  const cross = crossCheck(target);
  return cross.length > 0 ? invalid(...cross) : valid(target);
}

/**
 * Applies `/edit` options to an existing target and returns the edited copy; the original is
 * never modified, so a refused edit changes nothing. Renaming is done with `name=`.
 */
export function editTarget(target: Target, options: CommandArgs['options'], ctx: Omit<TargetContext, 'chatId'>): Parsed<Target> {
  if (options.length === 0) return invalid(`nothing to change: give options like every=30s; ${target.kind} targets accept ${optionKeys(target.kind).join(', ')}`);
  const draft: AnyDraft = structuredClone(target);
  const errors = applyOptions(draft, options, { ...ctx, chatId: target.chatId });
  if (errors.length > 0) return invalid(...errors);
  // A timeout or retry delay not given in this edit follows a shorter interval instead of blocking it.
  const given = new Set(options.map((o) => ALIASES[o.key] ?? o.key));
  if (!given.has('retry') && draft.retryMs !== undefined && draft.everyMs !== undefined && draft.retryMs > draft.everyMs) {
    draft.retryMs = draft.everyMs;
  }
  if (!given.has('timeout') && draft.timeoutMs !== undefined && draft.everyMs !== undefined && draft.timeoutMs >= draft.everyMs) {
    draft.timeoutMs = defaultTimeoutMs(draft.everyMs);
  }
  moduleOf(target).edited?.(target, draft, given);
  const edited = finish(
    draft,
    { chatId: target.chatId, ...(target.threadId !== undefined ? { threadId: target.threadId } : {}), now: ctx.now, ...(ctx.secret ? { secret: ctx.secret } : {}) },
    target.createdAt,
  );
  const cross = crossCheck(edited);
  return cross.length > 0 ? invalid(...cross) : valid(edited);
}
