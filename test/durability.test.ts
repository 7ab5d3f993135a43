import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/store/keyv.js';
import { createTargetRepository } from '../src/store/targets.js';
import { buildApp, runApp, until, type RunningApp } from './support/built-app.js';
import { closedPort, httpTarget, startTargetServer, type TargetServer } from './support/target-server.js';
import { startFakeTelegram, textOf, type FakeTelegram, type RecordedCall } from './support/fake-telegram.js';
import { writeFile } from 'node:fs/promises';
import { startReceiver } from './support/receiver.js';

// Issue 13's promises, tried on the built process: kill -9, a signal while starting, a clean stop
// while Telegram is slow. Every message a target gets is read back from the fake Bot API.

const GROUP = -1001234567890;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

let dist = '';
let removeDist: () => Promise<void> = async () => undefined;
beforeAll(async () => {
  ({ dist, remove: removeDist } = await buildApp());
}, 90_000);
afterAll(() => removeDist());

/** `count` targets in GROUP checked every `everyMs` (below the chat's minimum: seeded straight into the store). */
async function seed(dataDir: string, server: TargetServer, count: number, everyMs = 400): Promise<string[]> {
  const store = await openStore({ kind: 'sqlite', dataDir });
  const repo = createTargetRepository(store);
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const name = `svc-${String(i).padStart(2, '0')}`;
    names.push(name);
    await repo.put(httpTarget({ id: `${GROUP}/${name}`, chatId: GROUP, name, url: `${server.url}${name}`, everyMs, timeoutMs: 300, retryMs: 100, confirm: 1, recover: 1, remindMs: 0 }));
  }
  await store.close();
  return names;
}

function start(dataDir: string, telegram: { token: string; apiRoot: string }, extra: Record<string, string> = {}): RunningApp {
  const p = runApp(dist, {
    DATA_DIR: dataDir,
    HTTP_PORT: '0',
    BOT_TOKEN: telegram.token,
    TELEGRAM_API_ROOT: telegram.apiRoot,
    ALLOWED_CHAT_IDS: String(GROUP),
    LOG_LEVEL: 'info',
    SOURCE_LABEL: 'test',
    TRACE_MODE: 'icmp',
    MTR_PATH: '/nonexistent/mtr',
    ...extra,
  });
  cleanups.push(async () => {
    if (p.child.exitCode === null && p.signal() === null) p.child.kill('SIGKILL');
    await p.exit;
  });
  return p;
}

/** Which targets a message text tells DOWN and which UP (single, grouped, storm and blip forms). */
function told(text: string): { down: string[]; up: string[] } {
  const down: string[] = [];
  const up: string[] = [];
  for (const line of text.split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^🔴 <b>([a-z0-9_-]+)<\/b> is DOWN/.exec(line)) || (m = /^🔴 <b>([a-z0-9_-]+)<\/b> · /.exec(line))) down.push(m[1]!);
    else if ((m = /^🔴 <i>.*<\/i> \(\d+\): (.*)$/.exec(line))) down.push(...m[1]!.split(', ').map((n) => n.replace(/👀$/, '')));
    else if ((m = /^🟢 <b>([a-z0-9_-]+)<\/b> is UP again/.exec(line)) || (m = /^• <b>([a-z0-9_-]+)<\/b> · down for/.exec(line))) up.push(m[1]!);
    else if ((m = /^⚡ <b>([a-z0-9_-]+)<\/b> was DOWN for/.exec(line))) {
      down.push(m[1]!);
      up.push(m[1]!);
    }
  }
  return { down, up };
}

/** Per target, what the chat was told, in order: `D` and `U`. */
function story(telegram: FakeTelegram): Map<string, string> {
  const byTarget = new Map<string, string>();
  for (const call of telegram.callsOf('sendMessage').filter((c: RecordedCall) => !c.failed && c.payload.chat_id === GROUP)) {
    const { down, up } = told(textOf(call));
    // A blip names a target in both lists: its DOWN comes first.
    for (const name of down) byTarget.set(name, `${byTarget.get(name) ?? ''}D`);
    for (const name of up) byTarget.set(name, `${byTarget.get(name) ?? ''}U`);
  }
  return byTarget;
}

describe('kill -9', () => {
  it('10 targets fail and recover together; killed right after the first resolution; after the restart every target has its resolution, and no alert still shows DOWN', async () => {
    const telegram = await startFakeTelegram();
    cleanups.push(() => telegram.close());
    const server = await startTargetServer();
    cleanups.push(() => server.close());
    const dataDir = await mkdtemp(join(tmpdir(), 'lookout-kill-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const names = await seed(dataDir, server, 10);

    let p = start(dataDir, telegram);
    await until(() => p.lines().filter((l) => l.event === 'state_change' && l.to === 'UP').length >= 10, 20_000, 'all UP');
    server.setStatus(503);
    await until(() => names.every((n) => story(telegram).get(n)?.includes('D')), 30_000, 'every target alerted');
    server.setStatus(200);
    await until(() => [...story(telegram).values()].some((s) => s.endsWith('U')), 30_000, 'a first resolution');
    p.child.kill('SIGKILL');
    await p.exit;

    p = start(dataDir, telegram);
    await until(() => names.every((n) => story(telegram).get(n)?.endsWith('U')), 40_000, 'every resolution after the restart');
    // The alert messages, as they read now: none is left open with an Ack button.
    await until(() => telegram.messages(GROUP).every((m) => !JSON.stringify(m.reply_markup ?? {}).includes('"ak:')), 20_000, 'every alert edited to resolved');
    // In order for every target; one crash may repeat the one message it cut short (a grouped
    // resolution names several targets), no more.
    for (const [name, s] of story(telegram)) expect(s, name).toMatch(/^DU+$/);
    const resolutions = telegram.callsOf('sendMessage').filter((c) => !c.failed && c.payload.chat_id === GROUP && told(textOf(c)).up.length > 0).map((c) => textOf(c));
    expect(resolutions.length - new Set(resolutions).size).toBeLessThanOrEqual(1);
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
  }, 120_000);
});

describe('signals while starting', () => {
  it('SIGTERM while Telegram cannot be reached at start: checks already run, and it stops cleanly with exit 0', async () => {
    const server = await startTargetServer();
    cleanups.push(() => server.close());
    const dataDir = await mkdtemp(join(tmpdir(), 'lookout-sigstart-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    await seed(dataDir, server, 2);
    const port = await closedPort();
    const p = start(dataDir, { token: '123456789:TEST-token_abcdefghijklmnopqrstuvwxyz012', apiRoot: `http://127.0.0.1:${port}` });
    // The chat cannot come up; checking goes on meanwhile.
    await until(() => p.lines().some((l) => l.event === 'chat_start_retry'), 15_000, 'a retried chat start');
    await until(() => p.lines().some((l) => l.event === 'state_change' && l.to === 'UP'), 15_000, 'a first check');
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
    expect(p.lines().some((l) => l.event === 'stopping')).toBe(true);
    expect(p.lines().some((l) => l.event === 'stopped')).toBe(true);
  }, 60_000);
});

/** A Bot API in front of `telegram` that answers sendMessage only after `delayMs` (the call is accepted at once). */
async function slowProxy(telegram: FakeTelegram, delayMs: number): Promise<{ apiRoot: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const answer = await fetch(`${telegram.apiRoot}${req.url ?? ''}`, {
          method: req.method ?? 'GET',
          headers: { 'content-type': req.headers['content-type'] ?? 'application/json' },
          ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
        });
        const body = Buffer.from(await answer.arrayBuffer());
        if (/\/sendMessage$/.test(req.url ?? '')) await new Promise((r) => setTimeout(r, delayMs));
        if (res.destroyed) return;
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(body);
      })().catch(() => res.destroy());
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    apiRoot: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('a clean stop while Telegram is slow', () => {
  it('waits for the message in flight instead of giving up on it: after the restart nothing is told twice', async () => {
    const telegram = await startFakeTelegram();
    cleanups.push(() => telegram.close());
    const slow = await slowProxy(telegram, 4_000);
    cleanups.push(() => slow.close());
    const server = await startTargetServer();
    cleanups.push(() => server.close());
    const dataDir = await mkdtemp(join(tmpdir(), 'lookout-slowstop-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const names = await seed(dataDir, server, 6);

    let p = start(dataDir, { token: telegram.token, apiRoot: slow.apiRoot });
    await until(() => p.lines().filter((l) => l.event === 'state_change' && l.to === 'UP').length >= 6, 20_000, 'all UP');
    server.setStatus(503);
    // The first alert is on its way (Telegram has it; its answer takes 4 s): stop now.
    await until(() => telegram.callsOf('sendMessage').some((c) => c.payload.chat_id === GROUP && textOf(c).includes('DOWN')), 20_000, 'an alert in flight');
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);

    p = start(dataDir, telegram);
    await until(() => names.every((n) => story(telegram).get(n)?.includes('D')), 40_000, 'every target alerted');
    // The alert in flight at the stop was the head of the chat's queue: sent again, it would have come
    // before the others, so once every target is told, a duplicate would show.
    for (const [name, s] of story(telegram)) expect(s, name).toBe('D');
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
  }, 120_000);
});

describe('kill -9 with deliveries queued for three channels', () => {
  it('every one is delivered after the restart, in order, with at most one duplicate each', async () => {
    const telegram = await startFakeTelegram();
    cleanups.push(() => telegram.close());
    const hook = await startReceiver();
    cleanups.push(() => hook.close());
    const slack = await startReceiver();
    cleanups.push(() => slack.close());
    const server = await startTargetServer();
    cleanups.push(() => server.close());
    const dataDir = await mkdtemp(join(tmpdir(), 'lookout-kill3-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const names = await seed(dataDir, server, 5);
    const file = join(dataDir, 'targets.yaml');
    await writeFile(
      file,
      [
        'version: 1',
        `chat: ${GROUP}`,
        'channels:',
        `  - { name: ops, kind: webhook, address: "${hook.url}/hook" }`,
        `  - { name: team, kind: slack, address: "${slack.url}/services/T/B/x" }`,
        '',
      ].join('\n'),
    );
    // Every destination is down: the alerts pile up in the outbox.
    telegram.setDown(true, { includeGetUpdates: false });
    hook.answer({ status: 503 });
    slack.answer({ status: 503 });
    let p = start(dataDir, telegram, { TARGETS_FILE: file });
    await until(() => p.lines().filter((l) => l.event === 'state_change' && l.to === 'UP').length >= 5, 20_000, 'all UP');
    server.setStatus(503);
    await until(() => p.lines().filter((l) => l.event === 'state_change' && l.to === 'DOWN').length >= 5, 20_000, 'all DOWN');
    await until(() => hook.requests.length > 0 && slack.requests.length > 0, 20_000, 'deliveries tried');
    p.child.kill('SIGKILL');
    await p.exit;

    telegram.setDown(false);
    hook.answer({ status: 200 });
    slack.answer({ status: 200, body: 'ok' });
    const hookBefore = hook.requests.length;
    const slackBefore = slack.requests.length;
    p = start(dataDir, telegram, { TARGETS_FILE: file });
    await until(() => names.every((n) => story(telegram).get(n)?.includes('D')), 40_000, 'every alert in Telegram');
    const hookDowns = (): string[] => hook.requests.slice(hookBefore).map((r) => JSON.parse(r.body) as { event: string; target?: { name: string } }).filter((b) => b.event === 'down').map((b) => b.target!.name);
    await until(() => names.every((n) => hookDowns().includes(n)), 40_000, 'every alert at the webhook');
    const slackText = (): string => slack.requests.slice(slackBefore).map((r) => r.body).join('\n');
    await until(() => names.every((n) => slackText().includes(`*${n}*`)), 40_000, 'every alert in Slack');
    // At most one duplicate per destination for the one crash.
    expect(hookDowns().length - names.length).toBeLessThanOrEqual(1);
    for (const [name, s] of story(telegram)) expect(s, name).toMatch(/^D{1,2}$/);
    expect([...story(telegram).values()].join('').length - names.length).toBeLessThanOrEqual(1);
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
  }, 150_000);
});
