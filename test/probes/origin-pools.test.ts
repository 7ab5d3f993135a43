import { afterEach, describe, expect, it } from 'vitest';
import { request, type Dispatcher } from 'undici';
import { OriginPools } from '../../src/kinds/http/origin-pools.js';
import { createHttpAgent, createHttpProbe } from '../../src/kinds/http/probe.js';
import { loopbackLookup } from '../support/fake-lookup.js';
import { runProbe } from '../support/probe-context.js';
import { httpTarget, startTargetServer, type TargetServer } from '../support/target-server.js';

const servers: TargetServer[] = [];
const dispatchers: Dispatcher[] = [];

afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.destroy()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(): Promise<TargetServer> {
  const server = await startTargetServer();
  servers.push(server);
  return server;
}

function pools(now: () => number = Date.now, idleMs?: number): OriginPools {
  const d = new OriginPools({ pool: { connections: null }, now, ...(idleMs !== undefined ? { idleMs } : {}) });
  dispatchers.push(d);
  return d;
}

describe('OriginPools', () => {
  it('keeps one pool per origin between fresh-connection checks, each check on a new connection', async () => {
    const server = await serve();
    const agent = createHttpAgent(loopbackLookup);
    dispatchers.push(agent);
    const probe = createHttpProbe({ dispatcher: agent });
    for (let i = 0; i < 4; i++) expect(await runProbe(probe, httpTarget({ url: server.url }))).toMatchObject({ ok: true });
    expect(server.connections).toBe(4);
    // undici's Agent made a new Pool for each of these checks (it drops a pool when its last connection closes).
    expect(agent.created).toBe(1);
    expect(agent.size).toBe(1);
  });

  it('gives each origin its own pool', async () => {
    const [a, b] = [await serve(), await serve()];
    const d = pools();
    await (await request(a.url, { dispatcher: d, reset: true })).body.dump();
    await (await request(b.url, { dispatcher: d, reset: true })).body.dump();
    await (await request(`${a.url}/other`, { dispatcher: d, reset: true })).body.dump();
    expect(d.created).toBe(2);
    expect(Object.keys(d.stats).sort()).toEqual([new URL(a.url).origin, new URL(b.url).origin].sort());
  });

  it('closes a pool no request used for the idle time, and makes a new one when the origin is asked again', async () => {
    const server = await serve();
    let now = 1_000_000;
    const d = pools(() => now, 60_000);
    await (await request(server.url, { dispatcher: d })).body.dump();
    now += 59_999;
    d.sweep();
    expect(d.size).toBe(1);
    now += 2;
    d.sweep();
    expect(d.size).toBe(0);
    await (await request(server.url, { dispatcher: d })).body.dump();
    expect(d.created).toBe(2);
  });

  it('lets a running request finish when its pool is swept', async () => {
    const server = await serve();
    server.setDelay(150);
    let now = 0;
    const d = pools(() => now, 1);
    const pending = request(server.url, { dispatcher: d });
    now = 10;
    d.sweep();
    const res = await pending;
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  });

  it('refuses requests once closed', async () => {
    const server = await serve();
    const d = pools();
    await d.close();
    await expect(request(server.url, { dispatcher: d })).rejects.toMatchObject({ code: 'UND_ERR_CLOSED' });
  });

  it('closes fresh connections with one shared informational error, not a new one per check', async () => {
    const server = await serve();
    const agent = createHttpAgent(loopbackLookup);
    dispatchers.push(agent);
    const closings: Error[] = [];
    agent.on('disconnect', (_origin, _targets, err) => closings.push(err));
    const probe = createHttpProbe({ dispatcher: agent });
    for (let i = 0; i < 3; i++) expect(await runProbe(probe, httpTarget({ url: server.url }))).toMatchObject({ ok: true });
    await expect.poll(() => closings.length).toBe(3);
    expect(closings.map((e) => (e as { code?: string }).code)).toEqual(['UND_ERR_INFO', 'UND_ERR_INFO', 'UND_ERR_INFO']);
    expect(closings[1]).toBe(closings[0]);
    expect(closings[2]).toBe(closings[0]);
  });

  it('still fails a check whose connection the server cuts', async () => {
    const server = await serve();
    server.setDestroySocket(true);
    const agent = createHttpAgent(loopbackLookup);
    dispatchers.push(agent);
    const result = await runProbe(createHttpProbe({ dispatcher: agent }), httpTarget({ url: server.url }));
    expect(result).toMatchObject({ ok: false });
    expect(result.reason).not.toMatch(/reset$/);
  });
});
