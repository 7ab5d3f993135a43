// What the cluster's dedicated connections (the leader's lock, the bus's LISTEN) share: where they go in
// words a log may carry, why they failed without a password, a connect and a query bounded in time, and a
// close that cannot hang on a dead socket.
import pg from 'pg';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { passwordsOf } from '../store/database-url.js';

/** The server a URL names, for logs: host, port and database only (never the user's password). */
export interface Where {
  host: string;
  port: number;
  database: string;
}

/** `url` as {@link Where}; a URL that does not parse logs as `unknown`. */
export function whereOf(url: string): Where {
  try {
    const u = new URL(url);
    return { host: decodeURIComponent(u.hostname) || 'localhost', port: Number(u.port || 5432), database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres' };
  } catch {
    return { host: 'unknown', port: 0, database: 'unknown' };
  }
}

/** Why a call failed, in one line, with every password of `url` cut out. */
export function reasonOf(err: unknown, url: string): string {
  const first = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
  const code = (err as { code?: unknown } | null)?.code;
  const text = typeof code === 'string' && code !== '' && !first.includes(code) ? `${first} (${code})` : first;
  return passwordsOf(url).reduce((t, p) => t.split(p).join('***'), text) || 'unknown error';
}

/** Thrown when a connect or a statement takes longer than it may. */
export class CallTimeout extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not answer within ${ms} ms`);
    this.name = 'CallTimeout';
  }
}

/** `promise`, or a {@link CallTimeout} after `ms` on `clock` (the promise's own later failure is swallowed). */
export function within<T>(promise: Promise<T>, ms: number, what: string, clock: Clock): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: TimerHandle | undefined = clock.setTimeout(() => {
      timer = undefined;
      reject(new CallTimeout(what, ms));
    }, ms);
    promise.then(
      (value) => {
        if (timer === undefined) return;
        clock.clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        if (timer === undefined) return;
        clock.clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** A new, not yet connected client on `url` whose errors never reach the process ('error' always has a listener). */
export function newClient(url: string, applicationName: string, options: { statementTimeoutMs?: number } = {}): pg.Client {
  const client = new pg.Client({
    connectionString: url,
    application_name: applicationName,
    keepAlive: true,
    ...(options.statementTimeoutMs === undefined ? {} : { statement_timeout: options.statementTimeoutMs }),
  });
  client.on('error', () => undefined);
  return client;
}

/** Ends `client` within `ms`: a socket that does not close by then (a dead peer) is destroyed. Never throws. */
export async function closeClient(client: pg.Client, ms: number, clock: Clock): Promise<void> {
  try {
    await within(client.end(), ms, 'closing the connection', clock);
  } catch {
    (client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.();
  }
}

/**
 * The loop the owner of a dedicated connection runs: steps one after another on one chain (a connect, a
 * try of the lock, a check), and one timer for the next step. A step that throws is reported and the
 * next one comes after `retryMs`; nothing is scheduled once `running()` is false.
 */
export function createStepLoop(o: { clock: Clock; retryMs: number; step: () => Promise<void>; running: () => boolean; failed: (err: unknown) => void }) {
  let timer: TimerHandle | undefined;
  let chain: Promise<void> = Promise.resolve();
  const cancel = (): void => {
    if (timer !== undefined) o.clock.clearTimeout(timer);
    timer = undefined;
  };
  const run = (): Promise<void> => {
    const next = chain.then(o.step).catch((err: unknown) => {
      o.failed(err);
      schedule(o.retryMs);
    });
    chain = next;
    return next;
  };
  function schedule(ms: number): void {
    cancel();
    if (!o.running()) return;
    timer = o.clock.setTimeout(() => {
      timer = undefined;
      void run();
    }, ms);
  }
  return { run, schedule, cancel, settled: (): Promise<void> => chain };
}
