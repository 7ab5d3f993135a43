import { createSocket } from 'node:dgram';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/config/config.js';
import { DEFAULT_TRACE_SETTINGS, mtrArgs } from '../../src/diagnostics/mtr.js';
import { checkDns } from '../../src/kinds/dns/resolve.js';
import { createEc2Client } from '../../src/kinds/ec2/probe.js';
import { createHttpAgent, createHttpProbe } from '../../src/kinds/http/probe.js';
import { pingArgs, runPing } from '../../src/kinds/ping/run.js';
import { createTcpProbe } from '../../src/kinds/tcp/probe.js';
import { probeContext } from '../support/probe-context.js';
import { httpTarget, tcpTarget } from '../support/target-server.js';

// SOURCE_ADDRESS: every probe's connections leave from one local address. On Linux the whole of
// 127.0.0.0/8 is on lo, so 127.0.0.2-4 are local addresses a probe can bind to, and the servers here
// (on 127.0.0.1) see which one a connection came from. Nothing leaves the machine.

const seen: string[] = [];
const http = createHttpServer((req, res) => {
  seen.push(`http ${req.socket.remoteAddress}`);
  res.writeHead(200).end('ok');
});
const tcp = createTcpServer((socket) => {
  seen.push(`tcp ${socket.remoteAddress}`);
  socket.destroy();
});
const udp = createSocket('udp4');
udp.on('message', (_msg, rinfo) => seen.push(`dns ${rinfo.address}`));
const port = (s: { address(): AddressInfo | string | null }): number => (s.address() as AddressInfo).port;

beforeAll(async () => {
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
});
afterAll(async () => {
  http.closeAllConnections();
  await new Promise<void>((r) => http.close(() => r()));
  await new Promise<void>((r) => tcp.close(() => r()));
  udp.close();
});

const once = async <T>(timeoutMs: number, run: (ctx: ReturnType<typeof probeContext>) => Promise<T>): Promise<T> => {
  const ctx = probeContext(timeoutMs);
  try {
    return await run(ctx);
  } finally {
    ctx.dispose();
  }
};

describe('SOURCE_ADDRESS', () => {
  it('http checks connect from it', async () => {
    const agent = createHttpAgent(undefined, { sourceAddress: '127.0.0.2' });
    try {
      const probe = createHttpProbe({ dispatcher: agent });
      const result = await once(5_000, (ctx) => probe.run(httpTarget({ url: `http://127.0.0.1:${port(http)}/` }), ctx));
      expect(result.ok).toBe(true);
      expect(seen).toContain('http 127.0.0.2');
    } finally {
      await agent.close();
    }
  });

  it('tcp checks connect from it', async () => {
    const probe = createTcpProbe({ sourceAddress: '127.0.0.3' });
    const result = await once(5_000, (ctx) => probe.run(tcpTarget({ port: port(tcp) }), ctx));
    expect(result.ok).toBe(true);
    await expect.poll(() => seen).toContain('tcp 127.0.0.3');
  });

  it('dns queries leave from it', async () => {
    await once(5_000, (ctx) => checkDns({ name: 'a.lookout.test', type: 'A', server: { host: '127.0.0.1', port: port(udp) }, expect: [], timeoutMs: 300, sourceAddress: '127.0.0.4' }, ctx));
    expect(seen).toContain('dns 127.0.0.4');
  });

  it('ec2 API calls connect from it', async () => {
    const client = await createEc2Client({ endpoint: `http://127.0.0.1:${port(http)}`, region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }, timeoutMs: 3_000, localAddress: '127.0.0.5' });
    const { DescribeInstanceStatusCommand } = await import('@aws-sdk/client-ec2');
    // The answer is no EC2 answer: only where the request came from matters here.
    await client.send(new DescribeInstanceStatusCommand({})).catch(() => undefined);
    client.destroy();
    expect(seen).toContain('http 127.0.0.5');
  });

  it('ping sends from it (-I), and really does', async () => {
    expect(pingArgs('127.0.0.1', 1, 2_000, '127.0.0.2')).toEqual([...pingArgs('127.0.0.1', 1, 2_000).slice(0, -2), '-I', '127.0.0.2', '--', '127.0.0.1']);
    expect(pingArgs('127.0.0.1', 1, 2_000)).not.toContain('-I');
    const result = await once(5_000, (ctx) => runPing({ host: '127.0.0.1', count: 1, lossPct: 100, timeoutMs: 5_000 }, ctx, { sourceAddress: '127.0.0.2' }));
    expect(result.ok).toBe(true);
  });

  it('mtr traces from it (-a)', () => {
    const args = mtrArgs('127.0.0.1', { kind: 'icmp' }, { ...DEFAULT_TRACE_SETTINGS, sourceAddress: '127.0.0.2' });
    expect(args.slice(args.indexOf('-a'), args.indexOf('-a') + 2)).toEqual(['-a', '127.0.0.2']);
    expect(args.slice(-2)).toEqual(['--', '127.0.0.1']);
    expect(mtrArgs('127.0.0.1', { kind: 'icmp' }, DEFAULT_TRACE_SETTINGS)).not.toContain('-a');
  });

  it('must be an IP address: the setting is checked at start', () => {
    const bad = parseEnv({ SOURCE_ADDRESS: 'eth0' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors.join('\n')).toMatch(/SOURCE_ADDRESS must be an IP address/);
    const good = parseEnv({ SOURCE_ADDRESS: '127.0.0.2' });
    expect(good.ok && good.config.sourceAddress).toBe('127.0.0.2');
    expect(good.ok && good.config.trace.sourceAddress).toBe('127.0.0.2');
  });
});
