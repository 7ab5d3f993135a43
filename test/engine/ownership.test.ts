import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/domain/check.js';
import type { StateChange, StateRecord } from '../../src/domain/state.js';
import { createCatalog } from '../../src/engine/catalog.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import { phaseOffset } from '../../src/engine/jitter.js';
import type { HttpTarget } from '../../src/kinds/http/index.js';
import type { Probe } from '../../src/probes/probe.js';
import { createProbeRegistry } from '../../src/probes/registry.js';
import { openStore, type KeyvStore } from '../../src/store/keyv.js';
import { createStateRepository, type StateRepository } from '../../src/store/states.js';
import { createTargetRepository, type TargetRepository } from '../../src/store/targets.js';
import { FakeClock, flushPromises } from '../support/fake-clock.js';
import { httpTarget } from '../support/target-server.js';
import { ScriptedProbe } from '../support/scripted-probe.js';

// The engine of one instance among several: it knows every target but checks and saves only the ones
// `owns` gives it. Everything here runs on a fake clock over a memory store; "another instance" is
// either a second engine over the same store or the test writing to the store as that one would.

const T0 = 1_000_000;

const target = (name: string, over: Partial<HttpTarget> = {}): HttpTarget =>
  httpTarget({ id: `1/${name}`, chatId: 1, name, url: `http://127.0.0.1:9/${name}`, everyMs: 10_000, timeoutMs: 2_000, retryMs: 1_000, confirm: 2, recover: 1, ...over });

/** A probe whose answers the test scripts per target; `hold` makes runs wait until released. */

interface Rig {
  clock: FakeClock;
  probe: ScriptedProbe;
  store: KeyvStore;
  targets: TargetRepository;
  /** The store's states, read and written past the engine (as another instance would). */
  stored: StateRepository;
  engine: Engine;
  /** The targets this instance owns: `owns` answers from it. */
  mine: Set<string>;
  changes: StateChange[];
  /** Target ids of every state write the engine made (put and putMany), in order. */
  writes: string[];
  /** Makes the engine's next state read (`states.get` or `states.all`) wait until the returned function is called. */
  gateNextRead(): () => void;
}

const rigs: Rig[] = [];

async function rig(opts: { store?: KeyvStore; clock?: FakeClock; mine?: Iterable<string>; stopGraceMs?: number } = {}): Promise<Rig> {
  const clock = opts.clock ?? new FakeClock(T0);
  const probe = new ScriptedProbe(clock, 0);
  const store = opts.store ?? (await openStore({ kind: 'memory' }));
  const targets = createTargetRepository(store);
  const stored = createStateRepository(store);
  const mine = new Set(opts.mine ?? []);
  const writes: string[] = [];
  let gate: Promise<void> | undefined;
  const states: StateRepository = {
    ...stored,
    get: async (id) => {
      const wait = gate;
      gate = undefined;
      if (wait) await wait;
      return stored.get(id);
    },
    all: async () => {
      const wait = gate;
      gate = undefined;
      if (wait) await wait;
      return stored.all();
    },
    put: async (rec) => {
      writes.push(rec.targetId);
      await stored.put(rec);
    },
    putMany: async (recs) => {
      writes.push(...recs.map((r) => r.targetId));
      await stored.putMany(recs);
    },
  };
  const engine = createEngine({ targets, states, probes: createProbeRegistry([probe]), clock, concurrency: 10, owns: (id) => mine.has(id), ...(opts.stopGraceMs !== undefined ? { stopGraceMs: opts.stopGraceMs } : {}) });
  const changes: StateChange[] = [];
  engine.onChange((c) => changes.push(c));
  const r: Rig = {
    clock,
    probe,
    store,
    targets,
    stored,
    engine,
    mine,
    changes,
    writes,
    gateNextRead() {
      let open!: () => void;
      gate = new Promise<void>((resolve) => (open = resolve));
      return open;
    },
  };
  rigs.push(r);
  return r;
}

afterEach(async () => {
  for (const r of rigs.splice(0)) {
    r.probe.hold = false;
    r.probe.release();
    await r.engine.stop();
  }
});

/** A record as another instance saved it. */
const record = (targetId: string, over: Partial<StateRecord> = {}): StateRecord => ({
  targetId,
  state: 'UP',
  since: T0 - 3_600_000,
  consecutiveFailures: 0,
  consecutiveSuccesses: 5,
  checks: 5,
  failures: 0,
  lastCheckAt: T0 - 1_000,
  ...over,
});

const transitions = (changes: StateChange[], id?: string): string[] => changes.filter((c) => id === undefined || c.targetId === id).map((c) => `${c.targetId} ${c.from}>${c.to}`);

describe('an engine that owns some of the targets', () => {
  it('knows the targets it does not own (targets, target, state) but never checks them, nor saves them, not even at stop', async () => {
    const a = target('a');
    const b = target('b');
    const r = await rig({ mine: [a.id] });
    await r.targets.put(a);
    await r.targets.put(b);
    await r.engine.start();
    expect(r.engine.targets().map((t) => t.id)).toEqual([a.id, b.id]);
    expect(r.engine.target(b.id)).toEqual(b);
    expect(r.engine.state(b.id)?.state).toBe('UNKNOWN');
    expect([r.engine.owned(a.id), r.engine.owned(b.id), r.engine.owned('1/nope')]).toEqual([true, false, false]);
    expect(r.engine.stats()).toMatchObject({ targets: 2, scheduled: 1 });

    await r.clock.advance(60_000);
    expect(r.probe.callsOf(a.id).length).toBeGreaterThanOrEqual(5);
    expect(r.probe.callsOf(b.id)).toEqual([]);
    expect(r.engine.state(b.id)?.state).toBe('UNKNOWN');
    // b had no stored state (so its fresh record differs from the store), yet it is not this instance's to save.
    await r.engine.stop();
    expect(r.writes.filter((id) => id === b.id)).toEqual([]);
    expect(await r.stored.get(b.id)).toBeUndefined();
    expect((await r.stored.get(a.id))?.checks).toBe(r.probe.callsOf(a.id).length);
  });

  it('checkNow still checks a target it does not own, without scheduling it, and leaves its state (the owner\'s) alone', async () => {
    const b = target('b');
    const r = await rig({ mine: [] });
    await r.targets.put(b);
    const saved = record(b.id);
    await r.stored.put(saved);
    await r.engine.start();
    const event = await r.engine.checkNow(b.id);
    expect(event).toMatchObject({ manual: true, result: { ok: true } });
    // Shown (the event carries what the check found), not kept: the state is the owner's to keep.
    expect(r.changes).toEqual([]);
    expect(event?.record.checks).toBe(saved.checks + 1);
    expect(r.engine.state(b.id)?.checks).toBe(saved.checks);
    expect(r.engine.stats().scheduled).toBe(0);
    await r.clock.advance(60_000);
    expect(r.probe.callsOf(b.id)).toEqual([T0]);
    await r.engine.stop();
    expect(r.writes).toEqual([]);
    expect(await r.stored.get(b.id)).toEqual(saved);
  });
});

describe('reassign(): owns() changed its answer', () => {
  it('a newly owned target starts from the state its last owner saved: still failing is no new change, recovering is DOWN→UP', async () => {
    const x = target('x');
    const r = await rig({ mine: [] });
    await r.targets.put(x);
    await r.stored.put(record(x.id));
    await r.engine.start();
    expect(r.engine.state(x.id)?.state).toBe('UP');
    // Meanwhile the owner saw x go DOWN and saved it (then died, or gave x up).
    const down = record(x.id, { state: 'DOWN', since: T0 + 500, consecutiveFailures: 2, consecutiveSuccesses: 0, checks: 9, failures: 2, lastCheckAt: T0 + 2_000 });
    await r.stored.put(down);
    await r.clock.advance(3_000);
    expect(r.probe.calls).toEqual([]);

    r.mine.add(x.id);
    expect(await r.engine.reassign()).toEqual({ taken: [x.id], given: [] });
    expect(r.engine.owned(x.id)).toBe(true);
    expect(r.engine.state(x.id)).toEqual(down);
    expect(r.engine.stats().scheduled).toBe(1);

    // Its next check comes one interval after the last owner's last check, and x is still down.
    r.probe.failing.add(x.id);
    await r.clock.advance(down.lastCheckAt! + x.everyMs - r.clock.now());
    expect(r.probe.callsOf(x.id)).toEqual([down.lastCheckAt! + x.everyMs]);
    await r.clock.advance(x.everyMs);
    expect(r.probe.callsOf(x.id)).toHaveLength(2);
    expect(r.engine.state(x.id)).toMatchObject({ state: 'DOWN', since: down.since, checks: down.checks + 2, consecutiveFailures: 4 });
    expect(r.changes).toEqual([]);

    r.probe.failing.delete(x.id);
    await r.clock.advance(x.everyMs);
    expect(transitions(r.changes)).toEqual([`${x.id} DOWN>UP`]);
    expect(r.changes[0]!.fromSince).toBe(down.since);
    expect((await r.stored.get(x.id))?.state).toBe('UP');
  });

  it('a taken target is not written back until it is checked: the last owner may still be saving it', async () => {
    const x = target('x');
    const r = await rig({ mine: [] });
    await r.targets.put(x);
    // No state in the store at start: the copy is a fresh record the store does not hold.
    await r.engine.start();
    const saved = record(x.id, { lastCheckAt: T0 });
    await r.stored.put(saved);
    r.mine.add(x.id);
    expect(await r.engine.reassign()).toEqual({ taken: [x.id], given: [] });
    expect(r.engine.state(x.id)).toEqual(saved);
    await r.engine.stop();
    expect(r.probe.calls).toEqual([]);
    expect(r.writes).toEqual([]);
  });

  it('a given-away target stops being checked and its unsaved record is saved for the next owner', async () => {
    const x = target('x');
    const y = target('y');
    const r = await rig({ mine: ['1/x', '1/y'] });
    await r.targets.put(x);
    await r.targets.put(y);
    await r.engine.start();
    await r.clock.advance(50_000);
    const checked = r.probe.callsOf(x.id).length;
    expect(checked).toBeGreaterThanOrEqual(4);
    // Only UNKNOWN→UP was written; the checks since are in memory.
    expect((await r.stored.get(x.id))?.checks).toBe(1);

    r.mine.delete(x.id);
    expect(await r.engine.reassign()).toEqual({ taken: [], given: [x.id] });
    expect(r.engine.owned(x.id)).toBe(false);
    expect(await r.stored.get(x.id)).toEqual(r.engine.state(x.id));
    expect((await r.stored.get(x.id))?.checks).toBe(checked);
    expect(r.engine.stats().scheduled).toBe(1);
    await r.clock.advance(60_000);
    expect(r.probe.callsOf(x.id)).toHaveLength(checked);
    expect(r.probe.callsOf(y.id).length).toBeGreaterThan(checked);
    // Known still, and a second reassign with the same answers changes nothing.
    expect(r.engine.target(x.id)).toEqual(x);
    expect(await r.engine.reassign()).toEqual({ taken: [], given: [] });
  });

  it('a target given away while its check runs: the check finishes, its result is saved, nothing is scheduled again', async () => {
    const x = target('x');
    const r = await rig({ mine: [x.id] });
    await r.targets.put(x);
    await r.engine.start();
    await r.clock.advance(x.everyMs);
    expect(r.probe.callsOf(x.id)).toHaveLength(1);
    r.probe.hold = true;
    await r.clock.advance(x.everyMs);
    expect(r.probe.active).toBe(1);

    r.mine.delete(x.id);
    let done = false;
    const reassigned = r.engine.reassign().then((result) => {
      done = true;
      return result;
    });
    await flushPromises();
    expect(done).toBe(false);
    r.probe.release();
    expect(await reassigned).toEqual({ taken: [], given: [x.id] });
    expect((await r.stored.get(x.id))?.checks).toBe(2);
    expect(await r.stored.get(x.id)).toEqual(r.engine.state(x.id));
    expect(r.engine.stats().scheduled).toBe(0);
    r.probe.hold = false;
    await r.clock.advance(60_000);
    expect(r.probe.callsOf(x.id)).toHaveLength(2);
  });

  it('a target given away while a check runs past the grace: the check is cut short and its result dropped (the next owner has the target)', async () => {
    const x = target('x', { confirm: 1 });
    const r = await rig({ mine: [x.id], stopGraceMs: 30 });
    await r.targets.put(x);
    await r.engine.start();
    await r.clock.advance(x.everyMs);
    expect(r.engine.state(x.id)?.state).toBe('UP');
    r.probe.hold = true;
    r.probe.failing.add(x.id);
    await r.clock.advance(x.everyMs);
    expect(r.probe.active).toBe(1);

    r.mine.delete(x.id);
    expect(await r.engine.reassign()).toEqual({ taken: [], given: [x.id] });
    const writesAtGive = r.writes.length;
    const changesAtGive = r.changes.length;
    // The check answers after the handover gave up waiting: a DOWN the next owner did not see must not land here.
    r.probe.release();
    await flushPromises();
    expect(transitions(r.changes.slice(changesAtGive), x.id)).toEqual([]);
    expect(r.engine.state(x.id)?.state).toBe('UP');
    expect(r.writes.length).toBe(writesAtGive);
    expect((await r.stored.get(x.id))?.state).toBe('UP');
  });

  it('a target just taken: the last owner\'s late record (its check ended after the take read the store) is gone on from, and only until this instance checks it', async () => {
    const x = target('x', { confirm: 1 });
    const r = await rig({ mine: [] });
    await r.targets.put(x);
    await r.stored.put(record(x.id));
    await r.engine.start();
    r.mine.add(x.id);
    await r.engine.reassign();
    expect(r.engine.state(x.id)?.state).toBe('UP');
    // The old owner's last check found it DOWN and told it (the change rides the bus to every instance).
    const late = record(x.id, { state: 'DOWN', since: T0 + 500, lastCheckAt: T0 + 500, consecutiveFailures: 1, consecutiveSuccesses: 0 });
    r.engine.observe(late);
    expect(r.engine.state(x.id)).toEqual(late);
    // Still DOWN at this instance's first check: no second DOWN.
    r.probe.failing.add(x.id);
    await r.clock.advance(x.everyMs * 2);
    expect(r.probe.callsOf(x.id).length).toBeGreaterThan(0);
    expect(transitions(r.changes, x.id)).toEqual([]);
    expect(r.engine.state(x.id)?.state).toBe('DOWN');
    // Once checked here, the owner's own record wins over any copy.
    const before = r.engine.state(x.id);
    r.engine.observe(record(x.id, { state: 'UP', since: T0 + 100_000, lastCheckAt: T0 + 100_000 }));
    expect(r.engine.state(x.id)).toEqual(before);
  });

  // The live set can change twice while a reassign reads the states: the later answer must hold.
  it('two reassigns racing: owns() flips to true and back while the first one reads the state; the target ends not owned', async () => {
    const x = target('x');
    const r = await rig({ mine: [] });
    await r.targets.put(x);
    await r.stored.put(record(x.id));
    await r.engine.start();
    r.mine.add(x.id);
    const open = r.gateNextRead();
    const first = r.engine.reassign();
    await flushPromises();
    r.mine.delete(x.id);
    const second = r.engine.reassign();
    await flushPromises();
    open();
    await Promise.all([first, second]);
    expect(r.engine.owned(x.id)).toBe(false);
    expect(r.engine.stats().scheduled).toBe(0);
  });
});

describe('sync(): another instance changed a target in the store', () => {
  it('a pause that reaches the owner after its own check saved over PAUSED: paused again, and saved', async () => {
    const x = target('x');
    const r = await rig({ mine: [x.id] });
    await r.targets.put(x);
    await r.engine.start();
    // The leader paused x (target and state); the owner's check ended just before and saved DOWN over PAUSED.
    await r.targets.put({ ...x, paused: true });
    await r.stored.put(record(x.id, { state: 'DOWN', consecutiveFailures: 2 }));
    await r.engine.sync(x.id);
    expect(r.engine.state(x.id)?.state).toBe('PAUSED');
    await expect.poll(async () => (await r.stored.get(x.id))?.state).toBe('PAUSED');
    expect(r.engine.stats().scheduled).toBe(0);
  });

  it('picks up a new target: scheduled at its phase when owned, only known when not (with the state the store holds)', async () => {
    const x = target('x');
    const y = target('y');
    const r = await rig({ mine: [x.id] });
    await r.engine.start();
    await r.targets.put(x);
    await r.targets.put(y);
    const yState = record(y.id, { state: 'DOWN', consecutiveFailures: 2 });
    await r.stored.put(yState);
    await r.engine.sync(x.id);
    await r.engine.sync(y.id);
    await r.engine.sync('1/never-stored');
    expect(r.engine.targets().map((t) => t.id)).toEqual([x.id, y.id]);
    expect(r.engine.state(y.id)).toEqual(yState);
    expect([r.engine.owned(x.id), r.engine.owned(y.id)]).toEqual([true, false]);
    expect(r.engine.stats().scheduled).toBe(1);
    await r.clock.advance(x.everyMs);
    expect(r.probe.callsOf(x.id)).toEqual([T0 + phaseOffset(x.id, x.everyMs)]);
    expect(r.probe.callsOf(y.id)).toEqual([]);
    expect(r.writes.filter((id) => id === y.id)).toEqual([]);
  });

  it('a paused target\'s copy stays PAUSED: a record its owner saved from a check that ended before the pause reached it is ignored', async () => {
    const y = target('y', { paused: true });
    const r = await rig({ mine: [] });
    await r.targets.put(y);
    await r.stored.put(record(y.id, { state: 'PAUSED', since: T0 - 10 }));
    await r.engine.start();
    r.engine.observe(record(y.id, { state: 'DOWN', since: T0 + 5, lastCheckAt: T0 + 5 }));
    expect(r.engine.state(y.id)?.state).toBe('PAUSED');
  });

  it('applies a changed interval at once: the next check comes one new interval after the last', async () => {
    const x = target('x');
    const r = await rig({ mine: [x.id] });
    await r.targets.put(x);
    await r.engine.start();
    await r.clock.advance(x.everyMs);
    const [first] = r.probe.callsOf(x.id);
    expect(first).toBe(T0 + phaseOffset(x.id, x.everyMs));
    await r.targets.put({ ...x, everyMs: 60_000 });
    await r.engine.sync(x.id);
    expect(r.engine.target(x.id)?.everyMs).toBe(60_000);
    // Not at first + 10 s (the old interval): at first + 60 s.
    await r.clock.advance(first! + 60_000 - 1 - r.clock.now());
    expect(r.probe.callsOf(x.id)).toEqual([first]);
    await r.clock.advance(1);
    expect(r.probe.callsOf(x.id)).toEqual([first, first! + 60_000]);
  });

  it('takes over a pause and a resume the leader applied (its catalog wrote target and state): no change event here, no check while paused', async () => {
    const store = await openStore({ kind: 'memory' });
    const clock = new FakeClock(T0);
    const x = target('x');
    // The leader does not check x; the member does.
    const leader = await rig({ store, clock, mine: [] });
    const member = await rig({ store, clock, mine: [x.id] });
    await leader.targets.put(x);
    await leader.engine.start();
    await member.engine.start();
    await clock.advance(x.everyMs);
    expect(member.probe.callsOf(x.id)).toHaveLength(1);
    expect(transitions(member.changes)).toEqual([`${x.id} UNKNOWN>UP`]);
    // What the journal brings the leader (sharing.ts): its copy of x as the member saved it.
    leader.engine.observe(member.engine.state(x.id)!);
    const catalog = createCatalog(leader.targets, leader.engine);

    await catalog.pause(x);
    expect((await member.stored.get(x.id))?.state).toBe('PAUSED');
    await member.engine.sync(x.id);
    expect(member.engine.target(x.id)?.paused).toBe(true);
    expect(member.engine.state(x.id)?.state).toBe('PAUSED');
    expect(member.engine.stats().scheduled).toBe(0);
    await clock.advance(60_000);
    expect(member.probe.callsOf(x.id)).toHaveLength(1);

    await catalog.resume({ ...x, paused: true });
    await member.engine.sync(x.id);
    expect(member.engine.target(x.id)?.paused).toBe(false);
    expect(member.engine.state(x.id)?.state).toBe('UNKNOWN');
    await clock.advance(60_000);
    expect(member.probe.callsOf(x.id).length).toBeGreaterThanOrEqual(2);
    expect(member.engine.state(x.id)?.state).toBe('UP');
    // The member emitted only what its own checks found; the pause and the resume were the leader's to tell.
    expect(transitions(member.changes)).toEqual([`${x.id} UNKNOWN>UP`, `${x.id} UNKNOWN>UP`]);
    expect(transitions(leader.changes)).toEqual([`${x.id} UP>PAUSED`, `${x.id} PAUSED>UNKNOWN`]);
    // The leader's resume asked for a check at once, but x is not its own to check.
    expect(leader.probe.calls).toEqual([]);
  });

  it('a resume that reaches an owner whose own record (another place\'s namespace) still says PAUSED: resumed and told there, and checked again', async () => {
    const x = target('x');
    const member = await rig({ mine: [x.id] });
    await member.targets.put({ ...x, paused: true });
    await member.stored.put(record(x.id, { state: 'PAUSED', since: T0 - 5 }));
    await member.engine.start();
    expect(member.engine.state(x.id)?.state).toBe('PAUSED');
    // The leader resumed it: the target is written, but its state was written in the leader's place, not here.
    await member.targets.put({ ...x, paused: false });
    await member.engine.sync(x.id);
    expect(transitions(member.changes)).toEqual([`${x.id} PAUSED>UNKNOWN`]);
    expect((await member.stored.get(x.id))?.state).toBe('UNKNOWN');
    await member.clock.advance(x.everyMs * 2);
    expect(member.probe.callsOf(x.id).length).toBeGreaterThan(0);
    expect(member.engine.state(x.id)?.state).toBe('UP');
  });

  it('forgets a removed target without deleting the state the store holds', async () => {
    const x = target('x');
    const r = await rig({ mine: [x.id] });
    await r.targets.put(x);
    await r.engine.start();
    await r.clock.advance(x.everyMs);
    await r.clock.advance(x.everyMs);
    expect(r.probe.callsOf(x.id)).toHaveLength(2);
    const before = await r.stored.get(x.id);
    expect(before?.state).toBe('UP');
    const writes = r.writes.length;

    await r.targets.delete(x.id);
    await r.engine.sync(x.id);
    expect(r.engine.target(x.id)).toBeUndefined();
    expect(r.engine.state(x.id)).toBeUndefined();
    expect(r.engine.targets()).toEqual([]);
    expect(r.engine.stats()).toMatchObject({ targets: 0, scheduled: 0 });
    expect(await r.stored.get(x.id)).toEqual(before);
    await r.clock.advance(60_000);
    await r.engine.stop();
    expect(r.probe.callsOf(x.id)).toHaveLength(2);
    expect(r.writes.length).toBe(writes);
    expect(await r.stored.get(x.id)).toEqual(before);
  });
});

describe('observe(): the owner saved a state', () => {
  it('updates the copy of a target this instance does not own, and only that', async () => {
    const x = target('x');
    const y = target('y');
    const r = await rig({ mine: [x.id] });
    await r.targets.put(x);
    await r.targets.put(y);
    await r.engine.start();
    await r.clock.advance(x.everyMs);
    const mineBefore = r.engine.state(x.id);
    expect(mineBefore?.state).toBe('UP');

    const yDown = record(y.id, { state: 'DOWN', consecutiveFailures: 2, since: T0 + x.everyMs, lastCheckAt: T0 + x.everyMs });
    r.engine.observe(yDown);
    // A copy never goes back in time: an older record arriving late is ignored.
    r.engine.observe(record(y.id, { state: 'UP', since: T0 + 1, lastCheckAt: T0 + 1 }));
    r.engine.observe(record(x.id, { state: 'DOWN', consecutiveFailures: 2 }));
    r.engine.observe(record('1/unknown', { state: 'DOWN' }));
    expect(r.engine.state(y.id)).toEqual(yDown);
    expect(r.engine.state(x.id)).toEqual(mineBefore);
    expect(r.engine.state('1/unknown')).toBeUndefined();
    expect(r.engine.targets()).toHaveLength(2);
    // A copy is no change of this instance's and nothing to save.
    expect(transitions(r.changes, y.id)).toEqual([]);
    await r.engine.stop();
    expect(r.writes.filter((id) => id === y.id)).toEqual([]);
  });
});
