import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Ec2Target } from '../../src/kinds/ec2/index.js';
import { createEc2Probe } from '../../src/kinds/ec2/probe.js';
import { probeContext } from '../support/probe-context.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((r) => server?.close(r) ?? r(undefined));
  server = undefined;
});

/** An endpoint whose API calls (POST) fail with 503 and whose plain page (GET) is `page`. */
async function endpoint(page: string): Promise<string> {
  server = createServer((req, res) => {
    req.resume();
    res.writeHead(503, { 'content-type': 'text/html' });
    res.end(req.method === 'GET' ? page : '<html>Service Unavailable</html>');
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

const target = (url: string): Ec2Target => ({
  id: '1/cloud', chatId: 1, name: 'cloud', kind: 'ec2', endpoint: url, region: 'us-east-1',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  everyMs: 60_000, timeoutMs: 5_000, retryMs: 5_000, confirm: 1, recover: 1, paused: false, createdAt: 0, updatedAt: 0,
});

describe('ec2 maintenance detection', () => {
  it('a failing API whose endpoint shows a maintenance page is MAINTENANCE', async () => {
    const probe = createEc2Probe();
    const ctx = probeContext(5_000);
    const result = await probe.run(target(await endpoint('<h1>Scheduled downtime</h1><p>We will be back at 03:00.</p>')), ctx);
    ctx.dispose();
    probe.close();
    expect(result.ok).toBe(false);
    expect(result.maintenance).toEqual({ reason: 'HTTP 503 with a maintenance page' });
  });

  it('a failing API with a plain error page is an outage', async () => {
    const probe = createEc2Probe();
    const ctx = probeContext(5_000);
    const result = await probe.run(target(await endpoint('<h1>Bad gateway</h1>')), ctx);
    ctx.dispose();
    probe.close();
    expect(result).toMatchObject({ ok: false, status: 503 });
    expect(result.maintenance).toBeUndefined();
  });
});
