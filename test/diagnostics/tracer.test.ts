import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_TRACE_SETTINGS, parseMtrJson, type TraceResult } from '../../src/diagnostics/mtr.js';
import { createTracer, type TracerDeps } from '../../src/diagnostics/tracer.js';
import { createLogger } from '../../src/lib/logger.js';
import { fakeSpawn, mtrFixture, replies, type FakeChild } from '../support/fake-mtr.js';

type Mode = TracerDeps['settings']['mode'];

const settings = (mode: Mode): TracerDeps['settings'] => ({ ...DEFAULT_TRACE_SETTINGS, mode });

/** mtr as seen from a network that drops ICMP at the end of the path but lets TCP through. */
const icmpDroppedTcpOk = (child: FakeChild, args: string[]): void =>
  replies(mtrFixture(args.includes('--tcp') ? 'internet-path' : 'icmp-dropped'))(child);

const portOf = (args: string[]): string | undefined => (args.includes('--port') ? args[args.indexOf('--port') + 1] : undefined);

describe('createTracer: modes', () => {
  it('icmp mode runs mtr once, without TCP, even when the last hop is silent', async () => {
    const fake = fakeSpawn(icmpDroppedTcpOk);
    const tracer = createTracer({ settings: settings('icmp'), spawn: fake.spawn });

    const result = await tracer.trace('192.0.2.80', 443);

    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]!.args).not.toContain('--tcp');
    expect(fake.calls[0]!.args.slice(-2)).toEqual(['--', '192.0.2.80']);
    expect(result).toMatchObject({ ok: true, host: '192.0.2.80', mode: { kind: 'icmp' }, hops: parseMtrJson(mtrFixture('icmp-dropped')) });
  });

  it('auto mode retries with --tcp --port when the last ICMP hop has 100% loss and a port is known', async () => {
    const fake = fakeSpawn(icmpDroppedTcpOk);
    const lines: string[] = [];
    const logger = createLogger('debug', new Writable({ write: (chunk, _, done) => (lines.push(String(chunk)), done()) }));
    const tracer = createTracer({ settings: settings('auto'), spawn: fake.spawn, logger });

    const result = await tracer.trace('192.0.2.80', 8443);

    expect(fake.calls).toHaveLength(2);
    expect(fake.calls[0]!.args).not.toContain('--tcp');
    expect(fake.calls[1]!.args).toEqual(expect.arrayContaining(['--tcp', '--port', '8443']));
    expect(portOf(fake.calls[1]!.args)).toBe('8443');
    expect(fake.calls[1]!.args.slice(-2)).toEqual(['--', '192.0.2.80']);
    expect(result).toMatchObject({ ok: true, mode: { kind: 'tcp', port: 8443 }, hops: parseMtrJson(mtrFixture('internet-path')) });
    expect(lines.map((l) => JSON.parse(l) as Record<string, unknown>)).toContainEqual(
      expect.objectContaining({ event: 'trace_tcp_fallback', host: '192.0.2.80', port: 8443 }),
    );
  });

  it('auto mode without a port keeps the ICMP result', async () => {
    const fake = fakeSpawn(icmpDroppedTcpOk);
    const tracer = createTracer({ settings: settings('auto'), spawn: fake.spawn });

    const result = await tracer.trace('192.0.2.80');

    expect(fake.calls).toHaveLength(1);
    expect(result).toMatchObject({ ok: true, mode: { kind: 'icmp' }, hops: parseMtrJson(mtrFixture('icmp-dropped')) });
  });

  it('auto mode does not retry when the destination answered ICMP', async () => {
    const fake = fakeSpawn(replies(mtrFixture('internet-path')));
    const tracer = createTracer({ settings: settings('auto'), spawn: fake.spawn });
    expect(await tracer.trace('203.0.113.10', 443)).toMatchObject({ ok: true, mode: { kind: 'icmp' } });
    expect(fake.calls).toHaveLength(1);
  });

  it('auto mode does not retry when a silent hop is only in the middle of the path', async () => {
    const fake = fakeSpawn(replies(mtrFixture('internet-path')));
    const tracer = createTracer({ settings: settings('auto'), spawn: fake.spawn });
    const result = await tracer.trace('203.0.113.10', 443);
    expect(result.ok && result.hops[2]!.host).toBe('???');
    expect(fake.calls).toHaveLength(1);
  });

  it('auto mode does not retry with TCP when ICMP failed outright', async () => {
    const fake = fakeSpawn((child) => child.failToStart('ENOENT'));
    const tracer = createTracer({ settings: settings('auto'), spawn: fake.spawn });
    expect(await tracer.trace('192.0.2.80', 443)).toMatchObject({ ok: false, error: 'missing' });
    expect(fake.calls).toHaveLength(1);
  });

  it('tcp mode traces with TCP to the given port, once', async () => {
    const fake = fakeSpawn(icmpDroppedTcpOk);
    const tracer = createTracer({ settings: settings('tcp'), spawn: fake.spawn });

    const result = await tracer.trace('203.0.113.10', 5432);

    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]!.args).toContain('--tcp');
    expect(portOf(fake.calls[0]!.args)).toBe('5432');
    expect(result).toMatchObject({ ok: true, mode: { kind: 'tcp', port: 5432 } });
  });

  it('tcp mode uses port 443 when no port is given', async () => {
    const fake = fakeSpawn(icmpDroppedTcpOk);
    const tracer = createTracer({ settings: settings('tcp'), spawn: fake.spawn });
    expect(await tracer.trace('203.0.113.10')).toMatchObject({ mode: { kind: 'tcp', port: 443 } });
    expect(portOf(fake.calls[0]!.args)).toBe('443');
  });

  it('passes -6 for an IPv6 destination', async () => {
    const fake = fakeSpawn(replies(mtrFixture('ipv6-path')));
    const tracer = createTracer({ settings: settings('icmp'), spawn: fake.spawn });
    await tracer.trace('2001:db8:443::10');
    expect(fake.calls[0]!.args).toContain('-6');
    expect(fake.calls[0]!.options).toMatchObject({ shell: false });
  });
});

describe('createTracer: one trace per chat', () => {
  it('refuses a second begin for the same chat until end', () => {
    const tracer = createTracer({ settings: settings('icmp'), spawn: fakeSpawn(() => {}).spawn });
    expect(tracer.begin(42)).toBe(true);
    expect(tracer.begin(42)).toBe(false);
    expect(tracer.begin(-1001234567890)).toBe(true);
    tracer.end(42);
    expect(tracer.begin(42)).toBe(true);
    expect(tracer.begin(-1001234567890)).toBe(false);
  });

  it('ignores an end without a begin', () => {
    const tracer = createTracer({ settings: settings('icmp'), spawn: fakeSpawn(() => {}).spawn });
    tracer.end(7);
    expect(tracer.begin(7)).toBe(true);
  });
});

describe('createTracer: concurrency', () => {
  /** Starts `count` traces whose children stay alive until the test ends them. */
  async function startHeld(deps: Omit<TracerDeps, 'spawn'>, count: number) {
    const fake = fakeSpawn(() => {});
    const tracer = createTracer({ ...deps, spawn: fake.spawn });
    const results: Array<Promise<TraceResult>> = [];
    for (let i = 0; i < count; i++) results.push(tracer.trace(`10.0.0.${i + 1}`));
    await new Promise((resolve) => setImmediate(resolve));
    return { fake, results };
  }

  const exitOk = (child: FakeChild | undefined): Promise<void> => child!.exit(0, mtrFixture('loopback-ipv4'));

  it('runs at most 2 mtr processes at once with concurrency 2, the third after one ends', async () => {
    const { fake, results } = await startHeld({ settings: settings('icmp'), concurrency: 2 }, 3);
    expect(fake.calls).toHaveLength(2);
    expect(fake.alive).toBe(2);

    await exitOk(fake.children[0]);
    await vi.waitFor(() => expect(fake.calls).toHaveLength(3));
    expect(fake.calls[2]!.args.at(-1)).toBe('10.0.0.3');
    expect(fake.alive).toBe(2);

    await exitOk(fake.children[1]);
    await exitOk(fake.children[2]);
    const done = await Promise.all(results);
    expect(done.map((r) => r.ok)).toEqual([true, true, true]);
    expect(done.map((r) => r.host)).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    expect(fake.maxAlive).toBe(2);
  });

  it('defaults to 2 processes at once', async () => {
    const { fake, results } = await startHeld({ settings: settings('icmp') }, 3);
    expect(fake.calls).toHaveLength(2);
    await exitOk(fake.children[0]);
    await exitOk(fake.children[1]);
    await vi.waitFor(() => expect(fake.calls).toHaveLength(3));
    await exitOk(fake.children[2]);
    await Promise.all(results);
    expect(fake.maxAlive).toBe(2);
  });

  it('frees the slot of a trace that timed out, once its mtr was killed', async () => {
    const killedBeforeStart: Array<boolean[]> = [];
    const fake = fakeSpawn(() => killedBeforeStart.push(fake.children.slice(0, -1).map((c) => c.killedWith === 'SIGKILL')));
    const tracer = createTracer({ settings: { ...settings('icmp'), timeoutMs: 50 }, spawn: fake.spawn, concurrency: 1 });
    const results = await Promise.all([tracer.trace('10.0.0.1'), tracer.trace('10.0.0.2')]);
    expect(results.map((r) => !r.ok && r.error)).toEqual(['timeout', 'timeout']);
    expect(fake.calls).toHaveLength(2);
    // The second mtr starts only after the first was sent SIGKILL.
    expect(killedBeforeStart).toEqual([[], [true]]);
    expect(fake.children.every((c) => c.killedWith === 'SIGKILL')).toBe(true);
  });

  it('counts the TCP retry of auto mode against the limit', async () => {
    const fake = fakeSpawn(icmpDroppedTcpOk);
    const tracer = createTracer({ settings: settings('auto'), spawn: fake.spawn, concurrency: 1 });
    const results = await Promise.all([tracer.trace('192.0.2.80', 443), tracer.trace('192.0.2.81', 443)]);
    expect(results.map((r) => r.mode.kind)).toEqual(['tcp', 'tcp']);
    expect(fake.calls).toHaveLength(4);
    expect(fake.maxAlive).toBe(1);
  });
});

describe('stop', () => {
  it('kills running traces, ends queued ones and refuses new ones without starting mtr', async () => {
    const { createTracer } = await import('../../src/diagnostics/tracer.js');
    const { spawn } = await import('node:child_process');
    const started: string[] = [];
    const slow = ((cmd: string, args: readonly string[], opts: object) => {
      started.push(args.at(-1)!);
      return spawn('sleep', ['30'], opts as never);
    }) as never;
    const tracer = createTracer({ settings: { binary: 'mtr', cycles: 1, intervalS: 1, gracePeriodS: 1, maxHops: 5, timeoutMs: 60_000, mode: 'icmp' }, spawn: slow, concurrency: 1 });
    const running = tracer.trace('a.example');
    const queued = tracer.trace('b.example');
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    tracer.stop();
    expect(await running).toMatchObject({ ok: false, message: 'the trace was stopped (Lookout is shutting down)' });
    expect(await queued).toMatchObject({ ok: false, message: 'the trace was stopped (Lookout is shutting down)' });
    expect(await tracer.trace('c.example')).toMatchObject({ ok: false });
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(started).toEqual(['a.example']);
  });
});

describe('/trace host spellings', () => {
  it.each(['0x7f000001', '2130706433', '127.1', '0177.0.0.1'])('%s reaches mtr as 127.0.0.1', async (text) => {
    const { parseTraceHost } = await import('../../src/domain/host.js');
    const fake = fakeSpawn(replies(mtrFixture('loopback-ipv4')));
    const tracer = createTracer({ settings: settings('icmp'), spawn: fake.spawn });
    const host = parseTraceHost(text);
    expect(host.ok).toBe(true);
    await tracer.trace(host.ok ? host.value : '');
    expect(fake.calls[0]!.args.slice(-2)).toEqual(['--', '127.0.0.1']);
  });
});
