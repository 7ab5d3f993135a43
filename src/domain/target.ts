import { isIP } from 'node:net';
import { formatDuration, parseDuration } from './duration.js';
import { quoteValue } from './errors.js';
import { metadataError } from './metadata-address.js';
import { invalid, valid, type Parsed } from './result.js';
import type { LocationChoice, Quorum } from './locations.js';

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
  /** Promised uptime (%), like 99.9: /report flags the target when it falls below. */
  slaPct?: number;
  /** Mention the chat's on-call people when its alert is not acknowledged this long; 0 = never; absent = the chat's default. */
  escalateMs?: number;
  /** Only these destinations of the chat (`/notify` names) hear of this target; all of them when absent. The chat always does. */
  notify?: string[];
  /** Where it is checked from when instances run in several locations (`locations=`); every live location when absent. */
  locations?: LocationChoice;
  /** How many of its live locations must see it DOWN (`quorum=`); a majority when absent. */
  quorum?: Quorum;
  paused: boolean;
  /** Declared in TARGETS_FILE: chat commands may not change it (the file is the source of truth). */
  managed?: 'file';
  createdAt: number;
  updatedAt: number;
}

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
  escalateMinMs: 60_000,
  escalateMaxMs: 86_400_000,
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
  /** Makes a new secret (a heartbeat's token); random when absent. */
  secret?: () => string;
  /** Read from TARGETS_FILE: nobody sees a reply, so a secret Lookout would make up must be given instead. */
  declared?: boolean;
}

/** Used by the option grammars (targets/options.ts, the kinds). */
export const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** Used by the option grammars (targets/options.ts, the kinds). */
export const HEADER_NAME_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
/** Used by the option grammars (targets/options.ts, the kinds). */
export const REGION_RE = /^[a-z0-9-]{1,32}$/;
/** Used by the option grammars (targets/options.ts, the kinds). */
export const ACCESS_KEY_RE = /^[A-Za-z0-9]{4,128}$/;
/** Printable ASCII without spaces: what secret keys and session tokens are made of. */
export const CREDENTIAL_RE = /^[\x21-\x7e]+$/;
/** A DNS host name (labels of letters, digits and hyphens). */
export const HOSTNAME_RE = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** The id of the target called `name` in chat `chatId`. */
export const targetId = (chatId: number, name: string): string => `${chatId}/${name}`;

/** Why `name` is not a valid target name, or undefined when it is. */
export function nameError(name: string): string | undefined {
  return NAME_RE.test(name)
    ? undefined
    : `name must be 1-32 characters of a-z, 0-9, "_" or "-", starting with a letter or digit, got ${quoteValue(name)}`;
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
  const error = `expect must be status codes or ranges between 100 and 599 like 200-299 or 200,204,301-302, got ${quoteValue(text)}`;
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
  const error = `tcp target must be host:port with a port between 1 and 65535, like db.internal:5432, got ${quoteValue(text, 80)}`;
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

/** What an http(s) address is called in errors, an example of it, and where credentials go instead. */
interface AddressWording {
  label: string;
  example: string;
  credentials: string;
  /** Refuse a query string and fragment (the AWS SDK builds its own). */
  bare?: boolean;
}

function parseHttpAddress(text: string, allowMetadata: boolean, w: AddressWording): Parsed<URL> {
  const error = `${w.label} must be an http:// or https:// address like ${w.example}, got ${quoteValue(text, 80)}`;
  if (text.length > LIMITS.urlMaxChars) return invalid(`${w.label} must be at most ${LIMITS.urlMaxChars} characters, got ${text.length}`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return invalid(error);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !url.hostname) return invalid(error);
  if (url.username || url.password) return invalid(`${w.label} must not contain a user name or password: ${w.credentials}`);
  if (w.bare && (url.search || url.hash)) return invalid(`${w.label} must not have a query or a fragment, got ${quoteValue(text, 80)}`);
  const metadata = metadataError(url.hostname, allowMetadata);
  if (metadata) return invalid(metadata);
  return valid(url);
}

/** Validates an http(s) URL for a target. */
export const parseTargetUrl = (text: string, allowMetadata = false): Parsed<URL> =>
  parseHttpAddress(text, allowMetadata, {
    label: 'URL',
    example: 'https://api.example.com/health',
    credentials: 'send credentials with header="Authorization: ..." instead',
  });

/** Validates the http(s) URL of an ec2 target's API endpoint (no query: the SDK builds its own). */
export const parseEndpoint = (text: string, allowMetadata = false): Parsed<URL> =>
  parseHttpAddress(text, allowMetadata, {
    label: 'endpoint',
    example: 'https://ec2.us-east-1.amazonaws.com',
    credentials: 'give key= and secret= instead',
    bare: true,
  });

/** A whole number option in [min, max], or the error saying so. */
export function parseWhole(key: string, text: string, min: number, max: number): Parsed<number> {
  const n = /^\d{1,9}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    return invalid(`${key} must be a whole number between ${min} and ${max}, got ${quoteValue(text)}`);
  }
  return valid(n);
}

/** A duration option in [min, max], or the error saying so. */
export function parseBoundedDuration(label: string, text: string, minMs: number, maxMs: number): Parsed<number> {
  const parsed = parseDuration(text, label);
  if (!parsed.ok) return parsed;
  if (parsed.value < minMs || parsed.value > maxMs) {
    return invalid(`${label} must be between ${formatDuration(minMs)} and ${formatDuration(maxMs)}, got ${quoteValue(text)}`);
  }
  return parsed;
}

/** An access key id shown by its ends only (`AKIA••••MPLE`): enough to tell keys apart, not to use one. */
export const maskAccessKeyId = (id: string): string => (id.length >= 16 ? `${id.slice(0, 4)}••••${id.slice(-4)}` : '••••');
