import { describe, expect, it } from 'vitest';
import { statsFor, statsForPlaces } from '../../src/reports/period.js';
import { createHistory } from '../../src/store/history.js';
import { openStore } from '../../src/store/keyv.js';
import { FakeClock } from '../support/fake-clock.js';

// A target checked from several places: each place's checks are its own series (`<id>@<place>`), the
// target's timeline is the verdict's. /report and /status count uptime from the verdict and latency over
// every place; /history draws a line per place.

const T0 = Date.UTC(2026, 10, 1, 0, 0, 0);
const MIN = 60_000;

describe('stats of a target checked from several places', () => {
  it('uptime is the verdict\'s, latency is over every place\'s checks, and each place has its own series', async () => {
    const clock = new FakeClock(T0 + 60 * MIN);
    const store = await openStore({ kind: 'memory' });
    const history = createHistory({ store, clock, settings: { flushMs: 60_000 } });
    // The verdict: UP, then DOWN for the last 6 of 60 minutes (10 % down).
    history.change('1/api', T0, 'UP');
    history.change('1/api', T0 + 54 * MIN, 'DOWN');
    // fra answers in 10 ms, nyc in 100 ms (and sees it DOWN on its own for longer: not the verdict).
    history.change('1/api@nyc', T0, 'UP');
    history.change('1/api@nyc', T0 + 30 * MIN, 'DOWN');
    for (let t = T0; t < T0 + 60 * MIN; t += MIN) {
      history.record('1/api@fra', { ok: true, latencyMs: 10, at: t });
      history.record('1/api@nyc', { ok: true, latencyMs: 100, at: t });
    }
    await history.flush();
    const now = T0 + 60 * MIN;
    const both = await statsFor(history, '1/api', '24h', now, 0, ['fra', 'nyc']);
    expect(both.availability.uptimePct).toBeCloseTo(90, 0);
    expect(both.summary.checks).toBe(120);
    expect(both.p50).toBeGreaterThanOrEqual(10);
    expect(both.p95).toBeGreaterThanOrEqual(90);
    // Without the places, the target's own id has no checks at all.
    expect((await statsFor(history, '1/api', '24h', now)).summary.checks).toBe(0);
    const drawn = await statsForPlaces(history, '1/api', ['fra', 'nyc'], '24h', now);
    expect(drawn.places.map((p) => p.label)).toEqual(['fra', 'nyc']);
    expect(drawn.places[0]!.stats.p95).toBeLessThan(20);
    expect(drawn.places[1]!.stats.p50).toBeGreaterThan(90);
    expect(drawn.stats.availability.uptimePct).toBeCloseTo(90, 0);
  });
});
