import { spawn } from 'node:child_process';
import { get } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as SentryNode from '@sentry/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createErrorTracker, type ErrorTracker } from '../../src/lib/error-tracker.js';
import { createLogger, createSecretRegistry } from '../../src/lib/logger.js';
import { buildApp, until } from '../support/built-app.js';
import { logSink } from '../support/log-sink.js';
import { startSentryReceiver, type SentryReceiver } from '../support/sentry-receiver.js';

// Sentry's ingest is a loopback receiver: what arrives there is what Sentry would get.

const BOT_TOKEN = `123456:${'A'.repeat(35)}`;
const HEADER_VALUE = 'Bearer hv-0123456789-secret';

interface SentException {
  type?: string;
  value?: string;
  mechanism?: { type?: string; handled?: boolean };
  stacktrace?: { frames?: Array<{ filename?: string; function?: string }> };
}
const exceptionsOf = (event: Record<string, unknown>): SentException[] => (event.exception as { values?: SentException[] } | undefined)?.values ?? [];

const ERROR_LISTENERS = ['uncaughtException', 'unhandledRejection'] as const;
const listenerCounts = (): number[] => ERROR_LISTENERS.map((e) => process.listenerCount(e));

let receiver: SentryReceiver;
let tracker: ErrorTracker | undefined;

beforeEach(async () => {
  receiver = await startSentryReceiver();
});

afterEach(async () => {
  await tracker?.close(1_000);
  tracker = undefined;
  await receiver.close();
});

describe('the error tracker, in this process', () => {
  it('sends a captured Error with its message, stack, environment and release to /api/<project>/envelope/', async () => {
    const { lines, stream } = logSink();
    tracker = createErrorTracker({ dsn: receiver.dsn(42), environment: 'test', release: 'lookout@1.2.3', secrets: createSecretRegistry(), logger: createLogger('info', stream) });
    tracker.capture(new Error('boom in the engine'));
    await until(() => receiver.events().length === 1, 10_000, 'the event');
    const [envelope] = receiver.envelopes;
    expect(envelope!.path).toMatch(/^\/api\/42\/envelope\//);
    const event = receiver.events()[0]!;
    expect(exceptionsOf(event)).toEqual([expect.objectContaining({ type: 'Error', value: 'boom in the engine' })]);
    const frames = exceptionsOf(event)[0]!.stacktrace?.frames ?? [];
    expect(frames.some((f) => f.filename?.endsWith('error-tracker.test.ts'))).toBe(true);
    expect(event).toMatchObject({ level: 'error', environment: 'test', release: 'lookout@1.2.3', platform: 'node' });
    // Nothing the SDK would gather by itself: no breadcrumbs (HTTP, console), no request, no user.
    expect(event.breadcrumbs ?? []).toEqual([]);
    expect(event.request).toBeUndefined();
    expect(event.user).toBeUndefined();
    // Errors only: no transaction, span or session item.
    expect(receiver.envelopes.flatMap((e) => e.items.map((i) => i.header.type))).toEqual(['event']);
    expect(lines).toEqual([expect.objectContaining({ event: 'error_tracker_started', host: expect.stringMatching(/^127\.0\.0\.1:\d+$/), environment: 'test' })]);
    expect(JSON.stringify(lines)).not.toContain('publickey');
  });

  it('scrubs secrets of the registry (known at start or added since) from the message, the cause, the context at any depth', async () => {
    const registry = createSecretRegistry([BOT_TOKEN]);
    tracker = createErrorTracker({ dsn: receiver.dsn(), secrets: registry, release: 'lookout@test' });
    registry.add(HEADER_VALUE);
    const err = new Error(`sendMessage failed: https://api.telegram.org/bot${BOT_TOKEN}/sendMessage`, { cause: new Error(`upstream said ${HEADER_VALUE}`) });
    tracker.capture(err, {
      note: `target with header ${HEADER_VALUE}`,
      nested: { request: { url: `https://x.example/bot${BOT_TOKEN}`, list: [BOT_TOKEN] } },
      headers: { 'x-api-key': 'plain-header-value-1' },
      token: 'a-token-under-a-secret-key',
    });
    await until(() => receiver.events().length === 1, 10_000, 'the event');
    const raw = receiver.envelopes.map((e) => e.raw).join('\n');
    for (const secret of [BOT_TOKEN, HEADER_VALUE, 'hv-0123456789', 'plain-header-value-1', 'a-token-under-a-secret-key']) expect(raw).not.toContain(secret);
    const event = receiver.events()[0]!;
    expect(exceptionsOf(event).map((e) => e.value)).toEqual(['upstream said [redacted]', 'sendMessage failed: https://api.telegram.org/bot[redacted]/sendMessage']);
    expect(event.extra).toEqual({
      note: 'target with header [redacted]',
      nested: { request: { url: 'https://x.example/bot[redacted]', list: ['[redacted]'] } },
      headers: { 'x-api-key': '[redacted]' },
      token: '[redacted]',
    });
  });

  it('scrubs a large event too (sent gzip-compressed)', async () => {
    tracker = createErrorTracker({ dsn: receiver.dsn(), secrets: createSecretRegistry([BOT_TOKEN]) });
    tracker.capture(new Error('big'), { dump: `${'x'.repeat(40_000)} ${BOT_TOKEN}` });
    await until(() => receiver.events().length === 1, 10_000, 'the event');
    expect(receiver.envelopes[0]!.headers['content-encoding']).toBe('gzip');
    expect(receiver.envelopes[0]!.raw).not.toContain(BOT_TOKEN);
    expect(String((receiver.events()[0]!.extra as { dump: string }).dump).endsWith(' [redacted]')).toBe(true);
  });

  it('records no breadcrumb of HTTP requests; one the app adds is scrubbed', async () => {
    tracker = createErrorTracker({ dsn: receiver.dsn(), secrets: createSecretRegistry([BOT_TOKEN]) });
    // A request whose URL carries the token, through fetch and through node:http.
    await fetch(`${receiver.url}/bot${BOT_TOKEN}/getMe`).then((r) => r.arrayBuffer());
    await new Promise<void>((resolve, reject) => get(`${receiver.url}/bot${BOT_TOKEN}/getMe`, (r) => r.resume().on('end', resolve)).on('error', reject));
    // The same module instance the tracker loaded (it is required, not imported).
    const sentry = createRequire(import.meta.url)('@sentry/node') as typeof SentryNode;
    sentry.addBreadcrumb({ category: 'app', message: `called bot${BOT_TOKEN}`, data: { url: `https://api.telegram.org/bot${BOT_TOKEN}/getMe` } });
    tracker.capture(new Error('after the requests'));
    await until(() => receiver.events().length === 1, 10_000, 'the event');
    expect(receiver.events()[0]!.breadcrumbs).toEqual([
      expect.objectContaining({ category: 'app', message: 'called bot[redacted]', data: { url: 'https://api.telegram.org/bot[redacted]/getMe' } }),
    ]);
    expect(receiver.envelopes.map((e) => e.raw).join('\n')).not.toContain(BOT_TOKEN);
  });

  it('takes a secrets function instead of a registry', async () => {
    tracker = createErrorTracker({ dsn: receiver.dsn(), secrets: () => ['fn-secret-0123'] });
    tracker.capture(new Error('value fn-secret-0123'));
    await until(() => receiver.events().length === 1, 10_000, 'the event');
    expect(exceptionsOf(receiver.events()[0]!)[0]!.value).toBe('value [redacted]');
    expect(receiver.envelopes[0]!.raw).not.toContain('fn-secret-0123');
  });

  it('without a DSN sends nothing and installs nothing; capture, flush and close do nothing', async () => {
    const before = listenerCounts();
    tracker = createErrorTracker({ dsn: undefined, secrets: createSecretRegistry() });
    expect(listenerCounts()).toEqual(before);
    tracker.capture(new Error('nobody hears this'), { a: 1 });
    await expect(tracker.flush(100)).resolves.toBe(true);
    await tracker.close();
    // A real tracker's event arriving after it shows the receiver would have seen the first.
    tracker = createErrorTracker({ dsn: receiver.dsn(), secrets: createSecretRegistry() });
    tracker.capture(new Error('the only event'));
    await until(() => receiver.events().length > 0, 10_000, 'the event');
    expect(receiver.events().map((e) => exceptionsOf(e)[0]?.value)).toEqual(['the only event']);
  });

  it('close() sends what is left, removes its process handlers, and capture does nothing after it', async () => {
    const before = listenerCounts();
    tracker = createErrorTracker({ dsn: receiver.dsn(), secrets: createSecretRegistry() });
    expect(listenerCounts()).toEqual(before.map((n) => n + 1));
    tracker.capture(new Error('sent by close'));
    await tracker.close(5_000);
    expect(listenerCounts()).toEqual(before);
    expect(receiver.events().map((e) => exceptionsOf(e)[0]?.value)).toEqual(['sent by close']);
    tracker.capture(new Error('after close'));
    await tracker.flush(200);
    expect(receiver.events()).toHaveLength(1);
  });

  it('says in the log when an event could not be sent', async () => {
    const { lines, stream } = logSink();
    const dead = await startSentryReceiver();
    const dsn = dead.dsn();
    await dead.close();
    tracker = createErrorTracker({ dsn, secrets: createSecretRegistry(), logger: createLogger('info', stream) });
    tracker.capture(new Error('lost'));
    await until(() => lines.some((l) => l.event === 'error_tracker_send_failed'), 10_000, 'the warning');
    expect(lines.find((l) => l.event === 'error_tracker_send_failed')).toMatchObject({ level: 40, status: 'no answer' });
  });
});

describe('the error tracker in a process that dies', () => {
  let dist: string;
  let removeDist: () => Promise<void>;
  beforeAll(async () => {
    ({ dist, remove: removeDist } = await buildApp(['src/lib/error-tracker.ts']));
  });
  afterAll(() => removeDist());

  const FIXTURE = fileURLToPath(new URL('./fixtures/sentry-crash.mjs', import.meta.url));

  it.each([
    { mode: 'throw', mechanism: 'auto.node.onuncaughtexception', message: 'crash with [redacted] in it' },
    { mode: 'reject', mechanism: 'auto.node.onunhandledrejection', message: 'rejected with [redacted] in it' },
  ])('$mode: the event arrives (fatal, scrubbed) before the process exits 1', async ({ mode, mechanism, message }) => {
    const child = spawn(process.execPath, [FIXTURE, dist, receiver.dsn(7), mode, BOT_TOKEN], { env: { PATH: process.env.PATH ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    let code: number | null | undefined;
    void exit.then((c) => (code = c));
    await until(() => code !== undefined, 10_000, `the ${mode} process to exit`);
    expect([code, output]).toEqual([1, expect.stringContaining(mode === 'throw' ? 'crash with' : 'rejected with')]);
    // It exited after sending: the event is there by the time the exit is seen.
    expect(receiver.events()).toHaveLength(1);
    const event = receiver.events()[0]!;
    expect(receiver.envelopes[0]!.path).toMatch(/^\/api\/7\/envelope\//);
    expect(event).toMatchObject({ level: 'fatal', environment: 'crash-test', release: 'lookout@test' });
    expect(exceptionsOf(event)).toEqual([expect.objectContaining({ type: 'Error', value: message, mechanism: expect.objectContaining({ type: mechanism, handled: false }) })]);
    expect(receiver.envelopes[0]!.raw).not.toContain(BOT_TOKEN);
  });
});
