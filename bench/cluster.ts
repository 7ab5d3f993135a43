// npm run bench:cluster [-- --instances 2 --targets 10000 --interval 10 --duration 60 --kills 5 --ttl 15 --json --keep]
// Several built processes (node dist/main.js) on one throwaway PostgreSQL share N http targets on a local
// server (127.0.0.1 only). Measured over `duration` seconds once the checks flow: checks/s and scheduler
// lateness p99 per instance (/metrics deltas), total checks/s against N/interval (the instances' counters
// and the target server's own count), rows written per second and PostgreSQL CPU per 1,000 checks. Then
// `kills` times: the leader is killed with SIGKILL, the time until another instance's /healthz says
// leader and until the checks are back to 90% of the schedule, and the killed one is started again.
// Exit 0 when the run completed (the goals are in the output), 1 on an error, 2 when it cannot run here
// (no PostgreSQL, bad arguments).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LIMITS } from '../src/domain/target.js';
import { postgresBin } from '../test/support/postgres.js';
import { arrivalLateness, gapsAround } from './arrivals.js';
import { addHistograms, bucketQuantile, counterDelta, fetchHealth, histogramDelta, readHealth, type Health, type Role } from './cluster-readers.js';
import { formatReport, GOALS, RECOVERED, type ClusterResult, type InstanceRow, type KillResult, type Spread } from './cluster-report.js';
import { createCleanup, startRig, type Instance, type Rig, type Scrape } from './cluster-rig.js';
import { postgresTicks, processTicks, rowsWritten } from './postgres-usage.js';
import { quantile, round } from './stats.js';

const say = (line: string): void => void process.stderr.write(`cluster: ${line}\n`);

/** A bad flag or a machine without PostgreSQL: the bench cannot run here (exit 2). */
class CannotRun extends Error {}

const { values: args } = parseArgs({
  options: {
    instances: { type: 'string', default: '2' },
    targets: { type: 'string', default: '10000' },
    interval: { type: 'string', default: '10' },
    duration: { type: 'string', default: '60' },
    kills: { type: 'string', default: '5' },
    // MEMBER_TTL: how long a silent instance counts as alive (its targets move to the others after it).
    ttl: { type: 'string', default: '15' },
    json: { type: 'boolean', default: false },
    // Keeps the run directory (the instances' logs, the targets file) instead of removing it.
    keep: { type: 'boolean', default: false },
  },
});

function whole(name: keyof typeof args, min: number, max: number): number {
  const n = Number(args[name]);
  if (!Number.isInteger(n) || n < min || n > max) throw new CannotRun(`--${name} must be a whole number from ${min} to ${max}, got ${String(args[name])}`);
  return n;
}

/** What the run is asked to do, with what follows from it. */
interface Plan {
  instances: number;
  targets: number;
  intervalS: number;
  durationS: number;
  kills: number;
  ttlS: number;
  /** Checks per second the schedule asks for: targets / interval. */
  expected: number;
  /**
   * The window over which checks/s is read while waiting: long enough to hold ~400 checks (a few % of
   * noise from the targets' phases), at least 1 s, at most one interval (where each target counts once).
   */
  rateWindowMs: number;
  /** How long a kill may take to be made good (the TTL, then a full interval of checks), generously. */
  recoveryMaxMs: number;
}

function planOf(): Plan {
  const instances = whole('instances', 1, 32);
  const targets = whole('targets', 1, 100_000);
  const intervalS = whole('interval', LIMITS.everyMinMs / 1_000, 3_600);
  const ttlS = whole('ttl', 1, 3_600);
  const kills = whole('kills', 0, 1_000);
  if (kills > 0 && instances < 2) throw new CannotRun('--kills needs --instances 2 or more (someone must take over)');
  const expected = targets / intervalS;
  return {
    instances,
    targets,
    intervalS,
    durationS: whole('duration', 1, 86_400),
    kills,
    ttlS,
    expected,
    rateWindowMs: Math.min(intervalS * 1_000, Math.max(1_000, Math.ceil((400 / expected) * 1_000))),
    recoveryMaxMs: Math.max(60_000, 3 * (ttlS + intervalS) * 1_000),
  };
}

/** The checks the targets received over the rate window ending at `at`, as a share of the schedule. */
function shareAt(rig: Rig, plan: Plan, at: number): number {
  const { targets } = rig;
  return (targets.totalAt(at) - targets.totalAt(at - plan.rateWindowMs)) / (plan.rateWindowMs / 1_000) / plan.expected;
}

/** Every instance healthy, then a full interval of checks reaching the targets; false when the rate never came. */
async function warmUp(rig: Rig, plan: Plan): Promise<boolean> {
  const healthy = await rig.until('all instances healthy', 120_000, 250, async () =>
    (await Promise.all(rig.instances.map((i) => fetchHealth(i.port)))).every((h) => h?.ok),
  );
  if (!healthy) throw new Error(`not every instance answered /healthz 200 within 120 s; run with --keep to keep their logs`);
  const healthyAt = Date.now();
  const intervalMs = plan.intervalS * 1_000;
  say(`all ${plan.instances} instances healthy; waiting for ${round(plan.expected, 1)} checks/s`);
  return rig.until('warm-up (checks/s within 10% of the schedule over one interval)', 120_000 + 3 * intervalMs, 1_000, () => {
    const at = rig.targets.latestAt();
    if (at - healthyAt < intervalMs) return false;
    const share = (rig.targets.totalAt(at) - rig.targets.totalAt(at - intervalMs)) / plan.intervalS / plan.expected;
    return share >= 0.9 && share <= 1.1;
  });
}

/** Everything read at one edge of the measuring window. */
interface Snapshot {
  at: number;
  scrapes: Array<Scrape | undefined>;
  health: Health[];
  cpuTicks: Array<number | undefined>;
  rows: Map<string, number>;
  postgresTicks: number;
  targetCounts: number[];
}

async function snapshot(rig: Rig): Promise<Snapshot> {
  const [scrapes, health, rows, targetCounts] = await Promise.all([
    Promise.all(rig.instances.map((i) => rig.scrape(i))),
    Promise.all(rig.instances.map(async (i) => (await fetchHealth(i.port)) ?? readHealth(0, undefined))),
    rowsWritten(rig.db),
    rig.targets.counts(),
  ]);
  return {
    at: Date.now(),
    scrapes,
    health,
    cpuTicks: rig.instances.map((i) => (i.child?.pid === undefined ? undefined : processTicks(i.child.pid))),
    rows,
    postgresTicks: postgresTicks(rig.postmaster),
    targetCounts,
  };
}

type WindowResult = Omit<ClusterResult, 'bench' | 'instances' | 'targets' | 'interval_s' | 'member_ttl_s' | 'warmed_up' | 'kills' | 'failover_s' | 'recovery_s' | 'recovery_window_s' | 'kill_details' | 'unexpected_exits' | 'goals' | 'notes'>;

/** The measuring window: `durationS` seconds between two snapshots. */
async function measure(rig: Rig, plan: Plan): Promise<WindowResult> {
  say(`measuring for ${plan.durationS} s`);
  const { targets } = rig;
  await targets.record();
  const targetsFrom = targets.latestAt();
  const before = await snapshot(rig);
  await rig.pause(plan.durationS * 1_000);
  const arrivals = await targets.recorded();
  const after = await snapshot(rig);
  const targetsTo = targets.latestAt();
  const windowS = (after.at - before.at) / 1_000;

  const lateness = rig.instances.map((_, k) => {
    const b = after.scrapes[k]?.lateness;
    return b ? histogramDelta(before.scrapes[k]?.lateness, b) : undefined;
  });
  const rows: InstanceRow[] = rig.instances.map((inst, k) => {
    const a = before.scrapes[k];
    const b = after.scrapes[k];
    const seconds = a && b ? (b.at - a.at) / 1_000 : windowS;
    const checks = a && b ? counterDelta(a.checks, b.checks) : 0;
    const p99 = lateness[k] ? bucketQuantile(lateness[k], 0.99) : undefined;
    const ticksA = before.cpuTicks[k];
    const ticksB = after.cpuTicks[k];
    const health = after.health[k]!;
    if (health.instance !== undefined && health.instance !== inst.id) rig.note(`${inst.id}'s /healthz names it ${health.instance}`);
    if (health.rawRole === 'standby') rig.note(`${inst.id} answered role "standby" (read as a member)`);
    const gaugeRole: Role | undefined = b?.leaderGauge === 1 ? 'leader' : b?.leaderGauge === 0 ? 'member' : undefined;
    return {
      id: inst.id,
      role: health.role ?? gaugeRole ?? 'unknown',
      raw_role: health.rawRole ?? null,
      peers: health.peers ?? null,
      checks_per_s: round(checks / seconds, 1),
      share_of_fair: round(checks / seconds / (plan.expected / plan.instances), 3),
      lateness_p99_ms: p99 ? round(p99.value * 1_000, 1) : null,
      lateness_p99_at_most_ms: p99 && Number.isFinite(p99.atMost) ? round(p99.atMost * 1_000, 1) : null,
      metrics_scrape_ms: a && b ? Math.max(a.tookMs, b.tookMs) : null,
      metrics_kb: b ? Math.round(b.bytes / 1_024) : null,
      cpu_percent: ticksA !== undefined && ticksB !== undefined ? round(((ticksB - ticksA) / rig.ticksPerSecond / windowS) * 100, 1) : null,
    };
  });
  for (const row of rows) {
    if (row.metrics_scrape_ms !== null && row.metrics_scrape_ms > GOALS.latenessP99S * 1_000) {
      rig.note(`${row.id}'s /metrics took ${row.metrics_scrape_ms} ms (${row.metrics_kb} KB): the checks it held up count in its lateness`);
    }
  }

  const totalChecksPerS = rows.reduce((n, r) => n + r.checks_per_s, 0);
  const allLateness = addHistograms(lateness.flatMap((h) => (h ? [h] : [])));
  const allP99 = allLateness ? bucketQuantile(allLateness, 0.99) : undefined;
  // The window's first scrape holds its instance up while it writes /metrics: those seconds (and 2 s of
  // catching up) left out give the scheduler's lateness without the bench's own disturbance.
  const scrapeSpans = before.scrapes.flatMap((s) => (s ? [[s.at - s.tookMs / 2, s.at + s.tookMs / 2 + 2_000] as const] : []));
  const seen = arrivalLateness(arrivals, plan.intervalS * 1_000);
  const seenOutside = arrivalLateness(arrivals, plan.intervalS * 1_000, scrapeSpans);
  const perTarget = after.targetCounts.map((n, i) => n - (before.targetCounts[i] ?? 0));
  const rowsDelta = [...after.rows].map(([table, n]) => [table, n - (before.rows.get(table) ?? 0)] as const);
  const rowsTotal = rowsDelta.reduce((n, [, d]) => n + d, 0);
  const postgresCpuS = (after.postgresTicks - before.postgresTicks) / rig.ticksPerSecond;
  const checks = totalChecksPerS * windowS;
  return {
    window_s: round(windowS, 1),
    expected_checks_per_s: round(plan.expected, 1),
    total_checks_per_s: round(totalChecksPerS, 1),
    on_schedule_share: round(totalChecksPerS / plan.expected, 3),
    targets_saw_per_s: round((targets.totalAt(targetsTo) - targets.totalAt(targetsFrom)) / ((targetsTo - targetsFrom) / 1_000), 1),
    targets_unchecked: windowS >= plan.intervalS ? perTarget.filter((n) => n === 0).length : null,
    // More requests than the window holds intervals (+1 for its edges): checked by two instances, say.
    targets_overchecked: perTarget.filter((n) => n > Math.ceil(windowS / plan.intervalS) + 1).length,
    stray_requests: targets.strays(),
    lateness_p99_ms_all: allP99 ? round(allP99.value * 1_000, 1) : null,
    targets_lateness_p99_ms: seen.length > 0 ? quantile(seen, 0.99) : null,
    targets_lateness_p99_ms_outside_scrapes: seenOutside.length > 0 ? quantile(seenOutside, 0.99) : null,
    per_instance: rows,
    postgres_rows_per_s: round(rowsTotal / windowS, 1),
    postgres_rows_per_s_by_table: Object.fromEntries(rowsDelta.map(([t, d]) => [t, round(d / windowS, 1)])),
    postgres_cpu_percent: round((postgresCpuS / windowS) * 100, 1),
    postgres_cpu_s_per_1000_checks: checks > 0 ? round(postgresCpuS / (checks / 1_000), 4) : null,
  };
}

/** The one instance that says leader (polled every 250 ms, up to a minute). */
async function findLeader(rig: Rig): Promise<Instance | undefined> {
  let found: Instance | undefined;
  await rig.until('one leader', 60_000, 250, async () => {
    const roles = await Promise.all(rig.instances.map((i) => rig.roleOf(i)));
    const leaders = rig.instances.filter((_, k) => roles[k]!.role === 'leader');
    if (leaders.length > 1) rig.note(`${leaders.length} instances said leader at once: ${leaders.map((l) => l.id).join(', ')}`);
    found = leaders.length === 1 ? leaders[0] : undefined;
    return found !== undefined;
  });
  return found;
}

/** The first of `others` whose role is leader (each polled every 50 ms), or undefined at the deadline. */
async function firstLeader(rig: Rig, others: readonly Instance[], deadline: number): Promise<{ id: string; at: number } | undefined> {
  let found: { id: string; at: number } | undefined;
  await Promise.all(
    others.map(async (inst) => {
      while (!found && Date.now() < deadline) {
        const { role } = await rig.roleOf(inst);
        if (role === 'leader') found ??= { id: inst.id, at: Date.now() };
        else await rig.pause(50);
      }
    }),
  );
  return found;
}

/**
 * When, after `killedAt`, the targets saw ≥ RECOVERED of the schedule again (over the rate window), and
 * the lowest share before; `at` is `killedAt` itself when the first full window after the kill had it.
 */
async function recovery(rig: Rig, plan: Plan, killedAt: number, what: string): Promise<{ at: number | undefined; lowest: number }> {
  let lowest = Infinity;
  let from = killedAt + plan.rateWindowMs;
  const found: { at?: number } = {};
  await rig.until(what, plan.recoveryMaxMs, 250, () => {
    for (const s of rig.targets.samples) {
      if (s.at < from) continue;
      from = s.at + 1;
      const share = shareAt(rig, plan, s.at);
      if (share >= RECOVERED) {
        found.at = lowest === Infinity ? killedAt : s.at;
        if (lowest === Infinity) lowest = share;
        return true;
      }
      lowest = Math.min(lowest, share);
    }
    return false;
  });
  return { at: found.at, lowest };
}

/** `plan.kills` times: SIGKILL to the leader, the takeover, then the killed one started again and rejoined. */
async function killLeaders(rig: Rig, plan: Plan): Promise<KillResult[]> {
  const results: KillResult[] = [];
  for (let k = 1; k <= plan.kills; k++) {
    const leader = await findLeader(rig);
    if (!leader?.child) {
      rig.note(`kill ${k}: no leader to kill`);
      break;
    }
    say(`kill ${k}/${plan.kills}: SIGKILL to the leader ${leader.id}`);
    await rig.targets.record();
    const lastBefore = await rig.targets.lastArrivals();
    leader.stopping = true;
    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    const others = rig.instances.filter((i) => i !== leader);
    const [failover, back] = await Promise.all([
      firstLeader(rig, others, killedAt + 60_000),
      recovery(rig, plan, killedAt, `kill ${k}: checks back to ${RECOVERED * 100}% of the schedule`),
    ]);
    await leader.exited;
    // Once the schedule is back every target taken over is checked within one interval: then its gap is known.
    const intervalMs = plan.intervalS * 1_000;
    await rig.pause(Math.max(0, (back.at ?? Date.now()) + intervalMs + 1_000 - Date.now()));
    const gaps = gapsAround(lastBefore, await rig.targets.recorded(), intervalMs, Date.now());
    // Started again under the same id and port: healthy, then checking its share again, then settled.
    const restartedAt = Date.now();
    rig.start(leader);
    await rig.until(`kill ${k}: ${leader.id} healthy again`, 60_000, 250, async () => Boolean((await fetchHealth(leader.port))?.ok));
    const checking: { at?: number } = {};
    await rig.until(`kill ${k}: ${leader.id} checking again after its restart`, (plan.ttlS + 2 * plan.intervalS) * 1_000, 1_000, async () => {
      if (((await rig.scrape(leader))?.checks ?? 0) > 0) checking.at = Date.now();
      return checking.at !== undefined;
    });
    await rig.until(`kill ${k}: the schedule settled after the rejoin`, plan.recoveryMaxMs, 500, () => {
      const at = rig.targets.latestAt();
      const share = shareAt(rig, plan, at);
      return at - restartedAt >= plan.rateWindowMs && share >= RECOVERED && share <= 2 - RECOVERED;
    });
    const result: KillResult = {
      killed: leader.id,
      new_leader: failover?.id ?? null,
      failover_s: failover ? round((failover.at - killedAt) / 1_000, 3) : null,
      recovery_s: back.at !== undefined ? round((back.at - killedAt) / 1_000, 1) : null,
      lowest_share: Number.isFinite(back.lowest) ? round(back.lowest, 3) : null,
      longest_gap_s: round(gaps.longestMs / 1_000, 1),
      targets_delayed: gaps.delayed,
      targets_unchecked: gaps.unchecked,
      rejoin_s: checking.at !== undefined ? round((checking.at - restartedAt) / 1_000, 1) : null,
    };
    results.push(result);
    say(`kill ${k}: ${JSON.stringify(result)}`);
  }
  return results;
}

const spreadOf = (values: number[]): Spread | null =>
  values.length === 0 ? null : { min: Math.min(...values), median: quantile([...values], 0.5), max: Math.max(...values) };

async function main(): Promise<ClusterResult> {
  const plan = planOf();
  if (!postgresBin()) {
    throw new CannotRun(
      'PostgreSQL is not installed here (no initdb/pg_ctl in PG_BIN, /usr/lib/postgresql/<version>/bin or the PATH); install it with `apt-get install -y --no-install-recommends postgresql`',
    );
  }
  const entry = join(process.cwd(), 'dist', 'main.js');
  if (!existsSync(entry)) throw new Error('dist/main.js is missing: run `npm run build` first (npm run bench:cluster does)');

  const cleanup = createCleanup(say);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say(`${signal}: cleaning up`);
      void cleanup.run().finally(() => process.exit(130));
    });
  }
  try {
    say(`${plan.instances} instances, ${plan.targets} targets every ${plan.intervalS} s (${round(plan.expected, 1)} checks/s expected), ${plan.durationS} s measured, ${plan.kills} kills`);
    const rig = await startRig(entry, { instances: plan.instances, targets: plan.targets, intervalS: plan.intervalS, ttlS: plan.ttlS, keep: args.keep, say, cleanup });
    say(`run dir ${rig.runDir}`);
    const warmedUp = await warmUp(rig, plan);
    const window = await measure(rig, plan);
    const kills = await killLeaders(rig, plan);

    const failovers = kills.flatMap((r) => (r.failover_s === null ? [] : [r.failover_s]));
    const checking = window.per_instance.filter((r) => r.lateness_p99_at_most_ms !== null);
    return {
      bench: 'cluster',
      instances: plan.instances,
      targets: plan.targets,
      interval_s: plan.intervalS,
      member_ttl_s: plan.ttlS,
      warmed_up: warmedUp,
      ...window,
      kills: kills.length,
      failover_s: spreadOf(failovers),
      recovery_s: spreadOf(kills.flatMap((r) => (r.recovery_s === null ? [] : [r.recovery_s]))),
      recovery_window_s: plan.rateWindowMs / 1_000,
      kill_details: kills,
      unexpected_exits: rig.instances.reduce((n, i) => n + i.unexpectedExits, 0),
      goals: {
        on_schedule: window.total_checks_per_s >= GOALS.onSchedule * plan.expected,
        lateness_p99_100ms: checking.length > 0 && checking.every((r) => r.lateness_p99_at_most_ms! <= GOALS.latenessP99S * 1_000),
        failover_under_15s: plan.kills === 0 ? null : failovers.length === plan.kills && Math.max(...failovers) < GOALS.failoverS,
      },
      notes: rig.notes,
    };
  } finally {
    await cleanup.run();
  }
}

try {
  const result = await main();
  if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else console.log(formatReport(result));
  process.exit(0);
} catch (err) {
  if (err instanceof CannotRun) {
    process.stderr.write(`cluster: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`cluster: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
}
