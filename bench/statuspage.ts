// The status page under a crowd, in the real process: the built app (node dist/main.js) checks N
// targets every T seconds on a counting server (its own process) and serves a published status page;
// first nothing reads the page (baseline), then C clients load it every second (as a meta-refreshing
// browser: with If-None-Match), then C clients load it every second without an ETag (the worst case).
// Scheduling lateness is measured from the targets' side: each gap between two requests to a target,
// minus the interval. Goal: the crowd does not move the lateness p99 beyond 100 ms.
//
//   npm run bench:statuspage -- [--targets 500] [--interval 10] [--clients 200] [--duration 30] [--json out.json]
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { access, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool, request } from 'undici';
import { startFakeTelegram } from '../test/support/fake-telegram.js';
import { closedPort } from '../test/support/target-server.js';
import { startCountingTargets } from './count-targets.js';
import { quantile, round } from './stats.js';

const { values: args } = parseArgs({
  options: {
    targets: { type: 'string', default: '500' },
    interval: { type: 'string', default: '10' },
    clients: { type: 'string', default: '200' },
    duration: { type: 'string', default: '30' },
    json: { type: 'string' },
  },
});
const TARGETS = Number(args.targets);
const INTERVAL_S = Number(args.interval);
const CLIENTS = Number(args.clients);
const DURATION_MS = Number(args.duration) * 1_000;
const CHAT = -1001234567890;
const ADMIN = 1001;
const ON_PAGE = Math.min(20, TARGETS);
const ROOT = new URL('../..', import.meta.url).pathname;
const say = (line: string): void => void process.stderr.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CPU ms (user + system) of a process so far, from /proc. */
function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1_000) / 100;
}

/** Lateness of every check in the window: each gap between two arrivals at a target, minus the interval (ms). */
function latenessOf(arrivals: number[][]): { p50: number; p99: number; max: number; checks: number } {
  const late: number[] = [];
  for (const list of arrivals) for (let i = 1; i < list.length; i++) late.push(Math.max(0, list[i]! - list[i - 1]! - INTERVAL_S * 1_000));
  const checks = arrivals.reduce((n, l) => n + l.length, 0);
  return { p50: round(quantile([...late], 0.5), 1), p99: round(quantile([...late], 0.99), 1), max: round(Math.max(0, ...late), 1), checks };
}

interface Phase {
  name: string;
  lateness: ReturnType<typeof latenessOf>;
  appCpuPct: number;
  pages?: { requests: number; perSecond: number; notModified: number; errors: number; p50Ms: number; p99Ms: number };
}

async function main(): Promise<void> {
  const entry = join(ROOT, 'dist', 'main.js');
  await access(entry).catch(() => {
    throw new Error('dist/main.js is missing: npm run bench:statuspage builds it');
  });
  const dir = await mkdtemp(join(tmpdir(), 'lookout-statuspage-'));
  const counting = await startCountingTargets(TARGETS);
  const telegram = await startFakeTelegram();
  telegram.setMember(CHAT, ADMIN, 'administrator');
  const width = String(TARGETS - 1).length;
  const name = (i: number): string => `t${String(i).padStart(width, '0')}`;
  const lines = ['version: 1', `chat: ${CHAT}`, 'targets:'];
  for (let i = 0; i < TARGETS; i++) lines.push(`  - { name: ${name(i)}, url: "${counting.origin}/t${i}", every: ${INTERVAL_S}s }`);
  const targetsFile = join(dir, 'targets.yaml');
  await writeFile(targetsFile, `${lines.join('\n')}\n`);
  const port = await closedPort();
  const origin = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(process.execPath, ['--max-old-space-size=256', '--max-semi-space-size=8', entry], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      BOT_TOKEN: telegram.token,
      TELEGRAM_API_ROOT: telegram.apiRoot,
      ALLOWED_CHAT_IDS: String(CHAT),
      ADMIN_USER_IDS: String(ADMIN),
      TARGETS_FILE: targetsFile,
      DATA_DIR: join(dir, 'data'),
      HTTP_PORT: String(port),
      PUBLIC_URL: origin,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const stop = (): void => {
    child.kill('SIGTERM');
    counting.close();
    void telegram.close();
  };
  try {
    say(`${TARGETS} targets every ${INTERVAL_S} s; waiting for every target to be checked…`);
    const startedAt = Date.now();
    for (;;) {
      const counts = await counting.counts();
      if (counts.every((c) => c > 0)) break;
      if (Date.now() - startedAt > 120_000) throw new Error('not every target was checked within 120 s');
      await sleep(500);
    }
    const names = Array.from({ length: ON_PAGE }, (_, i) => name(i)).join(',');
    telegram.sendText({ chatId: CHAT, userId: ADMIN, text: `/statuspage on title="Bench status" targets=${names} slug=bench` });
    await telegram.waitFor('sendMessage', (c) => String(c.payload.text).includes('/status/bench'), 30_000);
    const first = await request(`${origin}/status/bench`);
    const page = await first.body.text();
    if (first.statusCode !== 200) throw new Error(`the page answered ${first.statusCode}`);
    say(`page published: ${Math.round(page.length / 1024)} KiB, ${ON_PAGE} targets on it; settling ${INTERVAL_S} s`);
    await sleep(INTERVAL_S * 1_000);

    const phases: Phase[] = [];
    const measure = async (phaseName: string, load?: { etag: boolean }): Promise<void> => {
      const cpu0 = cpuMsOf(child.pid!);
      const t0 = Date.now();
      await counting.record();
      const times: number[] = [];
      let notModified = 0;
      let errors = 0;
      const pool = load ? new Pool(origin, { connections: CLIENTS }) : undefined;
      const clients = load
        ? Array.from({ length: CLIENTS }, async (_, i) => {
            let etag: string | undefined;
            // Staggered over the first second, as a crowd arrives.
            await sleep((i / CLIENTS) * 1_000);
            while (Date.now() - t0 < DURATION_MS) {
              const tick = Date.now();
              try {
                const res = await pool!.request({ path: '/status/bench', method: 'GET', headers: load.etag && etag ? { 'if-none-match': etag } : {} });
                await res.body.text();
                if (res.statusCode === 304) notModified += 1;
                else if (res.statusCode === 200) etag = String(res.headers.etag);
                else errors += 1;
              } catch {
                errors += 1;
              }
              times.push(Date.now() - tick);
              await sleep(Math.max(0, 1_000 - (Date.now() - tick)));
            }
          })
        : [sleep(DURATION_MS)];
      await Promise.all(clients);
      await pool?.close();
      const arrivals = await counting.recorded();
      const elapsed = Date.now() - t0;
      const phase: Phase = { name: phaseName, lateness: latenessOf(arrivals), appCpuPct: round(((cpuMsOf(child.pid!) - cpu0) / elapsed) * 100, 1) };
      if (load) phase.pages = { requests: times.length, perSecond: round(times.length / (elapsed / 1_000), 1), notModified, errors, p50Ms: quantile([...times], 0.5), p99Ms: quantile([...times], 0.99) };
      phases.push(phase);
      say(`${phaseName}: lateness p50 ${phase.lateness.p50} ms, p99 ${phase.lateness.p99} ms, max ${phase.lateness.max} ms; app CPU ${phase.appCpuPct} %${phase.pages ? `; ${phase.pages.perSecond} pages/s (${phase.pages.notModified} × 304), p99 ${phase.pages.p99Ms} ms, ${phase.pages.errors} errors` : ''}`);
    };
    await measure('baseline (no readers)');
    await measure(`${CLIENTS} clients, every 1 s, with ETag`, { etag: true });
    await measure(`${CLIENTS} clients, every 1 s, no ETag`, { etag: false });

    const goal = phases.every((p) => p.lateness.p99 < 100) && phases.every((p) => (p.pages?.errors ?? 0) === 0);
    console.log('\n| phase | checks | lateness p50 / p99 / max (ms) | app CPU | pages/s | 304s | page p50 / p99 (ms) |');
    console.log('|---|---|---|---|---|---|---|');
    for (const p of phases) {
      console.log(`| ${p.name} | ${p.lateness.checks} | ${p.lateness.p50} / ${p.lateness.p99} / ${p.lateness.max} | ${p.appCpuPct} % | ${p.pages?.perSecond ?? '–'} | ${p.pages?.notModified ?? '–'} | ${p.pages ? `${p.pages.p50Ms} / ${p.pages.p99Ms}` : '–'} |`);
    }
    console.log(`\ngoal (lateness p99 < 100 ms under the crowd, no failed page): ${goal ? 'met' : 'NOT met'}`);
    if (args.json) await writeFile(args.json, JSON.stringify({ targets: TARGETS, intervalS: INTERVAL_S, clients: CLIENTS, durationS: DURATION_MS / 1_000, pageBytes: page.length, phases, goal }, null, 2));
    process.exitCode = goal ? 0 : 1;
  } finally {
    stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
