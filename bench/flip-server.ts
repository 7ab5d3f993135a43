// The storm benchmark's targets: one HTTP server on 127.0.0.1 whose paths /t0 … /t{n-1} each flip
// between 200 and 503 every `flipMs`, each on its own phase, and which records every request.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a target saw: when it arrived (`Date.now()`) and whether it was answered 200. */
export interface TargetRequest {
  at: number;
  ok: boolean;
}

/** A running flip server. */
export interface FlipServer {
  /** `http://127.0.0.1:PORT` (no trailing slash); target i is `${origin}/t${i}`. */
  readonly origin: string;
  /** Every request of target i, in arrival order. */
  readonly requests: readonly (readonly TargetRequest[])[];
  /** Requests to paths that are no target (should stay 0). */
  readonly strays: number;
  /** From now on every target answers 200 (the storm is over). */
  settle(): void;
  /** When `settle()` was called (undefined before). */
  readonly settledAt: number | undefined;
  close(): Promise<void>;
}

/** What the flip server serves: `phasesMs[i]` shifts target i's square wave (0 ≤ phase < 2 × flipMs). */
export interface FlipServerOptions {
  flipMs: number;
  phasesMs: readonly number[];
  /** Time zero of every target's wave (default: now). */
  startAt?: number;
}

/** Whether target `phaseMs` answers 200 at `at`: up for `flipMs`, down for `flipMs`, shifted by its phase. */
export function flipIsUp(at: number, startAt: number, phaseMs: number, flipMs: number): boolean {
  return Math.floor((at - startAt + phaseMs) / flipMs) % 2 === 0;
}

/** Starts the flip server on a free port of 127.0.0.1. */
export async function startFlipServer(options: FlipServerOptions): Promise<FlipServer> {
  const { flipMs, phasesMs } = options;
  const startAt = options.startAt ?? Date.now();
  const requests: TargetRequest[][] = phasesMs.map(() => []);
  let strays = 0;
  let settledAt: number | undefined;

  const server = createServer((req, res) => {
    req.resume();
    const at = Date.now();
    const match = /^\/t(\d+)$/.exec(req.url ?? '');
    const index = match ? Number(match[1]) : -1;
    const log = requests[index];
    if (log === undefined) {
      strays += 1;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no such target');
      return;
    }
    const ok = settledAt !== undefined || flipIsUp(at, startAt, phasesMs[index]!, flipMs);
    log.push({ at, ok });
    // The 503 body says nothing of maintenance, so Lookout treats it as an outage.
    res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ok' : 'flipped off');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, backlog: 1_024 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    get strays() {
      return strays;
    },
    settle: () => void (settledAt ??= Date.now()),
    get settledAt() {
      return settledAt;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
