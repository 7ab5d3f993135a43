/** A token bucket per key: `perMinute` requests a minute, bursts up to `perMinute`. */
export interface RateLimiter {
  /** Takes one request; undefined when allowed, else the seconds until one is. */
  take(key: string): number | undefined;
}

/** Creates the limiter; `now` is the clock (ms). */
export function createRateLimiter(perMinute: number, now: () => number): RateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  const ratePerMs = perMinute / 60_000;
  return {
    take(key) {
      const t = now();
      const b = buckets.get(key) ?? { tokens: perMinute, at: t };
      b.tokens = Math.min(perMinute, b.tokens + (t - b.at) * ratePerMs);
      b.at = t;
      buckets.set(key, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return undefined;
      }
      return Math.max(1, Math.ceil((1 - b.tokens) / ratePerMs / 1_000));
    },
  };
}
