import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent, request, type Dispatcher } from 'undici';
import type { CheckResult } from '../domain/check.js';
import { formatExpect, statusExpected, type HttpTarget } from '../domain/target.js';
import { describeNetworkError } from './network-error.js';
import type { Probe, ProbeContext } from './probe.js';

/** How the http probe talks to the network. */
export interface HttpProbeOptions {
  /** Shared by all http checks; one is made when absent. */
  dispatcher?: Dispatcher;
  /** Keep connections open between checks (off: each check measures a fresh connection). */
  keepAlive?: boolean;
  /** At most this much of a body is read when looking for a keyword. */
  maxBodyBytes?: number;
  userAgent?: string;
  /** Name resolution (node's dns.lookup by default); tests pass one that never leaves the machine. */
  lookup?: LookupFunction;
}

/** The one undici Agent all http checks share. */
export function createHttpAgent(lookup?: LookupFunction): Agent {
  return new Agent({ connections: null, keepAliveTimeout: 4_000, connect: { timeout: 300_000, ...(lookup ? { lookup } : {}) } });
}

async function readText(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    chunks.push(buf);
    size += buf.length;
    if (size >= maxBytes) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8');
}

/** The http check: one request with the target's method and headers, status and keyword verified. */
export function createHttpProbe(options: HttpProbeOptions = {}): Probe<HttpTarget> {
  const dispatcher = options.dispatcher ?? createHttpAgent(options.lookup);
  const reset = !options.keepAlive;
  const maxBodyBytes = options.maxBodyBytes ?? 1_048_576;
  const userAgent = options.userAgent ?? 'Lookout/0.1 (+uptime check)';
  return {
    kind: 'http',
    async run(target: HttpTarget, ctx: ProbeContext): Promise<CheckResult> {
      const at = ctx.now();
      const started = performance.now();
      const headers: Record<string, string> = { 'user-agent': userAgent };
      for (const h of target.headers) headers[h.name.toLowerCase()] = h.value;
      try {
        const res = await request(target.url, {
          dispatcher,
          method: target.method,
          headers,
          signal: ctx.signal,
          reset,
        });
        let body = '';
        // dump() gets the signal: without it an abort that cuts a slow body short resolves, and the check would pass.
        if (target.keyword !== undefined && target.method !== 'HEAD') body = await readText(res.body, maxBodyBytes);
        else await res.body.dump({ signal: ctx.signal, limit: 128 * 1024 });
        const latencyMs = performance.now() - started;
        const status = res.statusCode;
        if (!statusExpected(target.expect, status)) {
          return { ok: false, at, latencyMs, status, failure: 'status', reason: `HTTP ${status}, expected ${formatExpect(target.expect)}` };
        }
        if (target.keyword !== undefined && !body.includes(target.keyword)) {
          return { ok: false, at, latencyMs, status, failure: 'keyword', reason: `keyword "${target.keyword}" not found in the response` };
        }
        return { ok: true, at, latencyMs, status };
      } catch (err) {
        const latencyMs = performance.now() - started;
        return { ok: false, at, latencyMs, ...describeNetworkError(err, target.timeoutMs, ctx.signal.aborted) };
      }
    },
  };
}
