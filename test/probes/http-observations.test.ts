import type { IncomingMessage } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/domain/check.js';
import type { HttpTarget } from '../../src/kinds/http/index.js';
import type { OriginPools } from '../../src/kinds/http/origin-pools.js';
import { createHttpAgent, createHttpProbe, type HttpProbeOptions } from '../../src/kinds/http/probe.js';
import { loopbackLookup } from '../support/fake-lookup.js';
import { probeContext, runProbe } from '../support/probe-context.js';
import { closedPort, httpTarget, startTargetServer, type TargetServer } from '../support/target-server.js';
import { createTestCertificates, hasOpenssl, issueServerCertificate, type TestCertificates } from '../support/test-certificates.js';

const DAY_MS = 86_400_000;

/** A JWT-shaped bearer token expiring at `exp` (seconds); the probe never checks the signature. */
function bearer(exp: number): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `Bearer ${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: 'lookout', exp })}.c2lnbmF0dXJl`;
}

/** Runs one check the way the engine does, on `dispatcher`. */
const check = (target: HttpTarget, options: HttpProbeOptions): Promise<CheckResult> => runProbe(createHttpProbe(options), target);

describe('http probe observations over plain http', () => {
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

  it('has no observations property when there is nothing to observe', async () => {
    const server = await serve();
    const result = await check(httpTarget({ url: server.url, headers: [{ name: 'X-Api-Key', value: 'k-1' }] }), { dispatcher: agent });
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(result).not.toHaveProperty('observations');
  });

  it('reports tokenExpiresAt from a JWT in the Authorization header, and never the token', async () => {
    const server = await serve();
    const authorization = bearer(1_900_000_000);
    const result = await check(httpTarget({ url: server.url, headers: [{ name: 'Authorization', value: authorization }] }), { dispatcher: agent });
    expect(result).toMatchObject({ ok: true, observations: { tokenExpiresAt: 1_900_000_000_000 } });
    expect(result.observations).toEqual({ tokenExpiresAt: 1_900_000_000_000 });
    expect(JSON.stringify(result)).not.toContain(authorization.slice('Bearer '.length));
  });

  it('reports no observations for an opaque bearer token', async () => {
    const server = await serve();
    const result = await check(httpTarget({ url: server.url, headers: [{ name: 'authorization', value: 'Bearer s3cret' }] }), { dispatcher: agent });
    expect(result).not.toHaveProperty('observations');
  });

  it('reports the rate limit from X-RateLimit-* response headers', async () => {
    const server = await serve();
    server.setHeaders({ 'X-RateLimit-Remaining': '5', 'X-RateLimit-Limit': '100' });
    const result = await check(httpTarget({ url: server.url }), { dispatcher: agent });
    expect(result).toMatchObject({ ok: true, observations: { rateLimit: { remaining: 5, limit: 100 } } });
    expect(result.observations).toEqual({ rateLimit: { remaining: 5, limit: 100 } });
  });

  it('reports the rate limit on a failed check too (a 429 is when it matters)', async () => {
    const server = await serve();
    server.setStatus(429);
    server.setHeaders({ RateLimit: 'limit=60, remaining=0, reset=30' });
    const result = await check(httpTarget({ url: server.url }), { dispatcher: agent });
    expect(result).toMatchObject({ ok: false, failure: 'status', status: 429, observations: { rateLimit: { remaining: 0, limit: 60 } } });
  });

  it('reports tokenExpiresAt when the target does not answer', async () => {
    const port = await closedPort();
    const target = httpTarget({ url: `http://127.0.0.1:${port}/`, headers: [{ name: 'Authorization', value: bearer(1_900_000_000) }] });
    const result = await check(target, { dispatcher: agent });
    expect(result).toMatchObject({ ok: false, failure: 'refused', observations: { tokenExpiresAt: 1_900_000_000_000 } });
  });
});

describe.skipIf(!hasOpenssl())('http probe observations over TLS', () => {
  let certs: TestCertificates;
  let agent: OriginPools;
  const tlsServers: HttpsServer[] = [];

  beforeAll(() => {
    certs = createTestCertificates();
    agent = createHttpAgent(loopbackLookup, { ca: certs.ca.cert });
  });

  afterAll(async () => {
    await agent?.close();
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

  /** Serves `pair` on 127.0.0.1, answering 200 with `headers`; `resumed` records whether each TLS session was resumed. */
  async function serveTls(pair: { key: string; cert: string }, headers: Record<string, string> = {}): Promise<{ url: string; resumed: boolean[] }> {
    const resumed: boolean[] = [];
    const server = createHttpsServer(pair, (req: IncomingMessage, res) => {
      resumed.push((req.socket as TLSSocket).isSessionReused());
      res.writeHead(200, headers).end('ok');
    });
    tlsServers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/`, resumed };
  }

  it('reports certExpiresAt of a certificate that expires in 2 days', async () => {
    const { url } = await serveTls(issueServerCertificate(certs.ca, { days: 2 }));
    const result = await check(httpTarget({ url }), { dispatcher: agent });
    expect(result).toMatchObject({ ok: true, status: 200 });
    expect(Object.keys(result.observations ?? {})).toEqual(['certExpiresAt']);
    const expiresIn = (result.observations?.certExpiresAt ?? 0) - Date.now();
    expect(expiresIn).toBeGreaterThan(DAY_MS);
    expect(expiresIn).toBeLessThan(3 * DAY_MS);
  });

  it('reports certExpiresAt on every check, also when the TLS session is resumed', async () => {
    const { url, resumed } = await serveTls(certs.server);
    const first = await check(httpTarget({ url }), { dispatcher: agent });
    const second = await check(httpTarget({ url }), { dispatcher: agent });
    // Each check opens a fresh connection; the second one resumes the session undici cached from the first.
    expect(resumed).toEqual([false, true]);
    expect(first.observations?.certExpiresAt).toEqual(expect.any(Number));
    expect(second.observations?.certExpiresAt).toBe(first.observations?.certExpiresAt);
  });

  it('fails with "tls" and "TLS certificate expired" for a certificate that expired in 2020', async () => {
    const expired = issueServerCertificate(certs.ca, { notBefore: new Date('2020-01-01T00:00:00Z'), notAfter: new Date('2020-01-02T00:00:00Z') });
    const { url } = await serveTls(expired);
    const result = await check(httpTarget({ url }), { dispatcher: agent });
    expect(result).toMatchObject({ ok: false, failure: 'tls', reason: 'TLS certificate expired' });
    expect(result).not.toHaveProperty('observations');
  });

  it('reports certificate, token and rate limit together', async () => {
    const { url } = await serveTls(certs.server, { 'x-ratelimit-remaining': '5', 'x-ratelimit-limit': '100' });
    const target = httpTarget({ url, headers: [{ name: 'Authorization', value: bearer(1_900_000_000) }] });
    const result = await check(target, { dispatcher: agent });
    expect(result).toMatchObject({ ok: true });
    expect(result.observations).toEqual({
      certExpiresAt: expect.any(Number),
      tokenExpiresAt: 1_900_000_000_000,
      rateLimit: { remaining: 5, limit: 100 },
    });
  });

  it('reports no certExpiresAt through an agent not made by createHttpAgent', async () => {
    const { url } = await serveTls(certs.server);
    const foreign = new Agent({ connect: { ca: certs.ca.cert } });
    try {
      const result = await check(httpTarget({ url }), { dispatcher: foreign });
      expect(result).toMatchObject({ ok: true });
      expect(result).not.toHaveProperty('observations');
    } finally {
      await foreign.destroy();
    }
  });
});
