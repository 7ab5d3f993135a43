import { describe, expect, it } from 'vitest';
import { placeTarget } from '../../src/cluster/assignment.js';
import { createJudge, type JudgeDeps } from '../../src/cluster/judge.js';
import type { StateChange, StateRecord } from '../../src/domain/state.js';
import type { Target } from '../../src/kinds/index.js';
import { openStore } from '../../src/store/keyv.js';
import { createStateRepository, locationNamespace } from '../../src/store/states.js';
import { FakeClock, flushPromises } from '../support/fake-clock.js';
import { httpTarget } from '../support/target-server.js';

// The leader's verdict over what each place sees, on a memory store and a fake clock: the places and
// their members are the test's.

const T0 = 1_000_000;
const api = httpTarget({ id: '1/api', chatId: 1, name: 'api', url: 'http://127.0.0.1:9/', everyMs: 10_000, timeoutMs: 2_000, retryMs: 1_000, confirm: 1, recover: 1 });

const seen = (targetId: string, state: StateRecord['state'], at: number, reason?: string): StateRecord => ({
  targetId,
  state,
  since: at,
  consecutiveFailures: state === 'DOWN' ? 1 : 0,
  consecutiveSuccesses: state === 'UP' ? 1 : 0,
  checks: 1,
  failures: state === 'DOWN' ? 1 : 0,
  lastCheckAt: at,
  lastResult: state === 'DOWN' ? { ok: false, at, latencyMs: 10_000, failure: 'timeout', reason: reason ?? 'timeout after 10s' } : { ok: true, at, latencyMs: 42, status: 200 },
});

async function rig(target: Target = api) {
  const clock = new FakeClock(T0);
  const store = await openStore({ kind: 'memory' });
  const members = [
    { id: 'fra-1', location: 'fra' },
    { id: 'nyc-1', location: 'nyc' },
    { id: 'sgp-1', location: 'sgp' },
  ];
  const decided: StateChange[] = [];
  const told: Array<{ location: string; lost: boolean; remaining: readonly string[] }> = [];
  const verdicts = createStateRepository(store);
  /** A judge over the rig's places and store (a second one is the next leader); `extra` replaces deps. */
  const make = (extra: Partial<JudgeDeps> = {}) =>
    createJudge({
      live: () => members.map((m) => m.location),
      placement: (id, t) => placeTarget(id, t.locations, members),
      target: (id) => (id === target.id ? target : undefined),
      targets: () => [target],
      verdicts,
      at: (l) => createStateRepository(store, locationNamespace(l)),
      decide: async (change) => void decided.push(change),
      locationChanged: async (location, lost, remaining) => void told.push({ location, lost, remaining }),
      clock,
      ...extra,
    });
  const judge = make();
  return { clock, members, judge, decided, told, verdicts, store, make };
}

describe('the verdict of a target checked from three places', () => {
  it('one place failing is a partial outage; two are DOWN naming both; the verdict is saved as the target\'s state', async () => {
    const r = await rig();
    await r.judge.load();
    await r.judge.seen(api, 'fra', seen(api.id, 'UP', T0));
    await r.judge.seen(api, 'sgp', seen(api.id, 'UP', T0));
    await r.judge.seen(api, 'nyc', seen(api.id, 'DOWN', T0 + 1, 'connection refused'));
    // Held while the others could still confirm it (interval + retries + timeout), then told.
    expect(r.decided.map((c) => `${c.from}>${c.to}`)).toEqual(['UNKNOWN>UP']);
    await r.clock.advance(api.everyMs + api.timeoutMs);
    await flushPromises();
    expect(r.decided.map((c) => `${c.from}>${c.to}`)).toEqual(['UNKNOWN>UP', 'UP>DEGRADED']);
    expect(r.decided[1]!.detail).toBe('partial outage: DOWN from nyc (connection refused); UP from fra in 42 ms, sgp in 42 ms');
    await r.judge.seen(api, 'sgp', seen(api.id, 'DOWN', T0 + 2));
    const down = r.decided.at(-1)!;
    expect(`${down.from}>${down.to}`).toBe('DEGRADED>DOWN');
    expect(down.result).toMatchObject({ ok: false, failure: 'timeout', reason: 'DOWN from nyc (connection refused), sgp (timeout after 10s); UP from fra in 42 ms' });
    expect((await r.verdicts.get(api.id))?.state).toBe('DOWN');
    expect(r.judge.record(api.id)?.state).toBe('DOWN');
    expect(r.judge.views(api.id).map((v) => `${v.location}:${v.state}`)).toEqual(['fra:UP', 'nyc:DOWN', 'sgp:DOWN']);
  });

  it('two places served a maintenance page: MAINTENANCE (not DOWN) with their words; a slow place alone changes nothing', async () => {
    const r = await rig();
    await r.judge.load();
    for (const l of ['fra', 'nyc', 'sgp']) await r.judge.seen(api, l, seen(api.id, 'UP', T0));
    const maint = (at: number): StateRecord => ({
      ...seen(api.id, 'DOWN', at),
      state: 'MAINTENANCE',
      detail: 'planned maintenance (Retry-After 600 s)',
      lastResult: { ok: false, at, latencyMs: 12, status: 503, failure: 'status', reason: 'HTTP 503', maintenance: { reason: 'planned maintenance', retryAfterS: 600 } },
    });
    await r.judge.seen(api, 'fra', { ...seen(api.id, 'DEGRADED', T0 + 1), detail: 'p95 2100 ms > 800 ms' });
    expect(r.decided.map((c) => `${c.from}>${c.to}`)).toEqual(['UNKNOWN>UP']);
    await r.judge.seen(api, 'nyc', maint(T0 + 2));
    await r.judge.seen(api, 'sgp', maint(T0 + 3));
    const last = r.decided.at(-1)!;
    expect(`${last.from}>${last.to}`).toBe('UP>MAINTENANCE');
    expect(last.detail).toBe('MAINTENANCE from nyc (planned maintenance (Retry-After 600 s)), sgp (planned maintenance (Retry-After 600 s)); DEGRADED from fra (p95 2100 ms > 800 ms)');
    expect(last.result).toMatchObject({ ok: false, status: 503, maintenance: { reason: 'planned maintenance' } });
    expect(r.judge.views(api.id).find((v) => v.location === 'fra')).toMatchObject({ state: 'DEGRADED', reason: 'p95 2100 ms > 800 ms' });
  });

  it('a rename moves the verdict: the outage is not told again under the new name, and the old id keeps nothing', async () => {
    let current: Target = api;
    const r = await rig(api);
    // The target is read through `current`: the rename replaces it.
    const judge = r.make({ target: (id) => (id === current.id ? current : undefined), targets: () => [current], locationChanged: async () => undefined });
    await judge.load();
    for (const l of ['fra', 'nyc', 'sgp']) await judge.seen(api, l, seen(api.id, 'DOWN', T0));
    expect(r.decided.map((c) => `${c.from}>${c.to}`)).toEqual(['UNKNOWN>DOWN']);
    current = { ...api, id: '1/core', name: 'core' };
    await judge.renamed(api.id, current.id);
    expect(await r.verdicts.get(api.id)).toBeUndefined();
    expect((await r.verdicts.get(current.id))?.state).toBe('DOWN');
    expect(judge.record(current.id)?.state).toBe('DOWN');
    // The places report under the new id (they renamed their records): still DOWN, nothing told.
    for (const l of ['fra', 'nyc', 'sgp']) await judge.seen(current, l, seen(current.id, 'DOWN', T0 + 5));
    expect(r.decided).toHaveLength(1);
  });

  it('the alert carries a network-level failure when any failing place has one (its traces are taken for those)', async () => {
    const r = await rig();
    await r.judge.load();
    await r.judge.seen(api, 'fra', seen(api.id, 'UP', T0));
    await r.judge.seen(api, 'nyc', { ...seen(api.id, 'DOWN', T0), lastResult: { ok: false, at: T0, latencyMs: 5, status: 503, failure: 'status', reason: 'HTTP 503' } });
    await r.judge.seen(api, 'sgp', { ...seen(api.id, 'DOWN', T0), lastResult: { ok: false, at: T0, latencyMs: 2, failure: 'reset', reason: 'connection reset' } });
    expect(r.decided.at(-1)?.result).toMatchObject({ ok: false, failure: 'reset' });
  });

  it('a second place failing within the hold: one DOWN, no partial outage told before it', async () => {
    const r = await rig();
    await r.judge.load();
    for (const l of ['fra', 'nyc', 'sgp']) await r.judge.seen(api, l, seen(api.id, 'UP', T0));
    await r.judge.seen(api, 'nyc', seen(api.id, 'DOWN', T0 + 1));
    await r.clock.advance(3_000);
    await r.judge.seen(api, 'sgp', seen(api.id, 'DOWN', T0 + 3_000));
    await r.clock.advance(60_000);
    await flushPromises();
    expect(r.decided.map((c) => `${c.from}>${c.to}`)).toEqual(['UNKNOWN>UP', 'UP>DOWN']);
  });

  it('places yet to report that could make the quorum leave it undecided: no partial outage told just before the outage', async () => {
    const r = await rig();
    await r.judge.load();
    await r.judge.seen(api, 'nyc', seen(api.id, 'DOWN', T0));
    expect(r.decided).toEqual([]);
    await r.judge.seen(api, 'sgp', seen(api.id, 'DOWN', T0));
    expect(r.decided.map((c) => `${c.from}>${c.to}`)).toEqual(['UNKNOWN>DOWN']);
  });

  it('a place whose instances are gone drops out (never DOWN for it), and is told once; a verdict saved before a restart is where it goes on from', async () => {
    const r = await rig();
    await r.judge.load();
    for (const l of ['fra', 'nyc', 'sgp']) await r.judge.seen(api, l, seen(api.id, l === 'fra' ? 'UP' : 'DOWN', T0));
    expect(r.judge.record(api.id)?.state).toBe('DOWN');
    r.members.splice(1, 1);
    await r.judge.relocated();
    expect(r.decided.map((c) => `${c.from}>${c.to}`).at(-1)).toBe('DOWN>DEGRADED');
    expect(r.told).toEqual([{ location: 'nyc', lost: true, remaining: ['fra', 'sgp'] }]);
    await r.judge.relocated();
    expect(r.told).toHaveLength(1);

    // A new leader: the saved verdict, then each place's records (what they saved): nothing told again.
    const again = r.make({ locationChanged: async () => undefined });
    await createStateRepository(r.store, locationNamespace('fra')).put(seen(api.id, 'UP', T0));
    await createStateRepository(r.store, locationNamespace('sgp')).put(seen(api.id, 'DOWN', T0));
    const before = r.decided.length;
    await again.prime();
    await again.load();
    expect(r.decided.length).toBe(before);
    expect(again.record(api.id)?.state).toBe('DEGRADED');
  });

  it('down to one place: the target is one check again, and what that place sees is told if the verdict said otherwise', async () => {
    const r = await rig();
    await r.judge.load();
    await r.judge.seen(api, 'fra', seen(api.id, 'UP', T0));
    await r.judge.seen(api, 'nyc', seen(api.id, 'DOWN', T0));
    await r.judge.seen(api, 'sgp', seen(api.id, 'DOWN', T0));
    expect(r.judge.record(api.id)?.state).toBe('DOWN');
    r.members.splice(1, 2);
    await r.judge.relocated();
    expect(r.decided.map((c) => `${c.from}>${c.to}`).at(-1)).toBe('DOWN>UP');
    expect(r.judge.judged(api.id)).toBe(false);
    expect(r.judge.record(api.id)).toBeUndefined();
  });
});

/** quorum=all, fra UP and nyc, sgp DOWN: a partial outage, told. */
async function partialAtQuorumAll() {
  const target: Target = { ...api, quorum: { kind: 'all' } };
  const r = await rig(target);
  await r.judge.load();
  await r.judge.seen(target, 'fra', seen(api.id, 'UP', T0));
  await r.judge.seen(target, 'nyc', seen(api.id, 'DOWN', T0));
  await r.judge.seen(target, 'sgp', seen(api.id, 'DOWN', T0));
  await r.clock.advance(60_000);
  await flushPromises();
  expect(r.judge.record(api.id)?.state).toBe('DEGRADED');
  return { target, r };
}

describe('an edit of where or how it is judged', () => {
  it('quorum= and locations= edits take the verdict again over what the places see', async () => {
    const { target, r } = await partialAtQuorumAll();
    // quorum=majority: two of three is DOWN.
    delete target.quorum;
    await r.judge.relocated();
    expect(r.decided.map((c) => `${c.from}>${c.to}`).at(-1)).toBe('DEGRADED>DOWN');
    // locations=fra,sgp: one of two failing is no majority: a partial outage, told at once (a place left the count).
    target.locations = { kind: 'named', names: ['fra', 'sgp'] };
    await r.judge.relocated();
    expect(r.decided.map((c) => `${c.from}>${c.to}`).at(-1)).toBe('DOWN>DEGRADED');
    expect(r.decided.at(-1)!.detail).toBe('partial outage: DOWN from sgp (timeout after 10s); UP from fra in 42 ms');
    // No place was lost: nobody is told of one.
    expect(r.told).toEqual([]);
  });

  it('a DOWN left by a vanished place (the failing ones now make the quorum) waits for one more check of the places left', async () => {
    const { target, r } = await partialAtQuorumAll();
    // fra's instances are gone: nyc and sgp are all of the places left.
    r.members.splice(0, 1);
    await r.judge.relocated();
    expect(r.judge.record(api.id)?.state).toBe('DEGRADED');
    await r.clock.advance(api.everyMs + api.timeoutMs);
    await flushPromises();
    expect(r.decided.map((c) => `${c.from}>${c.to}`).at(-1)).toBe('DEGRADED>DOWN');
  });

  it('a place lost while no one led is told by the next leader', async () => {
    const r = await rig();
    const saved = new Map<string, readonly string[]>();
    const places = { get: async () => saved.get('places'), set: async (l: readonly string[]) => void saved.set('places', l) };
    const told: string[] = [];
    const make = () => r.make({ locationChanged: async (location, lost, remaining) => void told.push(`${location}:${lost ? 'lost' : 'back'}:${remaining.join(',')}`), places });
    await make().load();
    expect(saved.get('places')).toEqual(['fra', 'nyc', 'sgp']);
    // The leader (in nyc) dies with its place; the next one starts after nyc's members are gone.
    r.members.splice(1, 1);
    await make().load();
    expect(told).toEqual(['nyc:lost:fra,sgp']);
    expect(saved.get('places')).toEqual(['fra', 'sgp']);
  });
});

describe('a paused target checked from several places', () => {
  it('is not judged while paused (its state is the engine\'s PAUSED), and starts over when resumed', async () => {
    const target: Target = { ...api };
    const r = await rig(target);
    await r.judge.load();
    for (const l of ['fra', 'nyc', 'sgp']) await r.judge.seen(target, l, seen(api.id, l === 'fra' ? 'UP' : 'DOWN', T0));
    expect(r.judge.record(api.id)?.state).toBe('DOWN');
    target.paused = true;
    expect(r.judge.record(api.id)).toBeUndefined();
    expect(r.judge.judged(api.id)).toBe(false);
    await r.judge.seen(target, 'fra', seen(api.id, 'PAUSED', T0 + 1));
    target.paused = false;
    expect(r.judge.views(api.id)).toEqual([]);
  });
});

describe('silent places', () => {
  it('a place that has not told a change since it joined is read from what it saved: the verdict is not held undecided', async () => {
    const r = await rig();
    await r.judge.load();
    // nyc and sgp saw it DOWN before this leader started (or kept the state they had with one place).
    await createStateRepository(r.store, locationNamespace('nyc')).put(seen(api.id, 'DOWN', T0));
    await r.judge.seen(api, 'fra', seen(api.id, 'UP', T0 + 1));
    expect(r.decided.map((c) => `${c.from}>${c.to}`)).toEqual([]);
    await createStateRepository(r.store, locationNamespace('sgp')).put(seen(api.id, 'DOWN', T0 + 2));
    await r.judge.refresh();
    expect(r.decided.map((c) => `${c.from}>${c.to}`)).toEqual(['UNKNOWN>DOWN']);
    expect(r.decided[0]!.result?.reason).toContain('DOWN from nyc');
  });
});
