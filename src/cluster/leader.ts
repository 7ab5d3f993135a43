// One leader among the instances on one database: a PostgreSQL session advisory lock, held on a connection
// of its own (a pooled connection would hand the session, and the lock with it, to whoever borrows it next).
//
// PostgreSQL does the election: `pg_try_advisory_lock(key)` succeeds for one session at a time, and the
// server releases the lock when that session ends (the process died, its connection was cut, the server
// restarted). Lookout adds no consensus of its own; it only has to notice, in bounded time, that its
// session may be gone, and stop acting as leader before another instance can have taken over.
//
// THE BOUND. While it leads, the elector runs `SELECT 1` on the lock's connection every `checkMs`, each
// bounded by `checkTimeoutMs` (< checkMs; also the session's statement_timeout). It declares itself not
// leader (onChange(false)) at once when:
//   - the connection reports an error or its end (a server that terminated the backend, a restart, a
//     reset): as soon as the socket says so, typically well under a millisecond after the server acted;
//   - a check fails or does not answer within checkTimeoutMs (a silent network: nothing arrives at all).
// The next check starts at most `checkMs` after the previous one answered, so from the moment the lock's
// connection stops working to the moment this instance stops acting as leader is at most
//     checkMs + checkTimeoutMs            (defaults: 1000 + 500 = 1.5 s; plus event-loop delay)
// Another instance can take the lock only once the SERVER has ended the old session. When the server
// ends it (terminate, restart), the old leader hears it on the same socket first. When the network goes
// silent, the server keeps the session, and the lock, until it notices the dead peer (TCP keepalive,
// `tcp_user_timeout`, `client_connection_check_interval`), which must stay longer than the bound above for
// "at most one leader" to hold through a partition: PostgreSQL's defaults (keepalive after 2 hours of
// silence) are far longer. Users of the elector must stop leader-only work on onChange(false) and must
// not start any after it; what they had not delivered stays in the shared store for the next leader.
//
// Not leader, it retries `pg_try_advisory_lock` every `retryMs` on its connection, reconnecting first
// when the connection is gone. Nothing is thrown out of its timers; failures are logged and retried.
import type pg from 'pg';
import { systemClock, type Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { closeClient, createStepLoop, newClient, reasonOf, whereOf, within } from './connection.js';

/** The lock every Lookout instance of one database contends for: the bytes of 'lookout' as a bigint (0x6c6f6f6b6f7574). */
export const DEFAULT_LOCK_KEY: bigint = BigInt(`0x${Buffer.from('lookout', 'utf8').toString('hex')}`);

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Options of {@link createLeaderElector}. */
export interface LeaderElectorOptions {
  /** The database the instances share (may hold a password: it is never logged). */
  url: string;
  /** The advisory lock's key (a signed 64-bit integer); {@link DEFAULT_LOCK_KEY} by default. */
  lockKey?: bigint | number;
  clock?: Clock;
  logger?: Logger;
  /** How often a stand-by instance tries the lock, and waits before reconnecting (ms). Default 1000. */
  retryMs?: number;
  /** How often the leader checks its lock's connection (ms). Default 1000. */
  checkMs?: number;
  /** How long one check may take before the connection counts as lost (ms, < checkMs). Default checkMs / 2. */
  checkTimeoutMs?: number;
  /** How long connecting may take (ms). Default 5000. */
  connectTimeoutMs?: number;
}

/** The elector: whether this instance leads, and when that changes. */
export interface LeaderElector {
  /** Connects and tries the lock once; resolves after that first attempt (whatever its outcome) and keeps trying. Never rejects for the database. */
  start(): Promise<void>;
  /** Releases the lock (if held), declares not leader and closes the connection. */
  stop(): Promise<void>;
  /** Whether this instance holds the lock, as far as its last check tells. */
  readonly isLeader: boolean;
  /** Calls `listener` with each change (true: became leader; false: no longer). Answers a function that removes it. */
  onChange(listener: (leader: boolean) => void): () => void;
  /** When (clock ms) leadership last changed here, undefined before the first change. */
  readonly changedAt: number | undefined;
  /** The PostgreSQL backend pid of the lock's connection, while connected (for tests and diagnostics). */
  readonly backendPid: number | undefined;
  /** The documented bound (ms) from the lock's connection failing to isLeader turning false: checkMs + checkTimeoutMs. */
  readonly lossBoundMs: number;
}

function lockKeyOf(key: bigint | number): string {
  if (typeof key === 'number' && !Number.isSafeInteger(key)) throw new RangeError(`lockKey must be an integer, not ${key}`);
  const big = BigInt(key);
  if (big < INT64_MIN || big > INT64_MAX) throw new RangeError(`lockKey must fit a signed 64-bit integer, not ${big}`);
  return big.toString();
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of ms, not ${value}`);
  return value;
}

/** An elector for the lock `lockKey` on `url`. Call start(). */
export function createLeaderElector(options: LeaderElectorOptions): LeaderElector {
  const { url, logger } = options;
  const clock = options.clock ?? systemClock;
  const key = lockKeyOf(options.lockKey ?? DEFAULT_LOCK_KEY);
  const retryMs = positive('retryMs', options.retryMs ?? 1000);
  const checkMs = positive('checkMs', options.checkMs ?? 1000);
  const checkTimeoutMs = positive('checkTimeoutMs', options.checkTimeoutMs ?? Math.max(1, Math.floor(checkMs / 2)));
  if (checkTimeoutMs >= checkMs) throw new RangeError(`checkTimeoutMs (${checkTimeoutMs}) must be shorter than checkMs (${checkMs})`);
  const connectTimeoutMs = positive('connectTimeoutMs', options.connectTimeoutMs ?? 5000);
  const where = whereOf(url);
  const log = { ...where, lockKey: key };

  const listeners = new Set<(leader: boolean) => void>();
  let running = false;
  let leader = false;
  let changedAt: number | undefined;
  /** The lock's connection, once connected; cleared the moment it is lost. */
  let current: { client: pg.Client; pid: number | undefined } | undefined;
  /** Whether the last connect failed (logged once per episode, then at debug). */
  let failing = false;

  const setLeader = (value: boolean, why?: string): void => {
    if (leader === value) return;
    leader = value;
    changedAt = clock.now();
    if (value) logger?.info({ event: 'leader_acquired', ...log, pid: current?.pid }, 'this instance leads');
    else logger?.warn({ event: 'leader_lost', ...log, why }, `this instance no longer leads: ${why ?? 'unknown'}`);
    for (const listener of [...listeners]) {
      try {
        listener(value);
      } catch (err) {
        logger?.error({ event: 'leader_listener_failed', err: { message: reasonOf(err, url) } }, 'a leadership listener threw');
      }
    }
  };

  const loop = createStepLoop({
    clock,
    retryMs,
    step: () => step(),
    running: () => running,
    failed: (err) => logger?.error({ event: 'leader_step_failed', ...log, err: { message: reasonOf(err, url) } }, 'leader election step failed'),
  });
  const schedule = loop.schedule;

  /** The connection `client` is gone or unusable: not leader at once, then close it and try again after retryMs. */
  const lose = (client: pg.Client, why: string): void => {
    if (current?.client !== client) return;
    current = undefined;
    setLeader(false, why);
    void closeClient(client, 1000, clock);
    if (running) {
      logger?.debug({ event: 'leader_connection_lost', ...log, why }, 'the lock connection was lost');
      schedule(retryMs);
    }
  };

  const connect = async (): Promise<void> => {
    const client = newClient(url, 'lookout-leader', { statementTimeoutMs: checkTimeoutMs });
    try {
      await within(client.connect(), connectTimeoutMs, 'connecting', clock);
      const { rows } = await within(client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'), connectTimeoutMs, 'the first statement', clock);
      if (!running) {
        await closeClient(client, 1000, clock);
        return;
      }
      current = { client, pid: rows[0]?.pid };
      client.on('error', (err) => lose(client, `the lock connection failed: ${reasonOf(err, url)}`));
      client.on('end', () => lose(client, 'the lock connection ended'));
      if (failing) logger?.info({ event: 'leader_connection_back', ...log }, 'the lock connection is back');
      failing = false;
    } catch (err) {
      void closeClient(client, 1000, clock);
      const reason = reasonOf(err, url);
      if (!failing) logger?.warn({ event: 'leader_connection_failed', ...log, why: reason }, `cannot connect for the leader lock: ${reason}`);
      else logger?.debug({ event: 'leader_connection_failed', ...log, why: reason }, 'still cannot connect for the leader lock');
      failing = true;
    }
  };

  const tryLock = async (): Promise<void> => {
    const c = current;
    if (!c) return;
    try {
      const { rows } = await within(c.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [key]), checkTimeoutMs, 'trying the lock', clock);
      if (current !== c) return; // lost meanwhile: a lock it may have taken went with the session
      if (!running) {
        // stop() came meanwhile (it waits for this step): give back a lock just taken; stop() closes the session.
        if (rows[0]?.ok === true) await within(c.client.query('SELECT pg_advisory_unlock($1::bigint)', [key]), checkTimeoutMs, 'releasing the lock', clock).catch(() => undefined);
        return;
      }
      if (rows[0]?.ok === true) {
        setLeader(true);
        schedule(checkMs);
      } else schedule(retryMs);
    } catch (err) {
      lose(c.client, `trying the lock failed: ${reasonOf(err, url)}`);
    }
  };

  const check = async (): Promise<void> => {
    const c = current;
    if (!c) return;
    try {
      await within(c.client.query('SELECT 1'), checkTimeoutMs, 'the leader check', clock);
      if (current === c && running) schedule(checkMs);
    } catch (err) {
      lose(c.client, `the leader check failed: ${reasonOf(err, url)}`);
    }
  };

  async function step(): Promise<void> {
    if (!running) return;
    if (!current) {
      await connect();
      if (!current) {
        schedule(retryMs);
        return;
      }
    }
    if (leader) await check();
    else await tryLock();
  }

  return {
    async start() {
      if (running) return;
      running = true;
      await loop.run();
    },
    async stop() {
      if (!running) {
        await loop.settled();
        return;
      }
      running = false;
      loop.cancel();
      await loop.settled();
      const c = current;
      current = undefined;
      // Not leader first: nothing may act as leader once the lock can be someone else's.
      const held = leader;
      setLeader(false, 'stopped');
      if (c && held) {
        await within(c.client.query('SELECT pg_advisory_unlock($1::bigint)', [key]), checkTimeoutMs, 'releasing the lock', clock).catch((err: unknown) =>
          logger?.debug({ event: 'leader_release_failed', ...log, why: reasonOf(err, url) }, 'releasing the lock failed (closing the session releases it)'),
        );
      }
      if (c) await closeClient(c.client, 1000, clock);
    },
    get isLeader() {
      return leader;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get changedAt() {
      return changedAt;
    },
    get backendPid() {
      return current?.pid;
    },
    lossBoundMs: checkMs + checkTimeoutMs,
  };
}
