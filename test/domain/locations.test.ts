import { describe, expect, it } from 'vitest';
import { describeViews, formatLocations, formatQuorum, locationsOf, needed, parseLocations, parseQuorum, verdict, type LocationView } from '../../src/domain/locations.js';

const view = (location: string, state: LocationView['state'], extra: Partial<LocationView> = {}): LocationView => ({ location, state, since: 0, ...extra });

describe('locations', () => {
  it('parses all, one and names (sorted, deduplicated), and refuses bad ones briefly', () => {
    expect(parseLocations('all')).toEqual({ ok: true, value: { kind: 'all' } });
    expect(parseLocations('ONE')).toEqual({ ok: true, value: { kind: 'one' } });
    expect(parseLocations('nyc,fra,nyc')).toEqual({ ok: true, value: { kind: 'named', names: ['fra', 'nyc'] } });
    const bad = parseLocations(`fra,${'x'.repeat(500)}!`);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error.length).toBeLessThan(120);
    expect(parseLocations(',').ok).toBe(false);
    expect(parseLocations(Array.from({ length: 17 }, (_, i) => `l${i}`).join(',')).ok).toBe(false);
    expect(formatLocations({ kind: 'named', names: ['fra', 'nyc'] })).toBe('fra,nyc');
  });

  it('parses quorum words and numbers', () => {
    expect(parseQuorum('majority')).toEqual({ ok: true, value: { kind: 'majority' } });
    expect(parseQuorum('2')).toEqual({ ok: true, value: { kind: 'count', n: 2 } });
    expect(parseQuorum('0').ok).toBe(false);
    expect(parseQuorum('half').ok).toBe(false);
    expect(formatQuorum({ kind: 'count', n: 3 })).toBe('3');
  });

  it('picks the live locations a target asks for', () => {
    expect(locationsOf(undefined, ['sgp', 'fra', 'nyc'])).toEqual(['fra', 'nyc', 'sgp']);
    expect(locationsOf({ kind: 'named', names: ['fra', 'tok'] }, ['fra', 'nyc'])).toEqual(['fra']);
    expect(locationsOf({ kind: 'one' }, ['fra', 'nyc'])).toEqual([]);
  });

  it('needs a majority by default, and clamps a number to the live locations', () => {
    expect(needed(undefined, 3)).toBe(2);
    expect(needed(undefined, 2)).toBe(2);
    expect(needed(undefined, 1)).toBe(1);
    expect(needed({ kind: 'all' }, 3)).toBe(3);
    expect(needed({ kind: 'any' }, 3)).toBe(1);
    expect(needed({ kind: 'count', n: 5 }, 3)).toBe(3);
  });

  it('is DOWN at quorum, DEGRADED (a partial outage) below it, UP when none fails', () => {
    const one = verdict([view('fra', 'UP', { latencyMs: 12 }), view('nyc', 'DOWN', { reason: 'connection refused' }), view('sgp', 'UP', { latencyMs: 84 })], undefined);
    expect(one.state).toBe('DEGRADED');
    expect(one.detail).toBe('DOWN from nyc (connection refused); UP from fra in 12 ms, sgp in 84 ms');
    const two = verdict([view('nyc', 'DOWN', { reason: 'connection refused' }), view('fra', 'DOWN', { reason: 'timeout after 10s' }), view('sgp', 'UP', { latencyMs: 84 })], undefined);
    expect(two.state).toBe('DOWN');
    expect(two.detail).toBe('DOWN from fra (timeout after 10s), nyc (connection refused); UP from sgp in 84 ms');
    expect(verdict([view('fra', 'UP'), view('nyc', 'UP')], undefined).state).toBe('UP');
    expect(verdict([view('fra', 'DOWN'), view('nyc', 'UP')], { kind: 'any' }).state).toBe('DOWN');
    expect(verdict([view('fra', 'DOWN'), view('nyc', 'UP')], { kind: 'all' }).state).toBe('DEGRADED');
    expect(verdict([view('fra', 'UNKNOWN')], undefined).state).toBe('UNKNOWN');
    // A location that vanished is not passed in: two left, one DOWN of them is no majority.
    expect(verdict([view('fra', 'DOWN'), view('sgp', 'UP')], undefined).state).toBe('DEGRADED');
    expect(describeViews([], [])).toBe('');
  });

  it('counts a maintenance page as failing (MAINTENANCE at quorum, DOWN only when the quorum is DOWN) and a place\'s DEGRADED as up', () => {
    const maint = verdict([view('fra', 'MAINTENANCE', { reason: 'maintenance page' }), view('nyc', 'MAINTENANCE', { reason: 'maintenance page' }), view('sgp', 'UP', { latencyMs: 9 })], undefined);
    expect(maint.state).toBe('MAINTENANCE');
    expect(maint.detail).toBe('MAINTENANCE from fra (maintenance page), nyc (maintenance page); UP from sgp in 9 ms');
    expect(verdict([view('fra', 'MAINTENANCE'), view('nyc', 'DOWN', { reason: 'HTTP 503' }), view('sgp', 'UP')], undefined).state).toBe('MAINTENANCE');
    expect(verdict([view('fra', 'DOWN'), view('nyc', 'DOWN'), view('sgp', 'MAINTENANCE')], undefined).state).toBe('DOWN');
    // One place in maintenance of three is a partial outage, like one DOWN.
    expect(verdict([view('fra', 'MAINTENANCE'), view('nyc', 'UP'), view('sgp', 'UP')], undefined).state).toBe('DEGRADED');
    // One slow place is not news; a quorum of slow places is DEGRADED (not a partial outage: none fails).
    const oneSlow = verdict([view('fra', 'DEGRADED', { reason: 'p95 2100 ms > 800 ms' }), view('nyc', 'UP', { latencyMs: 40 }), view('sgp', 'UP', { latencyMs: 50 })], undefined);
    expect(oneSlow.state).toBe('UP');
    expect(oneSlow.detail).toBe('UP from nyc in 40 ms, sgp in 50 ms; DEGRADED from fra (p95 2100 ms > 800 ms)');
    const slow = verdict([view('fra', 'DEGRADED', { reason: 'slow' }), view('nyc', 'DEGRADED', { reason: 'slow' }), view('sgp', 'UP')], undefined);
    expect(slow.state).toBe('DEGRADED');
    expect(slow.down).toEqual([]);
  });
});
