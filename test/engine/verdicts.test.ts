import { describe, expect, it } from 'vitest';
import type { Quorum } from '../../src/domain/locations.js';
import { createVerdicts } from '../../src/engine/verdicts.js';

const T = '1/api';

function rig(live: string[], quorum?: Quorum) {
  const state = { live, quorum };
  const verdicts = createVerdicts({ quorum: () => state.quorum, locations: () => state.live });
  return { state, verdicts };
}

describe('verdicts over several locations', () => {
  it('one failing of three is a partial outage; two are DOWN, named with their reasons; all back is UP', () => {
    const { verdicts } = rig(['fra', 'nyc', 'sgp']);
    expect(verdicts.observe(T, { location: 'fra', state: 'UP', latencyMs: 12, since: 1 })?.to).toBe('UP');
    expect(verdicts.observe(T, { location: 'nyc', state: 'UP', latencyMs: 80, since: 1 })).toBeUndefined();
    expect(verdicts.observe(T, { location: 'sgp', state: 'UP', latencyMs: 84, since: 1 })).toBeUndefined();
    const partial = verdicts.observe(T, { location: 'nyc', state: 'DOWN', reason: 'connection refused', since: 2 });
    expect(partial).toMatchObject({ from: 'UP', to: 'DEGRADED' });
    const down = verdicts.observe(T, { location: 'fra', state: 'DOWN', reason: 'timeout after 10s', since: 3 });
    expect(down).toMatchObject({ from: 'DEGRADED', to: 'DOWN' });
    expect(down?.verdict.detail).toBe('DOWN from fra (timeout after 10s), nyc (connection refused); UP from sgp in 84 ms');
    expect(verdicts.observe(T, { location: 'fra', state: 'UP', latencyMs: 10, since: 4 })).toMatchObject({ from: 'DOWN', to: 'DEGRADED' });
    expect(verdicts.observe(T, { location: 'nyc', state: 'UP', latencyMs: 70, since: 5 })).toMatchObject({ from: 'DEGRADED', to: 'UP' });
  });

  it('quorum=all and quorum=1', () => {
    const all = rig(['fra', 'nyc'], { kind: 'all' }).verdicts;
    all.observe(T, { location: 'fra', state: 'DOWN', since: 1 });
    // nyc has not reported: it could still make the quorum, so nothing is decided (no partial outage told just before the outage).
    expect(all.get(T)?.state).toBe('UNKNOWN');
    expect(all.observe(T, { location: 'nyc', state: 'UP', since: 2 })?.to).toBe('DEGRADED');
    expect(all.observe(T, { location: 'nyc', state: 'DOWN', since: 3 })?.to).toBe('DOWN');
    const one = rig(['fra', 'nyc'], { kind: 'count', n: 1 }).verdicts;
    one.observe(T, { location: 'nyc', state: 'UP', since: 1 });
    expect(one.observe(T, { location: 'fra', state: 'DOWN', since: 2 })?.to).toBe('DOWN');
  });

  it('a location whose instances died drops out: the verdict is taken over the others, never DOWN for it', () => {
    const { state, verdicts } = rig(['fra', 'nyc', 'sgp']);
    verdicts.observe(T, { location: 'fra', state: 'DOWN', since: 1 });
    verdicts.observe(T, { location: 'nyc', state: 'DOWN', since: 1 });
    verdicts.observe(T, { location: 'sgp', state: 'UP', since: 1 });
    expect(verdicts.get(T)?.state).toBe('DOWN');
    state.live = ['fra', 'sgp'];
    const [change] = verdicts.relocated();
    // One of two failing is no majority of two: a partial outage now, and nyc is named as gone.
    expect(change).toMatchObject({ from: 'DOWN', to: 'DEGRADED', dropped: ['nyc'] });
    expect(verdicts.relocated()).toEqual([]);
  });

  it('a late report older than the one held changes nothing', () => {
    const { verdicts } = rig(['fra']);
    verdicts.observe(T, { location: 'fra', state: 'DOWN', since: 10 });
    expect(verdicts.observe(T, { location: 'fra', state: 'UP', since: 5 })).toBeUndefined();
    expect(verdicts.get(T)?.state).toBe('DOWN');
    verdicts.forget(T);
    expect(verdicts.get(T)).toBeUndefined();
  });
});
