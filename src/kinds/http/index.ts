import { parseDuration } from '../../domain/duration.js';
import { quoteValue } from '../../domain/errors.js';
import { headerNameError, maskHeaderValue, parseHeaderLine } from '../../domain/header.js';
import {
  formatExpect,
  HTTP_METHODS,
  LIMITS,
  parseExpect,
  parseTargetUrl,
  type Header,
  type HttpMethod,
  type StatusRange,
  type TargetCommon,
} from '../../domain/target.js';
import { defineKind, errorOf, type Draft, type OptionSpec } from '../kind.js';
import { formatAssertion, MAX_ASSERTIONS_PER_TARGET, parseAssertion } from './assert.js';
import { createHttpProbe } from './probe.js';

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
  /** JSON assertions on the body, in their canonical text (`$.status == "ok"`); all must hold. */
  asserts?: string[];
}

type HttpDraft = Draft<HttpTarget>;

/** An option holding a phrase of at most 200 characters; empty clears it. */
function phraseOption(set: (d: HttpDraft, value: string | undefined) => void): OptionSpec<HttpDraft> {
  return {
    apply: (d, v, { key }) => {
      if (v.length > LIMITS.keywordMaxChars) return `${key} must be at most ${LIMITS.keywordMaxChars} characters, got ${v.length}`;
      set(d, v === '' ? undefined : v);
      return undefined;
    },
  };
}

/** Drafts whose assertion list this build or edit has started: the first `assert=` of an edit replaces the list. */
const assertsStarted = new WeakSet<object>();

const url: OptionSpec<HttpDraft> = {
  apply: (d, v, ctx) => errorOf(parseTargetUrl(v, ctx.allowMetadata), (u) => (d.url = u.href)),
};

/** The http kind: one request, status (and keyword, latency) verified. The default kind of `/add`. */
export const httpKind = defineKind<HttpTarget>({
  kind: 'http',
  usage: `/add URL [method=GET] [expect=200-299] [keyword=K] [latency=800] [header="Name: value"] [assert='$.status == "ok"']`,
  summary: 'one HTTP(S) request: the status, and a keyword or a latency limit if given',
  dialogue: 'a URL like <code>https://api.example.com/health</code>',
  optionsExample: '<code>name=api every=30s timeout=5s expect=200-299 keyword=OK</code>',
  address: { key: 'url', missing: 'a target needs a URL, like /add https://api.example.com/health', apply: url.apply },
  options: {
    url,
    method: {
      apply: (d, v, { key }) => {
        const upper = v.toUpperCase();
        if (!(HTTP_METHODS as readonly string[]).includes(upper)) return `${key} must be one of ${HTTP_METHODS.join(', ')}, got ${quoteValue(v)}`;
        d.method = upper as HttpMethod;
        return undefined;
      },
    },
    expect: { apply: (d, v) => errorOf(parseExpect(v), (r) => (d.expect = r)) },
    keyword: phraseOption((d, v) => (d.keyword = v)),
    maintenance: phraseOption((d, v) => (d.maintenance = v)),
    latency: {
      apply: (d, v, { key }) => {
        if (v === '0' || v === 'off') {
          d.latencyMs = undefined;
          return undefined;
        }
        const text = /^\d+$/.test(v) ? `${v}ms` : v;
        const parsed = parseDuration(text, key);
        if (!parsed.ok || parsed.value < LIMITS.latencyMinMs || parsed.value > LIMITS.latencyMaxMs) {
          return `${key} must be a threshold in milliseconds between ${LIMITS.latencyMinMs} and ${LIMITS.latencyMaxMs} (like 800 or 2s), or 0 for none, got ${quoteValue(v)}`;
        }
        d.latencyMs = parsed.value;
        return undefined;
      },
    },
    assert: {
      repeatable: true,
      apply: (d, v, { key }) => {
        const list = assertsStarted.has(d) ? [...(d.asserts ?? [])] : [];
        assertsStarted.add(d);
        // `assert=` alone clears the list.
        if (v.trim() === '') {
          d.asserts = undefined;
          return undefined;
        }
        const parsed = parseAssertion(v);
        if (!parsed.ok) return parsed.errors.map((e) => (e.startsWith('assert') ? e.replace(/^assert/, key) : e)).join('; ');
        list.push(formatAssertion(parsed.value));
        if (list.length > MAX_ASSERTIONS_PER_TARGET) return `at most ${MAX_ASSERTIONS_PER_TARGET} ${key}= are allowed`;
        d.asserts = list;
        return undefined;
      },
    },
    header: {
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
  },
  entryKeys: {
    headers: {
      shape: (v) =>
        v !== null && typeof v === 'object' && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string')
          ? undefined
          : 'expected a map of header names to text values',
      options(value, existing, at, errors) {
        const out: Array<{ key: string; value: string }> = [];
        for (const [name, text] of Object.entries(value as Record<string, string>)) {
          // Checked here, before `Name: value` is put together: a name with a colon would split elsewhere.
          const nameError = headerNameError(name);
          if (nameError) {
            errors.push(`${at}.headers: ${nameError}`);
            continue;
          }
          if (text === MASK) {
            const stored = existing?.headers.find((h) => h.name.toLowerCase() === name.toLowerCase())?.value;
            if (stored === undefined) errors.push(`${at}.headers.${name.slice(0, 64)} is masked (${MASK}): write the real value`);
            else out.push({ key: 'header', value: `${name}: ${stored}` });
            continue;
          }
          out.push({ key: 'header', value: `${name}: ${text}` });
        }
        return out;
      },
    },
  },
  finish: (d) => ({
    url: d.url as string,
    method: d.method ?? 'GET',
    expect: d.expect ?? [{ from: 200, to: 299 }],
    ...(d.keyword !== undefined ? { keyword: d.keyword } : {}),
    ...(d.maintenance !== undefined ? { maintenance: d.maintenance } : {}),
    headers: d.headers ?? [],
    ...(d.latencyMs !== undefined ? { latencyMs: d.latencyMs } : {}),
    ...(d.asserts !== undefined && d.asserts.length > 0 ? { asserts: d.asserts } : {}),
  }),
  check(t) {
    const errors: string[] = [];
    if (t.method === 'HEAD' && t.keyword !== undefined) errors.push('keyword cannot be used with method=HEAD: a HEAD response has no body');
    if (t.method === 'HEAD' && t.asserts !== undefined) errors.push('assert cannot be used with method=HEAD: a HEAD response has no body');
    return errors;
  },
  nameHost: (d) => new URL(d.url as string).hostname,
  show: (t) => t.url,
  describe(t) {
    const parts = [`${t.method}, expect ${formatExpect(t.expect)}`];
    if (t.keyword !== undefined) parts.push(`keyword "${t.keyword}"`);
    if (t.latencyMs !== undefined) parts.push(`latency warning over ${t.latencyMs} ms`);
    if (t.asserts !== undefined) parts.push(`${t.asserts.length} JSON assertion${t.asserts.length > 1 ? 's' : ''}`);
    return parts.join(', ');
  },
  statusLines: (t) => [
    ...(t.headers.length > 0 ? [`Headers: ${t.headers.map((h) => `${h.name}: ${maskHeaderValue(h.value)}`).join(', ')}`] : []),
    ...(t.asserts ?? []).map((a) => `Assert: ${a}`),
  ],
  entry(t, secrets) {
    const entry: Record<string, string | number | readonly string[] | Record<string, string>> = { url: t.url };
    if (t.method !== 'GET') entry.method = t.method;
    entry.expect = formatExpect(t.expect);
    if (t.keyword !== undefined) entry.keyword = t.keyword;
    if (t.maintenance !== undefined) entry.maintenance = t.maintenance;
    if (t.latencyMs !== undefined) entry.latency = t.latencyMs;
    if (t.asserts !== undefined) entry.assert = t.asserts;
    if (t.headers.length > 0) entry.headers = Object.fromEntries(t.headers.map((h) => [h.name, secrets ? h.value : MASK]));
    return entry;
  },
  trace(t) {
    const u = new URL(t.url);
    return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port !== '' ? Number(u.port) : u.protocol === 'https:' ? 443 : 80 };
  },
  // Header values are masked wherever they are shown; they are not scrubbed from logs (most are not secret).
  secrets: () => [],
  create: (runtime) => ({ probe: createHttpProbe({ dispatcher: runtime.httpAgent }) }),
});

/** How a secret is written in an export without secrets (the document's MASKED). */
const MASK = '••••';
