import { isIP } from 'node:net';
import { formatDuration, parseDuration } from './duration.js';
import type { CommandArgs } from './options.js';
import { invalid, valid, type Parsed } from './result.js';

/** What a target checks. */
export type TargetKind = 'http' | 'tcp' | 'ec2';

/** An inclusive range of HTTP status codes; a single code has `from === to`. */
export interface StatusRange {
  from: number;
  to: number;
}

/** One request header sent by an http check; its value is secret-ish and shown masked in chat. */
export interface Header {
  name: string;
  value: string;
}

/** Settings shared by every kind of target. */
export interface TargetCommon {
  /** Stable key: `${chatId}/${name}`. */
  id: string;
  chatId: number;
  /** Forum topic the target was added in; alerts go there. */
  threadId?: number;
  name: string;
  everyMs: number;
  timeoutMs: number;
  /** Delay before re-checking after a first failure (or first success while DOWN). */
  retryMs: number;
  confirm: number;
  recover: number;
  note?: string;
  /** Remind of an unacknowledged DOWN this often; 0 = never; absent = the default (1h). */
  remindMs?: number;
  /** Error rate (%) over 15 minutes that makes the target DEGRADED; 0 = off; absent = 10. */
  errorRatePct?: number;
  paused: boolean;
  createdAt: number;
  updatedAt: number;
}

/** An HTTP(S) endpoint checked with one request. */
export interface HttpTarget extends TargetCommon {
  kind: 'http';
  url: string;
  method: HttpMethod;
  expect: StatusRange[];
  keyword?: string;
  headers: Header[];
  latencyMs?: number;
  /** Extra text that marks a maintenance page (besides the usual words). */
  maintenance?: string;
}

/** A TCP port checked by opening a connection. */
export interface TcpTarget extends TargetCommon {
  kind: 'tcp';
  host: string;
  port: number;
}

/**
 * An AWS-compatible EC2 API endpoint checked with DescribeAvailabilityZones. Without `accessKeyId` and
 * `secretAccessKey` the check signs with the SDK's default credential chain (env, profile, instance role).
 * The secret and the token are never shown: display them with {@link maskedCredentials}.
 */
export interface Ec2Target extends TargetCommon {
  kind: 'ec2';
  /** The API's http(s) URL, like `https://ec2.us-east-1.amazonaws.com/`. */
  endpoint: string;
  /** Region the requests are signed for: `us-east-1`, or a private cloud's own name. */
  region: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
}

/** Anything Lookout checks on a schedule. */
export type Target = HttpTarget | TcpTarget | Ec2Target;

/** HTTP methods a check may use. */
export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
/** One of {@link HTTP_METHODS}. */
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Limits and defaults of product.md, in one place so messages and rules cannot drift apart. */
export const LIMITS = {
  everyMinMs: 10_000,
  everyMaxMs: 86_400_000,
  everyDefaultMs: 60_000,
  timeoutMinMs: 1_000,
  timeoutMaxMs: 300_000,
  timeoutDefaultMs: 10_000,
  retryMinMs: 1_000,
  retryDefaultMs: 5_000,
  thresholdMin: 1,
  thresholdMax: 10,
  confirmDefault: 2,
  recoverDefault: 1,
  latencyMinMs: 1,
  latencyMaxMs: 300_000,
  remindMinMs: 60_000,
  remindMaxMs: 7 * 86_400_000,
  remindDefaultMs: 3_600_000,
  keywordMaxChars: 200,
  noteMaxChars: 500,
  headersMax: 20,
  headerValueMaxChars: 4_096,
  urlMaxChars: 2_048,
  secretMaxChars: 256,
  sessionTokenMaxChars: 4_096,
} as const;

/** Where a new or edited target lives and what the deployment allows. */
export interface TargetContext {
  chatId: number;
  threadId?: number;
  now: number;
  /** Cloud metadata addresses are refused unless this is set (`ALLOW_METADATA_TARGETS`). */
  allowMetadata?: boolean;
}

const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
const REGION_RE = /^[a-z0-9-]{1,32}$/;
const ACCESS_KEY_RE = /^[A-Za-z0-9]{4,128}$/;
/** Printable ASCII without spaces: what secret keys and session tokens are made of. */
const CREDENTIAL_RE = /^[\x21-\x7e]+$/;
const HOSTNAME_RE = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;
/** Canonical (WHATWG URL) forms; `::ffff:a9fe:a9fe` is 169.254.169.254 reached over IPv6. */
const METADATA_HOSTS = new Set(['169.254.169.254', 'fd00:ec2::254', '::ffff:a9fe:a9fe']);

/** The id of the target called `name` in chat `chatId`. */
export const targetId = (chatId: number, name: string): string => `${chatId}/${name}`;

/** Why `name` is not a valid target name, or undefined when it is. */
export function nameError(name: string): string | undefined {
  return NAME_RE.test(name)
    ? undefined
    : `name must be 1-32 characters of a-z, 0-9, "_" or "-", starting with a letter or digit, got "${name}"`;
}

/** A target name made from a host: `api.example.com` → `api-example-com`. */
export function nameFromHost(host: string): string {
  const cleaned = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 32)
    .replace(/-+$/, '');
  return cleaned || 'target';
}

/** Parses an expected status set such as `200-299` or `200,204,301-302`. */
export function parseExpect(text: string): Parsed<StatusRange[]> {
  const error = `expect must be status codes or ranges between 100 and 599 like 200-299 or 200,204,301-302, got "${text}"`;
  const ranges: StatusRange[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(\d{3})(?:\s*-\s*(\d{3}))?\s*$/.exec(part);
    if (!m) return invalid(error);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from < 100 || to > 599 || from > to) return invalid(error);
    ranges.push({ from, to });
  }
  return valid(ranges);
}

/** `200-299`, `200,204,301-302`: the inverse of {@link parseExpect}. */
export const formatExpect = (ranges: readonly StatusRange[]): string =>
  ranges.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(',');

/** Whether `status` is in the expected set. */
export const statusExpected = (ranges: readonly StatusRange[], status: number): boolean =>
  ranges.some((r) => status >= r.from && status <= r.to);

/** Parses `host:port` (IPv6 as `[::1]:443`) for a tcp target. */
export function parseHostPort(text: string, allowMetadata = false): Parsed<{ host: string; port: number }> {
  const error = `tcp target must be host:port with a port between 1 and 65535, like db.internal:5432, got "${text}"`;
  const m = /^(?:\[([0-9a-f:.]+)\]|([^:\s[\]]+)):(\d{1,5})$/i.exec(text);
  if (!m) return invalid(error);
  const host = (m[1] ?? m[2] ?? '').toLowerCase();
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return invalid(error);
  if (m[1] !== undefined ? isIP(host) !== 6 : !(isIP(host) === 4 || HOSTNAME_RE.test(host))) return invalid(error);
  const metadata = metadataError(host, allowMetadata);
  if (metadata) return invalid(metadata);
  return valid({ host, port });
}

function metadataError(host: string, allowMetadata: boolean): string | undefined {
  const bare = canonicalHost(host);
  if (allowMetadata || !METADATA_HOSTS.has(bare)) return undefined;
  return `${bare} is a cloud metadata address and is refused (set ALLOW_METADATA_TARGETS=true to allow it)`;
}

// The resolver accepts `2852039166`, `0xa9fea9fe`, `169.254.169.254.` and uncompressed IPv6 too,
// so the address is compared in the form the URL parser gives it, not as typed.
function canonicalHost(host: string): string {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  try {
    return new URL(`http://${isIP(bare) === 6 ? `[${bare}]` : bare}/`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return bare;
  }
}

/** Validates an http(s) URL for a target. */
export function parseTargetUrl(text: string, allowMetadata = false): Parsed<URL> {
  const error = `URL must be an http:// or https:// address like https://api.example.com/health, got "${text}"`;
  if (text.length > LIMITS.urlMaxChars) return invalid(`URL must be at most ${LIMITS.urlMaxChars} characters, got ${text.length}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return invalid(error);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) return invalid(error);
  if (url.username || url.password) {
    return invalid('URL must not contain a user name or password: send credentials with header="Authorization: ..." instead');
  }
  const metadata = metadataError(url.hostname, allowMetadata);
  if (metadata) return invalid(metadata);
  return valid(url);
}

/** Validates the http(s) URL of an ec2 target's API endpoint. */
export function parseEndpoint(text: string, allowMetadata = false): Parsed<URL> {
  const error = `endpoint must be an http:// or https:// address like https://ec2.us-east-1.amazonaws.com, got "${text}"`;
  if (text.length > LIMITS.urlMaxChars) return invalid(`endpoint must be at most ${LIMITS.urlMaxChars} characters, got ${text.length}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return invalid(error);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) return invalid(error);
  if (url.username || url.password) return invalid('endpoint must not contain a user name or password: give key= and secret= instead');
  // The SDK builds its own query string; one in the endpoint would be dropped or mangled.
  if (url.search || url.hash) return invalid(`endpoint must not have a query or a fragment, got "${text}"`);
  const metadata = metadataError(url.hostname, allowMetadata);
  if (metadata) return invalid(metadata);
  return valid(url);
}

function parseWhole(key: string, text: string, min: number, max: number): Parsed<number> {
  const n = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    return invalid(`${key} must be a whole number between ${min} and ${max}, got "${text}"`);
  }
  return valid(n);
}

function parseBoundedDuration(label: string, text: string, minMs: number, maxMs: number): Parsed<number> {
  const parsed = parseDuration(text, label);
  if (!parsed.ok) return parsed;
  if (parsed.value < minMs || parsed.value > maxMs) {
    return invalid(`${label} must be between ${formatDuration(minMs)} and ${formatDuration(maxMs)}, got "${text}"`);
  }
  return parsed;
}

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
        return `remind must be a duration between 1m and 7d, or 0 for never, got "${v}"`;
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
        return `method must be one of ${HTTP_METHODS.join(', ')}, got "${v}"`;
      }
      d.method = upper as HttpMethod;
      return undefined;
    },
  },
  expect: {
    kinds: ['http'],
    apply: (d, v) => errorOf(parseExpect(v), (r) => (d.expect = r)),
  },
  keyword: {
    kinds: ['http'],
    apply: (d, v) => {
      if (v.length > LIMITS.keywordMaxChars) return `keyword must be at most ${LIMITS.keywordMaxChars} characters, got ${v.length}`;
      d.keyword = v === '' ? undefined : v;
      return undefined;
    },
  },
  maintenance: {
    kinds: ['http'],
    apply: (d, v) => {
      if (v.length > LIMITS.keywordMaxChars) return `maintenance must be at most ${LIMITS.keywordMaxChars} characters, got ${v.length}`;
      d.maintenance = v === '' ? undefined : v;
      return undefined;
    },
  },
  errorrate: {
    kinds: ALL,
    apply: (d, v) => {
      const m = /^(\d{1,2}|100)%?$/.exec(v);
      if (!m) return `errorrate must be a percentage between 0 and 100 (0 = off), like 10%, got "${v}"`;
      d.errorRatePct = Number(m[1]);
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
        return `latency must be a threshold in milliseconds between ${LIMITS.latencyMinMs} and ${LIMITS.latencyMaxMs} (like 800 or 2s), or 0 for none, got "${v}"`;
      }
      d.latencyMs = parsed.value;
      return undefined;
    },
  },
  header: {
    kinds: ['http'],
    repeatable: true,
    apply: (d, v) => {
      const colon = v.indexOf(':');
      const name = colon > 0 ? v.slice(0, colon).trim() : '';
      const value = colon > 0 ? v.slice(colon + 1).trim() : '';
      if (!HEADER_NAME_RE.test(name) || /[\r\n\0]/.test(value) || value.length > LIMITS.headerValueMaxChars) {
        // The value is never echoed: it is usually a credential.
        return HEADER_NAME_RE.test(name)
          ? `header "${name}" has a value that is too long or spans lines (at most ${LIMITS.headerValueMaxChars} characters on one line)`
          : 'header must look like "Name: value" (quote it when the value has spaces, like header="Authorization: Bearer …")';
      }
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
      REGION_RE.test(v) ? void (d.region = v) : `region must be 1-32 characters of a-z, 0-9 or "-", like us-east-1 or eu-central-1, got "${v}"`,
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
      errors.push(`unknown option "${rawKey}" for a ${draft.kind} target; expected one of ${optionKeys(draft.kind).join(', ')}`);
      continue;
    }
    if (seen.has(key) && !spec.repeatable) {
      errors.push(`option "${rawKey}" is given twice`);
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
    errors.push(`unexpected "${words[0]}": options are written key=value, like every=30s`);
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

/** The address a target checks, as shown to users: the URL, `host:port` or `ec2 ENDPOINT (REGION)`; never a credential. */
export function targetAddress(t: Target): string {
  if (t.kind === 'http') return t.url;
  if (t.kind === 'ec2') return `ec2 ${t.endpoint} (${t.region})`;
  return `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

/** The URL an http or ec2 target sends its requests to. */
const requestUrl = (t: HttpTarget | Ec2Target): URL => new URL(t.kind === 'http' ? t.url : t.endpoint);

/** The host a target's traffic goes to (for traces and source addresses). */
export const targetHost = (t: Target): string => (t.kind === 'tcp' ? t.host : requestUrl(t).hostname.replace(/^\[|\]$/g, ''));

/** The port a target's service listens on (for TCP traces). */
export function servicePort(t: Target): number {
  if (t.kind === 'tcp') return t.port;
  const url = requestUrl(t);
  return url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

/** An access key id shown by its ends only (`AKIA••••MPLE`): enough to tell keys apart, not to use one. */
export const maskAccessKeyId = (id: string): string => (id.length >= 16 ? `${id.slice(0, 4)}••••${id.slice(-4)}` : '••••');

/**
 * How an ec2 target signs its requests, safe to show in chat and logs: `key AKIA••••MPLE, secret ••••`
 * (and `, session token ••••`), or `default AWS credential chain`. The secret and token never appear.
 */
export function maskedCredentials(t: Ec2Target): string {
  if (t.accessKeyId === undefined) return 'default AWS credential chain';
  return `key ${maskAccessKeyId(t.accessKeyId)}, secret ••••${t.sessionToken !== undefined ? ', session token ••••' : ''}`;
}
