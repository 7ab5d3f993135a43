import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ownerOf } from '../../src/cluster/assignment.js';
import { buildApp, runApp, until, type RunningApp } from '../support/built-app.js';
import { startFakeTelegram, type FakeTelegram } from '../support/fake-telegram.js';
import { postgresTestsEnabled, startTestCluster, type TestCluster } from '../support/postgres.js';
import { closedPort, startTargetServer, type TargetServer } from '../support/target-server.js';

// Three built processes on one PostgreSQL behind the fake Bot API. Each checks its share of the targets
// (rendezvous hashing over the live instances); one leads and talks to Telegram. Kill -9 of the leader,
// kill -9 of a checker and PostgreSQL stopped for 30 s: every decided alert arrives, at most once more.

const GROUP = -1001234567890;
const enabled = postgresTestsEnabled(process.env);
const MEMBERS = ['a', 'b', 'c'];
const TTL_S = 3;
const ADMIN = 4242;

let dist: { dist: string; remove(): Promise<void> };
let cluster: TestCluster;
let telegram: FakeTelegram;
let dir: string;
let url: string;
let file: string;
const servers = new Map<string, TargetServer>();
const running: RunningApp[] = [];
const instances = new Map<string, { p: RunningApp; port: number }>();

/** Two target names owned by each of a, b and c (by the function every instance uses). */
const names: string[] = (() => {
  const picked = new Map<string, string[]>(MEMBERS.map((m) => [m, []]));
  for (let i = 0; [...picked.values()].some((l) => l.length < 2); i++) {
    const name = `svc${i}`;
    const owner = ownerOf(`${GROUP}/${name}`, MEMBERS)!;
    if (picked.get(owner)!.length < 2) picked.get(owner)!.push(name);
  }
  return [...picked.values()].flat();
})();
const ownerAmong = (name: string, live: string[]): string => ownerOf(`${GROUP}/${name}`, live)!;

beforeAll(async () => {
  if (!enabled) return;
  [dist, cluster, telegram] = await Promise.all([buildApp(), startTestCluster(), startFakeTelegram()]);
  for (const name of names) servers.set(name, await startTargetServer());
  dir = await mkdtemp(join(tmpdir(), 'lookout-cluster-'));
  url = await cluster.createDatabase('cluster');
  file = join(dir, 'targets.yaml');
  const lines = names.map((n) => `  - { name: ${n}, url: "${servers.get(n)!.url}${n}", every: 10s, timeout: 2s, confirm: 1 }`);
  await writeFile(file, `version: 1\nchat: ${GROUP}\ntargets:\n${lines.join('\n')}\n`);
}, 120_000);

afterAll(async () => {
  for (const p of running) if (p.child.exitCode === null && p.signal() === null) p.child.kill('SIGKILL');
  await Promise.all(running.map((p) => p.exit));
  await Promise.all([dist?.remove(), cluster?.destroy(), telegram?.close(), ...[...servers.values()].map((s) => s.close()), dir ? rm(dir, { recursive: true, force: true }) : undefined]);
});

async function start(id: string): Promise<{ p: RunningApp; port: number }> {
  const port = instances.get(id)?.port ?? (await closedPort());
  const p = runApp(dist.dist, {
    DATABASE_URL: url,
    INSTANCE_ID: id,
    LOCATION: 'lab',
    MEMBER_TTL: String(TTL_S),
    DATA_DIR: join(dir, id),
    HTTP_PORT: String(port),
    BOT_TOKEN: telegram.token,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    ALLOWED_CHAT_IDS: String(GROUP),
    ADMIN_USER_IDS: String(ADMIN),
    TARGETS_FILE: file,
    LOG_LEVEL: 'info',
    SOURCE_LABEL: id,
    TRACE_MODE: 'icmp',
    MTR_PATH: '/nonexistent/mtr',
  });
  running.push(p);
  const x = { p, port };
  instances.set(id, x);
  return x;
}

interface Healthz {
  status: string;
  role: string;
  instance: string;
  peers: string[];
  checking: number;
  locations: Record<string, Array<{ id: string; seenAgoS: number }>>;
}
const healthz = async (id: string): Promise<Healthz | undefined> => {
  try {
    return (await (await fetch(`http://127.0.0.1:${instances.get(id)!.port}/healthz`)).json()) as Healthz;
  } catch {
    return undefined;
  }
};
const alive = (id: string): boolean => {
  const p = instances.get(id)?.p;
  return p !== undefined && p.child.exitCode === null && p.signal() === null;
};
const leaderOf = async (ids: string[]): Promise<string | undefined> => {
  for (const id of ids) if (alive(id) && (await healthz(id))?.role === 'leader') return id;
  return undefined;
};
const texts = (): string[] => telegram.callsOf('sendMessage').map((c) => String(c.payload.text));
const lines = (): string[] => texts().flatMap((t) => t.split('\n'));
/** DOWN alerts of `n`: alone (`🔴 <b>n</b> is DOWN`) or a line of a grouped alert (`🔴 <b>n</b> · reason`). */
const downs = (n: string): number => lines().filter((l) => l === `🔴 <b>${n}</b> is DOWN` || l.startsWith(`🔴 <b>${n}</b> ·`) || l === `🔴 <b>${n}</b>`).length;
/** Resolutions of `n`: alone or in a group. */
const ups = (n: string): number => lines().filter((l) => l === `🟢 <b>${n}</b> is UP again` || l.startsWith(`• <b>${n}</b> · down for`)).length;
/** Outages of `n` told after they ended (one line). */
const blips = (n: string): number => lines().filter((l) => l.startsWith(`⚡ <b>${n}</b> was DOWN`)).length;
const setAll = (status: number): void => servers.forEach((s) => s.setStatus(status));
const kill = async (id: string): Promise<void> => {
  const x = instances.get(id)!;
  x.p.child.kill('SIGKILL');
  await x.p.exit;
};
/** Each live instance checks exactly the targets the assignment gives it among `live`. */
const converged = async (live: string[]): Promise<boolean> => {
  for (const id of live) {
    const h = await healthz(id);
    if (!h || h.checking !== names.filter((n) => ownerAmong(n, live) === id).length || h.peers.length !== live.length) return false;
  }
  return true;
};

/** What each instance said about its role and share: printed when a case fails, to tell a slow machine from a stuck reassign. */
const WATCHED = new Set(['started', 'leading', 'leadership_lost', 'restarting', 'restart_waiting', 'targets_reassigned', 'reassign_failed', 'handover_timeout', 'handover_checks_dropped', 'member_failing', 'member_recovered', 'store_unhealthy', 'store_recovered', 'bus_reconnected', 'bus_failing']);
async function dumpInstances(): Promise<void> {
  for (const [id, { p }] of instances) {
    const h = alive(id) ? await healthz(id).catch(() => undefined) : undefined;
    const events = p.lines().filter((l) => WATCHED.has(String(l.event)) || l.level === 50).slice(-40);
    console.log(`--- ${id} (${alive(id) ? 'alive' : 'dead'}) healthz ${JSON.stringify(h)}\n${events.map((l) => `${String(l.time)} ${String(l.event)} ${String(l.msg)} ${JSON.stringify({ ...l, time: undefined, msg: undefined, level: undefined, pid: undefined, hostname: undefined })}`).join('\n')}`);
  }
}

describe.skipIf(!enabled)('three instances on one database', () => {
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await dumpInstances();
  });

  it('share the checks: each checks its share, one leads, every DOWN arrives once', async () => {
    setAll(503);
    for (const id of MEMBERS) await start(id);
    await until(() => converged(MEMBERS), 40_000, 'the targets are shared among a, b and c');
    const leader = await leaderOf(MEMBERS);
    expect(leader).toBeDefined();
    for (const id of MEMBERS) {
      const h = (await healthz(id))!;
      expect(h.role).toBe(id === leader ? 'leader' : 'member');
      expect([...h.peers].sort()).toEqual(MEMBERS);
      expect(h.locations.lab?.map((x) => x.id).sort()).toEqual(MEMBERS);
      const metrics = await (await fetch(`http://127.0.0.1:${instances.get(id)!.port}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`^lookout_leader ${id === leader ? 1 : 0}$`, 'm'));
      expect(metrics).toMatch(/^lookout_cluster_members 3$/m);
    }
    await until(() => names.every((n) => downs(n) >= 1), 40_000, 'a DOWN for every target');
    // Every instance checked its own targets and only those: the checks' series are on their owner's /metrics.
    for (const id of MEMBERS) {
      const metrics = await (await fetch(`http://127.0.0.1:${instances.get(id)!.port}/metrics`)).text();
      for (const n of names) expect(metrics.includes(`lookout_checks_total{target="${GROUP}/${n}"`)).toBe(ownerAmong(n, MEMBERS) === id);
    }
    for (const n of names) expect(downs(n)).toBe(1);
  }, 150_000);

  it('a target added and removed in the chat reaches the instance that checks it (LISTEN/NOTIFY)', async () => {
    const fresh = 'fresh1';
    const owner = ownerAmong(fresh, MEMBERS);
    const before = (await healthz(owner))!.checking;
    const sentAt = Date.now();
    telegram.sendText({ chatId: GROUP, userId: ADMIN, text: `/add ${servers.get(names[0]!)!.url}${fresh} name=${fresh} every=10s` });
    await until(async () => (await healthz(owner))?.checking === before + 1, 20_000, `${owner} checks the new target`);
    const addMs = Date.now() - sentAt;
    console.log(`/add reached its owner ${owner} after ${addMs} ms (the command's handling included)`);
    expect(addMs).toBeLessThan(2_000);
    // Nobody else took it.
    for (const id of MEMBERS.filter((m) => m !== owner)) expect((await healthz(id))!.checking).toBe(names.filter((n) => ownerAmong(n, MEMBERS) === id).length);
    telegram.sendText({ chatId: GROUP, userId: ADMIN, text: `/remove ${fresh}` });
    const ask = await telegram.waitFor('sendMessage', (c) => String(c.payload.text).startsWith(`Remove <b>${fresh}</b>`), 20_000);
    const messageId = (ask.result as { message_id: number }).message_id;
    const pressedAt = Date.now();
    telegram.pressButton({ chatId: GROUP, userId: ADMIN, messageId, data: `rm:${GROUP}/${fresh}` });
    await until(async () => (await healthz(owner))?.checking === before, 20_000, `${owner} stops checking the removed target`);
    console.log(`/remove reached its owner after ${Date.now() - pressedAt} ms`);
  }, 60_000);

  it('kill -9 of the leader mid-incident: another leads within 15 s, its targets move within the TTL, every resolution arrives once', async () => {
    const leader = (await leaderOf(MEMBERS))!;
    const rest = MEMBERS.filter((m) => m !== leader);
    await kill(leader);
    const killedAt = Date.now();
    setAll(200);
    await until(async () => (await leaderOf(rest)) !== undefined, 20_000, 'another instance leads');
    const tookOverMs = Date.now() - killedAt;
    await until(() => converged(rest), 20_000, "the dead leader's targets are shared by the others");
    const movedMs = Date.now() - killedAt;
    console.log(`failover: a new leader ${tookOverMs} ms after the kill; targets moved after ${movedMs} ms`);
    expect(tookOverMs).toBeLessThan(15_000);
    await until(() => names.every((n) => ups(n) >= 1), 60_000, 'every resolution');
    for (const n of names) {
      expect(ups(n)).toBe(1);
      // The DOWN may be sent once more if the kill came between Telegram's answer and the leader noting it.
      expect(downs(n)).toBeLessThanOrEqual(2);
    }
  }, 150_000);

  it('kill -9 of a checker that does not lead: the leader checks its targets within the TTL and alerts on them', async () => {
    const live = MEMBERS.filter(alive);
    const leader = (await leaderOf(live))!;
    const checker = live.find((m) => m !== leader)!;
    const its = names.filter((n) => ownerAmong(n, live) === checker);
    expect(its.length).toBeGreaterThan(0);
    await kill(checker);
    const killedAt = Date.now();
    for (const n of its) servers.get(n)!.setStatus(503);
    await until(async () => (await healthz(leader))?.checking === names.length, 30_000, 'the leader checks every target');
    const movedMs = Date.now() - killedAt;
    console.log(`checker killed: its targets moved after ${movedMs} ms`);
    // Within one TTL of its last beat (the kill may come just after one), with room for a slow machine.
    expect(movedMs).toBeLessThan(TTL_S * 1_000 + 5_000);
    await until(() => its.every((n) => downs(n) >= 2), 40_000, "DOWN for the dead checker's targets");
    for (const n of its) servers.get(n)!.setStatus(200);
    await until(() => its.every((n) => ups(n) >= 2), 40_000, "the dead checker's targets UP again");
  }, 150_000);

  it('PostgreSQL stopped for 30 s and started again: no decided alert is lost', async () => {
    // Back to three instances (the two killed ones start again with their ids).
    for (const id of MEMBERS) if (!alive(id)) await start(id);
    await until(() => converged(MEMBERS), 40_000, 'three instances again');
    const downsBefore = new Map(names.map((n) => [n, downs(n)]));
    const upsBefore = new Map(names.map((n) => [n, ups(n)]));
    const blipsBefore = new Map(names.map((n) => [n, blips(n)]));
    await cluster.stopServer();
    // Every target goes down while the database is away; half of them come back before it returns.
    setAll(503);
    await new Promise((r) => setTimeout(r, 15_000));
    const back = names.filter((_, i) => i % 2 === 0);
    for (const n of back) servers.get(n)!.setStatus(200);
    await new Promise((r) => setTimeout(r, 15_000));
    await cluster.startServer();
    // Those still down: a DOWN each. Those that came back: their outage is told (as DOWN and UP, or one blip line).
    await until(
      () => names.every((n) => (back.includes(n) ? blips(n) > blipsBefore.get(n)! || (downs(n) > downsBefore.get(n)! && ups(n) > upsBefore.get(n)!) : downs(n) > downsBefore.get(n)!)),
      90_000,
      'every outage of the 30 s told',
    );
    for (const n of names.filter((x) => !back.includes(x))) expect(downs(n) - downsBefore.get(n)!).toBeLessThanOrEqual(2);
    // Someone leads again, all three still run (a leader that lost its lock starts again as a member), and all three check.
    await until(async () => (await leaderOf(MEMBERS)) !== undefined, 40_000, 'a leader after the outage');
    expect(MEMBERS.filter(alive)).toEqual(MEMBERS);
    await until(() => converged(MEMBERS), 40_000, 'the three share the targets again');
  }, 240_000);
});
