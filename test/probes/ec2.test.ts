import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { CheckResult } from '../../src/domain/check.js';
import type { Ec2Target } from '../../src/kinds/ec2/index.js';
import { createEc2Client, createEc2Probe, type Ec2ClientSettings, type Ec2Probe } from '../../src/kinds/ec2/probe.js';
import { loopbackLookup } from '../support/fake-lookup.js';
import { startMoto, motoTestsEnabled, type MotoServer } from '../support/moto.js';
import { abortedProbeContext, probeContext, TEST_NOW } from '../support/probe-context.js';
import { closedPort, startTargetServer, type TargetServer } from '../support/target-server.js';

// AWS's documented example credentials: fake, and recognisable if they ever leaked into a reason.
const KEY = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const TOKEN = 'FwoGZXIvYXdzEXAMPLESESSIONTOKEN/abc+def==';

const runMoto = motoTestsEnabled(process.env);

/** A complete ec2 target with test defaults and the fake credentials; `overrides` win. */
function ec2Target(overrides: Partial<Omit<Ec2Target, 'kind'>> = {}): Ec2Target {
  return {
    id: 'test/x',
    chatId: 1,
    name: 'x',
    everyMs: 60_000,
    timeoutMs: 5_000,
    retryMs: 5_000,
    confirm: 2,
    recover: 1,
    paused: false,
    createdAt: 0,
    updatedAt: 0,
    kind: 'ec2',
    endpoint: 'http://127.0.0.1:1/',
    region: 'us-east-1',
    accessKeyId: KEY,
    secretAccessKey: SECRET,
    ...overrides,
  };
}

const ec2Error = (code: string, message: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>x</RequestID></Response>`;

const zonesAnswer = (states: string[]): string =>
  `<DescribeAvailabilityZonesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>x</requestId><availabilityZoneInfo>${states
    .map((state, i) => `<item><zoneName>lab-1${'abcdef'[i]}</zoneName><zoneState>${state}</zoneState><regionName>lab-1</regionName></item>`)
    .join('')}</availabilityZoneInfo></DescribeAvailabilityZonesResponse>`;

const probes: Ec2Probe[] = [];

/** A probe that resolves names without DNS traffic; closed after the test. */
function newProbe(options: Parameters<typeof createEc2Probe>[0] = {}): Ec2Probe {
  const probe = createEc2Probe({ lookup: loopbackLookup, ...options });
  probes.push(probe);
  return probe;
}

/** Runs one check the way the engine does, and checks that no credential leaked into the result. */
async function check(probe: Ec2Probe, target: Ec2Target): Promise<CheckResult> {
  const ctx = probeContext(target.timeoutMs);
  try {
    const result = await probe.run(target, ctx);
    const text = JSON.stringify(result);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(TOKEN);
    return result;
  } finally {
    ctx.dispose();
  }
}

beforeAll(() => {
  // The default credential chain must never ask the instance metadata address (no traffic off loopback),
  // and no credentials of the machine or of the developer may take part.
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
  for (const name of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_PROFILE',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    'AWS_ENDPOINT_URL',
    'AWS_ENDPOINT_URL_EC2',
  ]) {
    vi.stubEnv(name, undefined);
  }
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/lookout-test/credentials');
  vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/lookout-test/config');
});

afterEach(() => {
  for (const probe of probes.splice(0)) probe.close();
});

afterAll(() => {
  vi.unstubAllEnvs();
});

describe('createEc2Probe against a local fake EC2 API', () => {
  const servers: TargetServer[] = [];
  const silent: Array<{ server: Server; sockets: Set<Socket> }> = [];

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    await Promise.all(
      silent.splice(0).map(
        ({ server, sockets }) =>
          new Promise<void>((resolve) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => resolve());
          }),
      ),
    );
  });

  /** A server answering every request with `status` and the XML `body`. */
  async function fakeApi(status: number, body: string): Promise<TargetServer> {
    const server = await startTargetServer();
    server.setStatus(status);
    server.setHeaders({ 'content-type': 'text/xml;charset=UTF-8' });
    server.setBody(body);
    servers.push(server);
    return server;
  }

  /** A TCP server that accepts connections and never answers. */
  async function silentServer(): Promise<number> {
    const sockets = new Set<Socket>();
    const server = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    silent.push({ server, sockets });
    return (server.address() as AddressInfo).port;
  }

  it('has the kind "ec2"', () => {
    expect(newProbe().kind).toBe('ec2');
  });

  it('is ok when a zone is available, and says how many are', async () => {
    const server = await fakeApi(200, zonesAnswer(['available', 'impaired', 'available']));
    const result = await check(newProbe(), ec2Target({ endpoint: server.url }));
    expect(result).toEqual({ ok: true, at: TEST_NOW, latencyMs: expect.any(Number), status: 200, reason: '2 of 3 availability zones available' });
    expect(server.requests.count).toBe(1);
  });

  it('signs with the target key for its region and never sends the secret', async () => {
    const server = await fakeApi(200, zonesAnswer(['available']));
    await check(newProbe(), ec2Target({ endpoint: server.url, region: 'eu-central-1', sessionToken: TOKEN }));
    const request = server.requests.last;
    expect(request?.method).toBe('POST');
    expect(request?.headers.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${KEY}/\\d{8}/eu-central-1/ec2/aws4_request`));
    expect(request?.headers['x-amz-security-token']).toBe(TOKEN);
    expect(JSON.stringify(request?.headers)).not.toContain(SECRET);
  });

  it.each<[string, string[], string]>([
    ['impaired', ['impaired', 'impaired'], 'no availability zone is available (2 impaired)'],
    ['mixed', ['impaired', 'unavailable', 'impaired'], 'no availability zone is available (2 impaired, 1 unavailable)'],
    ['empty', [], 'no availability zone is available (none listed)'],
  ])('fails with "status" when no zone is available (%s)', async (_name, states, reason) => {
    const server = await fakeApi(200, zonesAnswer(states));
    const result = await check(newProbe(), ec2Target({ endpoint: server.url }));
    expect(result).toEqual({ ok: false, at: TEST_NOW, latencyMs: expect.any(Number), status: 200, failure: 'status', reason });
  });

  it.each([
    [401, 'AuthFailure', 'AWS was not able to validate the provided access credentials', 'authentication failed (AuthFailure)'],
    [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.', 'signature rejected (SignatureDoesNotMatch)'],
    [403, 'UnauthorizedOperation', 'You are not authorized to perform this operation.', 'not authorized (UnauthorizedOperation)'],
    [503, 'RequestLimitExceeded', 'Request limit exceeded.', 'throttled by the API (RequestLimitExceeded)'],
    [400, 'InvalidParameterValue', 'Invalid value &apos;x&apos; for zone', "EC2 API error InvalidParameterValue: Invalid value 'x' for zone"],
  ])('fails with "status" for an HTTP %i %s answer', async (status, code, message, reason) => {
    const server = await fakeApi(status, ec2Error(code, message));
    const result = await check(newProbe(), ec2Target({ endpoint: server.url }));
    expect(result).toEqual({ ok: false, at: TEST_NOW, latencyMs: expect.any(Number), status, failure: 'status', reason });
    // One API call only: the SDK's own retries (it retries throttling and 5xx) would outlast the timeout.
    expect(server.requests.all.filter((r) => r.method === 'POST')).toHaveLength(1);
    // A 5xx is followed by one plain GET of the endpoint, looking for a maintenance page.
    expect(server.requests.all.filter((r) => r.method === 'GET')).toHaveLength(status >= 500 ? 1 : 0);
  });

  it('clips a long API message to one short line', async () => {
    const server = await fakeApi(400, ec2Error('InvalidAction', `line one\n${'x'.repeat(500)}`));
    const result = await check(newProbe(), ec2Target({ endpoint: server.url }));
    expect(result.reason).toMatch(/^EC2 API error InvalidAction: line one x+…$/);
    expect(result.reason!.length).toBeLessThanOrEqual('EC2 API error InvalidAction: '.length + 160);
  });

  it('never repeats the secret or the token when the API echoes them', async () => {
    const server = await fakeApi(400, ec2Error('InvalidParameterValue', `bad secret ${SECRET} and token ${TOKEN}`));
    const result = await check(newProbe(), ec2Target({ endpoint: server.url, sessionToken: TOKEN }));
    expect(result).toMatchObject({ ok: false, failure: 'status', reason: 'EC2 API error InvalidParameterValue: bad secret •••• and token ••••' });
  });

  it.each<[number, string, CheckResult['failure'], string]>([
    [502, '<html><body>Bad gateway</body></html>', 'status', 'HTTP 502 from the EC2 API without an EC2 error'],
    [500, 'Internal Server Error', 'status', 'HTTP 500 from the EC2 API without an EC2 error'],
    [200, 'not xml at all', 'protocol', 'unreadable answer from the EC2 API (HTTP 200)'],
  ])('words an HTTP %i answer that is not from an EC2 API', async (status, body, failure, reason) => {
    const server = await fakeApi(status, body);
    const result = await check(newProbe(), ec2Target({ endpoint: server.url }));
    expect(result).toMatchObject({ ok: false, status, failure, reason });
  });

  it('fails with "refused" quickly when nothing listens on the endpoint', async () => {
    const port = await closedPort();
    const started = performance.now();
    const result = await check(newProbe(), ec2Target({ endpoint: `http://127.0.0.1:${port}/` }));
    expect(result).toEqual({ ok: false, at: TEST_NOW, latencyMs: expect.any(Number), failure: 'refused', reason: 'endpoint unreachable: connection refused' });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('fails with "reset" when the server drops the connection without answering', async () => {
    const server = await fakeApi(200, zonesAnswer(['available']));
    server.setDestroySocket(true);
    const result = await check(newProbe(), ec2Target({ endpoint: server.url }));
    expect(result).toMatchObject({ ok: false, failure: 'reset' });
    expect(server.requests.count).toBe(1);
  });

  it('fails with "timeout" shortly after the timeout when the endpoint never answers', async () => {
    const port = await silentServer();
    const started = performance.now();
    const result = await check(newProbe(), ec2Target({ endpoint: `http://127.0.0.1:${port}/`, timeoutMs: 1_000 }));
    const elapsed = performance.now() - started;
    expect(result).toMatchObject({ ok: false, at: TEST_NOW, failure: 'timeout', reason: 'timeout after 1s' });
    expect(result.status).toBeUndefined();
    expect(result.latencyMs).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(1_500);
  });

  it('fails with "timeout" without a request when the signal has already fired', async () => {
    const server = await fakeApi(200, zonesAnswer(['available']));
    const result = await newProbe().run(ec2Target({ endpoint: server.url, timeoutMs: 10_000 }), abortedProbeContext());
    expect(result).toEqual({ ok: false, at: TEST_NOW, latencyMs: 0, failure: 'timeout', reason: 'timeout after 10s' });
    expect(server.requests.count).toBe(0);
  });

  it('fails with "dns" for a host name that does not resolve', async () => {
    // The test resolver answers ENOTFOUND as a real one would for .invalid (RFC 6761), without a query.
    const result = await check(newProbe(), ec2Target({ endpoint: 'http://lookout-test.invalid/' }));
    expect(result).toMatchObject({ ok: false, failure: 'dns' });
    expect(result.reason).toMatch(/^DNS lookup failed/);
  });

  it('fails with "tls" for an https endpoint on a plain http port', async () => {
    const server = await fakeApi(200, zonesAnswer(['available']));
    const result = await check(newProbe(), ec2Target({ endpoint: `https://127.0.0.1:${server.port}/` }));
    expect(result).toMatchObject({ ok: false, failure: 'tls', reason: 'TLS handshake failed' });
  });

  it('fails with "error" when the default credential chain finds nothing, without a request', async () => {
    const server = await fakeApi(200, zonesAnswer(['available']));
    const target = ec2Target({ endpoint: server.url });
    delete target.accessKeyId;
    delete target.secretAccessKey;
    const result = await check(newProbe(), target);
    expect(result).toMatchObject({
      ok: false,
      failure: 'error',
      reason: 'no AWS credentials found: give key= and secret=, or set up the default credential chain',
    });
    expect(server.requests.count).toBe(0);
  });

  it('keeps one client per endpoint, region, credentials and timeout', async () => {
    const server = await fakeApi(200, zonesAnswer(['available']));
    const made: Ec2ClientSettings[] = [];
    const probe = newProbe({ clientFactory: (settings) => (made.push(settings), createEc2Client(settings)) });
    const target = ec2Target({ endpoint: server.url });
    for (let i = 0; i < 3; i++) expect(await check(probe, target)).toMatchObject({ ok: true });
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ endpoint: server.url, region: 'us-east-1', credentials: { accessKeyId: KEY, secretAccessKey: SECRET }, timeoutMs: 5_000 });
    // A rotated secret, another region or another timeout each need a client of their own.
    await check(probe, { ...target, secretAccessKey: 'rotated/EXAMPLEKEY' });
    await check(probe, { ...target, region: 'eu-central-1' });
    await check(probe, { ...target, timeoutMs: 2_000 });
    await check(probe, target);
    expect(made).toHaveLength(4);
    expect(server.requests.count).toBe(7);
  });

  it('destroys the least recently used client beyond maxClients', async () => {
    const server = await fakeApi(200, zonesAnswer(['available']));
    const made: Ec2ClientSettings[] = [];
    const probe = newProbe({ maxClients: 2, clientFactory: (settings) => (made.push(settings), createEc2Client(settings)) });
    const target = (region: string): Ec2Target => ec2Target({ endpoint: server.url, region });
    for (const region of ['r-1', 'r-2', 'r-1', 'r-3', 'r-1', 'r-2']) await check(probe, target(region));
    // r-2 was the least recently used when r-3 came, so it had to be made again.
    expect(made.map((s) => s.region)).toEqual(['r-1', 'r-2', 'r-3', 'r-2']);
  });
});

describe.skipIf(!runMoto)('createEc2Probe against moto (python3 -m moto.server)', () => {
  let moto: MotoServer;
  let probe: Ec2Probe;

  beforeAll(async () => {
    moto = await startMoto();
    // moto loads its EC2 backend on the first call (~2 s): warm it up here so the tests measure steady state.
    probe = createEc2Probe();
    await probe.run(ec2Target({ endpoint: moto.endpoint, timeoutMs: 15_000 }), probeContext(15_000));
  });

  afterAll(async () => {
    probe?.close();
    await moto?.stop();
  });

  it('is ok in us-east-1 with its six zones available', async () => {
    const result = await check(probe, ec2Target({ endpoint: moto.endpoint }));
    expect(result).toEqual({ ok: true, at: TEST_NOW, latencyMs: expect.any(Number), status: 200, reason: '6 of 6 availability zones available' });
  });

  it('is ok in another region moto knows', async () => {
    const result = await check(probe, ec2Target({ endpoint: moto.endpoint, region: 'eu-central-1' }));
    expect(result).toMatchObject({ ok: true, status: 200, reason: '3 of 3 availability zones available' });
  });

  it('fails with "status" for a region moto does not know', async () => {
    // moto answers any region it has data for; for an unknown one its backend lookup raises a KeyError
    // and its server answers HTTP 500 with an HTML error page, which is not an EC2 error document.
    const result = await check(probe, ec2Target({ endpoint: moto.endpoint, region: 'xx-nowhere-1' }));
    expect(result).toMatchObject({ ok: false, status: 500, failure: 'status', reason: 'HTTP 500 from the EC2 API without an EC2 error' });
  });

  it('accepts the credentials of the target (moto does not validate them)', async () => {
    const result = await check(probe, ec2Target({ endpoint: moto.endpoint, accessKeyId: 'AKIAOTHERKEYEXAMPLE1', secretAccessKey: 'another/secret', sessionToken: TOKEN }));
    expect(result).toMatchObject({ ok: true, status: 200 });
  });

  it('uses the default credential chain when the target has no key', async () => {
    vi.stubEnv('AWS_ACCESS_KEY_ID', KEY);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', SECRET);
    const target = ec2Target({ endpoint: moto.endpoint });
    delete target.accessKeyId;
    delete target.secretAccessKey;
    try {
      expect(await check(newProbe(), target)).toMatchObject({ ok: true, status: 200 });
    } finally {
      vi.stubEnv('AWS_ACCESS_KEY_ID', undefined);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', undefined);
    }
  });

  it('answers in well under a second once warm', async () => {
    const result = await check(probe, ec2Target({ endpoint: moto.endpoint }));
    expect(result.ok).toBe(true);
    expect(result.latencyMs).toBeLessThan(1_000);
  });
});
