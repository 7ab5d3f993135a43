// The real process under a targets file: the built app (node dist/main.js, headless, with history,
// metrics and the store as in production) checks N http targets every T seconds on a counting server in
// its own process (a fresh connection per check), and is measured from outside:
//   - checks/s and scheduling lateness from the targets' side (each gap between two requests to a target,
//     minus the interval: p50 / p99 / max),
//   - CPU ms per check from /proc (user + system of the process, over the measured window),
//   - RSS (highest sample) and PSS,
//   - how long applying the file took (its log line) and when every target had been checked once.
// With `--peer blackbox`, Prometheus + blackbox_exporter from Debian (installed here, not in npm test)
// check the same targets at the same interval in the same run, measured the same way; the ratios are printed.
//
//   npm run bench:process -- --targets 10000 --interval 10 [--duration 60] [--peer blackbox] [--json out.json]
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { access, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { closedPort } from '../test/support/target-server.js';
import { startCountingTargets, targetsYaml, type CountingTargets } from './count-targets.js';
import { quantile, round } from './stats.js';

const { values: args } = parseArgs({
  options: {
    targets: { type: 'string', default: '1000' },
    interval: { type: 'string', default: '20' },
    duration: { type: 'string', default: '60' },
    peer: { type: 'string' },
    json: { type: 'string' },
  },
});
const TARGETS = Number(args.targets);
const INTERVAL_S = Number(args.interval);
const DURATION_MS = Number(args.duration) * 1_000;
const ROOT = new URL('../..', import.meta.url).pathname;
const TICKS = 100;
const say = (line: string): void => void process.stderr.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CPU ms (user + system) of processes so far, from /proc. */
function cpuMsOf(pids: readonly number[]): number {
  return systemMsOf(pids) + userMsOf(pids);
}

/** CPU ms of one field of /proc/PID/stat (11 user, 12 system, after the command). */
const statMs = (pids: readonly number[], field: number): number =>
  pids.reduce((sum, pid) => sum + (Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[field]) * 1_000) / TICKS, 0);
const userMsOf = (pids: readonly number[]): number => statMs(pids, 11);
const systemMsOf = (pids: readonly number[]): number => statMs(pids, 12);

/** RSS and PSS (MB) of processes, from /proc. */
function memoryOf(pids: readonly number[]): { rssMb: number; pssMb: number } {
  let rss = 0;
  let pss = 0;
  for (const pid of pids) {
    rss += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    pss += Number(/Pss:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
  }
  return { rssMb: round(rss / 1024, 1), pssMb: round(pss / 1024, 1) };
}

/** What one system did in the measured window. */
interface Figures {
  system: string;
  checks: number;
  checksPerS: number;
  lateness: { p50: number; p99: number; max: number };
  cpuMsPerCheck: number;
  /** Of which in the kernel (system time). */
  systemMsPerCheck: number;
  rssMb: number;
  pssMb: number;
  allCheckedS: number;
  fileAppliedS?: number;
}

/** Measures processes `pids` checking `counting`'s targets: waits until every target was checked, one interval more, then the window. */
async function measure(system: string, pids: () => number[], counting: CountingTargets, startedAt: number, fileAppliedS?: () => number | undefined): Promise<Figures> {
  for (;;) {
    const counts = await counting.counts();
    if (counts.every((c) => c > 0)) break;
    if (Date.now() - startedAt > 10 * 60_000) throw new Error(`${system}: not every target was checked within 10 minutes`);
    await sleep(100);
  }
  const allCheckedS = round((Date.now() - startedAt) / 1_000, 1);
  say(`${system}: every target checked ${allCheckedS} s after start; warming up one interval`);
  await sleep(INTERVAL_S * 1_000);
  await counting.record();
  const cpu0 = cpuMsOf(pids());
  const sys0 = systemMsOf(pids());
  const t0 = Date.now();
  let rssMb = 0;
  let pssMb = 0;
  while (Date.now() - t0 < DURATION_MS) {
    await sleep(1_000);
    const m = memoryOf(pids());
    rssMb = Math.max(rssMb, m.rssMb);
    pssMb = Math.max(pssMb, m.pssMb);
  }
  const cpu = cpuMsOf(pids()) - cpu0;
  const sys = systemMsOf(pids()) - sys0;
  const elapsed = Date.now() - t0;
  const arrivals = await counting.recorded();
  const checks = arrivals.reduce((n, a) => n + a.length, 0);
  const late: number[] = [];
  for (const list of arrivals) for (let i = 1; i < list.length; i++) late.push(list[i]! - list[i - 1]! - INTERVAL_S * 1_000);
  const figures: Figures = {
    system,
    checks,
    checksPerS: round(checks / (elapsed / 1_000), 1),
    lateness: { p50: round(quantile([...late], 0.5), 1), p99: round(quantile([...late], 0.99), 1), max: round(Math.max(...late), 1) },
    cpuMsPerCheck: round(cpu / checks, 3),
    systemMsPerCheck: round(sys / checks, 3),
    rssMb,
    pssMb,
    allCheckedS,
    ...(fileAppliedS?.() !== undefined ? { fileAppliedS: fileAppliedS()! } : {}),
  };
  say(`${system}: ${figures.checksPerS} checks/s, lateness p50 ${figures.lateness.p50} / p99 ${figures.lateness.p99} / max ${figures.lateness.max} ms, CPU ${figures.cpuMsPerCheck} ms/check (${figures.systemMsPerCheck} in the kernel), RSS ${rssMb} MB (PSS ${pssMb})`);
  return figures;
}

const stopped = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 30_000).unref();
  });

async function runLookout(counting: CountingTargets, dir: string): Promise<Figures> {
  const entry = join(ROOT, 'dist', 'main.js');
  await access(entry).catch(() => {
    throw new Error('dist/main.js is missing: npm run bench:process builds it');
  });
  const targetsFile = join(dir, 'targets.yaml');
  await writeFile(targetsFile, targetsYaml(counting.origin, TARGETS, INTERVAL_S));
  const port = await closedPort();
  const startedAt = Date.now();
  // BENCH_NODE_ARGS: extra node flags for a look inside (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
  const extra = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, ['--max-old-space-size=256', '--max-semi-space-size=8', ...extra, entry], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      DATA_DIR: join(dir, 'data'),
      TARGETS_FILE: targetsFile,
      HTTP_PORT: String(port),
      MAX_TARGETS_PER_CHAT: String(Math.max(1_000, TARGETS)),
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let applied: number | undefined;
  let lines = 0;
  let stateLines = 0;
  let buffered = '';
  child.stdout!.on('data', (d: Buffer) => {
    buffered += d.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      lines += 1;
      if (line.includes('"event":"state_change"') || line.includes('"event":"state"')) stateLines += 1;
      if (applied === undefined && line.includes('"event":"targets_file_applied"')) {
        const at = Number(/"time":(\d+)/.exec(line)?.[1]);
        applied = round((at - startedAt) / 1_000, 2);
      }
    }
  });
  try {
    const figures = await measure('lookout', () => [child.pid!], counting, startedAt, () => applied);
    say(`lookout: ${lines} log lines, ${stateLines} about state changes, for ${TARGETS} targets`);
    return figures;
  } finally {
    await stopped(child);
  }
}

async function runBlackbox(counting: CountingTargets, dir: string): Promise<Figures> {
  const prometheus = '/usr/bin/prometheus';
  const blackbox = '/usr/bin/prometheus-blackbox-exporter';
  if (!existsSync(prometheus) || !existsSync(blackbox)) {
    say('installing prometheus and prometheus-blackbox-exporter from Debian…');
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'prometheus', 'prometheus-blackbox-exporter'], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  const bbPort = await closedPort();
  const promPort = await closedPort();
  await writeFile(join(dir, 'blackbox.yml'), 'modules:\n  http_2xx:\n    prober: http\n    timeout: 5s\n    http:\n      preferred_ip_protocol: ip4\n');
  const targets = Array.from({ length: TARGETS }, (_, i) => `'${counting.origin}/t${i}'`).join(', ');
  await writeFile(
    join(dir, 'prometheus.yml'),
    [
      'global:',
      `  scrape_interval: ${INTERVAL_S}s`,
      `  scrape_timeout: ${Math.min(10, INTERVAL_S)}s`,
      'scrape_configs:',
      '  - job_name: blackbox',
      '    metrics_path: /probe',
      '    params: { module: [http_2xx] }',
      `    static_configs: [{ targets: [${targets}] }]`,
      '    relabel_configs:',
      '      - { source_labels: [__address__], target_label: __param_target }',
      '      - { source_labels: [__param_target], target_label: instance }',
      `      - { target_label: __address__, replacement: '127.0.0.1:${bbPort}' }`,
      '',
    ].join('\n'),
  );
  const startedAt = Date.now();
  const bb = spawn(blackbox, [`--config.file=${join(dir, 'blackbox.yml')}`, `--web.listen-address=127.0.0.1:${bbPort}`], { stdio: 'ignore' });
  const prom = spawn(prometheus, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' });
  try {
    return await measure('blackbox + prometheus', () => [bb.pid!, prom.pid!], counting, startedAt);
  } finally {
    await Promise.all([stopped(prom), stopped(bb)]);
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-process-'));
  say(`${TARGETS} targets every ${INTERVAL_S} s, measured over ${DURATION_MS / 1_000} s; files in ${dir}`);
  const results: Figures[] = [];
  {
    const counting = await startCountingTargets(TARGETS);
    try {
      results.push(await runLookout(counting, dir));
    } finally {
      counting.close();
    }
  }
  if (args.peer === 'blackbox') {
    const counting = await startCountingTargets(TARGETS);
    try {
      results.push(await runBlackbox(counting, dir));
    } finally {
      counting.close();
    }
  } else if (args.peer !== undefined) throw new Error(`unknown --peer ${args.peer} (blackbox)`);
  console.log(`\n${TARGETS} targets every ${INTERVAL_S} s (fresh connection per check), ${DURATION_MS / 1_000} s measured:\n`);
  console.log('| system | checks/s | lateness p50 / p99 / max (ms) | CPU per check | RSS (PSS) | all checked | file applied |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.system} | ${r.checksPerS} | ${r.lateness.p50} / ${r.lateness.p99} / ${r.lateness.max} | ${r.cpuMsPerCheck} ms | ${r.rssMb} MB (${r.pssMb}) | ${r.allCheckedS} s | ${r.fileAppliedS !== undefined ? `${r.fileAppliedS} s` : '–'} |`);
  }
  const [lookout, peer] = results;
  if (lookout && peer) console.log(`\nLookout / ${peer.system}: CPU per check ${round(lookout.cpuMsPerCheck / peer.cpuMsPerCheck, 2)}×, RSS ${round(lookout.rssMb / peer.rssMb, 2)}×`);
  if (args.json) await writeFile(args.json, JSON.stringify({ targets: TARGETS, intervalS: INTERVAL_S, durationS: DURATION_MS / 1_000, results }, null, 2));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
