import { Agent, request } from 'undici';
import { metadataError } from '../../domain/metadata-address.js';
import { findRefusal, guardedLookup } from '../../probes/address-guard.js';
import type { DeliveryVerdict } from '../channel.js';

/** An HTTP answer a channel could not take as success. */
export class HttpDeliveryError extends Error {
  override readonly name = 'HttpDeliveryError';
  constructor(
    readonly status: number,
    /** The first bytes of the answer's body (for the verdict's words; never the request). */
    readonly body: string,
    /** `Retry-After` in ms, when the answer had one. */
    readonly retryAfterMs?: number,
  ) {
    super(`HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`);
  }
}

/** The shared HTTP client of the channels: connects to no cloud metadata address unless allowed; no redirects. */
export function createChannelAgent(allowMetadata: boolean): Agent {
  return new Agent({
    connections: 16,
    keepAliveTimeout: 10_000,
    connect: { timeout: 10_000, ...(allowMetadata ? {} : { lookup: guardedLookup({}) }) },
  });
}

/** `Retry-After` as milliseconds: seconds, or an HTTP date. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (text === undefined || text.trim() === '') return undefined;
  if (/^\d+$/.test(text.trim())) return Number(text.trim()) * 1_000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Posts a body and returns the answer's status and text; throws {@link HttpDeliveryError} for anything but 2xx. */
export async function post(
  agent: Agent,
  url: string,
  body: string,
  headers: Record<string, string>,
  options: { timeoutMs?: number; method?: 'POST' | 'PUT' } = {},
): Promise<{ status: number; text: string }> {
  const timeout = options.timeoutMs ?? 10_000;
  const res = await request(url, {
    method: options.method ?? 'POST',
    body,
    headers,
    dispatcher: agent,
    headersTimeout: timeout,
    bodyTimeout: timeout,
    signal: AbortSignal.timeout(timeout),
  });
  const text = (await res.body.text()).slice(0, 2_000);
  if (res.statusCode >= 200 && res.statusCode < 300) return { status: res.statusCode, text };
  throw new HttpDeliveryError(res.statusCode, text, retryAfterMs(res.headers['retry-after']));
}

/**
 * The usual verdict for an HTTP destination: 429 and 5xx retry (`Retry-After` honoured), 401/403/404/410
 * mean the destination is gone (it is paused and the chat told), any other 4xx is a payload it will
 * never take (dropped and logged), network errors and timeouts retry.
 */
export function classifyHttp(err: unknown): DeliveryVerdict {
  if (err instanceof HttpDeliveryError) {
    const after = err.retryAfterMs !== undefined ? { afterMs: err.retryAfterMs } : {};
    if (err.status === 429 || err.status >= 500) return { action: 'retry', ...after };
    if ([401, 403, 404, 410].includes(err.status)) return { action: 'drop', gone: true, why: `HTTP ${err.status}${err.body ? ` (${err.body.slice(0, 120)})` : ''}` };
    return { action: 'drop', why: `HTTP ${err.status}${err.body ? ` (${err.body.slice(0, 120)})` : ''}` };
  }
  // Its name resolves to a cloud metadata address: nothing is sent there, and the destination waits to be fixed.
  const refused = findRefusal(err);
  if (refused) return { action: 'drop', gone: true, why: refused.message };
  return { action: 'retry' };
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|localhost|\[::1\])$/i;

/**
 * A destination's URL as `/notify add` takes it: https (http only to a loopback address: a local relay,
 * or the tests), no user name or password in it, no cloud metadata host, at most 2048 characters.
 * Errors say what is wrong without repeating the URL (it may carry a token).
 */
export function parseHookUrl(text: string, what: string): { ok: true; value: URL } | { ok: false; error: string } {
  if (text.length > 2_048) return { ok: false, error: `the ${what} URL is longer than 2048 characters` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, error: `give the ${what} as an https:// URL` };
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK.test(url.hostname))) {
    return { ok: false, error: `the ${what} URL must be https:// (http:// only to a loopback address)` };
  }
  if (url.username || url.password) return { ok: false, error: `the ${what} URL must not carry a user name or password` };
  const refused = metadataError(url.hostname, false);
  if (refused) return { ok: false, error: `the ${what} URL: ${refused}` };
  return { ok: true, value: url };
}

/** A URL as lists show it: its host and the start of its path, the rest (tokens) masked. */
export function maskUrl(url: URL): string {
  const path = url.pathname.length > 12 ? `${url.pathname.slice(0, 12)}••••` : url.pathname;
  return `${url.host}${path}${url.search ? '?••••' : ''}`;
}
