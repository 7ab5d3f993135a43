import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { ownerOf } from '../../src/cluster/assignment.js';
import { createBus, type Bus } from '../../src/cluster/bus.js';
import { createMembership, type Membership } from '../../src/cluster/members.js';
import { createSharing, ownsAmong, type JournalEntry, type Leading, type Sharing } from '../../src/cluster/sharing.js';
import type { CheckResult } from '../../src/domain/check.js';
import type { Notification } from '../../src/domain/notification.js';
import type { StateChange, StateRecord } from '../../src/domain/state.js';
import { createCatalog } from '../../src/engine/catalog.js';
import { createEngine, type Engine } from '../../src/engine/engine.js';
import type { HttpTarget } from '../../src/kinds/http/index.js';
import type { Target } from '../../src/kinds/index.js';
import { systemClock } from '../../src/lib/clock.js';
import { createLogger, type Logger } from '../../src/lib/logger.js';
import type { Probe } from '../../src/probes/probe.js';
import { createProbeRegistry } from '../../src/probes/registry.js';
import { openStore, type KeyvStore } from '../../src/store/keyv.js';
import { createStateRepository, type StateRepository } from '../../src/store/states.js';
import { createTargetRepository, type TargetRepository } from '../../src/store/targets.js';
import { until } from '../support/built-app.js';
import { logSink } from '../support/log-sink.js';
import { useTestCluster } from '../support/postgres.js';
import { httpTarget } from '../support/target-server.js';

// Two instances of Lookout in one process, on one throwaway PostgreSQL: each its own membership, bus,
// store (both over the same database, so they share the change journal), engine and sharing. Probes are
// fake; the clock is the real one, so the membership is short (ttl 600 ms, a beat every 200 ms).

const { enabled, cluster } = useTestCluster();

const TTL = 600;
const BEAT = 200;
/** Long enough that no test passes by the periodic drain unless it means to (the throw test sets its own). */
const DRAIN_EVERY_MS = 60_000;
const SHORT_DRAIN_MS = 300;
const IDS = ['a', 'b'] as const;

/** Seeded targets are checked hourly and were checked just now: no scheduled check runs during a test. */
const target = (name: string, over: Partial<HttpTarget> = {}): HttpTarget =>
  httpTarget({ id: `1/${name}`, chatId: 1, name, url: `http://127.0.0.1:9/${name}`, everyMs: 3_600_000, timeoutMs: 2_000, retryMs: 1_000, confirm: 1, recover: 1, ...over });

const SEEDED = Array.from({ length: 40 }, (_, i) => target(`t${String(i).padStart(2, '0')}`));
const SEEDED_IDS = SEEDED.map((t) => t.id);

const upRecord = (targetId: string): StateRecord => ({ targetId, state: 'UP', since: Date.now() - 60_000, consecutiveFailures: 0, consecutiveSuccesses: 3, checks: 3, failures: 0, lastCheckAt: Date.now() });

/** A probe that answers from a set of failing target ids (at once). */
class SwitchProbe implements Probe<HttpTarget> {
  readonly kind = 'http' as const;
  failing = new Set<string>();
  calls: string[] = [];
  async run(t: HttpTarget): Promise<CheckResult> {
    this.calls.push(t.id);
    const at = Date.now();
    return this.failing.has(t.id) ? { ok: false, at, latencyMs: 1, status: 503, failure: 'status', reason: 'HTTP 503, expected 200-299' } : { ok: true, at, latencyMs: 1, status: 200 };
  }
}

interface Instance {
  id: string;
  membership: Membership;
  bus: Bus;
  store: KeyvStore;
  targets: TargetRepository;
  states: StateRepository;
  engine: Engine;
  sharing: Sharing;
  probe: SwitchProbe;
  /** What `reassigned` was told, in order. */
  reassigned: Array<{ taken: string[]; given: string[] }>;
  /** When engine.sync(id) finished here (performance.now()), by id, latest. */
  synced: Map<string, number>;
  /** State changes of this instance's engine, with when they were emitted (performance.now()). */
  changes: Array<{ change: StateChange; at: number }>;
  /** Forwards made from the changes (the leader's path is not wired: these instances never lead their own changes). */
  forwards: Array<Promise<void>>;
}

let made: Instance[] = [];
afterEach(async () => {
  for (const i of made.splice(0).reverse()) {
    await i.sharing.stop();
    await i.engine.stop();
    await i.bus.stop();
    await i.membership.stop();
    await i.store.close();
  }
});

async function seed(url: string, targets: readonly Target[]): Promise<void> {
  const store = await openStore({ kind: 'postgres', url });
  try {
    const repo = createTargetRepository(store);
    const states = createStateRepository(store);
    for (const t of targets) await repo.put(t);
    await states.putMany(targets.map((t) => upRecord(t.id)));
  } finally {
    await store.close();
  }
}

/** Starts one instance as main() would: membership and bus first, then the engine (its share), then the sharing. */
async function instance(url: string, id: string, extra: { logger?: Logger; drainEveryMs?: number; busRetryMs?: number } = {}): Promise<Instance> {
  const store = await openStore({ kind: 'postgres', url });
  const membership = createMembership({ url, id, ttlMs: TTL, beatMs: BEAT });
  const bus = createBus({ url, retryMs: extra.busRetryMs ?? 100, checkMs: 200, timeoutMs: 1_000 });
  const targets = createTargetRepository(store);
  const states = createStateRepository(store);
  const probe = new SwitchProbe();
  let sharing: Sharing | undefined;
  const engine = createEngine({ targets, states, probes: createProbeRegistry([probe]), clock: systemClock, owns: (t) => sharing?.owns(t) ?? true });
  const synced = new Map<string, number>();
  // The sharing's view of the engine, timing each sync (the methods are closures: `this` is not used).
  const watched: Engine = Object.assign(Object.create(engine) as Engine, {
    sync: async (t: string) => {
      await engine.sync(t);
      synced.set(t, performance.now());
    },
  });
  const reassigned: Instance['reassigned'] = [];
  sharing = createSharing({ membership, bus, engine: watched, store, targets, drainEveryMs: extra.drainEveryMs ?? DRAIN_EVERY_MS, reassigned: (r) => reassigned.push(r), ...(extra.logger ? { logger: extra.logger } : {}) });
  const inst: Instance = { id, membership, bus, store, targets, states, engine, sharing, probe, reassigned, synced, changes: [], forwards: [] };
  made.push(inst);
  engine.onChange((change, t) => {
    inst.changes.push({ change, at: performance.now() });
    inst.forwards.push(inst.sharing.forward(change, t));
  });
  await membership.start();
  await bus.start();
  await engine.start();
  await sharing.start();
  return inst;
}

/** Both instances started and each seeing both; their engines have settled on their shares. */
async function pair(url: string): Promise<{ a: Instance; b: Instance }> {
  const a = await instance(url, 'a');
  const b = await instance(url, 'b');
  await until(() => a.membership.live().length === 2 && b.membership.live().length === 2, 5_000, 'a and b to see each other');
  const settled = (i: Instance): boolean => i.engine.targets().every((t) => i.engine.owned(t.id) === (ownerOf(t.id, IDS) === i.id));
  await until(() => settled(a) && settled(b), 5_000, 'both engines to check their shares');
  return { a, b };
}

/** The journal's keys, in order. */
async function journalKeys(store: KeyvStore): Promise<string[]> {
  const journal = store.namespace<JournalEntry>('cluster-changes');
  const keys: string[] = [];
  for await (const [key] of journal.iterator!(undefined)) keys.push(String(key));
  return keys.sort();
}

/** A leader that records what it decides and tells, with when (performance.now()). */
function recordingLeader(over: Partial<Leading> = {}): Leading & { decided: Array<{ change: StateChange; target: Target; at: number }>; told: Notification[] } {
  const decided: Array<{ change: StateChange; target: Target; at: number }> = [];
  const told: Notification[] = [];
  return {
    decided,
    told,
    decide: async (change, t) => {
      decided.push({ change, target: t, at: performance.now() });
    },
    tell: async (n) => {
      told.push(n);
    },
    ...over,
  };
}

const share = (id: string, ids: readonly string[]): string[] => ids.filter((t) => ownerOf(t, IDS) === id).sort();
const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;

/** Flips a target b checks UP↔DOWN with one manual check (confirm 1, recover 1): one state change each. */
async function flip(i: Instance, id: string): Promise<StateChange> {
  if (i.probe.failing.has(id)) i.probe.failing.delete(id);
  else i.probe.failing.add(id);
  const before = i.changes.length;
  await i.engine.checkNow(id);
  expect(i.changes.length).toBe(before + 1);
  await i.forwards.at(-1);
  return i.changes.at(-1)!.change;
}

describe.runIf(enabled)('sharing the checks between two instances', () => {
  it('the targets split between a and b by ownerOf and together cover all: b joining takes its share from a', async () => {
    const url = await cluster.createDatabase();
    await seed(url, SEEDED);
    const a = await instance(url, 'a');
    // Alone, a checks everything.
    expect(SEEDED_IDS.every((id) => a.engine.owned(id))).toBe(true);
    const joinedAt = performance.now();
    const b = await instance(url, 'b');
    await until(() => SEEDED_IDS.every((id) => a.engine.owned(id) === (ownerOf(id, IDS) === 'a')), 5_000, 'a to give b its share');
    console.log(`b's share left a ${fmt(performance.now() - joinedAt)} after b started (beat ${BEAT} ms)`);

    const ofA = SEEDED_IDS.filter((id) => a.engine.owned(id));
    const ofB = SEEDED_IDS.filter((id) => b.engine.owned(id));
    expect(ofA).toEqual(share('a', SEEDED_IDS));
    expect(ofB).toEqual(share('b', SEEDED_IDS));
    // Disjoint and complete, and neither share empty (40 targets over 2 members).
    expect([...ofA, ...ofB].sort()).toEqual([...SEEDED_IDS].sort());
    expect(ofA.filter((id) => ofB.includes(id))).toEqual([]);
    expect(ofA.length).toBeGreaterThan(5);
    expect(ofB.length).toBeGreaterThan(5);
    // Both know every target; the sharing answers as ownsAmong does.
    expect(b.engine.targets()).toHaveLength(SEEDED.length);
    for (const id of SEEDED_IDS) expect(b.sharing.owns(id)).toBe(ownsAmong('b', ['a', 'b'], id));
    expect(a.reassigned.flatMap((r) => r.given).sort()).toEqual(share('b', SEEDED_IDS));
    expect(a.reassigned.flatMap((r) => r.taken)).toEqual([]);
    expect(a.engine.stats().scheduled + b.engine.stats().scheduled).toBe(SEEDED.length);
  });

  it('a target change published by one (targetChanged) is read by the other (engine.sync): add, new interval, rename, removal', async () => {
    const url = await cluster.createDatabase();
    await seed(url, SEEDED.slice(0, 4));
    const { a, b } = await pair(url);
    let publishedAt = 0;
    const catalog = createCatalog(a.targets, a.engine, {
      onChanged: (id, previousId) => {
        publishedAt = performance.now();
        a.sharing.targetChanged(id, previousId);
      },
    });
    const seen = async (id: string, check: () => boolean, what: string): Promise<number> => {
      await until(check, 5_000, what);
      return b.synced.get(id)! - publishedAt;
    };
    const delays: Array<[string, number]> = [];

    const added = target('added', { everyMs: 60_000 });
    expect(await catalog.add(added)).toMatchObject({ ok: true });
    delays.push(['add', await seen(added.id, () => b.engine.target(added.id) !== undefined, 'b to know the new target')]);
    expect(b.engine.target(added.id)).toEqual(added);
    expect(b.engine.owned(added.id)).toBe(ownerOf(added.id, IDS) === 'b');
    expect(b.engine.state(added.id)?.state).toBe('UNKNOWN');

    const slower = { ...added, everyMs: 120_000 };
    await catalog.replace(added, slower);
    delays.push(['interval', await seen(added.id, () => b.engine.target(added.id)?.everyMs === 120_000, 'b to read the new interval')]);

    const renamed = { ...slower, id: '1/renamed', name: 'renamed' };
    await catalog.replace(slower, renamed);
    delays.push(['rename', await seen(renamed.id, () => b.engine.target(renamed.id) !== undefined && b.engine.target(added.id) === undefined, 'b to follow the rename')]);
    expect(b.engine.owned(renamed.id)).toBe(ownerOf(renamed.id, IDS) === 'b');

    await catalog.remove(renamed);
    delays.push(['remove', await seen(renamed.id, () => b.engine.target(renamed.id) === undefined, 'b to forget the removed target')]);
    expect(b.engine.targets().map((t) => t.id).sort()).toEqual(SEEDED_IDS.slice(0, 4));
    console.log(`target changes read by the other instance after the publish: ${delays.map(([what, ms]) => `${what} ${fmt(ms)}`).join(', ')}`);
    for (const [, ms] of delays) expect(ms).toBeLessThan(2_000);
  });

  it("a state change forwarded by the non-leader reaches the leader's decide() with the change, updates the leader's copy, and leaves the journal only once decided", async () => {
    const url = await cluster.createDatabase();
    await seed(url, SEEDED);
    const { a, b } = await pair(url);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const leader = recordingLeader();
    await a.sharing.lead({
      ...leader,
      decide: async (change, t) => {
        await leader.decide(change, t);
        await held;
      },
    });
    const id = share('b', SEEDED_IDS)[0]!;
    const change = await flip(b, id);
    expect(change).toMatchObject({ targetId: id, from: 'UP', to: 'DOWN', failures: 1 });

    await until(() => leader.decided.length === 1, 5_000, 'the leader to decide');
    expect(leader.decided[0]!.change).toEqual(change);
    expect(leader.decided[0]!.target).toEqual(b.engine.target(id));
    // The leader's copy of a target it does not check is the owner's record.
    expect(a.engine.owned(id)).toBe(false);
    expect(a.engine.state(id)).toEqual(b.engine.state(id));
    // Deciding: the entry stays until the decision resolves.
    expect(await journalKeys(a.store)).toHaveLength(1);
    release();
    await until(async () => (await journalKeys(a.store)).length === 0, 5_000, 'the entry to be deleted');
    expect(a.sharing.stats().decided).toBe(1);
    expect(b.sharing.stats().forwarded).toBe(1);
    expect(leader.decided).toHaveLength(1);
  });

  it('50 forwarded changes reach the leader in order (latency p50/p99 logged), and the journal empties', async () => {
    const url = await cluster.createDatabase();
    await seed(url, SEEDED);
    const { a, b } = await pair(url);
    const leader = recordingLeader();
    await a.sharing.lead(leader);
    const ids = share('b', SEEDED_IDS).slice(0, 5);
    const sent: StateChange[] = [];
    for (let i = 0; i < 50; i++) sent.push(await flip(b, ids[i % ids.length]!));
    await until(() => leader.decided.length === 50, 10_000, 'the leader to decide 50 changes');
    expect(leader.decided.map((d) => d.change)).toEqual(sent);
    const emitted = b.changes.slice(-50).map((c) => c.at);
    const latencies = leader.decided.map((d, i) => d.at - emitted[i]!).sort((x, y) => x - y);
    console.log(`forwarded change → leader's decide(), 50 changes: p50 ${fmt(percentile(latencies, 50))}, p99 ${fmt(percentile(latencies, 99))}, max ${fmt(latencies.at(-1)!)}`);
    // Each rides its bus notification (the periodic drain is a minute away here).
    expect(percentile(latencies, 99)).toBeLessThan(1_000);
    await until(async () => (await journalKeys(a.store)).length === 0, 5_000, 'the journal to empty');
    // The leader's copies are the owner's records.
    for (const id of ids) expect(a.engine.state(id)).toEqual(b.engine.state(id));
  });

  it('entries written while nobody leads are decided in the order they happened when a leader starts, then deleted', async () => {
    const url = await cluster.createDatabase();
    await seed(url, SEEDED);
    const { a, b } = await pair(url);
    const ids = share('b', SEEDED_IDS).slice(0, 3);
    const sent: StateChange[] = [];
    for (const id of [ids[0], ids[1], ids[0], ids[2], ids[1], ids[0]]) sent.push(await flip(b, id!));
    const tell: Notification = { kind: 'test', destination: 'log', by: 'b', id: 'test:nobody-leads', at: Date.now(), chatId: 1 };
    await b.sharing.forwardTell(tell);
    expect(await journalKeys(a.store)).toHaveLength(7);
    expect(a.sharing.stats()).toMatchObject({ decided: 0, drains: 0 });

    const leader = recordingLeader();
    await a.sharing.lead(leader);
    // lead() resolves once the journal has been read and decided.
    expect(leader.decided.map((d) => d.change)).toEqual(sent);
    expect(leader.told).toEqual([tell]);
    expect(await journalKeys(a.store)).toEqual([]);
    for (const id of ids) expect(a.engine.state(id)).toEqual(b.engine.state(id));
  });

  it('a decide() that throws leaves the entry in the journal; a later drain (every drainEveryMs) decides it', async () => {
    const url = await cluster.createDatabase();
    await seed(url, SEEDED);
    const log = logSink();
    const a = await instance(url, 'a', { logger: createLogger('info', log.stream), drainEveryMs: SHORT_DRAIN_MS });
    const b = await instance(url, 'b');
    await until(() => a.membership.live().length === 2 && SEEDED_IDS.every((id) => b.engine.owned(id) === (ownerOf(id, IDS) === 'b')), 5_000, 'the shares');
    let broken = true;
    const attempts: StateChange[] = [];
    const leader = recordingLeader();
    await a.sharing.lead({
      ...leader,
      decide: async (change, t) => {
        attempts.push(change);
        if (broken) throw new Error('the policy could not save its decision');
        await leader.decide(change, t);
      },
    });
    const change = await flip(b, share('b', SEEDED_IDS)[0]!);
    await until(() => attempts.length >= 1, 5_000, 'a first attempt');
    expect(leader.decided).toEqual([]);
    expect(await journalKeys(a.store)).toHaveLength(1);
    await until(() => log.lines.some((l) => l.event === 'cluster_change_failed' && l.target === change.targetId), 5_000, 'the failure to be logged');

    broken = false;
    const drainsBefore = a.sharing.stats().drains;
    await until(() => leader.decided.length === 1, 5_000, 'a later drain to decide it');
    expect(a.sharing.stats().drains).toBeGreaterThan(drainsBefore);
    expect(leader.decided[0]!.change).toEqual(change);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts.every((c) => JSON.stringify(c) === JSON.stringify(change))).toBe(true);
    await until(async () => (await journalKeys(a.store)).length === 0, 5_000, 'the entry to be deleted');
  });

  it("the leader's LISTEN connection is cut while b forwards a change and adds a target: once it listens again, it drains the journal and reads the targets again", async () => {
    const url = await cluster.createDatabase();
    await seed(url, SEEDED);
    // a reconnects only after a second, so what b publishes meanwhile is surely lost to it.
    const a = await instance(url, 'a', { busRetryMs: 1_000 });
    const b = await instance(url, 'b');
    await until(() => SEEDED_IDS.every((id) => a.engine.owned(id) === (ownerOf(id, IDS) === 'a') && b.engine.owned(id) === (ownerOf(id, IDS) === 'b')), 5_000, 'the shares');
    const leader = recordingLeader();
    await a.sharing.lead(leader);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [a.bus.backendPid]);
    } finally {
      await admin.end();
    }
    await until(() => !a.bus.listening, 5_000, "a's bus to notice");
    const change = await flip(b, share('b', SEEDED_IDS)[0]!);
    const added = target('added-while-deaf');
    await createCatalog(b.targets, b.engine, { onChanged: (id) => b.sharing.targetChanged(id) }).add(added);
    // Both were published while a did not listen (else this test would prove nothing).
    expect(a.bus.listening).toBe(false);
    expect(leader.decided).toEqual([]);

    await until(() => leader.decided.length === 1 && a.engine.target(added.id) !== undefined, 5_000, 'a to catch up after reconnecting');
    expect(a.bus.listening).toBe(true);
    expect(leader.decided[0]!.change).toEqual(change);
    expect(a.engine.target(added.id)).toEqual(added);
    await until(async () => (await journalKeys(a.store)).length === 0, 5_000, 'the entry to be deleted');
  });

  it("forwardTell from the non-leader reaches the leader's tell()", async () => {
    const url = await cluster.createDatabase();
    const { a, b } = await pair(url);
    const leader = recordingLeader();
    await a.sharing.lead(leader);
    const n: Notification = { kind: 'warning', target: { id: '1/x', name: 'x', address: 'https://x.example/' }, warning: { what: 'cert', expiresAt: Date.now() + 86_400_000, daysLeft: 1 }, id: '1/x:cert:1', at: Date.now(), chatId: 1, targetId: '1/x' };
    const sentAt = performance.now();
    await b.sharing.forwardTell(n);
    await until(() => leader.told.length === 1, 5_000, 'the leader to tell');
    console.log(`forwardTell → leader's tell(): ${fmt(performance.now() - sentAt)} (polled)`);
    expect(leader.told).toEqual([n]);
    expect(leader.decided).toEqual([]);
    await until(async () => (await journalKeys(a.store)).length === 0, 5_000, 'the entry to be deleted');
  });

  it("b is killed (its membership halts): a checks every target within ttl + beat, from the states b saved", async () => {
    const url = await cluster.createDatabase();
    await seed(url, SEEDED);
    const { a, b } = await pair(url);
    const ofB = share('b', SEEDED_IDS);
    // b saw one of its targets go DOWN; a's copy follows from the change's notification (nobody leads).
    const down = ofB[0]!;
    await flip(b, down);
    expect(b.engine.state(down)?.state).toBe('DOWN');
    await until(() => a.engine.state(down)?.state === 'DOWN', 5_000, "a's copy of b's state");

    const killedAt = performance.now();
    await b.membership.halt();
    await until(() => SEEDED_IDS.every((id) => a.engine.owned(id)), TTL + BEAT + 5_000, 'a to take every target');
    const tookMs = performance.now() - killedAt;
    console.log(`a checked all ${SEEDED.length} targets ${fmt(tookMs)} after b was killed (ttl ${TTL} ms, beat ${BEAT} ms)`);
    expect(tookMs).toBeLessThan(TTL + BEAT + 1_000);
    expect(a.membership.live()).toEqual(['a']);
    expect(a.reassigned.at(-1)).toEqual({ taken: ofB, given: [] });
    expect(a.engine.stats().scheduled).toBe(SEEDED.length);
    // The taken target starts from what b saved: DOWN, so a's next failing check is no new change.
    expect(a.engine.state(down)).toEqual(b.engine.state(down));
    a.probe.failing.add(down);
    await a.engine.checkNow(down);
    expect(a.changes).toEqual([]);
    a.probe.failing.delete(down);
    await a.engine.checkNow(down);
    expect(a.changes.map((c) => `${c.change.from}>${c.change.to}`)).toEqual(['DOWN>UP']);
  });

  it('b removes a target in the store and dies before announcing it: once b is out of the live set, a forgets the target too', async () => {
    const url = await cluster.createDatabase();
    await seed(url, SEEDED);
    const { a, b } = await pair(url);
    // A target of b's, so a would take it over and check it for ever if it never learnt of the removal.
    const gone = share('b', SEEDED_IDS)[0]!;
    await b.targets.delete(gone);
    await b.engine.remove(gone);
    expect(a.engine.target(gone)).toBeDefined();
    await b.membership.halt();
    await until(() => a.membership.live().length === 1 && a.engine.target(gone) === undefined, TTL + BEAT + 5_000, 'a to forget the removed target');
    expect(a.engine.owned(gone)).toBe(false);
    expect(a.engine.targets()).toHaveLength(SEEDED.length - 1);
  });
});
