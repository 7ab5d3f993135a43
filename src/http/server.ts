import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Engine } from '../engine/engine.js';
import { targetAddress, type RunningKinds } from '../kinds/index.js';
import type { Logger } from '../lib/logger.js';
import { withTimeout } from '../lib/timeout.js';
import type { KeyvStore, StoreHealth } from '../store/keyv.js';
import type { Metrics } from './metrics.js';

/** What the HTTP endpoints read. */
export interface HttpServerDeps {
  port: number;
  host?: string;
  engine: Pick<Engine, 'running' | 'targets' | 'state'>;
  store: Pick<KeyvStore, 'ping' | 'health'>;
  metrics: Metrics;
  /** Said with every /healthz answer (several instances: the role, the peers). */
  about?: () => Record<string, unknown>;
  /** A store that has not answered /healthz's ping within this long is unhealthy (ms, default 2 s). */
  pingTimeoutMs?: number;
  /** Bearer token required by /api/status when set. */
  statusToken?: string;
  /** The check kinds' own routes (a heartbeat's `/ping/<token>`). */
  kinds?: Pick<RunningKinds, 'route'>;
  /** Route handlers tried in order before the built-in endpoints (the REST API, the status pages); true when handled. */
  handlers?: ReadonlyArray<(req: IncomingMessage, res: ServerResponse) => Promise<boolean>>;
  /** Extra routes (the Telegram webhook); return true when handled. */
  extra?: (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;
  logger?: Logger;
  /** An unexpected error answered 500 also goes to the error tracker. */
  reportError?: (err: unknown, context: Record<string, unknown>) => void;
}

/** A started HTTP server. */
export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

/** How much of a request body a kind's route may read. */
const KIND_BODY_BYTES = 10_240;

/** At most `max` bytes of a request body, as text; the rest is read and dropped. */
async function readBody(req: IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    if (size < max) chunks.push(buf.subarray(0, max - size));
    size += buf.length;
    if (size > 1_048_576) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** `store failing since 2026-11-23T12:00:00.000Z: the disk is full; 3 writes waiting` */
const storeFailing = (h: StoreHealth): string =>
  `store failing${h.since !== undefined ? ` since ${new Date(h.since).toISOString()}` : ''}: ${h.cause ?? 'writes are refused'}; ${h.pendingWrites} write${h.pendingWrites === 1 ? '' : 's'} waiting`;

/** `/healthz`, `/metrics` and `/api/status` on one node:http server. */
export async function startHttpServer(deps: HttpServerDeps): Promise<HttpServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (deps.extra && (await deps.extra(req, res))) return;
    for (const h of deps.handlers ?? []) if (await h(req, res)) return;
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (deps.kinds) {
      const answer = await deps.kinds.route({ method: req.method ?? 'GET', path, body: () => readBody(req, KIND_BODY_BYTES) });
      if (answer) return json(res, answer.status, answer.body);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'method not allowed' });
    if (path === '/healthz') {
      const problems: string[] = [];
      if (!deps.engine.running) problems.push('scheduler not running');
      const store = deps.store.health();
      if (!store.ok) problems.push(storeFailing(store));
      // A hung store must make /healthz fail, not hang it (the platform's check would only time out).
      else if ((await withTimeout(deps.store.ping(), deps.pingTimeoutMs ?? 2_000)) !== true) problems.push('store not answering');
      const about = deps.about?.() ?? {};
      return json(res, problems.length === 0 ? 200 : 503, problems.length === 0 ? { status: 'ok', ...about } : { status: 'unhealthy', problems, ...about });
    }
    if (path === '/metrics') {
      // `?name=a&name=b`: only those metrics (a scrape of everything with 10,000 targets is megabytes and holds the checks up).
      const names = new URL(req.url ?? '/', 'http://x').searchParams.getAll('name').filter((n) => /^[a-z_:][a-z0-9_:]{0,99}$/.test(n)).slice(0, 20);
      const text =
        names.length > 0
          ? (await Promise.all(names.map((n) => (deps.metrics.registry.getSingleMetric(n) ? deps.metrics.registry.getSingleMetricAsString(n) : Promise.resolve(''))))).filter((t) => t !== '').join('\n') + '\n'
          : await deps.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': deps.metrics.registry.contentType });
      res.end(text);
      return;
    }
    if (path === '/api/status') {
      if (deps.statusToken !== undefined && req.headers.authorization !== `Bearer ${deps.statusToken}`) {
        res.setHeader('www-authenticate', 'Bearer');
        return json(res, 401, { error: 'a bearer token is required (STATUS_TOKEN)' });
      }
      const targets = deps.engine
        .targets()
        .map((t) => {
          const record = deps.engine.state(t.id);
          return {
            id: t.id,
            chat: t.chatId,
            name: t.name,
            kind: t.kind,
            address: targetAddress(t),
            state: record?.state ?? 'UNKNOWN',
            since: record ? new Date(record.since).toISOString() : undefined,
            lastResult: record?.lastResult
              ? { ok: record.lastResult.ok, at: new Date(record.lastResult.at).toISOString(), latencyMs: Math.round(record.lastResult.latencyMs), status: record.lastResult.status, reason: record.lastResult.reason }
              : undefined,
          };
        })
        .sort((a, b) => a.id.localeCompare(b.id));
      const about = deps.about?.();
      // Several instances: where they run, and when each was last heard from.
      return json(res, 200, { targets, ...(about && 'locations' in about ? { locations: about.locations } : {}) });
    }
    json(res, 404, { error: 'not found', endpoints: ['/healthz', '/metrics', '/api/status'] });
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      deps.logger?.error({ err, event: 'http_failed' }, 'an HTTP request failed');
      deps.reportError?.(err, { event: 'http_failed', method: req.method, path: (req.url ?? '/').split('?')[0]!.slice(0, 100) });
      if (!res.headersSent) json(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(deps.port, deps.host ?? '0.0.0.0', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
