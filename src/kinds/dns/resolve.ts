import { isIP } from 'node:net';
// The dns check: one query to a DNS server (the system's, or the target's own) and a look at the answer.
import { Resolver } from 'node:dns/promises';
import { performance } from 'node:perf_hooks';
import type { CheckResult, FailureKind } from '../../domain/check.js';
import { formatDuration } from '../../domain/duration.js';
import { clipText, quoteValue } from '../../domain/errors.js';
import { formatDnsServer, normalizeIpv6, type DnsServer, type DnsType } from './values.js';

/** What a dns check asks: `name`'s records of `type`, from `server` (the system's when absent). */
export interface DnsQuery {
  name: string;
  type: DnsType;
  server?: DnsServer;
  /** Values the answer must contain, normalised by `parseDnsExpect`; none = any answer is UP. */
  expect: readonly string[];
  timeoutMs: number;
  /** `SOURCE_ADDRESS`: the queries leave from this local address. */
  sourceAddress?: string;
}

/** The signal that ends the check (its timeout, or shutdown) and the wall clock for `CheckResult.at`. */
export interface DnsContext {
  signal: AbortSignal;
  now: () => number;
}

/** One MX record. */
export interface MxRecord {
  priority: number;
  exchange: string;
}

/** The records of an answer, by type; a TXT record is its character-strings, as they came. */
export type DnsAnswer =
  | { type: 'A' | 'AAAA' | 'CNAME' | 'NS'; records: string[] }
  | { type: 'MX'; records: MxRecord[] }
  | { type: 'TXT'; records: string[][] };

/** How many records an answer shows before `and N more`. */
const SHOWN_RECORDS = 5;
/** How many characters of one name or text an answer shows. */
const SHOWN_CHARS = 64;

const bareName = (name: string): string => (name.endsWith('.') ? name.slice(0, -1) : name).toLowerCase();

/** 10.0.0.2 before 10.0.0.10: IPv4 addresses compared as numbers, everything else as text. */
function compareValues(a: string, b: string): number {
  const na = /^\d+\.\d+\.\d+\.\d+$/.test(a) ? a.split('.').reduce((sum, part) => sum * 256 + Number(part), 0) : undefined;
  const nb = /^\d+\.\d+\.\d+\.\d+$/.test(b) ? b.split('.').reduce((sum, part) => sum * 256 + Number(part), 0) : undefined;
  if (na !== undefined && nb !== undefined) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The records in words, as alerts show them, in a stable order: `10.0.0.1, 10.0.0.3`, `10 mail.example.com`, `"v=spf1 -all"`. */
export function describeAnswer(answer: DnsAnswer): string {
  let shown: string[];
  switch (answer.type) {
    case 'MX':
      shown = [...answer.records]
        .sort((a, b) => a.priority - b.priority || compareValues(bareName(a.exchange), bareName(b.exchange)))
        .map((r) => `${r.priority} ${clipText(bareName(r.exchange), SHOWN_CHARS)}`);
      break;
    case 'TXT':
      shown = answer.records.map((chunks) => chunks.join('')).sort(compareValues).map((text) => quoteValue(text, SHOWN_CHARS));
      break;
    case 'CNAME':
    case 'NS':
      shown = answer.records.map(bareName).sort(compareValues).map((name) => clipText(name, SHOWN_CHARS));
      break;
    default:
      shown = [...answer.records].sort(compareValues);
  }
  if (shown.length === 0) return 'no records';
  const rest = shown.length - SHOWN_RECORDS;
  return rest > 0 ? `${shown.slice(0, SHOWN_RECORDS).join(', ')} and ${rest} more` : shown.join(', ');
}

/**
 * Whether the answer holds the expected value. Both sides are normalised here too (names in lower case
 * without the trailing dot, IPv6 in its canonical form), so a value not made by `parseDnsExpect` still compares.
 */
function answerHas(answer: DnsAnswer, expected: string): boolean {
  switch (answer.type) {
    case 'A':
      return answer.records.includes(expected.trim());
    case 'AAAA': {
      const wanted = normalizeIpv6(expected.trim().replace(/^\[(.*)\]$/, '$1'));
      return wanted !== undefined && answer.records.some((r) => normalizeIpv6(r) === wanted);
    }
    case 'CNAME':
    case 'NS':
      return answer.records.some((r) => bareName(r) === bareName(expected.trim()));
    case 'MX': {
      const m = /^(?:(\d+)\s+)?(\S+)$/.exec(expected.trim());
      if (!m) return false;
      const priority = m[1] === undefined ? undefined : Number(m[1]);
      const exchange = bareName(m[2] ?? '');
      return answer.records.some((r) => bareName(r.exchange) === exchange && (priority === undefined || r.priority === priority));
    }
    case 'TXT':
      return answer.records.some((chunks) => chunks.join('') === expected);
  }
}

/** The expected values as a reason shows them. */
function describeExpected(type: DnsType, values: readonly string[]): string {
  const shown = values.slice(0, SHOWN_RECORDS).map((v) => (type === 'TXT' ? quoteValue(v, SHOWN_CHARS) : clipText(v, SHOWN_CHARS)));
  const rest = values.length - SHOWN_RECORDS;
  return rest > 0 ? `${shown.join(', ')} and ${rest} more` : shown.join(', ');
}

async function ask(resolver: Resolver, name: string, type: DnsType): Promise<DnsAnswer> {
  switch (type) {
    case 'A':
      return { type, records: await resolver.resolve4(name) };
    case 'AAAA':
      return { type, records: await resolver.resolve6(name) };
    case 'CNAME':
      return { type, records: await resolver.resolveCname(name) };
    case 'NS':
      return { type, records: await resolver.resolveNs(name) };
    case 'MX':
      return { type, records: await resolver.resolveMx(name) };
    case 'TXT':
      return { type, records: await resolver.resolveTxt(name) };
  }
}

const codeOf = (err: unknown): string | undefined =>
  err !== null && typeof err === 'object' && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : undefined;

/** A failed query in words: the category and the reason alerts show. */
function describeDnsError(err: unknown, query: DnsQuery): { failure: FailureKind; reason: string } {
  const name = clipText(query.name, SHOWN_CHARS);
  const server = query.server ? formatDnsServer(query.server) : 'the system DNS server';
  switch (codeOf(err)) {
    case 'ENOTFOUND':
      return { failure: 'protocol', reason: `${name}: NXDOMAIN (no such name)` };
    case 'ENODATA':
      return { failure: 'protocol', reason: `${name}: no ${query.type} records` };
    case 'ESERVFAIL':
      return { failure: 'protocol', reason: `${name}: SERVFAIL (the server could not answer)` };
    case 'EREFUSED':
      return { failure: 'protocol', reason: `${name}: REFUSED (the server will not answer this query)` };
    case 'ENOTIMP':
      return { failure: 'protocol', reason: `${name}: NOTIMP (the server does not do this query)` };
    case 'EFORMERR':
      return { failure: 'protocol', reason: `${name}: FORMERR (the server found the query malformed)` };
    case 'EBADRESP':
      return { failure: 'protocol', reason: `${name}: malformed answer from ${server}` };
    case 'ETIMEOUT':
    case 'ECANCELLED':
      return { failure: 'timeout', reason: `timeout after ${formatDuration(query.timeoutMs)}` };
    case 'ECONNREFUSED':
      return { failure: 'refused', reason: `no DNS server answers at ${server} (connection refused)` };
    case 'EBADNAME':
      return { failure: 'error', reason: `${name}: not a name that can be asked for` };
    default: {
      const code = codeOf(err);
      return { failure: 'error', reason: code !== undefined && /^E[A-Z0-9]+$/.test(code) ? `DNS query failed (${code})` : 'DNS query failed' };
    }
  }
}

/** The answer's verdict against `expect`: undefined when it holds every expected value. */
function expectFailure(answer: DnsAnswer, expect: readonly string[]): string | undefined {
  const missing = expect.filter((value) => !answerHas(answer, value));
  if (missing.length === 0) return undefined;
  const got = describeAnswer(answer);
  const wanted = describeExpected(answer.type, missing);
  return answer.records.length === 1 && expect.length === 1 ? `answer ${got} is not the expected ${wanted}` : `answer ${got} lacks the expected ${wanted}`;
}

/**
 * The dns check: asks `query.server` (or the system's servers) for `query.name`'s records of `query.type`,
 * one UDP query at a time (the resolver's own retries are off). UP when an answer arrives and, with
 * `expect`, holds every expected value. Never throws for an expected failure:
 * - NXDOMAIN, SERVFAIL, REFUSED, NOTIMP and an empty answer (`no A records`) are `dns`;
 * - no answer within `timeoutMs`, or `ctx.signal` firing, is `timeout` (`timeout after 5s`);
 * - an answer without an expected value is `keyword`, like an HTTP body without its keyword
 *   (`answer 10.0.0.1 is not the expected 10.0.0.2`).
 * The resolver gives up on a single try after about 5 s whatever its timeout, so while time is left the
 * query is sent again.
 */
export async function checkDns(query: DnsQuery, ctx: DnsContext): Promise<CheckResult> {
  const at = ctx.now();
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  const timeout = { failure: 'timeout' as const, reason: `timeout after ${formatDuration(query.timeoutMs)}` };
  if (ctx.signal.aborted) return { ok: false, at, latencyMs: 0, ...timeout };

  const resolver = new Resolver({ timeout: Math.max(1, Math.round(query.timeoutMs)), tries: 1 });
  if (query.sourceAddress !== undefined) {
    if (isIP(query.sourceAddress) === 6) resolver.setLocalAddress(undefined, query.sourceAddress);
    else resolver.setLocalAddress(query.sourceAddress);
  }
  if (query.server) {
    try {
      resolver.setServers([formatDnsServer(query.server)]);
    } catch {
      return { ok: false, at, latencyMs: elapsed(), failure: 'error', reason: `${quoteValue(formatDnsServer(query.server))} is not a DNS server address` };
    }
  }

  let stopped = false;
  const stop = (): void => {
    stopped = true;
    resolver.cancel();
  };
  const timer = setTimeout(stop, query.timeoutMs);
  ctx.signal.addEventListener('abort', stop, { once: true });
  try {
    for (;;) {
      let answer: DnsAnswer;
      try {
        answer = await ask(resolver, query.name, query.type);
      } catch (err) {
        if (stopped) return { ok: false, at, latencyMs: elapsed(), ...timeout };
        // The resolver's own timeout came first (it has a ceiling of its own): ask again while time is left.
        if (codeOf(err) === 'ETIMEOUT' && elapsed() < query.timeoutMs) continue;
        return { ok: false, at, latencyMs: elapsed(), ...describeDnsError(err, query) };
      }
      const latencyMs = elapsed();
      if (stopped) return { ok: false, at, latencyMs, ...timeout };
      const mismatch = expectFailure(answer, query.expect);
      return mismatch === undefined
        ? { ok: true, at, latencyMs, reason: `answer ${describeAnswer(answer)}` }
        : { ok: false, at, latencyMs, failure: 'keyword', reason: mismatch };
    }
  } finally {
    clearTimeout(timer);
    ctx.signal.removeEventListener('abort', stop);
  }
}
