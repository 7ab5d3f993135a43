import { describe, expect, it } from 'vitest';
import { createSelfStats } from '../../src/engine/self-stats.js';
import { FakeClock } from '../support/fake-clock.js';

describe('self stats', () => {
  it('counts checks of the last minute, lateness of the last 5 minutes, Telegram errors of the last hour', async () => {
    const clock = new FakeClock(Date.UTC(2026, 11, 1));
    const stats = createSelfStats(clock);
    expect(stats.snapshot()).toEqual({ checksLastMinute: 0, telegramErrorsLastHour: 0 });
    for (let i = 0; i < 100; i++) stats.observe({ latenessMs: i < 95 ? 5 : 200, manual: false });
    stats.observe({ latenessMs: 0, manual: true });
    stats.telegramError();
    let s = stats.snapshot();
    // The manual check counts as a check, not in the lateness.
    expect(s.checksLastMinute).toBe(101);
    expect(s.latenessP50Ms).toBeCloseTo(5, 0);
    expect(s.latenessP95Ms).toBeLessThan(10);
    expect(s.telegramErrorsLastHour).toBe(1);
    await clock.advance(2 * 60_000);
    s = stats.snapshot();
    expect(s.checksLastMinute).toBe(0);
    expect(s.latenessP50Ms).toBeCloseTo(5, 0);
    await clock.advance(4 * 60_000);
    s = stats.snapshot();
    expect(s.latenessP50Ms).toBeUndefined();
    await clock.advance(60 * 60_000);
    expect(stats.snapshot().telegramErrorsLastHour).toBe(0);
  });
});
