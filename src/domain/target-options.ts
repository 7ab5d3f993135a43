import { formatDuration, parseDuration } from './duration.js';
import { quoteValue } from './errors.js';
import { parseHeaderLine } from './header.js';
import type { CommandArgs } from './options.js';
import { invalid, valid, type Parsed } from './result.js';
import {
  ACCESS_KEY_RE,
  CREDENTIAL_RE,
  HTTP_METHODS,
  LIMITS,
  NAME_RE,
  REGION_RE,
  nameError,
  nameFromHost,
  parseBoundedDuration,
  parseEndpoint,
  parseExpect,
  parseHostPort,
  parseTargetUrl,
  parseWhole,
  targetId,
  type Ec2Target,
  type HttpMethod,
  type HttpTarget,
  type Target,
  type TargetContext,
  type TargetKind,
  type TcpTarget,
} from './target.js';

// The option grammar of targets: every `key=value` of /add and /edit, and building and editing targets.

/** A target being built or edited: every field optional until validated. */
type Draft = Partial<Omit<HttpTarget, 'kind'>> & Partial<Omit<TcpTarget, 'kind'>> & Partial<Omit<Ec2Target, 'kind'>> & { kind: TargetKind };

interface OptionSpec {
  kinds: readonly TargetKind[];
  repeatable?: boolean;
  apply(draft: Draft, value: string, ctx: TargetContext): string | undefined;
}

const errorOf = <T>(parsed: Parsed<T>, set: (v: T) => void): string | undefined => {
  if (!parsed.ok) return parsed.errors.join('; ');
  set(parsed.value);
  return undefined;
};

const ALL: readonly TargetKind[] = ['http', 'tcp', 'ec2'];

/** An http option holding a phrase of at most 200 characters; empty clears it. */
function phraseOption(key: string, set: (d: Draft, value: string | undefined) => void): OptionSpec {
  return {
    kinds: ['http'],
    apply: (d, v) => {
      if (v.length > LIMITS.keywordMaxChars) return `${key} must be at most ${LIMITS.keywordMaxChars} characters, got ${v.length}`;
      set(d, v === '' ? undefined : v);
      return undefined;
    },
  };
}

/** Every `key=value` option a target accepts, the single source of the option grammar. */
const OPTIONS: Record<string, OptionSpec> = {
  name: {
    kinds: ALL,
    apply: (d, v) => nameError(v) ?? void (d.name = v),
  },
  every: {
    kinds: ALL,
    apply: (d, v) => errorOf(parseBoundedDuration('interval', v, LIMITS.everyMinMs, LIMITS.everyMaxMs), (ms) => (d.everyMs = ms)),
  },
  timeout: {
    kinds: ALL,
    apply: (d, v) => errorOf(parseBoundedDuration('timeout', v, LIMITS.timeoutMinMs, LIMITS.timeoutMaxMs), (ms) => (d.timeoutMs = ms)),
  },
  retry: {
    kinds: ALL,
    apply: (d, v) => errorOf(parseBoundedDuration('retry', v, LIMITS.retryMinMs, LIMITS.everyMaxMs), (ms) => (d.retryMs = ms)),
  },
  confirm: {
    kinds: ALL,
    apply: (d, v) => errorOf(parseWhole('confirm', v, LIMITS.thresholdMin, LIMITS.thresholdMax), (n) => (d.confirm = n)),
  },
  recover: {
    kinds: ALL,
    apply: (d, v) => errorOf(parseWhole('recover', v, LIMITS.thresholdMin, LIMITS.thresholdMax), (n) => (d.recover = n)),
  },
  note: {
    kinds: ALL,
    apply: (d, v) => {
      if (v.length > LIMITS.noteMaxChars) return `note must be at most ${LIMITS.noteMaxChars} characters, got ${v.length}`;
      d.note = v.trim() === '' ? undefined : v;
      return undefined;
    },
  },
  remind: {
    kinds: ALL,
    apply: (d, v) => {
      if (v === '0' || v === 'off' || v === 'never') {
        d.remindMs = 0;
        return undefined;
      }
      const parsed = parseDuration(v, 'remind');
      if (!parsed.ok || parsed.value < LIMITS.remindMinMs || parsed.value > LIMITS.remindMaxMs) {
        return `remind must be a duration between 1m and 7d, or 0 for never, got ${quoteValue(v)}`;
      }
      d.remindMs = parsed.value;
      return undefined;
    },
  },
  url: {
    kinds: ['http'],
    apply: (d, v, ctx) => errorOf(parseTargetUrl(v, ctx.allowMetadata), (u) => (d.url = u.href)),
  },
  method: {
    kinds: ['http'],
    apply: (d, v) => {
      const upper = v.toUpperCase();
      if (!(HTTP_METHODS as readonly string[]).includes(upper)) {
        return `method must be one of ${HTTP_METHODS.join(', ')}, got ${quoteValue(v)}`;
      }
      d.method = upper as HttpMethod;
      return undefined;
    },
  },
  expect: {
    kinds: ['http'],
    apply: (d, v) => errorOf(parseExpect(v), (r) => (d.expect = r)),
  },
  keyword: phraseOption('keyword', (d, v) => (d.keyword = v)),
  maintenance: phraseOption('maintenance', (d, v) => (d.maintenance = v)),
  errorrate: {
    kinds: ALL,
    apply: (d, v) => {
      const m = /^(\d{1,2}|100)%?$/.exec(v);
      if (!m) return `errorrate must be a percentage between 0 and 100 (0 = off), like 10%, got ${quoteValue(v)}`;
      d.errorRatePct = Number(m[1]);
      return undefined;
    },
  },
  sla: {
    kinds: ALL,
    apply: (d, v) => {
      if (v === '0' || v === 'off') {
        d.slaPct = undefined;
        return undefined;
      }
      const m = /^(\d{1,3}(?:\.\d{1,3})?)%?$/.exec(v);
      const pct = m ? Number(m[1]) : NaN;
      if (!(pct > 0 && pct <= 100)) return `sla must be an uptime percentage above 0 and at most 100, like 99.9, or 0 for none, got ${quoteValue(v)}`;
      d.slaPct = pct;
      return undefined;
    },
  },
  notify: {
    kinds: ALL,
    apply: (d, v) => {
      if (v === '' || v === 'all') {
        d.notify = undefined;
        return undefined;
      }
      const names = v.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== '');
      const bad = names.find((n) => !NAME_RE.test(n));
      if (names.length === 0 || bad !== undefined) return `notify must be destination names from /notify, comma-separated (or all), got ${quoteValue(bad ?? v)}`;
      if (names.length > 20) return `notify takes at most 20 destinations, got ${names.length}`;
      d.notify = [...new Set(names)];
      return undefined;
    },
  },
  escalate: {
    kinds: ALL,
    apply: (d, v) => {
      const parsed = parseEscalate(v);
      if (!parsed.ok) return parsed.errors.join('; ');
      d.escalateMs = parsed.value;
      return undefined;
    },
  },
  latency: {
    kinds: ['http'],
    apply: (d, v) => {
      if (v === '0' || v === 'off') {
        d.latencyMs = undefined;
        return undefined;
      }
      const text = /^\d+$/.test(v) ? `${v}ms` : v;
      const parsed = parseDuration(text, 'latency');
      if (!parsed.ok || parsed.value < LIMITS.latencyMinMs || parsed.value > LIMITS.latencyMaxMs) {
        return `latency must be a threshold in milliseconds between ${LIMITS.latencyMinMs} and ${LIMITS.latencyMaxMs} (like 800 or 2s), or 0 for none, got ${quoteValue(v)}`;
      }
      d.latencyMs = parsed.value;
      return undefined;
    },
  },
  header: {
    kinds: ['http'],
    repeatable: true,
    apply: (d, v) => {
      const parsed = parseHeaderLine(v);
      if (!parsed.ok) return parsed.errors.join('; ');
      const { name, value } = parsed.value;
      const headers = (d.headers ?? []).filter((h) => h.name.toLowerCase() !== name.toLowerCase());
      // `header="X-Name:"` with an empty value removes the header.
      if (value !== '') headers.push({ name, value });
      if (headers.length > LIMITS.headersMax) return `at most ${LIMITS.headersMax} headers are allowed`;
      d.headers = headers;
      return undefined;
    },
  },
  host: {
    kinds: ['tcp'],
    apply: (d, v, ctx) => errorOf(parseHostPort(v, ctx.allowMetadata), (hp) => ((d.host = hp.host), (d.port = hp.port))),
  },
  endpoint: {
    kinds: ['ec2'],
    apply: (d, v, ctx) => errorOf(parseEndpoint(v, ctx.allowMetadata), (u) => (d.endpoint = u.href)),
  },
  region: {
    kinds: ['ec2'],
    apply: (d, v) =>
      REGION_RE.test(v) ? void (d.region = v) : `region must be 1-32 characters of a-z, 0-9 or "-", like us-east-1 or eu-central-1, got ${quoteValue(v)}`,
  },
  // The credential options never echo their value: a key pasted into the wrong option is still a secret.
  key: {
    kinds: ['ec2'],
    apply: (d, v) => {
      if (v !== '' && !ACCESS_KEY_RE.test(v)) return 'key must be an access key id of 4-128 letters and digits, like AKIAIOSFODNN7EXAMPLE';
      d.accessKeyId = v === '' ? undefined : v;
      return undefined;
    },
  },
  secret: {
    kinds: ['ec2'],
    apply: (d, v) => {
      if (v !== '' && (v.length > LIMITS.secretMaxChars || !CREDENTIAL_RE.test(v))) {
        return `secret must be at most ${LIMITS.secretMaxChars} characters without spaces`;
      }
      d.secretAccessKey = v === '' ? undefined : v;
      return undefined;
    },
  },
  token: {
    kinds: ['ec2'],
    apply: (d, v) => {
      if (v !== '' && (v.length > LIMITS.sessionTokenMaxChars || !CREDENTIAL_RE.test(v))) {
        return `token must be a session token of at most ${LIMITS.sessionTokenMaxChars} characters without spaces`;
      }
      d.sessionToken = v === '' ? undefined : v;
      return undefined;
    },
  },
};

/** `escalate=15m`: a duration between 1m and 1d, or 0 (off, never escalate). */
export function parseEscalate(v: string): Parsed<number> {
  if (v === '0' || v === 'off' || v === 'never') return valid(0);
  const parsed = parseDuration(v, 'escalate');
  if (!parsed.ok || parsed.value < LIMITS.escalateMinMs || parsed.value > LIMITS.escalateMaxMs) {
    return invalid(`escalate must be a duration between 1m and 1d, or 0 for never, got ${quoteValue(v)}`);
  }
  return parsed;
}

/** The option that carries each kind's address; `/add` takes it as the positional word after the kind. */
const ADDRESS_OPTION: Record<TargetKind, string> = { http: 'url', tcp: 'host', ec2: 'endpoint' };

/** Options that are spelled differently by habit: `interval=30s` is `every=30s`. */
const ALIASES: Record<string, string> = { interval: 'every' };

/** Option keys a kind accepts, for help texts and error messages. */
export const optionKeys = (kind: TargetKind): string[] =>
  Object.entries(OPTIONS)
    .filter(([key, spec]) => spec.kinds.includes(kind) && !Object.values(ADDRESS_OPTION).includes(key))
    .map(([key]) => key);

function applyOptions(draft: Draft, options: CommandArgs['options'], ctx: TargetContext): string[] {
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const { key: rawKey, value } of options) {
    const key = ALIASES[rawKey] ?? rawKey;
    const spec = OPTIONS[key];
    if (!spec || !spec.kinds.includes(draft.kind)) {
      errors.push(`unknown option ${quoteValue(rawKey)} for a ${draft.kind} target; expected one of ${optionKeys(draft.kind).join(', ')}`);
      continue;
    }
    if (seen.has(key) && !spec.repeatable) {
      errors.push(`option ${quoteValue(rawKey)} is given twice`);
      continue;
    }
    seen.add(key);
    const error = spec.apply(draft, value, ctx);
    if (error) errors.push(error);
  }
  return errors;
}

/** The timeout a target gets when none is given: 10s, or 80% of a shorter interval. */
export const defaultTimeoutMs = (everyMs: number): number => Math.min(LIMITS.timeoutDefaultMs, Math.floor((everyMs * 0.8) / 1_000) * 1_000);

/** Rules between fields, checked after every option is applied. */
function crossCheck(t: Target): string[] {
  const errors: string[] = [];
  if (t.kind === 'http' && t.method === 'HEAD' && t.keyword !== undefined) {
    errors.push('keyword cannot be used with method=HEAD: a HEAD response has no body');
  }
  if (t.kind === 'ec2') {
    if ((t.accessKeyId === undefined) !== (t.secretAccessKey === undefined)) errors.push('key= and secret= go together');
    else if (t.sessionToken !== undefined && t.accessKeyId === undefined) errors.push('token= needs key= and secret= too');
  }
  if (t.timeoutMs >= t.everyMs) {
    errors.push(`timeout must be shorter than the interval (${formatDuration(t.everyMs)}), got "${formatDuration(t.timeoutMs)}"`);
  }
  if (t.retryMs > t.everyMs) {
    errors.push(`retry must not be longer than the interval (${formatDuration(t.everyMs)}), got "${formatDuration(t.retryMs)}"`);
  }
  return errors;
}

function finish(draft: Draft, ctx: TargetContext, created: number): Target {
  const common = {
    id: targetId(ctx.chatId, draft.name as string),
    chatId: ctx.chatId,
    ...(ctx.threadId !== undefined ? { threadId: ctx.threadId } : {}),
    name: draft.name as string,
    everyMs: draft.everyMs ?? LIMITS.everyDefaultMs,
    timeoutMs: draft.timeoutMs ?? defaultTimeoutMs(draft.everyMs ?? LIMITS.everyDefaultMs),
    retryMs: draft.retryMs ?? Math.min(LIMITS.retryDefaultMs, draft.everyMs ?? LIMITS.everyDefaultMs),
    confirm: draft.confirm ?? LIMITS.confirmDefault,
    recover: draft.recover ?? LIMITS.recoverDefault,
    ...(draft.note !== undefined ? { note: draft.note } : {}),
    ...(draft.remindMs !== undefined ? { remindMs: draft.remindMs } : {}),
    ...(draft.errorRatePct !== undefined ? { errorRatePct: draft.errorRatePct } : {}),
    ...(draft.slaPct !== undefined ? { slaPct: draft.slaPct } : {}),
    ...(draft.escalateMs !== undefined ? { escalateMs: draft.escalateMs } : {}),
    ...(draft.notify !== undefined ? { notify: draft.notify } : {}),
    paused: draft.paused ?? false,
    createdAt: created,
    updatedAt: ctx.now,
  };
  if (draft.kind === 'tcp') {
    return { ...common, kind: 'tcp', host: draft.host as string, port: draft.port as number };
  }
  if (draft.kind === 'ec2') {
    return {
      ...common,
      kind: 'ec2',
      endpoint: draft.endpoint as string,
      region: draft.region as string,
      ...(draft.accessKeyId !== undefined ? { accessKeyId: draft.accessKeyId } : {}),
      ...(draft.secretAccessKey !== undefined ? { secretAccessKey: draft.secretAccessKey } : {}),
      ...(draft.sessionToken !== undefined ? { sessionToken: draft.sessionToken } : {}),
    };
  }
  return {
    ...common,
    kind: 'http',
    url: draft.url as string,
    method: draft.method ?? 'GET',
    expect: draft.expect ?? [{ from: 200, to: 299 }],
    ...(draft.keyword !== undefined ? { keyword: draft.keyword } : {}),
    ...(draft.maintenance !== undefined ? { maintenance: draft.maintenance } : {}),
    headers: draft.headers ?? [],
    ...(draft.latencyMs !== undefined ? { latencyMs: draft.latencyMs } : {}),
  };
}

const MISSING_ADDRESS: Record<TargetKind, string> = {
  http: 'a target needs a URL, like /add https://api.example.com/health',
  tcp: 'a tcp target needs host:port, like /add tcp db.internal:5432',
  ec2: 'an ec2 target needs its endpoint URL, like /add ec2 https://ec2.us-east-1.amazonaws.com region=us-east-1',
};

const isKind = (word: string | undefined): boolean => word !== undefined && Object.hasOwn(ADDRESS_OPTION, word.toLowerCase());

/** The host a draft's traffic goes to, for the name derived from it. */
function draftHost(draft: Draft): string {
  if (draft.kind === 'tcp') return draft.host as string;
  return new URL((draft.kind === 'ec2' ? draft.endpoint : draft.url) as string).hostname;
}

/**
 * Builds a new target from `/add` arguments: `URL [options]` for http (the default kind),
 * `tcp HOST:PORT [options]` for tcp, `ec2 ENDPOINT region=R [options]` for ec2.
 * Every problem is reported, not just the first.
 */
export function buildTarget(args: CommandArgs, ctx: TargetContext): Parsed<Target> {
  const words = [...args.positional];
  const kind: TargetKind = isKind(words[0]) ? (words.shift()!.toLowerCase() as TargetKind) : 'http';
  const address = words.shift();
  if (address === undefined) return invalid(MISSING_ADDRESS[kind]);
  const errors: string[] = [];
  if (words.length > 0) {
    errors.push(`unexpected ${quoteValue(words[0]!)}: options are written key=value, like every=30s`);
  }
  const draft: Draft = { kind };
  const addressError = OPTIONS[ADDRESS_OPTION[kind]]!.apply(draft, address, ctx);
  if (addressError) errors.push(addressError);
  errors.push(...applyOptions(draft, args.options, ctx));
  // A region given but refused has its own error already.
  if (kind === 'ec2' && draft.region === undefined && !args.options.some((o) => o.key === 'region')) {
    errors.push('an ec2 target needs region=, like region=us-east-1');
  }
  if (errors.length > 0) return invalid(...errors);
  if (draft.name === undefined) draft.name = nameFromHost(draftHost(draft));
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
  const draft: Draft = structuredClone(target);
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
  // A session token belongs to the key it was issued for: a new key drops a token not given with it.
  if (target.kind === 'ec2' && given.has('key') && !given.has('token') && draft.accessKeyId !== target.accessKeyId) {
    draft.sessionToken = undefined;
  }
  const edited = finish(draft, { chatId: target.chatId, ...(target.threadId !== undefined ? { threadId: target.threadId } : {}), now: ctx.now }, target.createdAt);
  const cross = crossCheck(edited);
  return cross.length > 0 ? invalid(...cross) : valid(edited);
}
