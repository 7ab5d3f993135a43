import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_TRACE_SETTINGS,
  MTR_MISSING,
  mtrArgs,
  parseMtrJson,
  runMtr,
  type Spawn,
  type TraceMode,
  type TraceSettings,
} from '../../src/diagnostics/mtr.js';
import { fakeSpawn, mtrFixture, replies } from '../support/fake-mtr.js';

const ICMP: TraceMode = { kind: 'icmp' };
const TCP_443: TraceMode = { kind: 'tcp', port: 443 };
const FAST: TraceSettings = { binary: 'mtr', cycles: 1, intervalS: 0.1, gracePeriodS: 0.2, maxHops: 5, timeoutMs: 10_000 };
const RESOLVE_FAILURE = 'mtr: Failed to resolve host: nowhere.invalid: Name or service not known\n';

describe('parseMtrJson', () => {
  it('reads the recorded trace to 127.0.0.1: one hop, no loss', () => {
    const hops = parseMtrJson(mtrFixture('loopback-ipv4'));
    expect(hops).toHaveLength(1);
    expect(hops[0]).toMatchObject({ index: 1, host: '127.0.0.1', lossPct: 0, sent: 5 });
    const hop = hops[0]!;
    for (const ms of [hop.lastMs, hop.avgMs, hop.bestMs, hop.worstMs]) expect(ms).toBeGreaterThan(0);
    expect(hop.bestMs).toBeLessThanOrEqual(hop.avgMs);
    expect(hop.avgMs).toBeLessThanOrEqual(hop.worstMs);
  });

  it('reads the recorded trace to ::1', () => {
    const hops = parseMtrJson(mtrFixture('loopback-ipv6'));
    expect(hops).toHaveLength(1);
    expect(hops[0]).toMatchObject({ index: 1, host: '::1', lossPct: 0, sent: 5 });
  });

  it('reads a six-hop internet path with a silent ??? hop and a lossy hop', () => {
    const hops = parseMtrJson(mtrFixture('internet-path'));
    expect(hops.map((h) => h.index)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(hops.map((h) => h.host)).toEqual(['10.0.0.1', '100.64.0.1', '???', '198.51.100.17', '198.51.100.254', '203.0.113.10']);
    expect(hops.map((h) => h.lossPct)).toEqual([0, 0, 100, 20, 0, 0]);
    expect(hops[2]).toStrictEqual({ index: 3, host: '???', lossPct: 100, sent: 5, lastMs: 0, avgMs: 0, bestMs: 0, worstMs: 0, stdevMs: 0 });
    expect(hops[5]).toStrictEqual({
      index: 6,
      host: '203.0.113.10',
      lossPct: 0,
      sent: 5,
      lastMs: 14.611,
      avgMs: 14.523,
      bestMs: 14.301,
      worstMs: 14.802,
      stdevMs: 0.196,
    });
  });

  it('reads a path whose last hops never answer', () => {
    const hops = parseMtrJson(mtrFixture('icmp-dropped'));
    expect(hops).toHaveLength(6);
    expect(hops.slice(-2)).toEqual([
      expect.objectContaining({ index: 5, host: '???', lossPct: 100 }),
      expect.objectContaining({ index: 6, host: '???', lossPct: 100 }),
    ]);
    expect(hops.slice(0, 4).every((h) => h.lossPct === 0 && h.host !== '???')).toBe(true);
  });

  it('reads an IPv6 path with its addresses as given', () => {
    const hops = parseMtrJson(mtrFixture('ipv6-path'));
    expect(hops.map((h) => h.host)).toEqual(['2001:db8:1::1', '2001:db8:100::1', '2001:db8:200:ff::2', '2001:db8:443::10']);
    expect(hops.every((h) => h.lossPct === 0)).toBe(true);
  });

  it('numbers hops by position and fills gaps when mtr leaves fields out or mistyped', () => {
    const text = JSON.stringify({ report: { hubs: [{ host: '' }, { count: '2', host: 7, 'Loss%': 'x', Snt: null, Avg: Infinity }] } });
    expect(parseMtrJson(text)).toEqual([
      { index: 1, host: '???', lossPct: 0, sent: 0, lastMs: 0, avgMs: 0, bestMs: 0, worstMs: 0, stdevMs: 0 },
      { index: 2, host: '???', lossPct: 0, sent: 0, lastMs: 0, avgMs: 0, bestMs: 0, worstMs: 0, stdevMs: 0 },
    ]);
  });

  it('reads a report with no hubs as no hops', () => {
    expect(parseMtrJson('{"report":{"mtr":{},"hubs":[]}}')).toEqual([]);
  });

  it.each([
    ['empty output', ''],
    ['mtr’s resolve error', RESOLVE_FAILURE],
    ['truncated JSON', mtrFixture('internet-path').slice(0, 200)],
    ['a JSON array', '[]'],
    ['JSON null', 'null'],
    ['an object without a report', '{"hubs":[]}'],
    ['a report without hubs', '{"report":{"mtr":{}}}'],
    ['hubs that are not a list', '{"report":{"hubs":{"count":1}}}'],
  ])('throws on %s', (_, text) => {
    expect(() => parseMtrJson(text)).toThrow();
  });
});

describe('mtrArgs', () => {
  it('builds the full argument list for an ICMP trace', () => {
    expect(mtrArgs('api.example.com', ICMP, DEFAULT_TRACE_SETTINGS)).toEqual([
      '--json',
      '--no-dns',
      '-c',
      '5',
      '-i',
      '1',
      '-G',
      '1',
      '-m',
      '30',
      '--',
      'api.example.com',
    ]);
  });

  it('passes the settings as given', () => {
    const args = mtrArgs('127.0.0.1', ICMP, FAST);
    expect(args.slice(0, 10)).toEqual(['--json', '--no-dns', '-c', '1', '-i', '0.1', '-G', '0.2', '-m', '5']);
  });

  const cases: Array<[string, TraceMode]> = [
    ['api.example.com', ICMP],
    ['api.example.com', TCP_443],
    ['127.0.0.1', ICMP],
    ['::1', ICMP],
    ['2001:db8::1', { kind: 'tcp', port: 8443 }],
    ['localhost', { kind: 'tcp', port: 22 }],
  ];

  it.each(cases)('ends with "--" and %s as one argument (%j), and nowhere before', (host, mode) => {
    const args = mtrArgs(host, mode, DEFAULT_TRACE_SETTINGS);
    expect(args.slice(-2)).toEqual(['--', host]);
    expect(args.indexOf('--')).toBe(args.length - 2);
    expect(args.slice(0, -2)).not.toContain(host);
    expect(args.every((a) => typeof a === 'string')).toBe(true);
  });

  it.each(['::1', '2001:db8::1', 'fe80::1'])('adds -6 for the IPv6 address %s', (host) => {
    const args = mtrArgs(host, ICMP, DEFAULT_TRACE_SETTINGS);
    expect(args).toContain('-6');
    expect(args.indexOf('-6')).toBeLessThan(args.indexOf('--'));
  });

  it.each(['127.0.0.1', 'api.example.com', 'localhost'])('does not add -6 for %s', (host) => {
    expect(mtrArgs(host, ICMP, DEFAULT_TRACE_SETTINGS)).not.toContain('-6');
  });

  it('adds --tcp --port N before "--" in TCP mode', () => {
    const args = mtrArgs('api.example.com', { kind: 'tcp', port: 8443 }, DEFAULT_TRACE_SETTINGS);
    const at = args.indexOf('--tcp');
    expect(at).toBeGreaterThan(-1);
    expect(args.slice(at, at + 3)).toEqual(['--tcp', '--port', '8443']);
    expect(at + 3).toBe(args.indexOf('--'));
  });

  it('has neither --tcp nor --port in ICMP mode', () => {
    const args = mtrArgs('api.example.com', ICMP, DEFAULT_TRACE_SETTINGS);
    expect(args).not.toContain('--tcp');
    expect(args).not.toContain('--port');
  });
});

describe('runMtr with a fake spawn', () => {
  it('starts mtr without a shell and returns the parsed hops', async () => {
    const fake = fakeSpawn(replies(mtrFixture('internet-path')));
    const result = await runMtr('203.0.113.10', ICMP, DEFAULT_TRACE_SETTINGS, fake.spawn);

    expect(result).toEqual({
      ok: true,
      host: '203.0.113.10',
      mode: ICMP,
      hops: parseMtrJson(mtrFixture('internet-path')),
      durationMs: expect.any(Number),
    });
    expect(fake.fn).toHaveBeenCalledTimes(1);
    expect(fake.fn).toHaveBeenCalledWith('mtr', mtrArgs('203.0.113.10', ICMP, DEFAULT_TRACE_SETTINGS), expect.objectContaining({ shell: false }));
    expect(fake.calls[0]!.options).toEqual({ shell: false, stdio: ['ignore', 'pipe', 'pipe'] });
    expect(fake.children[0]!.kill).not.toHaveBeenCalled();
  });

  it('starts the configured binary with the TCP arguments', async () => {
    const fake = fakeSpawn(replies(mtrFixture('ipv6-path')));
    const settings = { ...DEFAULT_TRACE_SETTINGS, binary: '/opt/mtr/bin/mtr' };
    const result = await runMtr('2001:db8:443::10', TCP_443, settings, fake.spawn);
    expect(result).toMatchObject({ ok: true, mode: TCP_443 });
    expect(fake.calls[0]!.command).toBe('/opt/mtr/bin/mtr');
    expect(fake.calls[0]!.args).toEqual(mtrArgs('2001:db8:443::10', TCP_443, settings));
    expect(fake.calls[0]!.args).toEqual(expect.arrayContaining(['-6', '--tcp', '--port', '443']));
  });

  it('fails with the reason from stderr when mtr cannot resolve the host (mtr still exits 0)', async () => {
    const fake = fakeSpawn(replies('', RESOLVE_FAILURE, 0));
    const result = await runMtr('nowhere.invalid', ICMP, DEFAULT_TRACE_SETTINGS, fake.spawn);
    expect(result).toEqual({
      ok: false,
      host: 'nowhere.invalid',
      mode: ICMP,
      error: 'failed',
      message: 'mtr failed: Failed to resolve host: nowhere.invalid: Name or service not known',
    });
  });

  it('fails with the first non-blank stderr line when mtr refuses its options', async () => {
    const fake = fakeSpawn(replies('', '\n  \nmtr: non-root users cannot request an interval < 1.0 seconds\nmore\n', 1));
    const result = await runMtr('127.0.0.1', ICMP, FAST, fake.spawn);
    expect(result).toMatchObject({ ok: false, error: 'failed', message: 'mtr failed: non-root users cannot request an interval < 1.0 seconds' });
  });

  it('fails with the exit code when mtr prints nothing usable', async () => {
    const fake = fakeSpawn(replies('Segmentation fault?', '', 139));
    expect(await runMtr('127.0.0.1', ICMP, FAST, fake.spawn)).toMatchObject({ ok: false, error: 'failed', message: 'mtr failed (exit code 139)' });
  });

  it('keeps a very long stderr line short', async () => {
    const fake = fakeSpawn(replies('', `mtr: ${'x'.repeat(5_000)}\n`, 1));
    const result = await runMtr('127.0.0.1', ICMP, FAST, fake.spawn);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toBe(`mtr failed: ${'x'.repeat(200)}`);
  });

  it('is "missing" with the install hint when the binary does not exist (ENOENT)', async () => {
    const fake = fakeSpawn((child) => child.failToStart('ENOENT'));
    const result = await runMtr('127.0.0.1', ICMP, DEFAULT_TRACE_SETTINGS, fake.spawn);
    expect(result).toEqual({ ok: false, host: '127.0.0.1', mode: ICMP, error: 'missing', message: MTR_MISSING });
    expect(MTR_MISSING).toContain('apt-get install mtr-tiny');
  });

  it('fails with the error code when the binary cannot be started for another reason', async () => {
    const fake = fakeSpawn((child) => child.failToStart('EACCES'));
    expect(await runMtr('127.0.0.1', ICMP, DEFAULT_TRACE_SETTINGS, fake.spawn)).toMatchObject({
      ok: false,
      error: 'failed',
      message: 'mtr could not start (EACCES)',
    });
  });

  it('does not throw when spawn itself throws', async () => {
    const throwing = (() => {
      throw Object.assign(new Error('spawn ENOTDIR'), { code: 'ENOTDIR' });
    }) as unknown as Spawn;
    await expect(runMtr('127.0.0.1', ICMP, DEFAULT_TRACE_SETTINGS, throwing)).resolves.toEqual({
      ok: false,
      host: '127.0.0.1',
      mode: ICMP,
      error: 'failed',
      message: 'mtr could not start (ENOTDIR)',
    });
  });

  it('times out after settings.timeoutMs and kills the child with SIGKILL', async () => {
    const fake = fakeSpawn(() => {});
    const started = performance.now();
    const result = await runMtr('203.0.113.10', ICMP, { ...DEFAULT_TRACE_SETTINGS, timeoutMs: 100 }, fake.spawn);
    const elapsed = performance.now() - started;

    expect(result).toEqual({
      ok: false,
      host: '203.0.113.10',
      mode: ICMP,
      error: 'timeout',
      message: 'the trace took longer than 0s and was stopped',
    });
    expect(elapsed).toBeGreaterThanOrEqual(90);
    expect(elapsed).toBeLessThan(2_000);
    const child = fake.children[0]!;
    expect(child.kill).toHaveBeenCalledTimes(1);
    expect(child.kill).toHaveBeenCalledWith('SIGKILL');
  });

  it('names the timeout in whole seconds', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const fake = fakeSpawn(() => {});
      const running = runMtr('203.0.113.10', ICMP, { ...DEFAULT_TRACE_SETTINGS, timeoutMs: 60_000 }, fake.spawn);
      await vi.advanceTimersByTimeAsync(59_999);
      expect(fake.children[0]!.kill).not.toHaveBeenCalled();
      await vi.advanceTimersByTimeAsync(1);
      expect(await running).toMatchObject({ error: 'timeout', message: 'the trace took longer than 60s and was stopped' });
      expect(fake.children[0]!.kill).toHaveBeenCalledWith('SIGKILL');
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not kill a child that finished in time', async () => {
    const fake = fakeSpawn(replies(mtrFixture('loopback-ipv4')));
    const result = await runMtr('127.0.0.1', ICMP, { ...DEFAULT_TRACE_SETTINGS, timeoutMs: 100 }, fake.spawn);
    expect(result.ok).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(fake.children[0]!.kill).not.toHaveBeenCalled();
  });
});

/** The first executable called `name` on PATH, if any. */
function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const MTR_BINARY = findOnPath('mtr');
const IN_CI = Boolean(process.env.CI);
const SKIP_REAL_MTR = MTR_BINARY === undefined && !IN_CI;
if (SKIP_REAL_MTR) {
  console.warn('\n⚠️  mtr is not installed: SKIPPING the real-mtr tests. Install it with apt-get install mtr-tiny.\n');
}
// mtr refuses intervals under 1 s for non-root users (and exits 1 saying so).
const IS_ROOT = process.getuid?.() === 0;
const REAL: TraceSettings = { ...FAST, intervalS: IS_ROOT ? 0.1 : 1 };
const HAS_IPV6_LOOPBACK = Object.values(networkInterfaces())
  .flat()
  .some((i) => i?.address === '::1');

function requireMtr(): void {
  if (MTR_BINARY === undefined) throw new Error('mtr is not installed on PATH: CI must install mtr-tiny (apt-get install mtr-tiny)');
}

describe('runMtr with the real mtr (loopback only)', () => {
  const servers: Server[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it.skipIf(SKIP_REAL_MTR)('traces 127.0.0.1 in one hop', async () => {
    requireMtr();
    const result = await runMtr('127.0.0.1', ICMP, REAL);
    if (!result.ok) throw new Error(`expected a trace, got ${result.error}: ${result.message}`);
    expect(result.hops).toHaveLength(1);
    expect(result.hops[0]).toMatchObject({ index: 1, host: '127.0.0.1', lossPct: 0, sent: 1 });
    expect(result.durationMs).toBeGreaterThan(0);
  });

  it.skipIf(SKIP_REAL_MTR || !HAS_IPV6_LOOPBACK)('traces ::1 in one hop (with -6)', async () => {
    requireMtr();
    const result = await runMtr('::1', ICMP, REAL);
    if (!result.ok) throw new Error(`expected a trace, got ${result.error}: ${result.message}`);
    expect(result.hops.map((h) => h.host)).toEqual(['::1']);
  });

  it.skipIf(SKIP_REAL_MTR)('traces 127.0.0.1 with TCP SYNs to a local port', async () => {
    requireMtr();
    const server = createServer((socket) => socket.destroy());
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const result = await runMtr('127.0.0.1', { kind: 'tcp', port }, REAL);
    if (!result.ok) throw new Error(`expected a trace, got ${result.error}: ${result.message}`);
    expect(result.mode).toEqual({ kind: 'tcp', port });
    expect(result.hops).toEqual([expect.objectContaining({ host: '127.0.0.1', lossPct: 0 })]);
  });

  it('is "missing" for a binary path that does not exist', async () => {
    const result = await runMtr('127.0.0.1', ICMP, { ...REAL, binary: '/nonexistent/mtr' });
    expect(result).toEqual({ ok: false, host: '127.0.0.1', mode: ICMP, error: 'missing', message: MTR_MISSING });
  });

  it('fails instead of throwing for a binary path under a regular file (ENOTDIR)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lookout-mtr-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'file'), '');
    const result = await runMtr('127.0.0.1', ICMP, { ...REAL, binary: join(dir, 'file', 'mtr') });
    expect(result).toEqual({ ok: false, host: '127.0.0.1', mode: ICMP, error: 'failed', message: 'mtr could not start (ENOTDIR)' });
  });
});
