// The cluster benchmark's result: its shape (the --json line), its goals and the table people read.
import { round } from './stats.js';

/** The goals the report judges. */
export const GOALS = {
  /** Checks per second, as a share of targets / interval. */
  onSchedule: 0.95,
  /** Scheduler lateness p99 per instance (s): the histogram bucket holding it must not lie above. */
  latenessP99S: 0.1,
  /** From the leader's SIGKILL until another instance says leader (s). */
  failoverS: 15,
} as const;

/** The share of the schedule counted as recovered after a kill. */
export const RECOVERED = 0.9;

/** One instance over the measuring window. */
export interface InstanceRow {
  id: string;
  role: string;
  /** The role as /healthz wrote it. */
  raw_role: string | null;
  peers: string[] | null;
  checks_per_s: number;
  /** Its checks/s over an equal share of the schedule (1 = exactly its share). */
  share_of_fair: number;
  lateness_p99_ms: number | null;
  /** The upper bound of the histogram bucket holding the p99. */
  lateness_p99_at_most_ms: number | null;
  /** The longer of its two /metrics scrapes (ms) and the last one's size. */
  metrics_scrape_ms: number | null;
  metrics_kb: number | null;
  cpu_percent: number | null;
}

/** What one kill measured. */
export interface KillResult {
  killed: string;
  new_leader: string | null;
  /** From the SIGKILL until another instance's /healthz said leader. */
  failover_s: number | null;
  /** From the SIGKILL until the targets saw ≥ 90% of the schedule over the rate window (0: never below). */
  recovery_s: number | null;
  /** The lowest share of the schedule seen meanwhile (over the rate window). */
  lowest_share: number | null;
  /** The longest any target went without a check across the kill (its interval included). */
  longest_gap_s: number;
  /** Targets the kill held up (a gap over 1.5 intervals), and those still unchecked when the gaps were read. */
  targets_delayed: number;
  targets_unchecked: number;
  /** From the restart until the killed instance had checked something again. */
  rejoin_s: number | null;
}

/** min / median / max of some seconds. */
export interface Spread {
  min: number;
  median: number;
  max: number;
}

/** The whole result, as printed with --json. */
export interface ClusterResult {
  bench: 'cluster';
  instances: number;
  targets: number;
  interval_s: number;
  member_ttl_s: number;
  warmed_up: boolean;
  window_s: number;
  expected_checks_per_s: number;
  total_checks_per_s: number;
  on_schedule_share: number;
  targets_saw_per_s: number;
  targets_unchecked: number | null;
  targets_overchecked: number;
  stray_requests: number;
  lateness_p99_ms_all: number | null;
  targets_lateness_p99_ms: number | null;
  targets_lateness_p99_ms_outside_scrapes: number | null;
  per_instance: InstanceRow[];
  postgres_rows_per_s: number;
  postgres_rows_per_s_by_table: Record<string, number>;
  postgres_cpu_percent: number;
  postgres_cpu_s_per_1000_checks: number | null;
  kills: number;
  failover_s: Spread | null;
  recovery_s: Spread | null;
  recovery_window_s: number;
  kill_details: KillResult[];
  unexpected_exits: number;
  goals: { on_schedule: boolean; lateness_p99_100ms: boolean; failover_under_15s: boolean | null };
  notes: string[];
}

/** The report as a table for people. */
export function formatReport(r: ClusterResult): string {
  const out: string[] = [];
  const cell = (v: unknown, w: number): string => String(v ?? '-').padEnd(w);
  out.push(`cluster bench: ${r.instances} instances, ${r.targets} targets every ${r.interval_s} s, window ${r.window_s} s${r.warmed_up ? '' : ' (warm-up incomplete)'}`);
  out.push('');
  out.push(`${cell('instance', 10)}${cell('role', 8)}${cell('peers', 7)}${cell('checks/s', 10)}${cell('of fair', 9)}${cell('late p99', 11)}${cell('(<= ms)', 9)}${cell('scrape ms', 11)}cpu %`);
  for (const i of r.per_instance) {
    const late = i.lateness_p99_ms === null ? null : `${i.lateness_p99_ms} ms`;
    out.push(
      `${cell(i.id, 10)}${cell(i.role, 8)}${cell(i.peers?.length, 7)}${cell(i.checks_per_s, 10)}${cell(`${round(i.share_of_fair * 100, 0)}%`, 9)}${cell(late, 11)}${cell(i.lateness_p99_at_most_ms, 9)}${cell(i.metrics_scrape_ms, 11)}${i.cpu_percent ?? '-'}`,
    );
  }
  out.push('');
  out.push(`checks/s     ${r.total_checks_per_s} of ${r.expected_checks_per_s} expected (${round(r.on_schedule_share * 100, 1)}%); the targets saw ${r.targets_saw_per_s}/s`);
  out.push(`targets      unchecked in the window: ${r.targets_unchecked ?? '-'}, checked more often than their interval: ${r.targets_overchecked}, stray requests: ${r.stray_requests}`);
  out.push(
    `lateness     p99 of all instances (/metrics): ${r.lateness_p99_ms_all ?? '-'} ms; as the targets saw it: ${r.targets_lateness_p99_ms ?? '-'} ms, ${r.targets_lateness_p99_ms_outside_scrapes ?? '-'} ms outside the bench's scrapes`,
  );
  out.push(`postgres     ${r.postgres_rows_per_s} rows written/s, CPU ${r.postgres_cpu_percent}% = ${r.postgres_cpu_s_per_1000_checks ?? '-'} s per 1,000 checks`);
  const spread = (s: Spread | null): string => (s ? `min ${s.min} / median ${s.median} / max ${s.max} s` : '-');
  out.push(`failover     ${r.kills} kills: ${spread(r.failover_s)}`);
  out.push(`recovery     back to ${RECOVERED * 100}% of the schedule (over ${r.recovery_window_s} s): ${spread(r.recovery_s)}`);
  for (const k of r.kill_details) {
    const lowest = k.lowest_share === null ? '-' : `${round(k.lowest_share * 100, 0)}%`;
    out.push(
      `  killed ${k.killed}: ${k.new_leader ?? 'nobody'} led after ${k.failover_s ?? '-'} s; schedule ${k.recovery_s === 0 ? `never below ${RECOVERED * 100}%` : `back after ${k.recovery_s ?? '-'} s`} (lowest ${lowest}); ` +
        `${k.targets_delayed} targets held up, the longest gap ${k.longest_gap_s} s${k.targets_unchecked > 0 ? `, ${k.targets_unchecked} unchecked` : ''}; the killed one checking again ${k.rejoin_s ?? '-'} s after its restart`,
    );
  }
  out.push(`exits        ${r.unexpected_exits} unexpected`);
  out.push('');
  const verdict = (v: boolean | null): string => (v === null ? 'n/a ' : v ? 'PASS' : 'FAIL');
  out.push(`${verdict(r.goals.on_schedule)}  checks on schedule (>= ${GOALS.onSchedule * 100}% of targets/interval)`);
  out.push(`${verdict(r.goals.lateness_p99_100ms)}  scheduler lateness p99 <= ${GOALS.latenessP99S * 1_000} ms on every instance that checks (/metrics)`);
  out.push(`${verdict(r.goals.failover_under_15s)}  failover < ${GOALS.failoverS} s on every kill`);
  if (r.notes.length > 0) {
    out.push('');
    out.push('notes:');
    for (const n of r.notes) out.push(`  - ${n}`);
  }
  return out.join('\n');
}
