import type { AvailabilityZone, EC2Client } from '@aws-sdk/client-ec2';
import { createHash } from 'node:crypto';
import type { LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { request, type Dispatcher } from 'undici';
import type { CheckResult } from '../../domain/check.js';
import type { Ec2Target } from './index.js';
import { guardedLookup, literalRefusal } from '../../probes/address-guard.js';
import { createHttpAgent } from '../http/probe.js';
import { describeNetworkError, type FailureDescription } from '../../probes/network-error.js';
import type { Probe, ProbeContext } from '../../probes/probe.js';
import { detectMaintenance, type FailedAnswer } from '../../probes/maintenance.js';

/** What an EC2 client is made for: one endpoint, region and set of credentials. */
export interface Ec2ClientSettings {
  endpoint: string;
  region: string;
  /** Absent: the SDK's default credential chain (env, profile, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Connection and request limit of the HTTP handler; the check's signal still ends a check first. */
  timeoutMs: number;
  /** Name resolution; the probe passes one that refuses cloud metadata and link-local addresses (the client must use it). */
  lookup?: LookupFunction;
  /** `SOURCE_ADDRESS`: connections leave from this local address. */
  localAddress?: string;
}

/** Makes the SDK client for one set of settings; the probe caches what it returns. */
export type Ec2ClientFactory = (settings: Ec2ClientSettings) => EC2Client | Promise<EC2Client>;

/** How the ec2 probe talks to the API. */
export interface Ec2ProbeOptions {
  /** {@link createEc2Client} when absent; tests wrap it to count or inspect clients. */
  clientFactory?: Ec2ClientFactory;
  /** Name resolution (node's dns.lookup by default); tests pass one that never leaves the machine. */
  lookup?: LookupFunction;
  /** `ALLOW_METADATA_TARGETS`: connect to cloud metadata and link-local addresses too. */
  allowMetadata?: boolean;
  /** At most this many clients are kept; the least recently used one is destroyed beyond it. */
  maxClients?: number;
  /** `SOURCE_ADDRESS`: connections leave from this local address. */
  sourceAddress?: string;
}

/** The ec2 probe, with `close` to destroy the SDK clients it keeps. */
export interface Ec2Probe extends Probe<Ec2Target> {
  close(): void;
}

type Ec2Sdk = typeof import('@aws-sdk/client-ec2');

let sdkLoading: Promise<Ec2Sdk> | undefined;

// The SDK takes most of a second and ~90 MB to load: only deployments with ec2 targets pay for it.
const loadSdk = (): Promise<Ec2Sdk> => (sdkLoading ??= import('@aws-sdk/client-ec2'));

/**
 * The SDK client a check uses: one attempt (the SDK's retries would stretch a check past its timeout)
 * and a fresh connection per check, like the http probe, so a check sees what a new client would.
 */
export async function createEc2Client(settings: Ec2ClientSettings): Promise<EC2Client> {
  const { EC2Client } = await loadSdk();
  const agent = { keepAlive: false, ...(settings.lookup ? { lookup: settings.lookup } : {}), ...(settings.localAddress !== undefined ? { localAddress: settings.localAddress } : {}) };
  return new EC2Client({
    endpoint: settings.endpoint,
    region: settings.region,
    ...(settings.credentials ? { credentials: settings.credentials } : {}),
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: settings.timeoutMs,
      requestTimeout: settings.timeoutMs,
      throwOnRequestTimeout: true,
      httpAgent: agent,
      httpsAgent: agent,
    },
  });
}

/** API error codes and how alerts word them; any other code is shown as `EC2 API error CODE: message`. */
const API_REASONS: Record<string, string> = {
  AuthFailure: 'authentication failed',
  InvalidClientTokenId: 'authentication failed',
  InvalidAccessKeyId: 'authentication failed',
  MissingAuthenticationToken: 'authentication failed',
  SignatureDoesNotMatch: 'signature rejected',
  IncompleteSignature: 'signature rejected',
  ExpiredToken: 'credentials expired',
  RequestExpired: 'request expired (is the clock right?)',
  UnauthorizedOperation: 'not authorized',
  AccessDenied: 'not authorized',
  OptInRequired: 'account not subscribed to EC2',
  Blocked: 'account blocked',
  RequestLimitExceeded: 'throttled by the API',
  Throttling: 'throttled by the API',
  ThrottlingException: 'throttled by the API',
  InternalError: 'EC2 API internal error',
  InternalFailure: 'EC2 API internal error',
  ServiceUnavailable: 'EC2 API unavailable',
  Unavailable: 'EC2 API unavailable',
};

const MESSAGE_MAX_CHARS = 160;

interface ApiError {
  name: string;
  message: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
}

const asApiError = (err: unknown): ApiError | undefined =>
  err instanceof Error && typeof (err as Partial<ApiError>).$metadata === 'object' ? (err as ApiError) : undefined;

/** The SDK's name for an error answer it found no EC2 error code in (an XML or HTML page of something else). */
const NO_CODE = new Set(['Unknown', 'UnknownError']);

/** Credential values that must never reach a reason, even when an odd endpoint echoes them back. */
function scrub(text: string, target: Ec2Target): string {
  let clean = text;
  for (const secret of [target.secretAccessKey, target.sessionToken]) {
    if (secret) clean = clean.split(secret).join('••••');
  }
  return clean;
}

function clip(text: string): string {
  const oneLine = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return oneLine.length > MESSAGE_MAX_CHARS ? `${oneLine.slice(0, MESSAGE_MAX_CHARS - 1)}…` : oneLine;
}

/** Words a failed DescribeAvailabilityZones call; `status` is the HTTP status when an answer arrived. */
function describeFailure(err: unknown, target: Ec2Target): FailureDescription & { status?: number } {
  const api = asApiError(err);
  const status = api?.$metadata?.httpStatusCode;
  if (api && status !== undefined) {
    if (api.$fault !== undefined && !NO_CODE.has(api.name)) {
      // Codes come from the endpoint: whatever it sent is cut down to the characters codes are made of.
      const code = api.name.replace(/[^\w.:-]/g, '').slice(0, 64);
      const known = Object.hasOwn(API_REASONS, code) ? API_REASONS[code] : undefined;
      const reason = known ? `${known} (${code})` : `EC2 API error ${code}${api.message ? `: ${clip(api.message)}` : ''}`;
      return { failure: 'status', reason: scrub(reason, target), status };
    }
    // An answer arrived but the SDK could not read it: a proxy's error page, or not an EC2 API at all.
    return status >= 200 && status < 300
      ? { failure: 'protocol', reason: `unreadable answer from the EC2 API (HTTP ${status})`, status }
      : { failure: 'status', reason: `HTTP ${status} from the EC2 API without an EC2 error`, status };
  }
  if (err instanceof Error && err.name === 'CredentialsProviderError') {
    return { failure: 'error', reason: 'no AWS credentials found: give key= and secret=, or set up the default credential chain' };
  }
  // node's https (the SDK's handler) reports a non-TLS answer to a handshake as EPROTO, which undici never does.
  if ((err as { code?: unknown } | undefined)?.code === 'EPROTO') return { failure: 'tls', reason: 'TLS handshake failed' };
  const network = describeNetworkError(err, target.timeoutMs, false);
  // The HTTP handler's own time limits equal the target's timeout; they may fire just before the signal.
  if (err instanceof Error && err.name === 'TimeoutError' && (network.failure === 'error' || network.reason === 'connection timed out')) {
    return describeNetworkError(undefined, target.timeoutMs, true);
  }
  if (network.failure === 'refused') return { failure: 'refused', reason: `endpoint unreachable: ${network.reason}` };
  return network;
}

/** UP when at least one zone is `available`; the reason counts them (or, when none is, the others by state). */
function judgeZones(zones: readonly AvailabilityZone[]): { ok: boolean; reason: string } {
  const available = zones.filter((z) => z.State === 'available').length;
  if (available > 0) return { ok: true, reason: `${available} of ${zones.length} availability zones available` };
  if (zones.length === 0) return { ok: false, reason: 'no availability zone is available (none listed)' };
  const byState = new Map<string, number>();
  for (const zone of zones) {
    const state = clip(zone.State ?? 'unknown').slice(0, 32);
    byState.set(state, (byState.get(state) ?? 0) + 1);
  }
  const counts = [...byState].map(([state, n]) => `${n} ${state}`).join(', ');
  return { ok: false, reason: `no availability zone is available (${counts})` };
}

interface ZonesAnswer {
  zones: AvailabilityZone[];
  status: number;
}

type Outcome = { done: true; answer: ZonesAnswer } | { done: false; error: unknown } | { aborted: true };

/**
 * Settles when the call does or when the signal fires, whichever is first: the SDK honours the signal
 * only once a request is on the wire, not while it resolves credentials (an instance role lookup can hang).
 */
function raceSignal(call: Promise<ZonesAnswer>, signal: AbortSignal): Promise<Outcome> {
  let onAbort = (): void => undefined;
  const aborted = new Promise<Outcome>((resolve) => {
    onAbort = () => resolve({ aborted: true });
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  const settled = call.then(
    (answer): Outcome => ({ done: true, answer }),
    (error: unknown): Outcome => (signal.aborted ? { aborted: true } : { done: false, error }),
  );
  return Promise.race([settled, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

/** The key a client is cached under; the secret and token go in only as a hash, so a rotated secret gets a new client. */
function clientKey(t: Ec2Target): string {
  const secrets = createHash('sha256').update(`${t.secretAccessKey ?? ''}\0${t.sessionToken ?? ''}`).digest('base64url');
  return JSON.stringify([t.endpoint, t.region, t.accessKeyId ?? '', secrets, t.timeoutMs]);
}

/** A plain GET of the endpoint (at most 64 KiB of it), for maintenance pages; undefined when it fails. */
async function fetchPage(url: string, signal: AbortSignal, dispatcher: Dispatcher): Promise<FailedAnswer | undefined> {
  try {
    const res = await request(url, { dispatcher, method: 'GET', signal, reset: true, headers: { 'user-agent': 'Lookout/0.1 (+uptime check)' } });
    let body = '';
    for await (const chunk of res.body) {
      body += (chunk as Buffer).toString('utf8');
      if (body.length >= 65_536) {
        res.body.destroy();
        break;
      }
    }
    const retryAfter = res.headers['retry-after'];
    return { status: res.statusCode, body, ...(typeof retryAfter === 'string' ? { retryAfter } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * The ec2 check: one DescribeAvailabilityZones call to the target's endpoint, signed for its region with
 * its credentials (or the default chain). UP when a zone is available. Clients are kept per endpoint,
 * region, credentials and timeout, so a check does not build an SDK client each time. An endpoint on a
 * cloud metadata or link-local address (the literal, or any address its name resolves to) is DOWN
 * without a connection, unless `allowMetadata`.
 */
export function createEc2Probe(options: Ec2ProbeOptions = {}): Ec2Probe {
  const factory = options.clientFactory ?? createEc2Client;
  const maxClients = options.maxClients ?? 256;
  const clients = new Map<string, Promise<EC2Client>>();
  const lookup = options.allowMetadata ? options.lookup : guardedLookup(options);
  // The maintenance page is fetched through the same guard (a name may resolve elsewhere by then).
  let pageAgent: Dispatcher | undefined;
  const pageDispatcher = (): Dispatcher =>
    (pageAgent ??= createHttpAgent(options.lookup, { allowMetadata: options.allowMetadata === true, ...(options.sourceAddress !== undefined ? { sourceAddress: options.sourceAddress } : {}) }));

  const destroy = (client: Promise<EC2Client>): void => void client.then((c) => c.destroy(), () => undefined);

  function clientFor(t: Ec2Target): Promise<EC2Client> {
    const key = clientKey(t);
    const cached = clients.get(key);
    if (cached) {
      // Map order is insertion order: moving the entry to the end keeps the least recently used first.
      clients.delete(key);
      clients.set(key, cached);
      return cached;
    }
    const credentials =
      t.accessKeyId !== undefined && t.secretAccessKey !== undefined
        ? { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey, ...(t.sessionToken !== undefined ? { sessionToken: t.sessionToken } : {}) }
        : undefined;
    const made = Promise.resolve(
      factory({
        endpoint: t.endpoint,
        region: t.region,
        ...(credentials ? { credentials } : {}),
        timeoutMs: t.timeoutMs,
        ...(lookup ? { lookup } : {}),
        ...(options.sourceAddress !== undefined ? { localAddress: options.sourceAddress } : {}),
      }),
    );
    // A factory that failed is not kept: the next check tries again.
    made.catch(() => clients.delete(key));
    clients.set(key, made);
    for (const [oldKey, old] of clients) {
      if (clients.size <= maxClients) break;
      clients.delete(oldKey);
      destroy(old);
    }
    return made;
  }

  return {
    kind: 'ec2',
    async run(target: Ec2Target, ctx: ProbeContext): Promise<CheckResult> {
      const at = ctx.now();
      const timeout = (latencyMs: number): CheckResult => ({ ok: false, at, latencyMs, ...describeNetworkError(undefined, target.timeoutMs, true) });
      if (ctx.signal.aborted) return timeout(0);
      // A socket connects to an IP literal without asking the lookup, so the literal is judged here.
      const refused = literalRefusal(new URL(target.endpoint).hostname, options);
      if (refused) return { ok: false, at, latencyMs: 0, ...describeNetworkError(refused, target.timeoutMs, false) };
      // Loading the SDK (first check only) is not the endpoint's latency, so the clock starts after it.
      const [sdk, client] = await Promise.all([loadSdk(), clientFor(target)]);
      const started = performance.now();
      const call = client
        .send(new sdk.DescribeAvailabilityZonesCommand({}), { abortSignal: ctx.signal })
        .then((answer) => ({ zones: answer.AvailabilityZones ?? [], status: answer.$metadata.httpStatusCode ?? 200 }));
      const outcome = await raceSignal(call, ctx.signal);
      const latencyMs = performance.now() - started;
      if ('aborted' in outcome) return timeout(latencyMs);
      if (!outcome.done) {
        const { status, ...failure } = describeFailure(outcome.error, target);
        const result: CheckResult = { ok: false, at, latencyMs, ...(status !== undefined ? { status } : {}), ...failure };
        // The API answered with an error: a plain GET of the endpoint tells planned maintenance from an outage.
        if (status !== undefined && status >= 500 && !ctx.signal.aborted) {
          const page = await fetchPage(target.endpoint, ctx.signal, pageDispatcher());
          const maintenance = page ? detectMaintenance(page, at) : undefined;
          if (maintenance) result.maintenance = maintenance;
        }
        return result;
      }
      const { status, zones } = outcome.answer;
      const judged = judgeZones(zones);
      // An UP result carries the zone count as its reason too: alerts show reasons of failures only, logs show both.
      return judged.ok
        ? { ok: true, at, latencyMs, status, reason: judged.reason }
        : { ok: false, at, latencyMs, status, failure: 'status', reason: judged.reason };
    },
    close() {
      for (const client of clients.values()) destroy(client);
      clients.clear();
      void pageAgent?.close().catch(() => undefined);
      pageAgent = undefined;
    },
  };
}
