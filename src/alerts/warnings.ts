import type { CheckResult } from '../domain/check.js';
import type { WarningFacts } from '../domain/notification.js';
import { targetAddress, type Target } from '../kinds/index.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { KeyvStore } from '../store/keyv.js';
import type { Tell } from './policy.js';

/** Warnings before things break: certificate and token expiry, a rate limit running out. */
export interface Warnings {
  /** Looks at one check's observations (cheap when there are none). */
  observe(target: Target, result: CheckResult): void;
  /** Waits for warnings being queued (tests, shutdown). */
  settle(): Promise<void>;
}

/** What warnings need; `thresholdsDays` is `EXPIRY_WARN_DAYS` (default 14, 7, 3, 1). */
export interface WarningsDeps {
  store: KeyvStore;
  tell: Tell;
  clock: Clock;
  thresholdsDays?: readonly number[];
  logger?: Logger;
}

const DAY = 86_400_000;
/** Warn when less than this share of the rate limit is left; re-arm above the second. */
const RATE_WARN = 0.1;
const RATE_REARM = 0.2;

/**
 * Creates the warnings. Each expiry warns once per threshold it crosses (14, 7, 3, 1 days, then once
 * expired), and starts over when the certificate or token is renewed. A rate limit warns once under 10%
 * left and again only after it recovered above 20%. The token itself is never shown. A warning is queued
 * before it is noted as given: a crash in between gives it again at the next check (the same
 * notification id, so it is queued once).
 */
export function createWarnings(deps: WarningsDeps): Warnings {
  const thresholds = [...(deps.thresholdsDays ?? [14, 7, 3, 1])].sort((a, b) => b - a);
  const said = deps.store.namespace<number>('warnings');
  const pending = new Set<Promise<void>>();
  const send = (t: Target, warning: WarningFacts, id: string): Promise<void> =>
    deps.tell({
      kind: 'warning',
      target: { id: t.id, name: t.name, address: targetAddress(t) },
      warning,
      id,
      at: deps.clock.now(),
      chatId: t.chatId,
      ...(t.threadId !== undefined ? { threadId: t.threadId } : {}),
      targetId: t.id,
    });

  async function expiry(t: Target, what: 'cert' | 'token', expiresAt: number): Promise<void> {
    const key = `${what}:${t.id}`;
    const left = (expiresAt - deps.clock.now()) / DAY;
    const crossed = left <= 0 ? 0 : thresholds.filter((d) => left <= d).at(-1);
    const last = await said.get(key);
    if (crossed === undefined) {
      if (last !== undefined) await said.delete(key); // renewed: warn again next time
      return;
    }
    if (last !== undefined && last <= crossed) return;
    await send(t, { what, expiresAt, daysLeft: left <= 0 ? 0 : Math.ceil(left) }, `warn:${key}:${expiresAt}:${crossed}`);
    await said.set(key, crossed);
  }

  async function rateLimit(t: Target, remaining: number, limit: number): Promise<void> {
    if (limit <= 0) return;
    const key = `rate:${t.id}`;
    const share = remaining / limit;
    const warned = (await said.get(key)) !== undefined;
    if (share < RATE_WARN && !warned) {
      await send(t, { what: 'rate', remaining, limit }, `warn:${key}:${deps.clock.now()}`);
      await said.set(key, share);
    } else if (share >= RATE_REARM && warned) {
      await said.delete(key);
    }
  }

  return {
    observe(target, result) {
      const o = result.observations;
      if (!o) return;
      const work = (async () => {
        if (o.certExpiresAt !== undefined) await expiry(target, 'cert', o.certExpiresAt);
        if (o.tokenExpiresAt !== undefined) await expiry(target, 'token', o.tokenExpiresAt);
        if (o.rateLimit) await rateLimit(target, o.rateLimit.remaining, o.rateLimit.limit);
      })().catch((err: unknown) => deps.logger?.error({ err, target: target.id, event: 'warning_failed' }, 'could not queue a warning'));
      pending.add(work);
      void work.finally(() => pending.delete(work));
    },
    async settle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
