import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a receiver got. */
export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** What the receiver answers: a status, headers and a body. */
export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** A loopback HTTP receiver (Slack, PagerDuty, a webhook, Discord) whose answers a test scripts. */
export interface Receiver {
  readonly url: string;
  readonly requests: Received[];
  /** The answer to every request from now on (default 200 `ok`). */
  answer(a: Answer | ((r: Received) => Answer)): void;
  /** The next `count` requests get this answer, then the default again. */
  answerNext(a: Answer, count?: number): void;
  /** Resolves once `n` requests have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>;
  close(): Promise<void>;
}

/** Starts a receiver on a free port of 127.0.0.1. */
export async function startReceiver(now: () => number = Date.now): Promise<Receiver> {
  const requests: Received[] = [];
  const queued: Answer[] = [];
  let standing: Answer | ((r: Received) => Answer) = { status: 200, body: 'ok' };
  const waiters: Array<{ n: number; resolve: (r: Received[]) => void }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: now() };
      requests.push(r);
      const a = queued.shift() ?? (typeof standing === 'function' ? standing(r) : standing);
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(a.body ?? '');
      for (const w of waiters.splice(0)) {
        if (requests.length >= w.n) w.resolve(requests.slice(0, w.n));
        else waiters.push(w);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer: (a) => void (standing = a),
    answerNext(a, count = 1) {
      for (let i = 0; i < count; i++) queued.push(a);
    },
    waitFor(n, timeoutMs = 10_000) {
      if (requests.length >= n) return Promise.resolve(requests.slice(0, n));
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver: ${requests.length} of ${n} requests after ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          n,
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
        });
      });
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
