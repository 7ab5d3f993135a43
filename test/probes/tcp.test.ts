import { afterEach, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/domain/check.js';
import type { TcpTarget } from '../../src/kinds/tcp/index.js';
import { createTcpProbe } from '../../src/kinds/tcp/probe.js';
import { loopbackLookup } from '../support/fake-lookup.js';
import { abortedProbeContext, probeContext, TEST_NOW } from '../support/probe-context.js';
import { closedPort, startTargetServer, tcpTarget, type TargetServer, type TargetServerOptions } from '../support/target-server.js';

// Names resolve without DNS traffic: localhost is loopback, anything else is unknown.
const probe = createTcpProbe({ lookup: loopbackLookup });
const servers: TargetServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(options: TargetServerOptions = {}): Promise<TargetServer> {
  const server = await startTargetServer(options);
  servers.push(server);
  return server;
}

/** Runs one check the way the engine does: a signal that fires at the target's timeout. */
async function check(target: TcpTarget): Promise<CheckResult> {
  const ctx = probeContext(target.timeoutMs);
  try {
    return await probe.run(target, ctx);
  } finally {
    ctx.dispose();
  }
}

describe('createTcpProbe', () => {
  it('has the kind "tcp"', () => {
    expect(probe.kind).toBe('tcp');
  });

  it('is ok when the port accepts a connection, and closes it at once', async () => {
    const server = await serve();
    const result = await check(tcpTarget({ port: server.port }));
    expect(result).toEqual({ ok: true, at: TEST_NOW, latencyMs: expect.any(Number) });
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(server.connections).toBe(1);
    // Nothing was sent: the probe only opens the connection.
    expect(server.requests.count).toBe(0);
  });

  it('fails with "refused" on a port nobody listens on', async () => {
    const port = await closedPort();
    const result = await check(tcpTarget({ port }));
    expect(result).toMatchObject({ ok: false, at: TEST_NOW, failure: 'refused', reason: 'connection refused' });
    expect(result.latencyMs).toBeGreaterThan(0);
  });

  it('fails with "timeout" without connecting when the signal has already fired', async () => {
    const server = await serve();
    const result = await probe.run(tcpTarget({ port: server.port, timeoutMs: 10_000 }), abortedProbeContext());
    expect(result).toEqual({ ok: false, at: TEST_NOW, latencyMs: 0, failure: 'timeout', reason: 'timeout after 10s' });
    expect(server.connections).toBe(0);
  });

  it('fails with "timeout" when the signal fires while connecting', async () => {
    const server = await serve();
    const controller = new AbortController();
    const running = probe.run(tcpTarget({ port: server.port, timeoutMs: 3_000 }), { signal: controller.signal, now: () => TEST_NOW });
    // A connection cannot complete before the event loop turns, so this abort always comes first.
    controller.abort();
    const result = await running;
    expect(result).toMatchObject({ ok: false, at: TEST_NOW, failure: 'timeout', reason: 'timeout after 3s' });
  });

  it('fails with "dns" for a host name that does not resolve', async () => {
    // The test resolver answers ENOTFOUND as a real one would for .invalid (RFC 6761), without a query.
    const result = await check(tcpTarget({ host: 'lookout-test.invalid', port: 5432 }));
    expect(result).toMatchObject({ ok: false, at: TEST_NOW, failure: 'dns' });
    expect(result.reason).toMatch(/^DNS lookup failed/);
  });

  it('is ok on IPv6 ::1', async (ctx) => {
    const server = await serve({ host: '::1' }).catch(() => undefined);
    if (!server) return ctx.skip('::1 cannot be bound here');
    const result = await check(tcpTarget({ host: '::1', port: server.port }));
    expect(result).toMatchObject({ ok: true, at: TEST_NOW });
    expect(server.connections).toBe(1);
  });

  it('fails with "refused" on a closed IPv6 ::1 port', async (ctx) => {
    const port = await closedPort('::1').catch(() => undefined);
    if (port === undefined) return ctx.skip('::1 cannot be bound here');
    const result = await check(tcpTarget({ host: '::1', port }));
    expect(result).toMatchObject({ ok: false, failure: 'refused', reason: 'connection refused' });
  });
});

describe('name resolution in tests', () => {
  it('goes through the injected resolver: localhost connects, other names fail as unknown', async () => {
    const server = await serve();
    expect(await check(tcpTarget({ host: 'localhost', port: server.port }))).toMatchObject({ ok: true });
    expect(await check(tcpTarget({ host: 'api.example.com', port: 443 }))).toMatchObject({ ok: false, failure: 'dns', reason: 'DNS lookup failed' });
  });
});
