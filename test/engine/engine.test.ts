import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/domain/check.js';
import type { StateChange } from '../../src/domain/state.js';
import type { HttpTarget } from '../../src/kinds/http/index.js';
import { createEngine, type CheckEvent, type Engine } from '../../src/engine/engine.js';
import { phaseOffset } from '../../src/engine/jitter.js';
import type { Probe } from '../../src/probes/probe.js';
import { createProbeRegistry } from '../../src/probes/registry.js';
import { openStore, type KeyvStore } from '../../src/store/keyv.js';
import { createStateRepository, type StateRepository } from '../../src/store/states.js';
import { createTargetRepository, type TargetRepository } from '../../src/store/targets.js';
import { FakeClock, flushPromises } from '../support/fake-clock.js';
import { httpTarget } from '../support/target-server.js';
import { ScriptedProbe } from '../support/scripted-probe.js';

const target = (name: string, over: Partial<HttpTarget> = {}): HttpTarget =>
  httpTarget({ id: `1/${name}`, chatId: 1, name, url: `http://127.0.0.1:9/${name}`, everyMs: 10_000, timeoutMs: 2_000, retryMs: 1_000, ...over });

/** A probe whose answers the test scripts per target; `hold` makes runs wait until released. */

interface Rig {
  clock: FakeClock;
  probe: ScriptedProbe;
  store: KeyvStore;
  targets: TargetRepository;
  states: StateRepository;
  engine: Engine;
  changes: StateChange[];
  checks: CheckEvent[];
  writes: number;
}

const rigs: Rig[] = [];
const dirs: string[] = [];

async function rig(opts: { store?: KeyvStore; clock?: FakeClock; concurrency?: number; phaseSalt?: string; startSlots?: boolean } = {}): Promise<Rig> {
  const clock = opts.clock ?? new FakeClock(1_000_000);
  const probe = new ScriptedProbe(clock);
  const store = opts.store ?? (await openStore({ kind: 'memory' }));
  const targets = createTargetRepository(store);
  const baseStates = createStateRepository(store);
  const r = { writes: 0 } as Rig;
  const states: StateRepository = {
    ...baseStates,
    put: async (rec) => {
      r.writes++;
      await baseStates.put(rec);
    },
  };
  const engine = createEngine({ targets, states, probes: createProbeRegistry([probe]), clock, concurrency: opts.concurrency ?? 10, ...(opts.phaseSalt !== undefined ? { phaseSalt: opts.phaseSalt } : {}), ...(opts.startSlots !== undefined ? { startSlots: opts.startSlots } : {}) });
  Object.assign(r, { clock, probe, store, targets, states, engine, changes: [], checks: [] });
  engine.onChange((c) => r.changes.push(c));
  engine.onCheck((e) => r.checks.push(e));
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    r.probe.release();
    await r.engine.stop();
  }
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('engine scheduling', () => {
  it('checks a target at its phase, then every interval', async () => {
    const r = await rig();
    await r.engine.start();
    const t = target('api');
    await r.targets.put(t);
    await r.engine.upsert(t);
    const first = 1_000_000 + phaseOffset(t.id, t.everyMs);
    await r.clock.advance(35_000);
    expect(r.probe.callsOf(t.id)).toEqual([first, first + 10_000, first + 20_000, first + 30_000].filter((x) => x <= 1_035_000));
    expect(r.checks[0]?.latenessMs).toBe(0);
    expect(r.checks[0]?.scheduledAt).toBe(first);
  });

  it('startSlots: a lightly loaded engine starts checks on shared slots, each target every interval on its own slot', async () => {
    const r = await rig({ startSlots: true });
    await r.engine.start();
    // 40 targets every 10 s: 4 checks/s, so 1 s slots (about 4 checks share each).
    const ts = Array.from({ length: 40 }, (_, i) => target(`t${i}`));
    for (const t of ts) await r.targets.put(t);
    await r.engine.addMany(ts);
    await r.clock.advance(35_000);
    const starts = new Set<number>();
    for (const t of ts) {
      const calls = r.probe.callsOf(t.id);
      expect(calls[0]).toBe(Math.ceil((1_000_000 + phaseOffset(t.id, t.everyMs)) / 1_000) * 1_000);
      for (const c of calls) expect(c % 1_000).toBe(0);
      for (let i = 1; i < calls.length; i++) expect(calls[i]! - calls[i - 1]!).toBe(10_000);
      starts.add(calls[0]!);
    }
    expect(starts.size).toBeLessThanOrEqual(10);
    // Run on their slot, not late: the lateness a check reports stays the event loop's.
    expect(r.checks.every((c) => c.latenessMs === 0)).toBe(true);
  });

  it('startSlots: at a high rate (200 checks/s and more) due times stay the phases themselves', async () => {
    const r = await rig({ startSlots: true, concurrency: 1_000 });
    await r.engine.start();
    const ts = Array.from({ length: 250 }, (_, i) => target(`h${i}`, { everyMs: 1_000 }));
    for (const t of ts) await r.targets.put(t);
    await r.engine.addMany(ts);
    await r.clock.advance(1_000);
    for (const t of ts) expect(r.probe.callsOf(t.id)[0]).toBe(1_000_000 + phaseOffset(t.id, t.everyMs));
  });

  it('places checking one target (phaseSalt: LOCATION) get phases of their own, so they do not fire at the same instant', async () => {
    const t = target('api');
    const firsts: number[] = [];
    for (const place of ['fra', 'nyc', 'sgp']) {
      const r = await rig({ phaseSalt: place });
      await r.engine.start();
      await r.targets.put(t);
      await r.engine.upsert(t);
      await r.clock.advance(t.everyMs);
      const [first] = r.probe.callsOf(t.id);
      expect(first).toBe(1_000_000 + phaseOffset(`${t.id}@${place}`, t.everyMs));
      firsts.push(first!);
    }
    expect(new Set(firsts).size).toBe(3);
  });

  it('a check listener that throws costs the target neither its result nor its next check', async () => {
    const r = await rig();
    r.engine.onCheck(() => {
      throw new Error('a listener bug');
    });
    await r.engine.start();
    const t = target('api');
    await r.targets.put(t);
    await r.engine.upsert(t);
    const event = await r.engine.checkNow(t.id);
    expect(event?.result.ok).toBe(true);
    await r.clock.advance(25_000);
    expect(r.probe.callsOf(t.id).length).toBeGreaterThanOrEqual(3);
  });

  it('stateSaved resolves only once the state a change led to is written', async () => {
    const r = await rig();
    await r.engine.start();
    const t = target('api', { confirm: 1 } as Partial<HttpTarget>);
    await r.targets.put(t);
    await r.engine.upsert(t);
    await r.engine.checkNow(t.id);
    let release!: () => void;
    const put = r.states.put;
    r.states.put = async (rec) => {
      await new Promise<void>((resolve) => (release = resolve));
      await put(rec);
    };
    r.probe.failing.add(t.id);
    await r.engine.checkNow(t.id);
    let saved = false;
    void r.engine.stateSaved(t.id).then(() => (saved = true));
    await flushPromises();
    expect(saved).toBe(false);
    release();
    await flushPromises();
    expect(saved).toBe(true);
    expect((await r.store.namespace<{ state: string }>('states').get(t.id))?.state).toBe('DOWN');
  });

  it('spreads targets with the same interval (jitter)', async () => {
    const r = await rig({ concurrency: 1_000 });
    await r.engine.start();
    for (let i = 0; i < 200; i++) await r.engine.upsert(target(`t${i}`));
    await r.clock.advance(10_000);
    const perSecond = new Array<number>(10).fill(0);
    for (const c of r.probe.calls) perSecond[Math.floor((c.at - 1_000_000) / 1_000)]!++;
    expect(r.probe.calls).toHaveLength(200);
    expect(Math.max(...perSecond)).toBeLessThan(40); // 20 per second on average; never all at once
  });

  it('adds, updates and removes targets at runtime', async () => {
    const r = await rig();
    await r.engine.start();
    const a = target('a');
    await r.engine.upsert(a);
    await r.clock.advance(10_000);
    expect(r.probe.callsOf(a.id)).toHaveLength(1);
    await r.engine.upsert({ ...a, everyMs: 20_000 });
    const before = r.probe.callsOf(a.id).length;
    await r.clock.advance(40_000);
    expect(r.probe.callsOf(a.id).length - before).toBe(2);
    const gaps = r.probe.callsOf(a.id).slice(before);
    expect(gaps[1]! - gaps[0]!).toBe(20_000);
    await r.engine.remove(a.id);
    const n = r.probe.calls.length;
    await r.clock.advance(60_000);
    expect(r.probe.calls.length).toBe(n);
    expect(r.engine.state(a.id)).toBeUndefined();
    expect(await r.states.get(a.id)).toBeUndefined();
  });

  it('never runs two checks of one target at once', async () => {
    const r = await rig();
    await r.engine.start();
    const a = target('a', { everyMs: 1_000, timeoutMs: 500 });
    await r.engine.upsert(a);
    r.probe.hold = true;
    await r.clock.advance(5_000);
    const manual = r.engine.checkNow(a.id);
    await r.clock.advance(5_000);
    expect(r.probe.active).toBe(1);
    expect(r.probe.calls).toHaveLength(1);
    r.probe.hold = false;
    r.probe.release();
    await manual;
    await r.clock.advance(3_000);
    expect(r.probe.peak).toBe(1);
    expect(r.probe.calls.length).toBeGreaterThan(1);
  });

  it('respects the global concurrency limit', async () => {
    const r = await rig({ concurrency: 3 });
    await r.engine.start();
    for (let i = 0; i < 10; i++) await r.engine.upsert(target(`t${i}`, { everyMs: 1_000 }));
    r.probe.hold = true;
    await r.clock.advance(1_000);
    expect(r.probe.active).toBe(3);
    expect(r.engine.stats()).toMatchObject({ inFlight: 3, queued: 7 });
    r.probe.hold = false;
    r.probe.release();
    await flushPromises();
    expect(r.probe.peak).toBe(3);
    expect(r.probe.calls).toHaveLength(10);
  });

  it('pauses and resumes', async () => {
    const r = await rig();
    await r.engine.start();
    const a = target('a');
    await r.engine.upsert(a);
    await r.clock.advance(10_000);
    await r.engine.pause(a.id);
    expect(r.engine.state(a.id)?.state).toBe('PAUSED');
    const n = r.probe.calls.length;
    await r.clock.advance(60_000);
    expect(r.probe.calls.length).toBe(n);
    await r.engine.resume(a.id);
    await r.clock.advance(0);
    expect(r.probe.calls.length).toBe(n + 1);
    expect(r.engine.state(a.id)?.state).toBe('UP');
    expect(r.changes.map((c) => `${c.from}>${c.to}`)).toEqual(['UNKNOWN>UP', 'UP>PAUSED', 'PAUSED>UNKNOWN', 'UNKNOWN>UP']);
  });
});

describe('engine state', () => {
  it('goes DOWN after `confirm` failures, re-checking fast after the first, and UP again', async () => {
    const r = await rig();
    await r.engine.start();
    const a = target('a');
    await r.engine.upsert(a);
    await r.clock.advance(10_000); // first check: UP
    r.probe.failing.add(a.id);
    const failFrom = r.probe.calls.length;
    await r.clock.advance(10_000); // a failure, then a retry 1 s later confirms it
    const calls = r.probe.callsOf(a.id).slice(failFrom);
    expect(calls[1]! - calls[0]!).toBe(1_000);
    expect(r.engine.state(a.id)?.state).toBe('DOWN');
    const down = r.changes.at(-1)!;
    expect(down).toMatchObject({ from: 'UP', to: 'DOWN', failures: 2 });
    expect(down.result?.reason).toBe('HTTP 503, expected 200-299');
    r.probe.failing.delete(a.id);
    await r.clock.advance(10_000);
    expect(r.changes.at(-1)).toMatchObject({ from: 'DOWN', to: 'UP' });
    expect(r.changes.at(-1)!.at - r.changes.at(-1)!.fromSince).toBeGreaterThan(0);
  });

  it('writes to the store only when the state changes, and everything at stop', async () => {
    const r = await rig();
    await r.engine.start();
    const a = target('a', { everyMs: 1_000, timeoutMs: 500 });
    await r.engine.upsert(a);
    const afterAdd = r.writes;
    await r.clock.advance(30_000);
    expect(r.checks.length).toBeGreaterThanOrEqual(29);
    expect(r.writes - afterAdd).toBe(1); // UNKNOWN → UP
    await r.engine.stop();
    const stored = await r.states.get(a.id);
    expect(stored?.checks).toBe(r.checks.length);
  });

  it('reports a manual check and keeps PAUSED for a paused target', async () => {
    const r = await rig();
    await r.engine.start();
    const a = target('a');
    await r.engine.upsert(a);
    await r.engine.pause(a.id);
    const event = await r.engine.checkNow(a.id);
    expect(event?.manual).toBe(true);
    expect(event?.result.ok).toBe(true);
    expect(r.engine.state(a.id)?.state).toBe('PAUSED');
    expect(await r.engine.checkNow('1/nope')).toBeUndefined();
  });

  it('isolates a throwing listener and a throwing probe', async () => {
    const clock = new FakeClock(0);
    const store = await openStore({ kind: 'memory' });
    const broken: Probe<HttpTarget> = { kind: 'http', run: () => Promise.reject(new Error('bug')) };
    const engine = createEngine({
      targets: createTargetRepository(store),
      states: createStateRepository(store),
      probes: createProbeRegistry([broken]),
      clock,
    });
    engine.onChange(() => {
      throw new Error('listener bug');
    });
    await engine.start();
    await engine.upsert(target('a', { confirm: 1 }));
    const event = await engine.checkNow('1/a');
    expect(event?.result).toMatchObject({ ok: false, failure: 'error', reason: 'internal error in the check' });
    expect(engine.state('1/a')?.state).toBe('DOWN');
    await engine.stop();
  });
});

describe('engine restart', () => {
  it('carries on where it stopped on the same DATA_DIR', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lookout-engine-'));
    dirs.push(dataDir);
    const clock = new FakeClock(5_000_000);
    const store1 = await openStore({ kind: 'sqlite', dataDir });
    const r1 = await rig({ store: store1, clock });
    const a = target('a', { confirm: 1 });
    const b = target('b');
    await r1.targets.put(a);
    await r1.targets.put(b);
    await r1.engine.start();
    r1.probe.failing.add(a.id);
    await clock.advance(10_000);
    expect(r1.engine.state(a.id)?.state).toBe('DOWN');
    expect(r1.engine.state(b.id)?.state).toBe('UP');
    const lastA = r1.engine.state(a.id)!;
    await r1.engine.stop();
    await store1.close();
    rigs.splice(rigs.indexOf(r1), 1);

    await clock.advance(1);
    expect(lastA.lastCheckAt! + a.everyMs).toBeGreaterThan(clock.now());
    const store2 = await openStore({ kind: 'sqlite', dataDir });
    const r2 = await rig({ store: store2, clock });
    await r2.engine.start();
    expect(r2.engine.state(a.id)).toEqual(lastA);
    expect(r2.engine.state(b.id)?.state).toBe('UP');
    r2.probe.failing.add(a.id);
    // The next check comes one interval after the last one, not from scratch.
    await clock.advance(lastA.lastCheckAt! + a.everyMs - clock.now());
    expect(r2.probe.callsOf(a.id)).toEqual([lastA.lastCheckAt! + a.everyMs]);
    // Still DOWN: no new DOWN change is emitted after the restart.
    expect(r2.changes.filter((c) => c.targetId === a.id)).toEqual([]);
    await r2.engine.stop();
    await store2.close();
  });
});
