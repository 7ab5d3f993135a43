import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CheckResult } from '../../src/domain/check.js';
import type { Ec2Target } from '../../src/kinds/ec2/index.js';
import type { HttpTarget } from '../../src/kinds/http/index.js';
import { guardedLookup, literalRefusal, RefusedAddressError } from '../../src/probes/address-guard.js';
import { createEc2Client, createEc2Probe, type Ec2ClientSettings, type Ec2Probe, type Ec2ProbeOptions } from '../../src/kinds/ec2/probe.js';
import { createHttpAgent, createHttpProbe, type HttpProbeOptions } from '../../src/kinds/http/probe.js';
import { describeNetworkError } from '../../src/probes/network-error.js';
import { createTcpProbe } from '../../src/kinds/tcp/probe.js';
import { scriptedLookup } from '../support/fake-lookup.js';
import { loopbackOnly, type LoopbackOnly } from '../support/loopback-only.js';
import { runProbe, TEST_NOW } from '../support/probe-context.js';
import { httpTarget, startTargetServer, tcpTarget, type TargetServer } from '../support/target-server.js';

// Names the tests resolve, without DNS: evil.test is the metadata service, mixed.test has a good and a bad address.
const ANSWERS = {
  'evil.test': ['169.254.169.254'],
  'ecs.test': ['169.254.170.2'],
  'mapped.test': ['::ffff:169.254.169.254'],
  'nat64.test': ['64:ff9b::a9fe:a9fe'],
  'link.test': ['fe80::1'],
  'mixed.test': ['127.0.0.1', '169.254.169.254'],
  'good.test': ['127.0.0.1'],
  'private.test': ['127.0.0.1', '10.0.0.1'],
};

const REFUSED_EVIL = 'refused: evil.test resolves to 169.254.169.254, a cloud metadata address';

/** Runs a guarded lookup to its answer. */
function resolve(lookup: LookupFunction, name: string, all: boolean): Promise<{ err: NodeJS.ErrnoException | null; answer: string | LookupAddress[] }> {
  return new Promise((done) => lookup(name, { all }, (err, answer) => done({ err, answer })));
}

describe('guardedLookup', () => {
  it.each([true, false])('answers a name of ordinary addresses as asked (all=%s)', async (all) => {
    const { lookup } = scriptedLookup(ANSWERS);
    const { err, answer } = await resolve(guardedLookup({ lookup }), 'private.test', all);
    expect(err).toBeNull();
    expect(answer).toEqual(
      all
        ? [
            { address: '127.0.0.1', family: 4 },
            { address: '10.0.0.1', family: 4 },
          ]
        : '127.0.0.1',
    );
  });

  it.each([
    ['evil.test', REFUSED_EVIL],
    ['ecs.test', 'refused: ecs.test resolves to 169.254.170.2, a cloud metadata address'],
    ['mapped.test', 'refused: mapped.test resolves to ::ffff:169.254.169.254 (169.254.169.254), a cloud metadata address'],
    ['nat64.test', 'refused: nat64.test resolves to 64:ff9b::a9fe:a9fe (169.254.169.254), a cloud metadata address'],
    ['link.test', 'refused: link.test resolves to fe80::1, a link-local address'],
    // One bad address refuses the name, even after a good one.
    ['mixed.test', 'refused: mixed.test resolves to 169.254.169.254, a cloud metadata address'],
  ])('refuses %j with the reason in words, whether one or all addresses are asked for', async (name, reason) => {
    const { lookup } = scriptedLookup(ANSWERS);
    for (const all of [true, false]) {
      const { err } = await resolve(guardedLookup({ lookup }), name, all);
      expect(err).toBeInstanceOf(RefusedAddressError);
      expect(err?.message).toBe(reason);
    }
  });

  it('passes a failed lookup on unchanged', async () => {
    const { lookup } = scriptedLookup(ANSWERS);
    const { err } = await resolve(guardedLookup({ lookup }), 'nowhere.test', true);
    expect(err?.code).toBe('ENOTFOUND');
  });

  it('is the plain lookup when the deployment allows metadata targets', () => {
    const { lookup } = scriptedLookup(ANSWERS);
    expect(guardedLookup({ lookup, allowMetadata: true })).toBe(lookup);
  });
});

describe('literalRefusal', () => {
  it.each([
    ['169.254.170.2', 'refused: 169.254.170.2 is a cloud metadata address'],
    ['[fe80::1]', 'refused: fe80::1 is a link-local address'],
    ['64:ff9b::a9fe:a9fe', 'refused: 64:ff9b::a9fe:a9fe (169.254.169.254) is a cloud metadata address'],
  ])('refuses the literal %j', (host, reason) => {
    expect(literalRefusal(host, {})?.message).toBe(reason);
    expect(literalRefusal(host, { allowMetadata: true })).toBeUndefined();
  });

  it.each(['127.0.0.1', '10.0.0.1', '::1', 'evil.test', 'metadata.google.internal'])('leaves %j to the lookup or lets it through', (host) => {
    expect(literalRefusal(host, {})).toBeUndefined();
  });
});

describe('describeNetworkError', () => {
  it('words a refused address as its own reason, also inside a cause, with no trace (failure "error")', () => {
    const refused = new RefusedAddressError(REFUSED_EVIL);
    expect(describeNetworkError(refused, 10_000, false)).toEqual({ failure: 'error', reason: REFUSED_EVIL });
    expect(describeNetworkError(new Error('fetch failed', { cause: refused }), 10_000, false)).toEqual({ failure: 'error', reason: REFUSED_EVIL });
    expect(describeNetworkError(new AggregateError([new Error('x'), refused]), 10_000, false)).toEqual({ failure: 'error', reason: REFUSED_EVIL });
  });
});

// Every probe test below runs with a net that keeps sockets on loopback: an address the guard let
// through would be stopped there and recorded, never reached.
let net: LoopbackOnly;
const servers: TargetServer[] = [];

beforeEach(() => {
  net = loopbackOnly();
});

afterEach(async () => {
  net.restore();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(): Promise<TargetServer> {
  const server = await startTargetServer();
  servers.push(server);
  return server;
}

/** The down result of a refused address: failure "error" (no trace), the reason in words, nothing sent. */
const refusedResult = (reason: string): Partial<CheckResult> => ({ ok: false, at: TEST_NOW, failure: 'error', reason });

describe('the http probe', () => {
  const scripted = scriptedLookup(ANSWERS);
  const agent = createHttpAgent(scripted.lookup);
  afterAll(() => agent.close());
  const check = (target: HttpTarget, options: HttpProbeOptions = { dispatcher: agent }): Promise<CheckResult> =>
    runProbe(createHttpProbe(options), target);

  it.each(['http', 'https'])('is DOWN without connecting when the name resolves to the metadata address (%s)', async (scheme) => {
    const result = await check(httpTarget({ url: `${scheme}://evil.test/latest/meta-data/` }));
    expect(result).toMatchObject(refusedResult(REFUSED_EVIL));
    expect(net.blocked).toEqual([]);
  });

  it('is DOWN without connecting when one of the addresses is refused, though another listens', async () => {
    const server = await serve();
    const result = await check(httpTarget({ url: `http://mixed.test:${server.port}/` }));
    expect(result).toMatchObject(refusedResult('refused: mixed.test resolves to 169.254.169.254, a cloud metadata address'));
    expect(server.connections).toBe(0);
    expect(net.blocked).toEqual([]);
  });

  it('connects to a name whose addresses are all fine', async () => {
    const server = await serve();
    expect(await check(httpTarget({ url: `http://good.test:${server.port}/` }))).toMatchObject({ ok: true, status: 200 });
    expect(server.requests.count).toBe(1);
  });

  it.each([
    ['http://169.254.170.2/v2/credentials', 'refused: 169.254.170.2 is a cloud metadata address'],
    ['http://[64:ff9b::a9fe:a9fe]/', 'refused: 64:ff9b::a9fe:a9fe (169.254.169.254) is a cloud metadata address'],
    ['https://[fe80::1]/', 'refused: fe80::1 is a link-local address'],
  ])('is DOWN without connecting for a stored target on the literal %s', async (url, reason) => {
    expect(await check(httpTarget({ url }))).toMatchObject(refusedResult(reason));
    expect(net.blocked).toEqual([]);
  });

  it.each(['http://169.254.169.254/latest/meta-data/', 'http://evil.test/latest/meta-data/'])(
    'does not follow a redirect to %s',
    async (location) => {
      const server = await serve();
      server.setStatus(302);
      server.setHeaders({ location });
      const asked = scripted.asked.length;
      const result = await check(httpTarget({ url: server.url, expect: [{ from: 302, to: 302 }] }));
      expect(result).toMatchObject({ ok: true, status: 302 });
      expect(server.requests.count).toBe(1);
      expect(scripted.asked.slice(asked)).toEqual([]);
      expect(net.blocked).toEqual([]);
    },
  );

  it('guards the agent it makes itself when no dispatcher is given', async () => {
    const own = createHttpProbe({ lookup: scripted.lookup });
    expect(await runProbe(own, httpTarget({ url: 'http://evil.test/' }))).toMatchObject(refusedResult(REFUSED_EVIL));
    expect(net.blocked).toEqual([]);
  });

  it('connects anywhere when the deployment allows metadata targets (the test net stops it)', async () => {
    const open = createHttpAgent(scripted.lookup, { allowMetadata: true });
    try {
      const result = await check(httpTarget({ url: 'http://evil.test/' }), { dispatcher: open });
      expect(result).toMatchObject({ ok: false, failure: 'unreachable' });
      expect(net.blocked).toEqual(['169.254.169.254']);
    } finally {
      await open.close();
    }
  });
});

describe('the tcp probe', () => {
  const { lookup } = scriptedLookup(ANSWERS);
  const probe = createTcpProbe({ lookup });

  it('is DOWN without connecting when the name resolves to the metadata address', async () => {
    expect(await runProbe(probe, tcpTarget({ host: 'evil.test', port: 80 }))).toMatchObject(refusedResult(REFUSED_EVIL));
    expect(net.blocked).toEqual([]);
  });

  it('is DOWN without connecting when one of the addresses is refused, though another listens', async () => {
    const server = await serve();
    const result = await runProbe(probe, tcpTarget({ host: 'mixed.test', port: server.port }));
    expect(result).toMatchObject(refusedResult('refused: mixed.test resolves to 169.254.169.254, a cloud metadata address'));
    expect(server.connections).toBe(0);
    expect(net.blocked).toEqual([]);
  });

  it('connects to a name whose addresses are all fine', async () => {
    const server = await serve();
    expect(await runProbe(probe, tcpTarget({ host: 'good.test', port: server.port }))).toMatchObject({ ok: true });
    expect(server.connections).toBe(1);
  });

  it.each([
    ['169.254.169.254', 'refused: 169.254.169.254 is a cloud metadata address'],
    ['100.100.100.200', 'refused: 100.100.100.200 is a cloud metadata address'],
    ['::169.254.169.254', 'refused: ::169.254.169.254 (169.254.169.254) is a cloud metadata address'],
    ['fe80::1', 'refused: fe80::1 is a link-local address'],
  ])('is DOWN without connecting for a stored target on the literal %s', async (host, reason) => {
    expect(await runProbe(probe, tcpTarget({ host, port: 80 }))).toMatchObject(refusedResult(reason));
    expect(net.blocked).toEqual([]);
  });

  it('connects anywhere when the deployment allows metadata targets (the test net stops it)', async () => {
    const open = createTcpProbe({ lookup, allowMetadata: true });
    expect(await runProbe(open, tcpTarget({ host: 'evil.test', port: 80 }))).toMatchObject({ ok: false, failure: 'unreachable' });
    expect(net.blocked).toEqual(['169.254.169.254']);
  });
});

describe('the ec2 probe', () => {
  const probes: Ec2Probe[] = [];
  const newProbe = (options: Ec2ProbeOptions): Ec2Probe => {
    const probe = createEc2Probe(options);
    probes.push(probe);
    return probe;
  };

  beforeAll(() => {
    // Targets carry keys: the default credential chain (which may ask the metadata service) never runs.
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
  });
  afterAll(() => {
    vi.unstubAllEnvs();
  });
  afterEach(() => {
    for (const probe of probes.splice(0)) probe.close();
  });

  const ec2Target = (endpoint: string): Ec2Target => ({
    id: '1/cloud', chatId: 1, name: 'cloud', kind: 'ec2', endpoint, region: 'us-east-1',
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    everyMs: 60_000, timeoutMs: 5_000, retryMs: 5_000, confirm: 1, recover: 1, paused: false, createdAt: 0, updatedAt: 0,
  });

  async function fakeApi(status: number, body: string): Promise<TargetServer> {
    const server = await serve();
    server.setStatus(status);
    server.setHeaders({ 'content-type': 'text/xml;charset=UTF-8' });
    server.setBody(body);
    return server;
  }

  const ZONES =
    '<DescribeAvailabilityZonesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>x</requestId><availabilityZoneInfo>' +
    '<item><zoneName>lab-1a</zoneName><zoneState>available</zoneState><regionName>lab-1</regionName></item></availabilityZoneInfo></DescribeAvailabilityZonesResponse>';

  it.each(['http', 'https'])('is DOWN without connecting when the endpoint resolves to the metadata address (%s)', async (scheme) => {
    const { lookup } = scriptedLookup(ANSWERS);
    const result = await runProbe(newProbe({ lookup }), ec2Target(`${scheme}://evil.test/`));
    expect(result).toMatchObject(refusedResult(REFUSED_EVIL));
    expect(net.blocked).toEqual([]);
  });

  it('is DOWN without connecting when one of the addresses is refused, though the API listens', async () => {
    const server = await fakeApi(200, ZONES);
    const { lookup } = scriptedLookup(ANSWERS);
    const result = await runProbe(newProbe({ lookup }), ec2Target(`http://mixed.test:${server.port}/`));
    expect(result).toMatchObject(refusedResult('refused: mixed.test resolves to 169.254.169.254, a cloud metadata address'));
    expect(server.requests.count).toBe(0);
    expect(net.blocked).toEqual([]);
  });

  it('calls an endpoint whose addresses are all fine', async () => {
    const server = await fakeApi(200, ZONES);
    const { lookup } = scriptedLookup(ANSWERS);
    expect(await runProbe(newProbe({ lookup }), ec2Target(`http://good.test:${server.port}/`))).toMatchObject({ ok: true, status: 200 });
    expect(server.requests.count).toBe(1);
  });

  it('is DOWN for a stored target on a literal, without making a client', async () => {
    const made: Ec2ClientSettings[] = [];
    const probe = newProbe({ clientFactory: (settings) => (made.push(settings), createEc2Client(settings)) });
    const result = await runProbe(probe, ec2Target('http://169.254.169.254/'));
    expect(result).toMatchObject(refusedResult('refused: 169.254.169.254 is a cloud metadata address'));
    expect(made).toEqual([]);
    expect(net.blocked).toEqual([]);
  });

  it('fetches the maintenance page through the guard too (a name that resolves elsewhere the second time)', async () => {
    // The API answers 503, so the probe GETs the endpoint's page; by then the name resolves to the metadata address.
    const server = await fakeApi(503, '<html>Down for maintenance</html>');
    let calls = 0;
    const rebinding: LookupFunction = (hostname, options, callback) => {
      calls++;
      const address = calls === 1 ? '127.0.0.1' : '169.254.169.254';
      setImmediate(() =>
        options.all ? (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [{ address, family: 4 }]) : callback(null, address, 4),
      );
    };
    // localhost: were the page fetched without the probe's lookup, /etc/hosts would answer, not the network.
    const result = await runProbe(newProbe({ lookup: rebinding }), ec2Target(`http://localhost:${server.port}/`));
    expect(result).toMatchObject({ ok: false, status: 503 });
    expect(result.maintenance).toBeUndefined();
    expect(server.requests.all.map((r) => r.method)).toEqual(['POST']);
    expect(net.blocked).toEqual([]);
  });

  it('connects anywhere when the deployment allows metadata targets (the test net stops it)', async () => {
    const { lookup } = scriptedLookup(ANSWERS);
    const result = await runProbe(newProbe({ lookup, allowMetadata: true }), ec2Target('http://evil.test/'));
    expect(result).toMatchObject({ ok: false, failure: 'unreachable' });
    expect(net.blocked).toEqual(['169.254.169.254']);
  });
});
