import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv, type Config } from '../src/config/config.js';
import { summarize } from '../src/domain/history.js';
import { createLogger } from '../src/lib/logger.js';
import { startApp } from '../src/main.js';
import { openStore } from '../src/store/keyv.js';
import { createStateRepository } from '../src/store/states.js';
import { createTargetRepository } from '../src/store/targets.js';
import { startFakeTelegram } from './support/fake-telegram.js';
import { logSink } from './support/log-sink.js';
import { httpTarget, startTargetServer, type TargetServer } from './support/target-server.js';
import { postgresTestsEnabled, startTestCluster, type TestCluster } from './support/postgres.js';
import { createServer } from 'node:net';
import { StoreError } from '../src/store/keyv.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function config(dataDir: string): Config {
  const parsed = parseEnv({ DATA_DIR: dataDir, HTTP_PORT: '0', LOG_LEVEL: 'info', SOURCE_LABEL: 'test' });
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  return parsed.config;
}

describe('the app, headless, against a real target and a real SQLite file', () => {
  it('checks, alerts as JSON log lines, and carries its state across a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lookout-main-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const server: TargetServer = await startTargetServer();
    cleanups.push(() => server.close());

    const seed = await openStore({ kind: 'sqlite', dataDir });
    await createTargetRepository(seed).put(
      httpTarget({ id: '0/api', chatId: 0, name: 'api', url: `${server.url}/health`, everyMs: 200, timeoutMs: 150, retryMs: 50, confirm: 2 }),
    );
    await seed.close();

    const log1 = logSink();
    const app1 = await startApp(config(dataDir), { logger: createLogger('info', log1.stream) });
    await until(() => app1.engine.state('0/api')?.state === 'UP');
    server.setStatus(503);
    await until(() => app1.engine.state('0/api')?.state === 'DOWN');
    await until(() => log1.lines.some((l) => l.event === 'alert'));
    const alert = log1.lines.find((l) => l.event === 'alert');
    expect(alert).toMatchObject({ target: '0/api', name: 'api', reason: 'HTTP 503, expected 200-299' });
    await app1.stop();

    const stored = await (async () => {
      const s = await openStore({ kind: 'sqlite', dataDir });
      const r = await createStateRepository(s).get('0/api');
      await s.close();
      return r;
    })();
    expect(stored?.state).toBe('DOWN');

    // Restart: still DOWN, no second DOWN alert; recovery is announced once.
    const log2 = logSink();
    const app2 = await startApp(config(dataDir), { logger: createLogger('info', log2.stream) });
    expect(app2.engine.state('0/api')?.state).toBe('DOWN');
    // History written at the first stop is there after the restart, with the outage in its timeline.
    const before = summarize(await app2.history.minutes('0/api', 0, Date.now() + 1));
    expect(before.checks).toBeGreaterThanOrEqual(3);
    expect(before.failures).toBeGreaterThanOrEqual(2);
    expect((await app2.history.timeline('0/api')).map(([, state]) => state)).toEqual(['UNKNOWN', 'UP', 'DOWN', 'UNKNOWN', 'DOWN']);
    server.setStatus(200);
    await until(() => app2.engine.state('0/api')?.state === 'UP');
    await until(() => log2.lines.some((l) => l.event === 'resolved'));
    await app2.stop();
    const notices = log2.lines.filter((l) => ['alert', 'resolved', 'closed'].includes(String(l.event))).map((l) => String(l.event));
    expect(notices).toEqual(['resolved']);
  });
});

/** A port of 127.0.0.1 nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 1;
}

const withPostgres = postgresTestsEnabled();

describe('the app on PostgreSQL (DATABASE_URL)', () => {
  let cluster: TestCluster | undefined;
  beforeAll(async () => {
    if (withPostgres) cluster = await startTestCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.destroy();
  });

  it.runIf(withPostgres)('checks from the targets in the database and saves their states there', async () => {
    const url = await cluster!.createDatabase();
    const server: TargetServer = await startTargetServer();
    cleanups.push(() => server.close());
    const seed = await openStore({ kind: 'postgres', url });
    await createTargetRepository(seed).put(httpTarget({ id: '0/api', chatId: 0, name: 'api', url: `${server.url}/health`, everyMs: 200, timeoutMs: 150, retryMs: 50, confirm: 1 }));
    await seed.close();

    const dataDir = await mkdtemp(join(tmpdir(), 'lookout-main-pg-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const log = logSink();
    const app = await startApp({ ...config(dataDir), databaseUrl: url }, { logger: createLogger('info', log.stream) });
    await until(() => app.engine.state('0/api')?.state === 'UP');
    await app.stop();

    const after = await openStore({ kind: 'postgres', url });
    expect((await createStateRepository(after).get('0/api'))?.state).toBe('UP');
    await after.close();
    // Nothing was written to DATA_DIR.
    expect(existsSync(join(dataDir, 'lookout.sqlite'))).toBe(false);
  });

  it.runIf(withPostgres)('PostgreSQL stopped while running: the target still goes DOWN and alerts, and the state and incident are in the database once it is back', async () => {
    const url = await cluster!.createDatabase();
    const server: TargetServer = await startTargetServer();
    cleanups.push(() => server.close());
    const seed = await openStore({ kind: 'postgres', url });
    await createTargetRepository(seed).put(httpTarget({ id: '0/api', chatId: 0, name: 'api', url: `${server.url}/health`, everyMs: 200, timeoutMs: 150, retryMs: 50, confirm: 2 }));
    await seed.close();
    const dataDir = await mkdtemp(join(tmpdir(), 'lookout-main-pg-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const log = logSink();
    const app = await startApp({ ...config(dataDir), databaseUrl: url }, { logger: createLogger('info', log.stream) });
    try {
      await until(() => app.engine.state('0/api')?.state === 'UP');

      await cluster!.stopServer();
      server.setStatus(503);
      await until(() => app.engine.state('0/api')?.state === 'DOWN');
      await until(() => log.lines.some((l) => l.event === 'alert'));
      await until(() => !app.store.health().ok);
      expect(app.store.health()).toMatchObject({ ok: false, episodes: 1 });
      expect(await app.store.ping()).toBe(false);

      await cluster!.startServer();
      await until(() => app.store.health().ok, 15_000);
      expect(log.lines.filter((l) => l.event === 'store_failing')).toHaveLength(1);
      expect(log.lines.filter((l) => l.event === 'store_recovered')).toHaveLength(1);
    } finally {
      await app.stop();
    }
    // The only error is the outage itself: no write dropped or lost, no alert that could not be queued.
    expect(log.lines.filter((l) => Number(l.level) >= 50).map((l) => l.event)).toEqual(['store_failing']);
    const after = await openStore({ kind: 'postgres', url });
    try {
      expect((await createStateRepository(after).get('0/api'))?.state).toBe('DOWN');
      const incidents: unknown[] = [];
      for await (const [, value] of after.namespace('incidents').iterator!(undefined)) incidents.push(value);
      expect(incidents).toEqual([expect.objectContaining({ targetId: '0/api' })]);
    } finally {
      await after.close();
    }
  }, 30_000);

  it('rejects the start when the database cannot be reached, in one line without the password', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lookout-main-pg-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const url = `postgres://lookout:Very-Secret-99@127.0.0.1:${await closedPort()}/lookout`;
    const err = await startApp({ ...config(dataDir), databaseUrl: url }, { logger: createLogger('silent') }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as Error).message).toMatch(/^cannot use postgres:\/\/lookout@127\.0\.0\.1:\d+\/lookout: the database refuses connections \(ECONNREFUSED\)$/);
    expect((err as Error).message).not.toContain('Very-Secret-99');
  });
});

describe('the built process', () => {
  let dist = '';

  // Built inside the project so that the output finds node_modules and "type": "module".
  beforeAll(async () => {
    await mkdir(join(process.cwd(), '.cache'), { recursive: true });
    dist = await mkdtemp(join(process.cwd(), '.cache', 'test-dist-'));
    const tsc = spawn(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', dist], { stdio: 'inherit' });
    expect(await new Promise((r) => tsc.once('exit', r))).toBe(0);
  }, 60_000);
  afterAll(() => rm(dist, { recursive: true, force: true }));

  function run(env: Record<string, string>, args: string[] = []): { child: ReturnType<typeof spawn>; out: () => string; exit: Promise<number | null> } {
    let out = '';
    const child = spawn(process.execPath, [join(dist, 'main.js'), ...args], { env: { PATH: process.env.PATH ?? '', ...env }, cwd: dist });
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    return { child, out: () => out, exit };
  }

  it('refuses bad settings with one line per bad variable and exit code 1', async () => {
    const p = run({ HTTP_PORT: 'eighty', LOG_LEVEL: 'loud', BOT_TOKEN: '123:secret-but-malformed' });
    expect(await p.exit).toBe(1);
    const lines = p.out().trim().split('\n');
    expect(lines[0]).toBe('lookout: invalid settings:');
    expect(lines.slice(1)).toEqual([
      '  - BOT_TOKEN must look like 123456789:AA... (the token BotFather gave you)',
      '  - ALLOWED_CHAT_IDS is required with BOT_TOKEN: the comma-separated ids of the chats Lookout serves',
      '  - LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      '  - HTTP_PORT must be a whole number between 0 and 65535, got "eighty"',
    ]);
    expect(p.out()).not.toContain('secret-but-malformed');
  });

  it('refuses a bad TARGETS_FILE with one line per problem and exit code 1', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-tf-proc-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'targets.yaml');
    await writeFile(file, 'version: 1\ntargets:\n  - { name: api, url: "http://127.0.0.1:1/", every: 5s, confirm: 0 }\n');
    const p = run({ DATA_DIR: join(dir, 'data'), HTTP_PORT: '0', TARGETS_FILE: file });
    expect(await p.exit).toBe(1);
    expect(p.out().trim().split('\n')).toEqual([
      'lookout: invalid TARGETS_FILE:',
      `  - ${file}: targets[0] (api): every must be between 10s and 1d, got "5s"`,
      `  - ${file}: targets[0] (api): confirm must be a whole number between 1 and 10, got "0"`,
    ]);
  });

  it('refuses a DATABASE_URL that cannot be reached: one line without the password, exit code 1', async () => {
    const port = await closedPort();
    const p = run({ DATABASE_URL: `postgresql://lookout:Very-Secret-99@127.0.0.1:${port}/lookout`, HTTP_PORT: '0' });
    expect(await p.exit).toBe(1);
    expect(p.out().trim().split('\n')).toEqual([`lookout: cannot use postgresql://lookout@127.0.0.1:${port}/lookout: the database refuses connections (ECONNREFUSED)`]);
    expect(p.out()).not.toContain('Very-Secret-99');
  });

  it('runs `migrate`: a DATA_DIR without a database is one line and exit code 1; --help exits 0; the built cli/migrate.js is there', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'lookout-migrate-proc-'));
    cleanups.push(() => rm(empty, { recursive: true, force: true }));
    const p = run({}, ['migrate', '--from', empty, '--to', 'postgres://lookout:Very-Secret-99@127.0.0.1:1/lookout']);
    expect(await p.exit).toBe(1);
    expect(p.out().trim().split('\n')).toEqual([`lookout migrate: no Lookout database in ${empty} (${join(empty, 'lookout.sqlite')} does not exist)`]);
    const help = run({}, ['migrate', '--help']);
    expect(await help.exit).toBe(0);
    expect(help.out()).toMatch(/^usage: lookout migrate --from DATA_DIR --to postgres:/);
    expect(existsSync(join(dist, 'cli', 'migrate.js'))).toBe(true);
  });

  it('refuses a DATA_DIR whose lookout.sqlite is not a database: one line naming the file, exit code 1, no crash dump', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lookout-baddb-proc-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const file = join(dataDir, 'lookout.sqlite');
    await writeFile(file, 'not a database, a note somebody saved under the wrong name\n'.repeat(40));
    const p = run({ DATA_DIR: dataDir, HTTP_PORT: '0' });
    expect(await p.exit).toBe(1);
    expect(p.out().trim().split('\n')).toEqual([`lookout: cannot use ${file}: the file is not a SQLite database`]);
  });

  it('re-reads TARGETS_FILE on SIGHUP', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-tf-proc-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const file = join(dir, 'targets.json');
    await writeFile(file, JSON.stringify({ version: 1, targets: [{ name: 'a', url: 'http://127.0.0.1:1/', every: '1h' }] }));
    const p = run({ DATA_DIR: join(dir, 'data'), HTTP_PORT: '0', TARGETS_FILE: file });
    await until(() => p.out().includes('"event":"started"'), 10_000);
    expect(p.out()).toMatch(/"event":"targets_file_applied"[^\n]*"added":\["0\/a"\]/);
    await writeFile(file, JSON.stringify({ version: 1, targets: [{ name: 'b', url: 'http://127.0.0.1:1/', every: '1h' }] }));
    p.child.kill('SIGHUP');
    await until(() => /"added":\["0\/b"\],"changed":\[\],"unchanged":\[\],"removed":\["0\/a"\]/.test(p.out()), 10_000);
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
  });

  it('with a bot: polls the Bot API, answers, and exits 0 on SIGINT', async () => {
    const telegram = await startFakeTelegram();
    cleanups.push(() => telegram.close());
    const dataDir = await mkdtemp(join(tmpdir(), 'lookout-proc-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const p = run({ DATA_DIR: dataDir, HTTP_PORT: '0', BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.apiRoot, ALLOWED_CHAT_IDS: '-100200' });
    await telegram.waitFor('getUpdates', undefined, 10_000);
    telegram.sendText({ chatId: -100200, userId: 5, text: '/help' });
    await telegram.waitFor('sendMessage', (c) => String(c.payload.text).includes('Lookout'));
    p.child.kill('SIGINT');
    expect(await p.exit).toBe(0);
    expect(p.out()).toContain('"event":"stopped"');
    expect(p.out()).not.toContain(telegram.token);
  });

  it('exits 0 within 10 s on SIGTERM during a burst of checks, with every state saved', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lookout-burst-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const server = await startTargetServer();
    cleanups.push(() => server.close());
    server.setDelay(300);
    const seed = await openStore({ kind: 'sqlite', dataDir });
    const repo = createTargetRepository(seed);
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const id = `0/t${i}`;
      ids.push(id);
      await repo.put(httpTarget({ id, chatId: 0, name: `t${i}`, url: `${server.url}/t${i}`, everyMs: 1_000, timeoutMs: 900, retryMs: 500 }));
    }
    await seed.close();
    const p = run({ DATA_DIR: dataDir, HTTP_PORT: '0', CHECK_CONCURRENCY: '50' });
    // Checks are running (each takes 300 ms, 50 at a time): stop in the middle of them.
    await until(() => (p.out().match(/"event":"state_change"/g) ?? []).length >= 50, 15_000);
    const stoppedAt = Date.now();
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    const store = await openStore({ kind: 'sqlite', dataDir });
    const states = await createStateRepository(store).all();
    await store.close();
    // Every target that was announced UP has that state on disk; nothing half-written.
    const announced = [...new Set([...p.out().matchAll(/"target":"(0\/t\d+)"[^\n]*"event":"state_change"[^\n]*"to":"UP"/g)].map((m) => m[1]!))];
    expect(announced.length).toBeGreaterThanOrEqual(50);
    for (const id of announced) expect(states.get(id)?.state, id).toBe('UP');
    expect([...states.values()].reduce((n, s) => n + s.checks, 0)).toBeGreaterThanOrEqual(announced.length);
  }, 30_000);

  it('exits 0 within 10 s with a check hung on its 5 m timeout, a handler stuck on it and Telegram down; the queued message is sent after the restart', async () => {
    const telegram = await startFakeTelegram();
    cleanups.push(() => telegram.close());
    const slow = await startTargetServer();
    cleanups.push(() => slow.close());
    slow.setDelay(600_000);
    const flaky = await startTargetServer();
    cleanups.push(() => flaky.close());
    flaky.setStatus(503);
    const dataDir = await mkdtemp(join(tmpdir(), 'lookout-hung-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const env = { DATA_DIR: dataDir, HTTP_PORT: '0', BOT_TOKEN: telegram.token, TELEGRAM_API_ROOT: telegram.apiRoot, ALLOWED_CHAT_IDS: '-100200,-100300', ADMIN_USER_IDS: '5' };
    const p = run(env);
    await telegram.waitFor('getUpdates', undefined, 10_000);
    // Chat A: /add waits for the first check, which hangs for its whole 5 m timeout.
    telegram.sendText({ chatId: -100200, userId: 5, text: `/add ${slow.url}slow name=slow every=10m timeout=5m` });
    await telegram.waitFor('sendMessage', (c) => String(c.payload.text).includes('Checking now'));
    // Chat B: an alert, then Telegram goes down and the resolution has to wait in the outbox.
    telegram.sendText({ chatId: -100300, userId: 5, text: `/add ${flaky.url}x name=flaky confirm=1` });
    await telegram.waitFor('sendMessage', (c) => String(c.payload.text).includes('is DOWN'));
    telegram.setDown(true, { includeGetUpdates: false });
    flaky.setStatus(200);
    telegram.sendText({ chatId: -100300, userId: 5, text: '/check flaky' });
    await until(() => p.out().includes('"to":"UP"'), 10_000);

    const stoppedAt = Date.now();
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(10_000);
    expect(p.out()).toContain('"event":"checks_abandoned"');
    expect(telegram.calls.some((c) => c.method === 'sendMessage' && String(c.payload.text).includes('UP again') && !c.failed)).toBe(false);

    telegram.setDown(false);
    const again = run(env);
    await telegram.waitFor('sendMessage', (c) => String(c.payload.text).includes('is UP again') && !c.failed, 15_000);
    again.child.kill('SIGTERM');
    expect(await again.exit).toBe(0);
  }, 60_000);

  it('runs headless and exits 0 on SIGTERM', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lookout-proc-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const p = run({ DATA_DIR: dataDir, HTTP_PORT: '0' });
    await until(() => p.out().includes('"event":"started"'), 10_000);
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
    expect(p.out()).toContain('"event":"stopped"');
  });
});
