// The registry of live Lookout instances, in PostgreSQL: one heartbeat row per instance with a TTL.
//
// Each instance upserts its own row every `beatMs` and reads the rows seen within `ttlMs`. Both times
// are the database's (`now()`), so the machines' clocks need not agree; the local clock only paces the
// beats. An instance that stops deletes its row (the others drop it at their next read, well within one
// beat); one that dies stops beating and drops out of everyone's set once its row is older than the TTL
// (at most ttl + beat after its last beat). `pg` is used directly, not through Keyv: the liveness test
// is a comparison with the server's clock (`seen_at > now() - ttl`), which a key-value interface
// cannot express, and these rows are not data to migrate or to hold in the pending-write layer.
//
// A database error keeps the last set read (an instance that cannot reach the database cannot learn
// anything new, and dropping the others would make it check every target), is logged once per episode
// (one line when it starts, one when it ends), and the next beat tries again. Nothing thrown by the
// database or by a listener escapes a timer.

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import pg from 'pg';
import { systemClock, type Clock, type TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { passwordsOf, postgresProblem } from '../store/postgres.js';

/** The table of instances (in `public`, beside `lookout_store`). */
export const MEMBERS_TABLE = 'lookout_members';
/** The table as every statement names it. */
export const MEMBERS_TABLE_REF = `public.${MEMBERS_TABLE}`;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS ${MEMBERS_TABLE_REF} (id TEXT PRIMARY KEY, location TEXT, started_at TIMESTAMPTZ NOT NULL DEFAULT now(), seen_at TIMESTAMPTZ NOT NULL DEFAULT now(), pending INTEGER NOT NULL DEFAULT 0)`;
/** Tables made before the `pending` column. */
const ADD_PENDING = `ALTER TABLE ${MEMBERS_TABLE_REF} ADD COLUMN IF NOT EXISTS pending INTEGER NOT NULL DEFAULT 0`;
/** The first beat of a start: `started_at` is now, also for an id that had a row before (a restarted instance). */
const JOIN = `INSERT INTO ${MEMBERS_TABLE_REF} (id, location, started_at, seen_at, pending) VALUES ($1, $2, now(), now(), $3) ON CONFLICT (id) DO UPDATE SET location = excluded.location, started_at = excluded.started_at, seen_at = excluded.seen_at, pending = excluded.pending`;
/** Every later beat keeps `started_at`. */
const BEAT = `INSERT INTO ${MEMBERS_TABLE_REF} (id, location, started_at, seen_at, pending) VALUES ($1, $2, now(), now(), $3) ON CONFLICT (id) DO UPDATE SET location = excluded.location, seen_at = excluded.seen_at, pending = excluded.pending`;
const READ = `SELECT id, location, started_at, seen_at, pending FROM ${MEMBERS_TABLE_REF} WHERE seen_at > now() - $1::double precision * interval '1 millisecond' ORDER BY id`;
const LEAVE = `DELETE FROM ${MEMBERS_TABLE_REF} WHERE id = $1`;
/** Rows of instances that died without leaving are removed once they are this old (ms; at least 4 TTLs). */
const PRUNE_AFTER_MS = 3_600_000;
const PRUNE = `DELETE FROM ${MEMBERS_TABLE_REF} WHERE seen_at < now() - $1::double precision * interval '1 millisecond'`;
/** The prune runs at the join and then every this many beats. */
const PRUNE_EVERY = 100;

/** One instance as its row tells. */
export interface MemberInfo {
  readonly id: string;
  /** Where it runs (host, region: whatever the deployment set), if it said. */
  readonly location?: string;
  /** When it (last) started, by the database's clock. */
  readonly startedAt: Date;
  /** Its last beat, by the database's clock. */
  readonly seenAt: Date;
  /** Writes it held at that beat that the database had not taken yet (a new leader waits for them). */
  readonly pending: number;
}

/** How the registry is doing, for /health and tests. */
export interface MembershipHealth {
  /** False while the database refuses the beats. */
  readonly ok: boolean;
  /** Episodes of failure since the start. */
  readonly episodes: number;
  /** Beats tried (timer beats, the start's and `refresh()`'s). */
  readonly beats: number;
  /** Beats that failed. */
  readonly failedBeats: number;
  /** Why the current episode's beats fail. */
  readonly cause?: string;
  /** When the live set was last read (the clock's time), if ever. */
  readonly readAt?: number;
}

export interface MembershipOptions {
  /** The database: a URL (the membership keeps a small pool of its own) or a pool it shares (left open on stop). */
  url?: string;
  pool?: pg.Pool;
  /** This instance's id: unique among the instances on the database (see {@link newMemberId}). */
  id: string;
  /** Where this instance runs, shown to the others. */
  location?: string;
  /** A row older than this no longer counts as live (ms, default 15,000). */
  ttlMs?: number;
  /** How often the row is written and the set read (ms, default ttl / 3; less than the ttl). */
  beatMs?: number;
  /**
   * How often the live set is read (ms, default the lesser of 1 s and beatMs). A row counts as live
   * within ttl − readMs (when that is still more than a beat), so a dead instance is out of everyone's
   * set at most one TTL after its last beat.
   */
  readMs?: number;
  /** A row counts as live this much less again (ms, default 0): what the caller needs to act on a death within the TTL. */
  earlierMs?: number;
  /** Paces the beats (the database's clock decides who is live). */
  clock?: Clock;
  /** Writes this instance holds that the database has not taken (the store's pending writes), told with each beat. */
  pending?: () => number;
  logger?: Logger;
}

export interface Membership {
  readonly id: string;
  /** How much of `earlierMs` the live window could keep (a short TTL keeps less: never within two beats). */
  readonly earlyByMs: number;
  /** Writes this instance's row and reads the live set (resolves after that first beat, also when it failed), then beats every `beatMs`. */
  start(): Promise<void>;
  /** Stops beating and deletes this instance's row (a failure to delete is logged: the row then expires after the TTL). */
  stop(): Promise<void>;
  /** Stops beating without deleting the row, as a killed instance would (for tests): the others drop it after the TTL. */
  halt(): Promise<void>;
  /** The ids seen within the TTL at the last successful read, sorted, with this instance's own while started; [] when stopped. */
  live(): readonly string[];
  /** The rows of the last successful read (this instance's own among them unless the database was down at its start). */
  members(): readonly MemberInfo[];
  /** Calls `listener` with the new live set whenever it changes (not on stop); answers a function that unsubscribes. */
  onChange(listener: (members: readonly string[]) => void): () => void;
  /** A beat now (write the row, read the set), after any beat in flight; never rejects. */
  refresh(): Promise<void>;
  health(): MembershipHealth;
}

/** An id for this process that no other instance shares: `<hostname>-<pid>-<random>`. */
export const newMemberId = (): string => `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;

const sortedIds = (ids: Iterable<string>): string[] => [...new Set(ids)].sort();

/** Creates the registry entry of one instance; nothing happens until `start()`. */
export function createMembership(options: MembershipOptions): Membership {
  const { id, location, logger } = options;
  const clock = options.clock ?? systemClock;
  const ttlMs = options.ttlMs ?? 15_000;
  const beatMs = options.beatMs ?? Math.max(1, Math.floor(ttlMs / 3));
  if (!id) throw new RangeError('a member needs an id');
  if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${ttlMs}`);
  if (!(beatMs > 0 && beatMs < ttlMs)) throw new RangeError(`beatMs must be positive and less than ttlMs (${ttlMs}), got ${beatMs}`);
  const readMs = Math.min(options.readMs ?? Math.min(1_000, beatMs), beatMs);
  if (!(readMs > 0)) throw new RangeError(`readMs must be positive, got ${readMs}`);
  const earlier = readMs + Math.max(0, options.earlierMs ?? 0);
  // Never within two beats: a member one beat late must not drop out. Of `earlierMs`, what fits above that floor is kept (earlyByMs).
  const liveWithinMs = ttlMs - readMs > 2 * beatMs ? Math.max(ttlMs - earlier, 2 * beatMs + 1) : ttlMs - readMs > beatMs ? ttlMs - readMs : ttlMs;
  const earlyByMs = Math.max(0, ttlMs - readMs - liveWithinMs);
  let wroteAt: number | undefined;
  if ((options.url === undefined) === (options.pool === undefined)) throw new RangeError('a membership needs either url or pool');
  const passwords = options.url !== undefined ? passwordsOf(options.url) : [...passwordsOf(options.pool!.options.connectionString ?? ''), ...(typeof options.pool!.options.password === 'string' ? [options.pool!.options.password] : [])];

  let pool: pg.Pool | undefined = options.pool;
  let running = false;
  let timer: TimerHandle | undefined;
  let chain: Promise<void> = Promise.resolve();
  let tableReady = false;
  let joined = false;
  let rows: MemberInfo[] = [];
  let emitted = '[]';
  const listeners = new Set<(members: readonly string[]) => void>();
  let ok = true;
  let episodes = 0;
  let beats = 0;
  let failedBeats = 0;
  let successfulBeats = 0;
  let cause: string | undefined;
  let failingSince = 0;
  let readAt: number | undefined;

  const ownPool = (url: string): pg.Pool => {
    const p = new pg.Pool({
      connectionString: url,
      max: 2,
      connectionTimeoutMillis: Math.min(5_000, ttlMs),
      // A beat that takes longer than the TTL is no beat: this instance counts as gone anyway.
      query_timeout: ttlMs,
      keepAlive: true,
      application_name: 'lookout-members',
    });
    p.on('error', (err) => logger?.debug({ event: 'members_connection_lost', err: { message: err.message } }, 'an idle member-registry connection ended'));
    return p;
  };

  const live = (): string[] => (running ? sortedIds([...rows.map((r) => r.id), id]) : []);

  const publish = (): void => {
    if (!running) return;
    const now = live();
    const key = JSON.stringify(now);
    if (key === emitted) return;
    emitted = key;
    for (const listener of [...listeners]) {
      try {
        listener(now);
      } catch (err) {
        logger?.error({ event: 'members_listener_failed', err }, 'a listener of the member set threw');
      }
    }
  };

  const describe = (err: unknown): { problem: string; database: boolean } => {
    const problem = postgresProblem(err, passwords);
    if (problem !== undefined) return { problem, database: true };
    const message = err instanceof Error ? err.message : String(err);
    return { problem: passwords.reduce((t, p) => t.split(p).join('***'), message.split('\n')[0] ?? message), database: false };
  };

  const failed = (err: unknown): void => {
    failedBeats++;
    if (!ok) return;
    const { problem, database } = describe(err);
    ok = false;
    episodes++;
    cause = problem;
    failingSince = clock.now();
    const line = { event: 'members_failing', member: id, cause: problem };
    const text = 'the member registry cannot be reached: keeping the last known members, retrying every beat';
    if (database) logger?.warn(line, text);
    else logger?.error(line, text);
  };

  const succeeded = (): void => {
    successfulBeats++;
    if (ok) return;
    ok = true;
    logger?.info({ event: 'members_recovered', member: id, cause, failedMs: clock.now() - failingSince }, 'the member registry is reachable again');
    cause = undefined;
  };

  const ensureTable = async (p: pg.Pool): Promise<void> => {
    try {
      await p.query(CREATE_TABLE);
    } catch (err) {
      // Two instances creating it at once: one wins, the other sees a duplicate.
      const code = (err as { code?: unknown }).code;
      if (code !== '23505' && code !== '42P07' && code !== '42710') throw err;
    }
  };

  const beat = async (): Promise<void> => {
    const p = pool;
    if (!running || !p) return;
    beats++;
    try {
      if (!tableReady) {
        await ensureTable(p);
        await p.query(ADD_PENDING);
        tableReady = true;
      }
      // The row is written every beat; the set is read at every tick (every readMs).
      if (!joined || wroteAt === undefined || clock.now() - wroteAt >= beatMs - readMs / 2) {
        await p.query(joined ? BEAT : JOIN, [id, location ?? null, Math.max(0, Math.floor(options.pending?.() ?? 0))]);
        if (!joined || successfulBeats % PRUNE_EVERY === 0) await p.query(PRUNE, [Math.max(PRUNE_AFTER_MS, 4 * ttlMs)]);
        joined = true;
        wroteAt = clock.now();
      }
      const result = await p.query<{ id: string; location: string | null; started_at: Date; seen_at: Date; pending: number }>(READ, [liveWithinMs]);
      if (!running) return;
      rows = result.rows.map((r) => ({ id: r.id, ...(r.location !== null ? { location: r.location } : {}), startedAt: r.started_at, seenAt: r.seen_at, pending: r.pending }));
      readAt = clock.now();
      succeeded();
    } catch (err) {
      if (!running) return;
      failed(err);
    }
    publish();
  };

  /** Runs a beat after the ones queued; the chain never rejects. */
  const enqueue = (): Promise<void> => {
    const run = chain.then(beat).catch((err: unknown) => logger?.error({ event: 'members_beat_failed', err }, 'a member beat failed'));
    chain = run;
    return run;
  };

  const schedule = (): void => {
    if (!running || timer !== undefined) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      void enqueue().then(schedule);
    }, readMs);
  };

  const halt = async (): Promise<void> => {
    running = false;
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    await chain;
  };

  const release = async (): Promise<void> => {
    if (options.url !== undefined && pool) {
      const p = pool;
      pool = undefined;
      await p.end().catch(() => undefined);
    }
  };

  return {
    id,
    earlyByMs,
    async start() {
      if (running) return chain;
      if (options.url !== undefined) pool = ownPool(options.url);
      running = true;
      joined = false;
      wroteAt = undefined;
      rows = [];
      emitted = '[]';
      const first = enqueue();
      await first;
      schedule();
    },
    async stop() {
      const wasRunning = running;
      await halt();
      if (wasRunning && pool) {
        try {
          await pool.query(LEAVE, [id]);
        } catch (err) {
          logger?.warn({ event: 'members_leave_failed', member: id, cause: describe(err).problem }, 'could not delete this instance from the member registry: the others drop it after the TTL');
        }
      }
      rows = [];
      await release();
    },
    async halt() {
      await halt();
      rows = [];
      await release();
    },
    live,
    members: () => rows,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    refresh: () => enqueue(),
    health: () => ({ ok, episodes, beats, failedBeats, ...(cause !== undefined ? { cause } : {}), ...(readAt !== undefined ? { readAt } : {}) }),
  };
}
