import { formatDuration } from '../domain/duration.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { describeFault, isStorageFault } from './faults.js';
import type { RowAdapter } from './rows.js';

/** How the store is doing, for /health, /metrics, /healthz and whoever must tell the chat. */
export interface StoreHealth {
  /** False from the first failed write (or a lost database file) until every waiting write is on disk. */
  ok: boolean;
  /** When the current failure began (epoch ms), while not ok. */
  since?: number;
  /** The failure in words (`the disk is full`), while not ok. */
  cause?: string;
  /** Writes kept in memory and not on disk yet (one per key: a later write replaces an earlier one). */
  pendingWrites: number;
  /** Write attempts that failed because of the storage since start (first tries and retries). */
  failedWrites: number;
  /** Failure episodes since start. */
  episodes: number;
}

/** The retry delays of waiting writes (ms): from `base`, doubling up to `max`. */
export interface RetryBackoff {
  base: number;
  max: number;
}

/** The default {@link RetryBackoff}: 250 ms doubling to 10 s. */
export const DEFAULT_RETRY: RetryBackoff = { base: 250, max: 10_000 };

/** A namespace's connection to the backend right now, or a promise to wait on while it is being reopened (a SQLite file being recovered). */
export type Connection = { adapter: RowAdapter } | { wait: Promise<void> };

/** One write of a key: its new value (serialised by Keyv), or its removal. */
export type WriteOp = { kind: 'set'; value: unknown } | { kind: 'delete' };

/** A namespace of the layer: its writes wait apart from the others' (keys are compared per namespace). */
export interface Space {
  readonly id: number;
  readonly connection: () => Connection;
}

/** The pending-write layer: what namespace adapters call, and the health episodes it reports. */
export interface WriteLayer {
  /** Registers a namespace over the connection `connection()` gives. */
  space(connection: () => Connection): Space;
  /** Writes now when the store is healthy (resolves once on disk); else keeps the write waiting and resolves at once. */
  write(space: Space, key: string, op: WriteOp): Promise<boolean>;
  /**
   * Sets many keys in one statement (one transaction) when the store is healthy; a refused batch waits key
   * by key like single writes; while writes wait, each joins them as a single write would.
   */
  writeMany(space: Space, entries: ReadonlyArray<{ key: string; value: unknown }>): Promise<void>;
  /** Runs a read against the namespace's connection (waits while the file is being reopened). */
  read<T>(space: Space, work: (adapter: RowAdapter) => Promise<T>): Promise<T>;
  /** The write of `key` waiting in `space`, if any. */
  pending(space: Space, key: string): WriteOp | undefined;
  /** The writes waiting in `space` for keys that start with `prefix`, by key. */
  pendingUnder(space: Space, prefix: string): Map<string, WriteOp>;
  /** Drops the writes waiting in `space` (the namespace is being cleared). */
  forget(space: Space): void;
  health(): StoreHealth;
  /** Calls `listener` once when a failure episode starts and once when it ends; returns the unsubscribe. */
  onHealth(listener: (health: StoreHealth) => void): () => void;
  /** Stops writing to disk (the file is being recovered): writes wait in memory; starts an episode without logging it. */
  hold(cause: string): void;
  /** Writes go to disk again; the waiting ones are retried at once. */
  release(): void;
  /** Resolves when no read or write is running against the disk. */
  idle(): Promise<void>;
  /** One more attempt for every waiting write now (at close); resolves with how many are still waiting. */
  flush(): Promise<number>;
  /** No more retries; later writes go straight to disk and fail as they fail. */
  stop(): void;
}

interface Waiting {
  space: Space;
  key: string;
  op: WriteOp;
  seq: number;
}

/**
 * Creates the pending-write layer. A write the storage refuses (full, read-only, I/O error: see
 * `isStorageFault`) is kept in memory (the latest per namespace and key, in the order of the writes)
 * and the call resolves, so the caller goes on from memory; the waiting writes are retried in that order
 * with backoff until they land. While any wait, new writes join them (so that they land in order and
 * once) and reads of their keys answer from memory. When nothing waits, a write resolves only once it is
 * on disk. Other errors are bugs and throw.
 */
export function createWriteLayer(deps: { file: string; clock: Clock; logger?: Logger; retry?: RetryBackoff }): WriteLayer {
  const { file, clock, logger } = deps;
  const retry = deps.retry ?? DEFAULT_RETRY;
  /** Waiting writes by namespace and key, in the order of their latest write. */
  const waiting = new Map<string, Waiting>();
  /** The newest write issued per namespace and key while one is on its way, so an older one never wins. */
  const latest = new Map<string, number>();
  const listeners = new Set<(health: StoreHealth) => void>();
  const idleWaiters: Array<() => void> = [];
  let spaces = 0;
  let seqNo = 0;
  let inFlight = 0;
  let ok = true;
  let since: number | undefined;
  let cause: string | undefined;
  let failedWrites = 0;
  let episodes = 0;
  let retriedInEpisode = 0;
  let held = false;
  let stopped = false;
  let draining: Promise<void> | undefined;
  let delay = retry.base;
  let timer: TimerHandle | undefined;

  const health = (): StoreHealth => ({
    ok,
    ...(since !== undefined ? { since } : {}),
    ...(cause !== undefined ? { cause } : {}),
    pendingWrites: waiting.size,
    failedWrites,
    episodes,
  });

  const emit = (): void => {
    const snapshot = health();
    for (const listener of listeners) {
      try {
        listener(snapshot);
      } catch (err) {
        logger?.error({ err, event: 'store_listener_failed' }, 'a store health listener failed');
      }
    }
  };

  const startEpisode = (why: string, log: { err: unknown } | undefined): void => {
    cause = why;
    if (!ok) return;
    ok = false;
    since = clock.now();
    episodes++;
    retriedInEpisode = 0;
    if (log) logger?.error({ err: log.err, event: 'store_failing', file, cause: why }, `cannot save to ${file}: ${why}; writes wait in memory and are retried`);
    emit();
  };

  const endEpisodeWhenDone = (): void => {
    if (ok || held || draining || waiting.size > 0) return;
    const durationMs = clock.now() - (since ?? clock.now());
    logger?.info(
      { event: 'store_recovered', file, durationMs, retriedWrites: retriedInEpisode, cause },
      `saving to ${file} again after ${formatDuration(durationMs)} (${cause ?? 'failure'}): ${retriedInEpisode} waiting writes saved`,
    );
    ok = true;
    since = undefined;
    cause = undefined;
    delay = retry.base;
    emit();
  };

  const clearTimer = (): void => {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
  };

  /** Runs `work` against the namespace's adapter, counted as in flight (never while the file is closed). */
  const onDisk = async <T>(space: Space, work: (adapter: RowAdapter) => Promise<T>): Promise<T> => {
    for (;;) {
      const c = space.connection();
      if ('wait' in c) {
        await c.wait;
        continue;
      }
      inFlight++;
      try {
        return await work(c.adapter);
      } finally {
        if (--inFlight === 0) for (const w of idleWaiters.splice(0)) w();
      }
    }
  };

  const apply = (w: Pick<Waiting, 'space' | 'key' | 'op'>): Promise<boolean> =>
    onDisk(w.space, async (adapter) => {
      if (w.op.kind === 'delete') return adapter.delete(w.key);
      await adapter.set(w.key, w.op.value);
      return true;
    });

  const entryOf = (space: Space, key: string): string => `${space.id}\u0000${key}`;

  const scheduleRetry = (): void => {
    if (timer !== undefined || draining || held || stopped) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      void drain();
    }, delay);
    delay = Math.min(delay * 2, retry.max);
  };

  /** Writes the waiting writes in order until one fails or none is left. */
  const drainOnce = async (): Promise<void> => {
    while (!held) {
      const first = waiting.values().next().value;
      if (!first) return;
      try {
        await apply(first);
      } catch (err) {
        if (isStorageFault(err)) {
          failedWrites++;
          cause = describeFault(err, file);
          return;
        }
        logger?.error({ err, event: 'store_write_dropped', file }, 'a waiting write cannot be saved at all: dropped');
      }
      const entry = entryOf(first.space, first.key);
      if (waiting.get(entry) === first) waiting.delete(entry);
      if (latest.get(entry) === first.seq) latest.delete(entry);
      // Progress: the storage takes writes again, so a write still refused is retried soon.
      delay = retry.base;
    }
  };

  /** One drain at a time; after it, the next try is scheduled (still waiting) or the episode ends (none left). */
  const drain = (): Promise<void> =>
    (draining ??= drainOnce().finally(() => {
      draining = undefined;
      if (waiting.size > 0) scheduleRetry();
      else endEpisodeWhenDone();
    }));

  /** Whether the key holds a value on disk now; true when the disk cannot tell at once (a delete's answer only). */
  const onDiskNow = async (space: Space, key: string): Promise<boolean> => {
    const c = space.connection();
    return 'adapter' in c ? c.adapter.has(key).catch(() => true) : true;
  };

  const defer = (w: Waiting): Promise<boolean> => {
    const entry = entryOf(w.space, w.key);
    const before = waiting.get(entry);
    // A newer write of the key (issued while this one was on its way) carries the value; this one is dropped.
    if (latest.get(entry) === w.seq) {
      waiting.delete(entry);
      waiting.set(entry, w);
      retriedInEpisode++;
    }
    scheduleRetry();
    if (w.op.kind === 'set') return Promise.resolve(true);
    return before ? Promise.resolve(before.op.kind === 'set') : onDiskNow(w.space, w.key);
  };

  /** A write the storage refused (a fault, not a bug): counted and the episode started; a bug runs `done` and is the caller's to throw. */
  const refusedByStorage = (err: unknown, done: () => void): boolean => {
    if (!isStorageFault(err)) {
      done();
      return false;
    }
    failedWrites++;
    startEpisode(describeFault(err, file), { err });
    return true;
  };

  const write = async (space: Space, key: string, op: WriteOp): Promise<boolean> => {
    const entry = entryOf(space, key);
    const seq = ++seqNo;
    latest.set(entry, seq);
    const done = (): void => {
      if (latest.get(entry) === seq) latest.delete(entry);
    };
    if (stopped) {
      try {
        return await apply({ space, key, op });
      } finally {
        done();
      }
    }
    if (!ok || held) return defer({ space, key, op, seq });
    try {
      const result = await apply({ space, key, op });
      done();
      return result;
    } catch (err) {
      if (!refusedByStorage(err, done)) throw err;
      return defer({ space, key, op, seq });
    }
  };

  const writeMany = async (space: Space, entries: ReadonlyArray<{ key: string; value: unknown }>): Promise<void> => {
    // The last value of a key given twice wins, as two single writes would have it.
    const byKey = new Map(entries.map((e) => [e.key, e.value]));
    const strings = [...byKey].every(([, v]) => typeof v === 'string');
    if (byKey.size < 2 || !strings || stopped || !ok || held) {
      await Promise.all([...byKey].map(([key, value]) => write(space, key, { kind: 'set', value })));
      return;
    }
    const seqs = [...byKey.keys()].map((key) => {
      const seq = ++seqNo;
      latest.set(entryOf(space, key), seq);
      return { key, seq };
    });
    const done = (): void => {
      for (const { key, seq } of seqs) if (latest.get(entryOf(space, key)) === seq) latest.delete(entryOf(space, key));
    };
    try {
      await onDisk(space, (adapter) => adapter.setMany([...byKey].map(([key, value]) => ({ key, value: value as string }))));
      done();
    } catch (err) {
      if (!refusedByStorage(err, done)) throw err;
      await Promise.all(seqs.map(({ key, seq }) => defer({ space, key, op: { kind: 'set', value: byKey.get(key) }, seq })));
    }
  };

  return {
    space: (connection) => ({ id: ++spaces, connection }),
    write,
    writeMany,
    read: onDisk,
    pending: (space, key) => waiting.get(entryOf(space, key))?.op,
    pendingUnder(space, prefix) {
      const mine = new Map<string, WriteOp>();
      for (const w of waiting.values()) if (w.space === space && w.key.startsWith(prefix)) mine.set(w.key, w.op);
      return mine;
    },
    forget(space) {
      for (const [entry, w] of waiting) {
        if (w.space !== space) continue;
        waiting.delete(entry);
        latest.delete(entry);
      }
    },
    health,
    onHealth(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    hold(why) {
      held = true;
      clearTimer();
      startEpisode(why, undefined);
    },
    release() {
      held = false;
      delay = retry.base;
      clearTimer();
      void drain();
    },
    idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve))),
    async flush() {
      held = false;
      clearTimer();
      // A drain already running (a retry) finishes first; then one more pass for what it left.
      await draining;
      await drain();
      return waiting.size;
    },
    stop() {
      stopped = true;
      clearTimer();
    },
  };
}
