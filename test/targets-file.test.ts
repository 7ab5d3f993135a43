import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseEnv, type Config } from '../src/config/config.js';
import { createLogger } from '../src/lib/logger.js';
import { startApp, TargetsFileError, type App } from '../src/main.js';
import { openStore } from '../src/store/keyv.js';
import { createTargetRepository } from '../src/store/targets.js';
import { FakeClock } from './support/fake-clock.js';
import { logSink } from './support/log-sink.js';
import { startTargetServer, type TargetServer } from './support/target-server.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A port on 127.0.0.1 where nothing listens. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

async function setup(): Promise<{ dir: string; file: string; server: TargetServer; config: Config; refused: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-tf-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const server = await startTargetServer();
  cleanups.push(() => server.close());
  const file = join(dir, 'targets.yaml');
  const parsed = parseEnv({ DATA_DIR: join(dir, 'data'), HTTP_PORT: '0', TARGETS_FILE: file, SOURCE_LABEL: 'test' });
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  return { dir, file, server, config: parsed.config, refused: await closedPort() };
}

const yaml = (lines: string[]): string => `${lines.join('\n')}\n`;

/** Advances the fake clock a second at a time (real checks need real event-loop turns) until `done`. */
async function runUntil(clock: FakeClock, done: () => boolean, maxSeconds = 60): Promise<void> {
  for (let s = 0; s < maxSeconds && !done(); s++) {
    await clock.advance(1_000);
    await new Promise((r) => setTimeout(r, 15));
  }
  if (!done()) throw new Error('condition not met in time');
}

async function start(config: Config, clock: FakeClock): Promise<{ app: App; lines: Array<Record<string, unknown>> }> {
  const sink = logSink();
  const app = await startApp(config, { clock, logger: createLogger('info', sink.stream) });
  cleanups.push(() => app.stop());
  return { app, lines: sink.lines };
}

describe('TARGETS_FILE, headless', () => {
  it('checks the declared targets and logs alerts and resolutions as JSON lines', async () => {
    const { file, server, config, refused } = await setup();
    await writeFile(
      file,
      yaml([
        'version: 1',
        'targets:',
        `  - { name: api, url: "${server.url}/health", every: 10s, confirm: 1 }`,
        `  - { name: db, host: "127.0.0.1:${refused}", every: 10s, confirm: 1 }`,
      ]),
    );
    const clock = new FakeClock();
    const { app, lines } = await start(config, clock);
    expect(lines.find((l) => l.event === 'targets_file_applied')).toMatchObject({ added: ['0/api', '0/db'], removed: [], changed: [] });

    await runUntil(clock, () => app.engine.state('0/api')?.state === 'UP' && app.engine.state('0/db')?.state === 'DOWN');
    await app.policy.settle();
    await app.outbox.idle();
    expect(lines.find((l) => l.event === 'alert' && l.target === '0/db')).toMatchObject({
      level: 40,
      name: 'db',
      reason: 'connection refused',
      failedChecks: 1,
    });
    // Every other change is the engine's state line.
    expect(lines.find((l) => l.event === 'state_change' && l.target === '0/api')).toMatchObject({ from: 'UNKNOWN', to: 'UP', level: 30 });

    server.setStatus(503);
    await runUntil(clock, () => app.engine.state('0/api')?.state === 'DOWN');
    server.setStatus(200);
    await runUntil(clock, () => app.engine.state('0/api')?.state === 'UP');
    await app.policy.settle();
    await app.outbox.idle();
    const resolved = lines.find((l) => l.event === 'resolved' && l.target === '0/api');
    expect(resolved).toMatchObject({ name: 'api', level: 30 });
    expect(resolved!.downtimeMs).toBeGreaterThan(0);
  }, 30_000);

  it('a changed file updates targets in place, removes the undeclared ones, keeps chat-made ones and states', async () => {
    const { file, server, config } = await setup();
    await writeFile(file, yaml(['version: 1', 'targets:', `  - { name: api, url: "${server.url}/health", every: 10s, confirm: 1 }`, `  - { name: old, url: "${server.url}/old", every: 10s }`]));
    const clock = new FakeClock();
    const first = await start(config, clock);
    await runUntil(clock, () => first.app.engine.state('0/api')?.state === 'UP');
    // A target made outside the file (by a chat command) is not the file's to remove.
    const mine = { ...first.app.engine.target('0/old')!, id: '0/mine', name: 'mine', managed: undefined };
    await createTargetRepository(first.app.store).put(mine);
    await first.app.stop();

    await writeFile(file, yaml(['version: 1', 'targets:', `  - { name: api, url: "${server.url}/health", every: 20s, confirm: 1, note: changed }`]));
    const second = await start(config, clock);
    expect(second.lines.find((l) => l.event === 'targets_file_applied')).toMatchObject({ added: [], changed: ['0/api'], removed: ['0/old'], unchanged: [] });
    expect(second.app.engine.target('0/api')).toMatchObject({ everyMs: 20_000, note: 'changed', managed: 'file' });
    expect(second.app.engine.state('0/api')?.state).toBe('UP');
    expect(second.app.engine.target('0/old')).toBeUndefined();
    expect(second.app.engine.target('0/mine')).toBeDefined();

    // The same file again changes nothing.
    const again = await second.app.reload();
    expect(again).toMatchObject({ ok: true, report: { added: [], changed: [], removed: [], unchanged: ['0/api'] } });
  }, 30_000);

  it('a bad file stops the start with every problem and leaves the store as it was', async () => {
    const { file, server, config } = await setup();
    await writeFile(file, yaml(['version: 1', 'targets:', `  - { name: api, url: "${server.url}/health", every: 10s }`]));
    const clock = new FakeClock();
    const first = await start(config, clock);
    await first.app.stop();

    await writeFile(file, yaml(['version: 1', 'targets:', '  - { name: api, url: "ftp://x", every: 5s }', '  - { name: Bad }']));
    const failed = await startApp(config, { clock, logger: createLogger('silent') }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failed).toBeInstanceOf(TargetsFileError);
    const problems = (failed as TargetsFileError).problems;
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: targets\\[0\\] \\(api\\): `));
    expect(problems.join('\n')).toContain('every must be between 10s and 1d, got "5s"');
    expect(problems.join('\n')).toContain('targets[1] (Bad): give the address as url:');

    const store = await openStore({ kind: 'sqlite', dataDir: config.dataDir });
    const stored = await createTargetRepository(store).list();
    await store.close();
    expect(stored.map((t) => [t.id, t.everyMs])).toEqual([['0/api', 10_000]]);
  });

  it('reload with a bad file changes nothing and says why', async () => {
    const { file, server, config } = await setup();
    await writeFile(file, yaml(['version: 1', 'targets:', `  - { name: api, url: "${server.url}/health", every: 10s }`]));
    const { app, lines } = await start(config, new FakeClock());
    await writeFile(file, 'version: 1\ntargets: [ { name: api, url: "http://x", every: 1s } ]\n');
    const result = await app.reload();
    expect(result.ok).toBe(false);
    expect(app.engine.target('0/api')?.everyMs).toBe(10_000);
    expect(lines.find((l) => l.event === 'targets_file_invalid')?.problems).toEqual([`${file}: targets[0] (api): every must be between 10s and 1d, got "1s"`]);
  });

  it('declared windows hold alert lines back while they are active, as in every channel', async () => {
    const { file, config, refused } = await setup();
    const clock = new FakeClock(Date.UTC(2026, 10, 23, 12, 0, 0));
    await writeFile(
      file,
      yaml([
        'version: 1',
        'targets:',
        `  - { name: db, host: "127.0.0.1:${refused}", every: 10s, confirm: 1 }`,
        'windows:',
        '  - { target: db, start: "2026-11-23T11:00:00Z", duration: 2h, reason: migration }',
      ]),
    );
    const { app, lines } = await start(config, clock);
    expect(app.windows.list().map((w) => [w.id, w.managed])).toEqual([['f1', 'file']]);
    await runUntil(clock, () => app.engine.state('0/db')?.state === 'DOWN');
    await app.policy.settle();
    await app.outbox.idle();
    expect(lines.find((l) => l.event === 'alert_held')).toMatchObject({ target: '0/db' });
    expect(lines.find((l) => l.event === 'alert')).toBeUndefined();
    // The window ends with the target still DOWN: the alert is written then.
    await clock.advance(61 * 60_000);
    await runUntil(clock, () => lines.some((l) => l.event === 'alert'));
    expect(lines.find((l) => l.event === 'alert')).toMatchObject({ target: '0/db', level: 40 });
  }, 30_000);
});

describe('TARGETS_FILE heartbeats, headless', () => {
  it('need their token in the file, keep it across restarts and reloads, take pings on the HTTP server, and alert in the log when one is missed', async () => {
    const { dir, file } = await setup();
    const port = await closedPort();
    const parsed = parseEnv({ DATA_DIR: join(dir, 'data'), HTTP_PORT: String(port), TARGETS_FILE: file, SOURCE_LABEL: 'test' });
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    // Without token: the file is refused (nobody would ever see a token Lookout made up).
    await writeFile(file, yaml(['version: 1', 'targets:', '  - { kind: heartbeat, name: backup, every: 1m, grace: 10s }']));
    await expect(startApp(parsed.config, { clock: new FakeClock(), logger: createLogger('silent') })).rejects.toThrow(/a heartbeat in TARGETS_FILE needs token:/);
    const token = 'backup-0123456789abcdef';
    await writeFile(file, yaml(['version: 1', 'targets:', `  - { kind: heartbeat, name: backup, every: 1m, grace: 10s, token: ${token} }`]));
    const clock = new FakeClock();
    const first = await start(parsed.config, clock);
    expect((first.app.engine.target('0/backup') as { token: string }).token).toBe(token);
    await first.app.stop();
    const second = await start(parsed.config, clock);
    expect((second.app.engine.target('0/backup') as { token: string }).token).toBe(token);
    expect(await second.app.reload()).toMatchObject({ ok: true, report: { unchanged: ['0/backup'] } });
    const ping = await fetch(`http://127.0.0.1:${port}/ping/${token}`);
    expect(ping.status).toBe(200);
    await runUntil(clock, () => second.app.engine.state('0/backup')?.state === 'DOWN', 120);
    expect(second.lines.find((l) => l.event === 'alert')).toMatchObject({ target: '0/backup' });
    expect(JSON.stringify(second.lines)).not.toContain(token);
  }, 60_000);
});

describe('TARGETS_FILE channels: alerts with no Telegram at all', () => {
  it('a webhook declared in the file gets the alert and the resolution; a bad one stops the start with its place', async () => {
    const { startReceiver } = await import('./support/receiver.js');
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const { file, server, config } = await setup();
    await writeFile(
      file,
      yaml([
        'version: 1',
        'targets:',
        `  - { name: api, url: "${server.url}/health", every: 10s, confirm: 1 }`,
        'channels:',
        `  - { name: ops, kind: webhook, address: "${receiver.url}/hook", secret: "a-long-enough-secret", events: [down, up] }`,
      ]),
    );
    const clock = new FakeClock();
    const { app, lines } = await start(config, clock);
    expect(lines.find((l) => l.event === 'targets_file_applied')).toMatchObject({ channels: 1 });
    await runUntil(clock, () => app.engine.state('0/api')?.state === 'UP');
    server.setStatus(503);
    await runUntil(clock, () => receiver.requests.length >= 1);
    expect(JSON.parse(receiver.requests[0]!.body)).toMatchObject({ type: 'lookout.alert.v1', event: 'down', target: { name: 'api' } });
    server.setStatus(200);
    await runUntil(clock, () => receiver.requests.length >= 2);
    expect(JSON.parse(receiver.requests[1]!.body)).toMatchObject({ event: 'up' });
    expect(lines.some((l) => JSON.stringify(l).includes('a-long-enough-secret'))).toBe(false);

    await app.stop();
    await writeFile(file, yaml(['version: 1', 'channels:', '  - { name: ops, kind: webhook, address: "http://example.com/x" }', '  - { name: pd, kind: pagerduty, address: "short" }']));
    await expect(startApp(config, { logger: createLogger('silent') })).rejects.toThrow(TargetsFileError);
    await expect(startApp(config, { logger: createLogger('silent') })).rejects.toThrow(/channels\[0\] \(ops\): the webhook URL must be https:\/\/.*\n.*channels\[1\] \(pd\): the routing key is the 32-character/);
  }, 30_000);
});
