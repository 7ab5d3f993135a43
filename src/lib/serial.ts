/** Runs work one after the other per key; different keys run side by side. */
export interface Serial {
  /** Queues `work` behind the key's earlier work (whatever became of it) and resolves with its result. */
  run<T>(key: string, work: () => Promise<T>): Promise<T>;
  /** Keys with work queued or running. */
  readonly size: number;
  /** Whether the key has work queued or running. */
  busy(key: string): boolean;
  /** Resolves when every queued work has finished. */
  drain(): Promise<void>;
}

/** A per-key serial queue (a promise chain per key, dropped when it runs dry). */
export function createSerial(): Serial {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(key: string, work: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      const next = previous.then(work, work);
      tails.set(key, next);
      void next.then(
        () => tails.get(key) === next && tails.delete(key),
        () => tails.get(key) === next && tails.delete(key),
      );
      return next;
    },
    get size() {
      return tails.size;
    },
    busy: (key) => tails.has(key),
    async drain() {
      while (tails.size > 0) await Promise.allSettled([...tails.values()]);
    },
  };
}
