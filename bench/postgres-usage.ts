// What PostgreSQL spends on Lookout, read for the cluster benchmark: the rows written (cumulative
// statistics of the user tables) and the CPU time of the server's processes (Linux /proc).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type pg from 'pg';

/** Rows inserted, updated and deleted so far, per user table of the client's database. */
export async function rowsWritten(client: pg.Client): Promise<Map<string, number>> {
  // Statistics are cached per transaction (stats_fetch_consistency); a fresh read each time.
  await client.query('SELECT pg_stat_clear_snapshot()');
  const { rows } = await client.query<{ table: string; n: string }>(
    `SELECT schemaname || '.' || relname AS table, (n_tup_ins + n_tup_upd + n_tup_del)::text AS n FROM pg_stat_user_tables`,
  );
  return new Map(rows.map((r) => [r.table, Number(r.n)]));
}

/** The postmaster's pid: the first line of postmaster.pid in the server's data directory. */
export async function postmasterPid(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
  const dir = rows[0]?.data_directory;
  if (!dir) throw new Error('the server did not tell its data directory');
  const pid = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no pid in ${join(dir, 'postmaster.pid')}`);
  return pid;
}

/** Clock ticks per second of /proc's times (`getconf CLK_TCK`, 100 on Linux almost always). */
export function clockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces): [0] is field 3 (state). */
function statFields(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * CPU ticks of one process: utime + stime (fields 14, 15), plus cutime + cstime (16, 17), the time of
 * its children that have ended and been waited for. For the postmaster the latter keeps the CPU of the
 * backends that closed (a killed instance's connections) in the sum. Undefined when it is gone.
 */
export function processTicks(pid: number): number | undefined {
  const f = statFields(pid);
  if (!f) return undefined;
  return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
}

/** CPU ticks of the postmaster and all its children (found by their ppid, field 4, in /proc/*\/stat). */
export function postgresTicks(postmaster: number): number {
  let ticks = processTicks(postmaster) ?? 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === postmaster) continue;
    const f = statFields(pid);
    if (f && Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  }
  return ticks;
}
