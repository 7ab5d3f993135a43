// What the cluster benchmark runs on: a throwaway PostgreSQL, the counting targets, the Lookout
// processes (started again under the same id and port after a kill), the ways to read them, and one
// cleanup that undoes all of it.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startTestCluster } from '../test/support/postgres.js';
import { closedPort } from '../test/support/target-server.js';
import { fetchHealth, fetchText, SCRAPE_PATH, readChecksTotal, readLateness, readLeaderGauge, type Health, type Histogram, type Role } from './cluster-readers.js';
import { startCountingTargets, targetsYaml, type CountingTargets } from './count-targets.js';
import { clockTicks, postmasterPid } from './postgres-usage.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Steps undone once, last first: on the way out, on an error, on SIGINT/SIGTERM. */
export interface Cleanup {
  push(step: () => unknown): void;
  run(): Promise<void>;
  /** True once `run()` was called: exits are expected from then on. */
  readonly started: boolean;
}

/** A cleanup whose failing steps are reported with `say` and skipped. */
export function createCleanup(say: (line: string) => void): Cleanup {
  const steps: Array<() => unknown> = [];
  let running: Promise<void> | undefined;
  return {
    push: (step) => void steps.push(step),
    run: () =>
      (running ??= (async () => {
        for (const step of steps.reverse()) {
          try {
            await step();
          } catch (err) {
            say(`cleanup: ${(err as Error).message}`);
          }
        }
      })()),
    get started() {
      return running !== undefined;
    },
  };
}

/** One Lookout process under a fixed id and port. */
export interface Instance {
  readonly id: string;
  readonly port: number;
  child: ChildProcess | undefined;
  exited: Promise<void>;
  /** Set before the bench stops or kills it, so the exit is not taken for a crash. */
  stopping: boolean;
  unexpectedExits: number;
}

/** What one scrape of an instance's /metrics gave. */
export interface Scrape {
  /** The middle of the request. */
  at: number;
  /** How long /metrics took to answer (ms) and its size: a big scrape holds up the instance's checks too. */
  tookMs: number;
  bytes: number;
  checks: number;
  lateness: Histogram | undefined;
  leaderGauge: number | undefined;
}

/** What the rig is made for. */
export interface RigOptions {
  instances: number;
  targets: number;
  intervalS: number;
  /** MEMBER_TTL (s). */
  ttlS: number;
  /** Keep the run directory (logs, targets file). */
  keep: boolean;
  say(line: string): void;
  cleanup: Cleanup;
}

/** The running rig. */
export interface Rig {
  runDir: string;
  db: pg.Client;
  postmaster: number;
  ticksPerSecond: number;
  targets: CountingTargets;
  instances: Instance[];
  notes: string[];
  /** A finding worth the report's notes (also said at once; a repeated one is noted once). */
  note(line: string): void;
  /** Sleeps; throws when an instance keeps crashing. */
  pause(ms: number): Promise<void>;
  /** Polls `test` every `everyMs` until true (answers true) or `timeoutMs` passed (notes it, answers false). */
  until(what: string, timeoutMs: number, everyMs: number, test: () => Promise<boolean> | boolean): Promise<boolean>;
  /** Starts (or starts again) an instance's process. */
  start(inst: Instance): void;
  /** /healthz and the role it says, or `lookout_leader` when it names none. */
  roleOf(inst: Instance): Promise<{ health: Health | undefined; role: Role | undefined }>;
  scrape(inst: Instance): Promise<Scrape | undefined>;
}

/** Starts PostgreSQL, the targets and `instances` Lookout processes on them (not waiting for them to be up). */
export async function startRig(entry: string, options: RigOptions): Promise<Rig> {
  const { say, cleanup } = options;
  const notes: string[] = [];
  const note = (line: string): void => {
    if (notes.includes(line)) return;
    notes.push(line);
    say(`note: ${line}`);
  };
  let fatal: Error | undefined;
  const pause = async (ms: number): Promise<void> => {
    await sleep(ms);
    if (fatal) throw fatal;
  };

  const runDir = await mkdtemp(join(tmpdir(), 'lookout-cluster-bench-'));
  cleanup.push(() => (options.keep ? say(`kept ${runDir}`) : rm(runDir, { recursive: true, force: true })));
  const cluster = await startTestCluster();
  cleanup.push(() => cluster.destroy());
  const databaseUrl = await cluster.createDatabase('lookout_bench');
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  cleanup.push(() => db.end());
  const targets = await startCountingTargets(options.targets);
  cleanup.push(() => targets.close());
  const targetsFile = join(runDir, 'targets.yaml');
  await writeFile(targetsFile, targetsYaml(targets.origin, options.targets, options.intervalS));

  const instances: Instance[] = [];
  for (let i = 1; i <= options.instances; i++) {
    instances.push({ id: `bench-${i}`, port: await closedPort(), child: undefined, exited: Promise.resolve(), stopping: false, unexpectedExits: 0 });
  }
  const envOf = (inst: Instance): Record<string, string> => ({
    PATH: process.env.PATH ?? '',
    DATABASE_URL: databaseUrl,
    TARGETS_FILE: targetsFile,
    HTTP_PORT: String(inst.port),
    INSTANCE_ID: inst.id,
    MEMBER_TTL: String(options.ttlS),
    CHECK_CONCURRENCY: '500',
    LOG_LEVEL: 'warn',
    // Headless (no BOT_TOKEN): the targets belong to no chat, whose limit would refuse more than 1,000.
    MAX_TARGETS_PER_CHAT: String(Math.max(1_000, options.targets)),
    SOURCE_LABEL: 'cluster-bench',
    DATA_DIR: join(runDir, `data-${inst.id}`),
  });
  const start = (inst: Instance): void => {
    // The run dir as cwd: no .env of the checkout is read. The heap limit of `npm start` and the image.
    const child = spawn(process.execPath, ['--max-old-space-size=256', '--max-semi-space-size=8', entry], { cwd: runDir, env: envOf(inst), stdio: ['ignore', 'pipe', 'pipe'] });
    const log = createWriteStream(join(runDir, `${inst.id}.log`), { flags: 'a' });
    child.stdout?.pipe(log);
    child.stderr?.pipe(log);
    inst.child = child;
    inst.stopping = false;
    inst.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        resolve();
        if (inst.stopping || cleanup.started || inst.child !== child) return;
        // An instance that ends on its own is a finding: noted (with its last words, the log goes at
        // cleanup) and started again, as the platform would; one that keeps exiting ends the run.
        inst.unexpectedExits += 1;
        const again = inst.unexpectedExits <= 3;
        if (again) start(inst);
        void sleep(250)
          .then(() => readFile(join(runDir, `${inst.id}.log`), 'utf8'))
          .catch(() => '')
          .then((text) => {
            const tail = text.trimEnd().split('\n').slice(-15);
            note(`${inst.id} exited on its own (code ${code}, signal ${signal}); its last log line: ${(tail.at(-1) ?? '').slice(0, 400)}`);
            if (!again) fatal ??= new Error(`${inst.id} keeps exiting; the end of its log:\n${tail.join('\n')}`);
          });
      }),
    );
  };
  cleanup.push(async () => {
    for (const inst of instances) {
      inst.stopping = true;
      inst.child?.kill('SIGTERM');
    }
    const forced = setTimeout(() => instances.forEach((i) => i.child?.kill('SIGKILL')), 15_000);
    await Promise.all(instances.map((i) => i.exited));
    clearTimeout(forced);
  });
  instances.forEach(start);

  return {
    runDir,
    db,
    postmaster: await postmasterPid(db),
    ticksPerSecond: clockTicks(),
    targets,
    instances,
    notes,
    note,
    pause,
    async until(what, timeoutMs, everyMs, test) {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        if (await test()) return true;
        await pause(everyMs);
      }
      note(`${what}: not within ${Math.round(timeoutMs / 1_000)} s`);
      return false;
    },
    start,
    async roleOf(inst) {
      const health = await fetchHealth(inst.port);
      if (!health || health.role) return { health, role: health?.role };
      // A /healthz without a role (the leader before shared checks): lookout_leader says.
      const gauge = readLeaderGauge((await fetchText(inst.port, '/metrics?name=lookout_leader', 10_000)) ?? '');
      return { health, role: gauge === 1 ? 'leader' : gauge === 0 ? 'member' : undefined };
    },
    async scrape(inst) {
      const from = Date.now();
      const text = await fetchText(inst.port, SCRAPE_PATH, 20_000);
      if (text === undefined) return undefined;
      const to = Date.now();
      return { at: (from + to) / 2, tookMs: to - from, bytes: text.length, checks: readChecksTotal(text), lateness: readLateness(text), leaderGauge: readLeaderGauge(text) };
    },
  };
}
