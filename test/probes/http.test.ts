import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/domain/check.js';
import type { HttpTarget } from '../../src/kinds/http/index.js';
import type { OriginPools } from '../../src/kinds/http/origin-pools.js';
import { createHttpAgent, createHttpProbe, type HttpProbeOptions } from '../../src/kinds/http/probe.js';
import { loopbackLookup } from '../support/fake-lookup.js';
import { probeContext, runProbe, TEST_NOW } from '../support/probe-context.js';
import { closedPort, httpTarget, startTargetServer, type TargetServer } from '../support/target-server.js';
import { createTestCertificates, hasOpenssl, type TestCertificates } from '../support/test-certificates.js';

// Names resolve without DNS traffic: localhost is loopback, anything else is unknown.
const agent = createHttpAgent(loopbackLookup);
const servers: TargetServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await agent.close();
});

async function serve(): Promise<TargetServer> {
  const server = await startTargetServer();
  servers.push(server);
  return server;
}

/** Runs one check the way the engine does: a signal that fires at the target's timeout. */
const check = (target: HttpTarget, options: HttpProbeOptions = {}): Promise<CheckResult> =>
  runProbe(createHttpProbe({ dispatcher: agent, ...options }), target);

/** Resolves once `agent` holds a free connection to `origin` (a few event loop turns at most). */
async function untilIdle(agent: OriginPools, origin: string): Promise<void> {
  for (let turn = 0; turn < 100; turn++) {
    const stats = agent.stats[origin];
    if (stats && 'free' in stats && stats.free > 0) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  throw new Error(`no idle connection to ${origin}`);
}

describe('createHttpProbe', () => {
  it('is ok for a 200 answer, with the status, a latency and the injected start time', async () => {
    const server = await serve();
    const result = await check(httpTarget({ url: server.url }));
    expect(result).toEqual({ ok: true, at: TEST_NOW, latencyMs: expect.any(Number), status: 200 });
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(server.requests.count).toBe(1);
    expect(server.requests.last?.method).toBe('GET');
  });

  it('fails with "status" for a 503 outside the expected set', async () => {
    const server = await serve();
    server.setStatus(503);
    const result = await check(httpTarget({ url: server.url }));
    expect(result).toMatchObject({ ok: false, at: TEST_NOW, status: 503, failure: 'status', reason: 'HTTP 503, expected 200-299' });
  });

  it('names the whole expected set in the reason', async () => {
    const server = await serve();
    server.setStatus(500);
    const target = httpTarget({ url: server.url, expect: [{ from: 200, to: 200 }, { from: 204, to: 204 }, { from: 301, to: 302 }] });
    const result = await check(target);
    expect(result).toMatchObject({ ok: false, failure: 'status', reason: 'HTTP 500, expected 200,204,301-302' });
  });

  it('is ok for a 301 when 301-302 is expected, and does not follow the redirect', async () => {
    const server = await serve();
    server.setStatus(301);
    server.setHeaders({ location: '/moved' });
    const result = await check(httpTarget({ url: server.url, expect: [{ from: 301, to: 302 }] }));
    expect(result).toMatchObject({ ok: true, status: 301 });
    expect(server.requests.all.map((r) => r.path)).toEqual(['/']);
  });

  it('fails with "status" for a redirect under the default expected set', async () => {
    const server = await serve();
    server.setStatus(302);
    server.setHeaders({ location: '/moved' });
    const result = await check(httpTarget({ url: server.url }));
    expect(result).toMatchObject({ ok: false, status: 302, failure: 'status', reason: 'HTTP 302, expected 200-299' });
    expect(server.requests.count).toBe(1);
  });

  it('is ok when the keyword is in the body', async () => {
    const server = await serve();
    server.setBody('{"status":"healthy","db":"up"}');
    const result = await check(httpTarget({ url: server.url, keyword: '"healthy"' }));
    expect(result).toMatchObject({ ok: true, status: 200 });
  });

  it('fails with "keyword" when the keyword is missing', async () => {
    const server = await serve();
    server.setBody('{"status":"degraded"}');
    const result = await check(httpTarget({ url: server.url, keyword: 'healthy' }));
    expect(result).toMatchObject({ ok: false, status: 200, failure: 'keyword', reason: 'keyword "healthy" not found in the response' });
  });

  it('looks for the keyword only in the first maxBodyBytes of the body', async () => {
    const server = await serve();
    server.setBody(`${'x'.repeat(100_000)}needle`);
    const limited = await check(httpTarget({ url: server.url, keyword: 'needle' }), { maxBodyBytes: 1_024 });
    expect(limited).toMatchObject({ ok: false, failure: 'keyword' });
    const whole = await check(httpTarget({ url: server.url, keyword: 'needle' }));
    expect(whole).toMatchObject({ ok: true });
  });

  it.each(['POST', 'HEAD', 'DELETE'] as const)('sends the target method %s', async (method) => {
    const server = await serve();
    const result = await check(httpTarget({ url: server.url, method }));
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(server.requests.last?.method).toBe(method);
  });

  it('sends the target headers and its user agent', async () => {
    const server = await serve();
    const headers = [
      { name: 'Authorization', value: 'Bearer s3cret' },
      { name: 'X-Api-Key', value: 'k-123' },
    ];
    await check(httpTarget({ url: server.url, headers }), { userAgent: 'LookoutTest/1' });
    const seen = server.requests.last?.headers;
    expect(seen?.authorization).toBe('Bearer s3cret');
    expect(seen?.['x-api-key']).toBe('k-123');
    expect(seen?.['user-agent']).toBe('LookoutTest/1');
  });

  it('lets a target header replace the default user agent', async () => {
    const server = await serve();
    await check(httpTarget({ url: server.url, headers: [{ name: 'User-Agent', value: 'custom/2' }] }));
    expect(server.requests.last?.headers['user-agent']).toBe('custom/2');
  });

  it('fails with "timeout" shortly after the timeout when the answer is slower', async () => {
    const server = await serve();
    server.setDelay(3_000);
    const started = performance.now();
    const result = await check(httpTarget({ url: server.url, timeoutMs: 1_000 }));
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ ok: false, at: TEST_NOW, failure: 'timeout', reason: 'timeout after 1s' });
    expect(result.status).toBeUndefined();
    expect(result.latencyMs).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('fails with "timeout" when the body is slower than the timeout', async () => {
    const server = await serve();
    server.setBodyDelay(3_000);
    const started = performance.now();
    const result = await check(httpTarget({ url: server.url, timeoutMs: 300 }));
    expect(result).toMatchObject({ ok: false, failure: 'timeout', reason: 'timeout after 300ms' });
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('fails with "timeout" when the body is slower than the timeout while looking for a keyword', async () => {
    const server = await serve();
    server.setBodyDelay(3_000);
    const started = performance.now();
    const result = await check(httpTarget({ url: server.url, timeoutMs: 300, keyword: 'ok' }));
    expect(result).toMatchObject({ ok: false, failure: 'timeout', reason: 'timeout after 300ms' });
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('fails with "refused" on a port nobody listens on', async () => {
    const port = await closedPort();
    const result = await check(httpTarget({ url: `http://127.0.0.1:${port}/` }));
    expect(result).toMatchObject({ ok: false, at: TEST_NOW, failure: 'refused', reason: 'connection refused' });
  });

  it('fails with "dns" for a host name that does not resolve', async () => {
    // The test resolver answers ENOTFOUND as a real one would for .invalid (RFC 6761), without a query.
    const result = await check(httpTarget({ url: 'http://lookout-test.invalid/' }));
    expect(result).toMatchObject({ ok: false, failure: 'dns' });
    expect(result.reason).toMatch(/^DNS lookup failed/);
  });

  it('fails with "reset" when the server drops the connection without answering', async () => {
    const server = await serve();
    server.setDestroySocket(true);
    const result = await check(httpTarget({ url: server.url }));
    expect(result).toMatchObject({ ok: false, failure: 'reset' });
    expect(server.requests.count).toBe(1);
  });

  it('fails with "tls" for an https URL on a plain http port', async () => {
    const server = await serve();
    const result = await check(httpTarget({ url: `https://127.0.0.1:${server.port}/` }));
    expect(result).toMatchObject({ ok: false, failure: 'tls', reason: 'TLS handshake failed' });
  });

  it('uses a fresh connection for every check by default', async () => {
    const server = await serve();
    for (let i = 0; i < 3; i++) expect(await check(httpTarget({ url: server.url }))).toMatchObject({ ok: true });
    expect(server.requests.count).toBe(3);
    expect(server.connections).toBe(3);
  });

  it('reuses the connection between checks when keepAlive is on', async () => {
    const server = await serve();
    const keepAliveAgent = createHttpAgent(loopbackLookup);
    try {
      const origin = new URL(server.url).origin;
      for (let i = 0; i < 3; i++) {
        expect(await check(httpTarget({ url: server.url }), { dispatcher: keepAliveAgent, keepAlive: true })).toMatchObject({ ok: true });
        // Checks of one target are seconds apart; wait until the socket is back in the pool as it would be by then.
        await untilIdle(keepAliveAgent, origin);
      }
    } finally {
      await keepAliveAgent.destroy();
    }
    expect(server.requests.count).toBe(3);
    expect(server.connections).toBe(1);
  });

  it('never throws for a URL undici refuses', async () => {
    const result = await check(httpTarget({ url: 'ftp://127.0.0.1/' }));
    expect(result).toMatchObject({ ok: false, at: TEST_NOW });
    expect(result.failure).toBeDefined();
  });
});

describe.skipIf(!hasOpenssl())('createHttpProbe over TLS', () => {
  let certs: TestCertificates;
  const tlsServers: HttpsServer[] = [];

  beforeAll(() => {
    certs = createTestCertificates();
  });

  afterAll(() => {
    certs?.dispose();
  });

  afterEach(async () => {
    await Promise.all(
      tlsServers.splice(0).map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
  });

  async function serveTls(pair: { key: string; cert: string }): Promise<string> {
    const server = createHttpsServer(pair, (_req, res) => res.end('ok'));
    tlsServers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  it('fails with "tls" for a self-signed certificate', async () => {
    const url = await serveTls(certs.ca);
    const result = await check(httpTarget({ url }));
    expect(result).toMatchObject({ ok: false, failure: 'tls', reason: 'TLS certificate is self-signed' });
  });

  it('fails with "tls" for a certificate from an unknown issuer', async () => {
    const url = await serveTls(certs.server);
    const result = await check(httpTarget({ url }));
    expect(result).toMatchObject({ ok: false, failure: 'tls', reason: 'TLS certificate cannot be verified' });
  });

  it('is ok when the issuer is trusted and the certificate matches the host', async () => {
    const url = await serveTls(certs.server);
    const trusting = new Agent({ connect: { ca: certs.ca.cert } });
    try {
      expect(await check(httpTarget({ url }), { dispatcher: trusting })).toMatchObject({ ok: true, status: 200 });
    } finally {
      await trusting.destroy();
    }
  });

  it('fails with "tls" when the certificate is for another host name', async () => {
    const url = await serveTls(certs.server);
    // The server name the client verifies is not in the certificate (which names only IP 127.0.0.1).
    const trusting = new Agent({ connect: { ca: certs.ca.cert, servername: 'other.lookout.test' } });
    try {
      const result = await check(httpTarget({ url }), { dispatcher: trusting });
      expect(result).toMatchObject({ ok: false, failure: 'tls', reason: 'TLS certificate does not match the host name' });
    } finally {
      await trusting.destroy();
    }
  });
});
