import type { CheckResult } from '../domain/check.js';
import type { Target } from '../domain/target.js';
import type { Clock } from '../lib/clock.js';
import { escapeHtml } from '../lib/html.js';
import type { Logger } from '../lib/logger.js';
import type { KeyvStore } from '../store/keyv.js';
import { formatTime } from './format.js';
import type { Outbox } from './outbox.js';

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
  outbox: Outbox;
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
 * left and again only after it recovered above 20%. The token itself is never shown.
 */
export function createWarnings(deps: WarningsDeps): Warnings {
  const thresholds = [...(deps.thresholdsDays ?? [14, 7, 3, 1])].sort((a, b) => b - a);
  const said = deps.store.namespace<number>('warnings');
  const pending = new Set<Promise<void>>();
  const send = (t: Target, text: string): Promise<unknown> => deps.outbox.enqueue(t.chatId, t.threadId, { op: 'send', text });

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
    await said.set(key, crossed);
    const label = what === 'cert' ? 'TLS certificate' : 'API token (JWT in the Authorization header)';
    const when = left <= 0 ? `expired on ${formatTime(expiresAt)}` : `expires in ${Math.ceil(left)} day${Math.ceil(left) === 1 ? '' : 's'} (${formatTime(expiresAt)})`;
    await send(t, `⚠️ The ${label} of <b>${escapeHtml(t.name)}</b> ${when}.`);
  }

  async function rateLimit(t: Target, remaining: number, limit: number): Promise<void> {
    if (limit <= 0) return;
    const key = `rate:${t.id}`;
    const share = remaining / limit;
    const warned = (await said.get(key)) !== undefined;
    if (share < RATE_WARN && !warned) {
      await said.set(key, share);
      await send(t, `⚠️ <b>${escapeHtml(t.name)}</b> is close to its rate limit: ${remaining} of ${limit} requests left.`);
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
