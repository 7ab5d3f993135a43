import type { Context } from 'grammy';
import { describe, expect, it } from 'vitest';
import { createAccess } from '../../../src/bot/middleware/access.js';
import { FakeClock } from '../../support/fake-clock.js';

/** A group message from `userId`, with a getChatMember that counts its calls. */
function contextOf(userId: number, lookups: { n: number }): Context {
  return {
    chat: { id: -100, type: 'supergroup' },
    from: { id: userId, is_bot: false, first_name: 'u' },
    msg: {},
    api: {
      getChatMember: async () => {
        lookups.n++;
        return { status: userId % 2 === 0 ? 'administrator' : 'member' };
      },
    },
  } as unknown as Context;
}

describe('the administrator cache', () => {
  it('holds at most cacheMax lookups, dropping expired ones first, then the oldest', async () => {
    const clock = new FakeClock();
    const access = createAccess({ allowedChatIds: [-100], adminUserIds: [], clock, cacheMax: 100, told: { has: async () => false, add: async () => undefined } });
    const lookups = { n: 0 };
    for (let user = 1; user <= 5_000; user++) await access.isAdmin(contextOf(user, lookups));
    expect(access.cached()).toBeLessThanOrEqual(100);
    expect(lookups.n).toBe(5_000);
    // The newest is still trusted (no second lookup); the oldest was evicted (looked up again).
    expect(await access.isAdmin(contextOf(5_000, lookups))).toBe(true);
    expect(lookups.n).toBe(5_000);
    await access.isAdmin(contextOf(1, lookups));
    expect(lookups.n).toBe(5_001);
    // After a minute every entry has expired: they make room before anything fresh is evicted.
    await clock.advance(61_000);
    await access.isAdmin(contextOf(9_999, lookups));
    expect(access.cached()).toBe(1);
  });
});
