import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TLSSocket } from 'node:tls';
import { buildConnector, errors, request, type Dispatcher } from 'undici';
import type { CheckResult, Observations } from '../../domain/check.js';
import { formatExpect, statusExpected } from '../../domain/target.js';
import { OriginPools } from './origin-pools.js';
import { evaluate, MAX_ASSERT_BODY_BYTES, parseAssertion, type Assertion } from './assert.js';
import type { HttpTarget } from './index.js';
import { guardedLookup, literalRefusal } from '../../probes/address-guard.js';
import { detectMaintenance } from '../../probes/maintenance.js';
import { describeNetworkError } from '../../probes/network-error.js';
import { parseJwtExpiry, parseRateLimit, type ResponseHeaders } from '../../probes/observations.js';
import type { Probe, ProbeContext } from '../../probes/probe.js';

/** How the http probe talks to the network. */
export interface HttpProbeOptions {
  /** Shared by all http checks; one is made when absent. Only an agent from `createHttpAgent` reports certificate expiry. */
  dispatcher?: Dispatcher;
  /** Keep connections open between checks (off: each check measures a fresh connection). */
  keepAlive?: boolean;
  /** At most this much of a body is read when looking for a keyword. */
  maxBodyBytes?: number;
  userAgent?: string;
  /** Name resolution (node's dns.lookup by default); tests pass one that never leaves the machine. */
  lookup?: LookupFunction;
  /** `ALLOW_METADATA_TARGETS`, for the agent made when `dispatcher` is absent (a given one has its own). */
  allowMetadata?: boolean;
}

/** TLS settings of the http agent; tests trust their own CA with `ca`. */
export interface HttpTlsOptions {
  /** PEM certificates trusted instead of the default root CAs. */
  ca?: string;
}

/** Settings of the agent made by `createHttpAgent`. */
export interface HttpAgentOptions extends HttpTlsOptions {
  /** `ALLOW_METADATA_TARGETS`: connect to cloud metadata and link-local addresses too. */
  allowMetadata?: boolean;
  /** `SOURCE_ADDRESS`: connections leave from this local address. */
  sourceAddress?: string;
}

/** At most this many https origins keep a remembered certificate expiry; the oldest is forgotten first. */
const CERT_EXPIRY_ORIGINS_MAX = 10_000;

/**
 * The latest peer certificate expiry (epoch ms) per https origin, for each agent made by `createHttpAgent`.
 *
 * Why per origin and not per socket: `request()` never shows the socket it used, so the probe cannot look a
 * socket up. Each check sends one request with `reset: true`, so the connection it used was opened for it and
 * its expiry was stored before the request went out; reading right after the response is that value. Two
 * checks of one origin at the same moment can only swap values of certificates served for the same origin,
 * which for an expiry warning is the same fact. With keep-alive the value stays that of the open connection.
 */
const certExpiriesByAgent = new WeakMap<Dispatcher, Map<string, number>>();

/** The `valid_to` of the peer certificate of a verified TLS socket (epoch ms), when it can be read. */
function peerCertificateExpiry(socket: TLSSocket): number | undefined {
  // The X509Certificate object parses fields only when asked, unlike getPeerCertificate()'s full object.
  const validTo = socket.getPeerX509Certificate()?.validTo;
  const at = validTo === undefined ? Number.NaN : Date.parse(validTo);
  return Number.isNaN(at) ? undefined : at;
}

/** Remembers `at` as the latest expiry of `origin`, forgetting the oldest origin when the map is full. */
function rememberCertExpiry(expiries: Map<string, number>, origin: string, at: number): void {
  // Re-inserting moves the origin to the end, so the first key is the one not seen for longest.
  expiries.delete(origin);
  if (expiries.size >= CERT_EXPIRY_ORIGINS_MAX) {
    const oldest = expiries.keys().next();
    if (!oldest.done) expiries.delete(oldest.value);
  }
  expiries.set(origin, at);
}

/**
 * undici's default connector, plus: after a verified TLS handshake, the peer certificate's expiry is stored
 * under the origin. It wraps the connection undici opens anyway, so no extra connection is made, and a failed
 * handshake (an expired certificate too) reaches undici unchanged.
 */
function certExpiryRecordingConnector(options: buildConnector.BuildOptions, expiries: Map<string, number>): buildConnector.connector {
  const connect = buildConnector(options);
  return (target, callback) => {
    // Plain http passes straight through: no closure, no lookup.
    if (target.protocol !== 'https:') {
      connect(target, callback);
      return;
    }
    // undici passes the URL's host (with a non-default port); protocol + host is the origin the probe reads.
    const origin = `https://${target.host ?? target.hostname}`;
    connect(target, (...args) => {
      const [err, socket] = args;
      if (err === null) {
        const at = peerCertificateExpiry(socket as TLSSocket);
        if (at !== undefined) rememberCertExpiry(expiries, origin, at);
      }
      callback(...args);
    });
  };
}

/** The one error our sockets are closed with after an answer that asked for a fresh connection (see quietResetConnector). */
const RESET = new errors.InformationalError('reset');
void RESET.stack;

/**
 * undici closes a connection it was told not to reuse (`reset: true`, each check's fresh connection) with
 * `socket.destroy(new InformationalError('reset'))`, and Node's stream destroy reads that error's stack, which
 * formats it: about 5 % of a successful check's CPU for an error nobody sees (the answer is complete; undici
 * ignores errors with the code `UND_ERR_INFO`). Our sockets get that informational close with one error made
 * here once; every other error reaches the socket unchanged.
 */
function quietResetConnector(connect: buildConnector.connector): buildConnector.connector {
  return (target, callback) => {
    connect(target, (...args) => {
      const [err, socket] = args;
      if (err === null) {
        const destroy = socket.destroy;
        socket.destroy = function (this: typeof socket, error?: Error) {
          return destroy.call(this, (error as { code?: unknown } | undefined)?.code === 'UND_ERR_INFO' ? RESET : error);
        };
      }
      callback(...args);
    });
  };
}

/**
 * A connector that refuses cloud metadata and link-local IP literals before anything is opened (a socket
 * does not ask the lookup about a literal); names are judged by the guarded lookup the connect options carry.
 */
function literalGuardingConnector(connect: buildConnector.connector, allowMetadata: boolean): buildConnector.connector {
  if (allowMetadata) return connect;
  return (target, callback) => {
    const refused = literalRefusal(target.hostname, {});
    if (refused) callback(refused, null);
    else connect(target, callback);
  };
}

/**
 * The one dispatcher all http checks share: a pool per origin kept between checks (`OriginPools`). It records
 * each https peer's certificate expiry, and it connects to no cloud metadata or link-local address (literal or
 * resolved) unless `allowMetadata` is set; redirects are never followed, so an answer cannot send a check there either.
 */
export function createHttpAgent(lookup?: LookupFunction, options: HttpAgentOptions = {}): OriginPools {
  const expiries = new Map<string, number>();
  const allowMetadata = options.allowMetadata === true;
  const guarded = allowMetadata ? lookup : guardedLookup({ ...(lookup ? { lookup } : {}) });
  const connectOptions: buildConnector.BuildOptions = {
    timeout: 300_000,
    ...(guarded ? { lookup: guarded } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
  };
  const connect = literalGuardingConnector(quietResetConnector(certExpiryRecordingConnector(connectOptions, expiries)), allowMetadata);
  // undici hands its clients' `localAddress` to the connector (not the connect options).
  const agent = new OriginPools({ pool: { connections: null, keepAliveTimeout: 4_000, connect, ...(options.sourceAddress !== undefined ? { localAddress: options.sourceAddress } : {}) } });
  certExpiriesByAgent.set(agent, expiries);
  return agent;
}

/** The facts of one answered check; undefined when there are none (the common case allocates nothing). */
function observe(tokenExpiresAt: number | undefined, certExpiresAt: number | undefined, headers: ResponseHeaders): Observations | undefined {
  const rateLimit = parseRateLimit(headers);
  if (tokenExpiresAt === undefined && certExpiresAt === undefined && rateLimit === undefined) return undefined;
  const observations: Observations = {};
  if (certExpiresAt !== undefined) observations.certExpiresAt = certExpiresAt;
  if (tokenExpiresAt !== undefined) observations.tokenExpiresAt = tokenExpiresAt;
  if (rateLimit !== undefined) observations.rateLimit = rateLimit;
  return observations;
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

/** Parsed assertions by their text: a target's list is parsed once, not at every check. */
const parsedAssertions = new Map<string, Assertion>();

/** The assertions of a target's texts (each was validated when the target was saved). */
function assertionsOf(texts: readonly string[]): Assertion[] {
  return texts.flatMap((text) => {
    let a = parsedAssertions.get(text);
    if (a === undefined) {
      const parsed = parseAssertion(text);
      if (!parsed.ok) return [];
      a = parsed.value;
      if (parsedAssertions.size >= 10_000) parsedAssertions.clear();
      parsedAssertions.set(text, a);
    }
    return [a];
  });
}

/** How much of a failed answer is read to look for a maintenance page. */
const MAINTENANCE_BODY_BYTES = 65_536;

/** The http check: one request with the target's method and headers, status and keyword verified. */
export function createHttpProbe(options: HttpProbeOptions = {}): Probe<HttpTarget> {
  const dispatcher = options.dispatcher ?? createHttpAgent(options.lookup, { allowMetadata: options.allowMetadata === true });
  const certExpiries = certExpiriesByAgent.get(dispatcher);
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
      const authorization = headers['authorization'];
      const tokenExpiresAt = authorization === undefined ? undefined : parseJwtExpiry(authorization);
      try {
        const res = await request(target.url, {
          dispatcher,
          method: target.method,
          headers,
          signal: ctx.signal,
          reset,
        });
        // Read at once: the connector stored it before the request went out (see certExpiriesByAgent).
        const certExpiresAt =
          certExpiries !== undefined && target.url.startsWith('https:') ? certExpiries.get(new URL(target.url).origin) : undefined;
        let body = '';
        let failed: string | undefined;
        const status = res.statusCode;
        const expected = statusExpected(target.expect, status);
        // A keyword or an assertion needs the body; so does an unexpected status, to tell a maintenance page from an outage.
        // One byte past the assertions' limit is read, so a body that is too large is told apart from one that fits.
        if (target.asserts !== undefined && target.method !== 'HEAD') body = await readText(res.body, Math.max(maxBodyBytes, MAX_ASSERT_BODY_BYTES + 1));
        else if (target.keyword !== undefined && target.method !== 'HEAD') body = await readText(res.body, maxBodyBytes);
        else if (!expected && target.method !== 'HEAD') body = await readText(res.body, MAINTENANCE_BODY_BYTES);
        // dump() gets the signal: without it an abort that cuts a slow body short resolves, and the check would pass.
        else await res.body.dump({ signal: ctx.signal, limit: 128 * 1024 });
        const latencyMs = performance.now() - started;
        const observations = observe(tokenExpiresAt, certExpiresAt, res.headers);
        let result: CheckResult;
        if (!expected) {
          result = { ok: false, at, latencyMs, status, failure: 'status', reason: `HTTP ${status}, expected ${formatExpect(target.expect)}` };
          const retryAfter = res.headers['retry-after'];
          const maintenance = detectMaintenance(
            { status, body: body.slice(0, MAINTENANCE_BODY_BYTES), ...(typeof retryAfter === 'string' ? { retryAfter } : {}) },
            at,
            target.maintenance,
          );
          if (maintenance) result.maintenance = maintenance;
        } else if (target.keyword !== undefined && !body.includes(target.keyword)) {
          result = { ok: false, at, latencyMs, status, failure: 'keyword', reason: `keyword "${target.keyword}" not found in the response` };
        } else if (target.asserts !== undefined && (failed = evaluate(body, assertionsOf(target.asserts))) !== undefined) {
          result = { ok: false, at, latencyMs, status, failure: 'keyword', reason: failed };
        } else {
          result = { ok: true, at, latencyMs, status };
        }
        if (observations !== undefined) result.observations = observations;
        return result;
      } catch (err) {
        const latencyMs = performance.now() - started;
        const result: CheckResult = { ok: false, at, latencyMs, ...describeNetworkError(err, target.timeoutMs, ctx.signal.aborted) };
        // The token expires whether or not the target answered; the rest needs an answer.
        if (tokenExpiresAt !== undefined) result.observations = { tokenExpiresAt };
        return result;
      }
    },
  };
}
