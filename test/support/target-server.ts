import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type { HttpTarget } from '../../src/kinds/http/index.js';
import type { TcpTarget } from '../../src/kinds/tcp/index.js';

/** One request as the target server saw it. */
export interface RecordedRequest {
  method: string;
  /** Path and query, as sent on the request line. */
  path: string;
  headers: IncomingHttpHeaders;
}

/** A local HTTP server whose answers a test controls; every setter applies to the next requests. */
export interface TargetServer {
  /** `http://127.0.0.1:PORT/` (IPv6 hosts in brackets). */
  readonly url: string;
  readonly host: string;
  readonly port: number;
  setStatus(code: number): void;
  setBody(text: string): void;
  /** Wait this long before answering (0: answer at once). */
  setDelay(ms: number): void;
  /** Send the status line and headers at once but the body this much later (0: together). */
  setBodyDelay(ms: number): void;
  /** Response headers sent with every answer. */
  setHeaders(headers: Record<string, string>): void;
  /** When on, the server destroys the socket of each request without answering. */
  setDestroySocket(on: boolean): void;
  readonly requests: {
    readonly count: number;
    readonly last: RecordedRequest | undefined;
    readonly all: readonly RecordedRequest[];
  };
  /** TCP connections accepted so far: a fresh connection per check shows as one per request. */
  readonly connections: number;
  /** Stops listening and destroys every open socket, so a delayed answer never holds up teardown. */
  close(): Promise<void>;
}

/** Where a target server listens; 127.0.0.1 unless a test needs ::1. */
export interface TargetServerOptions {
  host?: string;
}

/** Starts a target server on a free port of 127.0.0.1 (or `host`) answering 200 "ok". */
export async function startTargetServer(options: TargetServerOptions = {}): Promise<TargetServer> {
  const host = options.host ?? '127.0.0.1';
  let status = 200;
  let body = 'ok';
  let delayMs = 0;
  let bodyDelayMs = 0;
  let headers: Record<string, string> = {};
  let destroySocket = false;
  let connections = 0;
  const recorded: RecordedRequest[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();

  const later = (res: ServerResponse, ms: number, fn: () => void): void => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!res.destroyed) fn();
    }, ms);
    timers.add(timer);
    res.once('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
  };

  const answer = (res: ServerResponse): void => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
    if (bodyDelayMs <= 0) {
      res.end(body);
      return;
    }
    res.flushHeaders();
    const delayedBody = body;
    later(res, bodyDelayMs, () => res.end(delayedBody));
  };

  const server = createServer((req, res) => {
    recorded.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    // Drain any request body so the answer is not held up by it.
    req.resume();
    if (destroySocket) {
      req.socket.destroy();
      return;
    }
    if (delayMs <= 0) answer(res);
    else later(res, delayMs, () => answer(res));
  });
  server.on('connection', () => {
    connections += 1;
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${urlHost}:${port}/`,
    host,
    port,
    setStatus: (code) => void (status = code),
    setBody: (text) => void (body = text),
    setDelay: (ms) => void (delayMs = ms),
    setBodyDelay: (ms) => void (bodyDelayMs = ms),
    setHeaders: (h) => void (headers = { ...h }),
    setDestroySocket: (on) => void (destroySocket = on),
    requests: {
      get count() {
        return recorded.length;
      },
      get last() {
        return recorded.at(-1);
      },
      get all() {
        return recorded;
      },
    },
    get connections() {
      return connections;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** A port on `host` that nothing listens on: bound to port 0, read, and released. */
export async function closedPort(host = '127.0.0.1'): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const COMMON = {
  id: 'test/x',
  chatId: 1,
  name: 'x',
  everyMs: 60_000,
  timeoutMs: 2_000,
  retryMs: 5_000,
  confirm: 2,
  recover: 1,
  paused: false,
  createdAt: 0,
  updatedAt: 0,
} as const;

/** A complete http target with test defaults (GET, expect 200-299, no headers); `overrides` win. */
export function httpTarget(overrides: Partial<Omit<HttpTarget, 'kind'>> = {}): HttpTarget {
  return {
    ...COMMON,
    kind: 'http',
    url: 'http://127.0.0.1:1/',
    method: 'GET',
    expect: [{ from: 200, to: 299 }],
    headers: [],
    ...overrides,
  };
}

/** A complete tcp target with test defaults on 127.0.0.1; `overrides` win. */
export function tcpTarget(overrides: Partial<Omit<TcpTarget, 'kind'>> = {}): TcpTarget {
  return { ...COMMON, kind: 'tcp', host: '127.0.0.1', port: 1, ...overrides };
}
