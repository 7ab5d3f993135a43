import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWarnings, type Warnings } from '../../src/alerts/warnings.js';
import { formatNotice } from '../../src/alerts/channels/telegram/render.js';
import type { Tell } from '../../src/alerts/policy.js';
import type { CheckResult, Observations } from '../../src/domain/check.js';
import { openStore, type KeyvStore } from '../../src/store/keyv.js';
import { FakeClock } from '../support/fake-clock.js';
import { httpTarget } from '../support/target-server.js';

const DAY = 86_400_000;
const target = httpTarget({ id: '-100/api', chatId: -100, name: 'api', threadId: 3 });

let store: KeyvStore;
let clock: FakeClock;
let sent: Array<{ chatId: number; threadId?: number; text: string }>;
let warnings: Warnings;
let recorder: Tell;

beforeEach(async () => {
  store = await openStore({ kind: 'memory' });
  clock = new FakeClock();
  sent = [];
  recorder = async (n) => {
    sent.push({ chatId: n.chatId, ...(n.threadId !== undefined ? { threadId: n.threadId } : {}), text: formatNotice(n)! });
  };
  warnings = createWarnings({ store, tell: recorder, clock });
});
afterEach(async () => store.close());

const seen = async (observations: Observations): Promise<string[]> => {
  const result: CheckResult = { ok: true, at: clock.now(), latencyMs: 10, status: 200, observations };
  const before = sent.length;
  warnings.observe(target, result);
  await warnings.settle();
  return sent.slice(before).map((s) => s.text);
};

describe('certificate expiry', () => {
  it('warns once per threshold crossed, then once expired, and again after renewal', async () => {
    expect(await seen({ certExpiresAt: clock.now() + 30 * DAY })).toEqual([]);
    expect(await seen({ certExpiresAt: clock.now() + 13.5 * DAY })).toEqual([
      '⚠️ The TLS certificate of <b>api</b> expires in 14 days (2026-12-07 00:00:00 UTC).',
    ]);
    expect(await seen({ certExpiresAt: clock.now() + 13 * DAY })).toEqual([]);
    expect(await seen({ certExpiresAt: clock.now() + 2 * DAY })).toHaveLength(1); // 3-day threshold
    expect(await seen({ certExpiresAt: clock.now() + 2 * DAY })).toEqual([]);
    expect(await seen({ certExpiresAt: clock.now() + 0.5 * DAY })).toHaveLength(1); // 1-day threshold
    const expired = await seen({ certExpiresAt: clock.now() - DAY });
    expect(expired[0]).toContain('expired on');
    expect(await seen({ certExpiresAt: clock.now() - DAY })).toEqual([]);
    // Renewed: quiet, and the next approach warns again.
    expect(await seen({ certExpiresAt: clock.now() + 90 * DAY })).toEqual([]);
    expect(await seen({ certExpiresAt: clock.now() + 6 * DAY })).toHaveLength(1);
    expect(sent.every((s) => s.chatId === -100 && s.threadId === 3)).toBe(true);
  });

  it('jumps straight to the threshold it is already under', async () => {
    expect(await seen({ certExpiresAt: clock.now() + 2 * DAY })).toEqual(['⚠️ The TLS certificate of <b>api</b> expires in 2 days (2026-11-25 12:00:00 UTC).']);
    expect(await seen({ certExpiresAt: clock.now() + 2 * DAY - 1 })).toEqual([]);
  });
});

describe('token expiry', () => {
  it('warns without ever showing the token', async () => {
    const [text] = await seen({ tokenExpiresAt: clock.now() + 5 * DAY });
    expect(text).toBe('⚠️ The API token (JWT in the Authorization header) of <b>api</b> expires in 5 days (2026-11-28 12:00:00 UTC).');
  });
});

describe('rate limits', () => {
  it('warns under 10% left, once, and re-arms above 20%', async () => {
    expect(await seen({ rateLimit: { remaining: 50, limit: 100 } })).toEqual([]);
    expect(await seen({ rateLimit: { remaining: 9, limit: 100 } })).toEqual(['⚠️ <b>api</b> is close to its rate limit: 9 of 100 requests left.']);
    expect(await seen({ rateLimit: { remaining: 3, limit: 100 } })).toEqual([]);
    expect(await seen({ rateLimit: { remaining: 15, limit: 100 } })).toEqual([]);
    expect(await seen({ rateLimit: { remaining: 5, limit: 100 } })).toEqual([]);
    expect(await seen({ rateLimit: { remaining: 25, limit: 100 } })).toEqual([]);
    expect(await seen({ rateLimit: { remaining: 1, limit: 100 } })).toHaveLength(1);
  });

  it('keeps its memory across a restart (same store)', async () => {
    await seen({ rateLimit: { remaining: 1, limit: 100 } });
    const again = createWarnings({ store, tell: recorder, clock });
    const count = sent.length;
    again.observe(target, { ok: true, at: 0, latencyMs: 1, observations: { rateLimit: { remaining: 1, limit: 100 } } });
    await again.settle();
    expect(sent.length).toBe(count);
  });
});
