import { Dispatcher, errors, Pool } from 'undici';

/** How long a pool no check used is kept before the sweep closes it. */
export const ORIGIN_IDLE_MS = 5 * 60_000;
/** How often the sweep looks for idle pools (the timer does not keep the process alive). */
const SWEEP_EVERY_MS = 60_000;

/** Settings of `OriginPools`; `pool` is what each origin's `Pool` is made with. */
export interface OriginPoolsOptions {
  pool: Pool.Options;
  /** A pool unused this long is closed (default `ORIGIN_IDLE_MS`). */
  idleMs?: number;
  /** The clock of the idle sweep (tests). */
  now?: () => number;
}

interface Entry {
  pool: Pool;
  lastUsed: number;
}

/**
 * One undici `Pool` per origin, kept between checks.
 *
 * Why not undici's `Agent`: it drops an origin's pool the moment the pool's last connection closes. A check
 * opens a fresh connection and closes it after the answer (`reset: true`, so the latency is what a new client
 * sees), so with `Agent` every check built a Pool and a Client (deep-cloning their options) and destroyed them
 * (a ClientDestroyedError with its stack) — work a check does not need. A kept pool's Client simply connects
 * again for the next check. A pool no check used for `idleMs` is closed by a sweep, so origins checked once
 * (or removed) do not keep pools; the sweep's timer is unref'd.
 */
export class OriginPools extends Dispatcher {
  readonly #pools = new Map<string, Entry>();
  readonly #options: Pool.Options;
  readonly #idleMs: number;
  readonly #now: () => number;
  #sweeper: NodeJS.Timeout | undefined;
  #closed = false;
  /** How many pools were made so far (tests and the benchmark read it). */
  created = 0;

  constructor(options: OriginPoolsOptions) {
    super();
    this.#options = options.pool;
    this.#idleMs = options.idleMs ?? ORIGIN_IDLE_MS;
    this.#now = options.now ?? Date.now;
  }

  /** How many origins have a pool now. */
  get size(): number {
    return this.#pools.size;
  }

  /** Each origin's pool figures (connected, free, running…), as undici's `Agent.stats`. */
  get stats(): Record<string, Pool['stats']> {
    const out: Record<string, Pool['stats']> = {};
    for (const [key, entry] of this.#pools) out[key] = entry.pool.stats;
    return out;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    if (this.#closed) {
      const err = new errors.ClientClosedError();
      if (typeof handler.onError !== 'function') throw err;
      handler.onError(err);
      return false;
    }
    const origin = options.origin;
    if (origin === undefined) throw new errors.InvalidArgumentError('opts.origin must be a non-empty string or URL.');
    const key = typeof origin === 'string' ? origin : origin.origin;
    let entry = this.#pools.get(key);
    if (entry === undefined) {
      const pool = new Pool(key, this.#options)
        .on('connect', (url, targets) => this.emit('connect', url, [this, ...targets]))
        .on('disconnect', (url, targets, err) => this.emit('disconnect', url, [this, ...targets], err))
        .on('connectionError', (url, targets, err) => this.emit('connectionError', url, [this, ...targets], err));
      entry = { pool, lastUsed: 0 };
      this.#pools.set(key, entry);
      this.created += 1;
      this.#sweeper ??= setInterval(() => this.sweep(), SWEEP_EVERY_MS).unref();
    }
    entry.lastUsed = this.#now();
    return entry.pool.dispatch(options, handler);
  }

  /** Closes (gracefully: running checks finish) every pool unused for `idleMs`. */
  sweep(): void {
    const before = this.#now() - this.#idleMs;
    for (const [key, entry] of this.#pools) {
      if (entry.lastUsed > before) continue;
      this.#pools.delete(key);
      entry.pool.close().catch(() => undefined);
    }
    if (this.#pools.size === 0 && this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  #all(each: (pool: Pool) => Promise<void>): Promise<void> {
    this.#closed = true;
    if (this.#sweeper !== undefined) clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    const pools = [...this.#pools.values()].map((e) => e.pool);
    this.#pools.clear();
    return Promise.all(pools.map(each)).then(() => undefined);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    const done = this.#all((pool) => pool.close());
    if (callback === undefined) return done;
    void done.then(callback, callback);
  }

  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(errOrCallback?: Error | null | (() => void), callback?: () => void): Promise<void> | void {
    const err = typeof errOrCallback === 'function' ? null : (errOrCallback ?? null);
    const cb = typeof errOrCallback === 'function' ? errOrCallback : callback;
    const done = this.#all((pool) => pool.destroy(err));
    if (cb === undefined) return done;
    void done.then(cb, cb);
  }
}
