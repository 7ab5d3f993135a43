import { afterAll, beforeAll } from 'vitest';
import { execFile } from 'node:child_process';
import { accessSync, chownSync, constants, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** A throwaway PostgreSQL cluster on 127.0.0.1, for one test file. */
export interface TestCluster {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/<database>` (trust authentication: any password is accepted). */
  url(database: string, password?: string): string;
  /** Creates a new empty database and answers its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server at once (`pg_ctl stop -m immediate`: connections are cut as by a crash). */
  stopServer(): Promise<void>;
  /** Starts it again on the same port and waits until it takes connections. */
  startServer(): Promise<void>;
  /** Stops the server and removes the cluster. */
  destroy(): Promise<void>;
}

/** The directory holding initdb and pg_ctl: `PG_BIN`, else Debian's /usr/lib/postgresql/<newest>/bin, else the PATH. */
export function postgresBin(): string | undefined {
  const executable = (dir: string): boolean => {
    try {
      accessSync(join(dir, 'initdb'), constants.X_OK);
      accessSync(join(dir, 'pg_ctl'), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (process.env.PG_BIN && executable(process.env.PG_BIN)) return process.env.PG_BIN;
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) if (executable(join(debian, v, 'bin'))) return join(debian, v, 'bin');
  }
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir && executable(dir)) return dir;
  return undefined;
}

/**
 * Decides whether the PostgreSQL tests run: true when initdb and pg_ctl are here. Without them a
 * developer's run skips the tests with a loud warning, but CI (`CI` set) must not pass silently, so
 * there it throws and the file fails.
 */
export function postgresTestsEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  if (postgresBin()) return true;
  const how = 'install it with: apt-get install postgresql (the tests run initdb and pg_ctl from /usr/lib/postgresql/<version>/bin, or set PG_BIN)';
  if (env.CI) throw new Error(`PostgreSQL is required in CI: initdb was not found; ${how}`);
  console.warn(`\n⚠️⚠️⚠️  SKIPPING the PostgreSQL store tests: initdb was not found; ${how}\n`);
  return false;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** initdb refuses to run as root: as root, the cluster belongs to the `postgres` user and its commands run as that user. */
const asRoot = userInfo().uid === 0;

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const { stdout: uid } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

/** Runs one of the cluster's binaries (as `postgres` when this process is root). */
async function pgRun(bin: string, tool: string, args: string[]): Promise<string> {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args];
  try {
    const { stdout } = await run(cmd, argv, { timeout: 60_000 });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`${tool} failed: ${e.stderr?.trim() || e.message}`);
  }
}

/**
 * Makes a new cluster in a temp dir (`initdb`, trust authentication, no fsync) and starts it on a free
 * port of 127.0.0.1, its socket in the temp dir. Call `destroy()` in afterAll.
 */
export async function startTestCluster(): Promise<TestCluster> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL is not installed (initdb not found)');
  const dir = await mkdtemp(join(tmpdir(), 'lookout-pg-'));
  if (asRoot) {
    const { uid, gid } = await postgresIds();
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  const port = await freePort();
  await pgRun(bin, 'initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  // fsync off: nothing here survives a machine crash, and none is tested. synchronous_commit stays on: an
  // immediate stop (the outage tests) must not lose a commit the store was told had landed.
  const options = ['-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', dir, '-c', 'fsync=off', '-c', 'full_page_writes=off'].join(' ');
  const start = async (): Promise<void> => {
    try {
      await pgRun(bin, 'pg_ctl', ['start', '-w', '-t', '30', '-D', data, '-l', log, '-o', options]);
    } catch (err) {
      const tail = await readFile(log, 'utf8').catch(() => '');
      throw new Error(`${(err as Error).message}\n${tail.split('\n').slice(-10).join('\n')}`);
    }
  };
  const stop = async (): Promise<void> => {
    await pgRun(bin, 'pg_ctl', ['stop', '-w', '-m', 'immediate', '-D', data]);
  };
  await start();
  let running = true;
  let databases = 0;
  const url = (database: string, password?: string): string => `postgres://postgres${password ? `:${encodeURIComponent(password)}` : ''}@127.0.0.1:${port}/${database}`;

  return {
    port,
    url,
    async createDatabase(name) {
      const db = name ?? `test_${process.pid}_${++databases}`;
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${db}"`);
      } finally {
        await client.end();
      }
      return url(db);
    },
    async stopServer() {
      await stop();
      running = false;
    },
    async startServer() {
      await start();
      running = true;
    },
    async destroy() {
      if (running) await stop().catch(() => undefined);
      running = false;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * One throwaway cluster for the test file that calls this (at its top level): started before its tests,
 * destroyed after them. `cluster` stands for it once started; `enabled` is whether the tests may run.
 */
export function useTestCluster(): { enabled: boolean; cluster: TestCluster } {
  const enabled = postgresTestsEnabled();
  let started: TestCluster | undefined;
  beforeAll(async () => {
    if (enabled) started = await startTestCluster();
  }, 60_000);
  afterAll(async () => {
    await started?.destroy();
  });
  const get = (): TestCluster => {
    if (!started) throw new Error('the test cluster is not started');
    return started;
  };
  const cluster: TestCluster = {
    get port() {
      return get().port;
    },
    url: (database, password) => get().url(database, password),
    createDatabase: (name) => get().createDatabase(name),
    stopServer: () => get().stopServer(),
    startServer: () => get().startServer(),
    destroy: () => get().destroy(),
  };
  return { enabled, cluster };
}
