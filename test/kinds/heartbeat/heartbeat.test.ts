import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer } from '../../../src/http/server.js';
import { createMetrics } from '../../../src/http/metrics.js';
import { describeBeat } from '../../../src/kinds/heartbeat/beat.js';
import type { HeartbeatTarget } from '../../../src/kinds/heartbeat/index.js';
import { startKinds, type RunningKinds, type Target } from '../../../src/kinds/index.js';
import { createHttpAgent } from '../../../src/kinds/http/probe.js';
import { parseArgs } from '../../../src/domain/options.js';
import { buildTarget } from '../../../src/targets/options.js';
import { FakeClock } from '../../support/fake-clock.js';

// Heartbeats through the real HTTP server, with a fake clock for the deadline: the job's pings arrive
// over HTTP on 127.0.0.1, the probe reads them at the times the clock is moved to.

const MIN = 60_000;
const TOKEN = 'job-token-0123456789abcd';

interface Rig {
  clock: FakeClock;
  kinds: RunningKinds;
  http: HttpServer;
  target: HeartbeatTarget;
  data: Map<string, unknown>;
  checked: string[];
  writes: number;
  hit(path: string, method?: string, body?: string): Promise<number>;
  check(): Promise<{ ok: boolean; reason?: string; summary?: string; latencyMs: number; failure?: string }>;
}

let open: Rig[] = [];
afterEach(async () => {
  for (const r of open) {
    await r.http.close();
    await r.kinds.close();
  }
  open = [];
});

async function rig(data = new Map<string, unknown>(), clock = new FakeClock()): Promise<Rig> {
  const args = parseArgs(`heartbeat backup every=1h grace=10m token=${TOKEN}`);
  if (!args.ok) throw new Error('bad args');
  const built = buildTarget(args.value, { chatId: -1, now: clock.now(), allowMetadata: false });
  if (!built.ok) throw new Error(built.errors.join('; '));
  const target = built.value as HeartbeatTarget;
  const r: Partial<Rig> & { checked: string[]; writes: number } = { checked: [], writes: 0 };
  const kinds = startKinds({
    allowMetadata: false,
    httpAgent: createHttpAgent(),
    clock,
    storage: () => ({
      get: async (k) => data.get(k),
      set: async (k, v) => {
        r.writes++;
        data.set(k, structuredClone(v));
      },
      delete: async (k) => data.delete(k),
    }),
    checkNow: (id) => void r.checked.push(id),
    targets: () => [target as Target],
    publicUrl: 'http://127.0.0.1',
  });
  await kinds.start();
  const http = await startHttpServer({
    port: 0,
    host: '127.0.0.1',
    engine: { running: true, targets: () => [], state: () => undefined },
    store: { ping: async () => true, health: () => ({ ok: true, pendingWrites: 0, failedWrites: 0, episodes: 0 }) },
    metrics: createMetrics(() => 0),
    kinds,
  });
  const full: Rig = Object.assign(r, {
    clock,
    kinds,
    http,
    target,
    data,
    hit: (path: string, method = 'GET', body = '') =>
      new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: http.port, path, method }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        req.end(body);
      }),
    check: () => kinds.probes.get<HeartbeatTarget>('heartbeat').run(target, { signal: new AbortController().signal, now: clock.now }),
  });
  open.push(full);
  return full;
}

describe('heartbeat deadlines', () => {
  it('is UP until every + grace after the last ping, DOWN after, and UP again at the next ping', async () => {
    const r = await rig();
    expect(await r.check()).toMatchObject({ ok: true, summary: 'waiting for the first ping (due within 1h10m)' });
    expect(await r.hit(`/ping/${TOKEN}`)).toBe(200);
    expect(r.checked).toEqual([r.target.id]);
    await r.clock.advance(70 * MIN);
    expect(await r.check()).toMatchObject({ ok: true, summary: 'last ping 1h10m ago' });
    await r.clock.advance(1_000);
    expect(await r.check()).toMatchObject({ ok: false, failure: 'timeout', reason: 'no ping for 1h10m1s (expected every 1h, grace 10m)' });
    expect(await r.hit(`/ping/${TOKEN}/`, 'POST')).toBe(200);
    expect(await r.check()).toMatchObject({ ok: true });
  });

  it('counts a new heartbeat from its creation: no first ping within every + grace is DOWN', async () => {
    const r = await rig();
    await r.clock.advance(70 * MIN + 1_000);
    expect(await r.check()).toMatchObject({ ok: false, reason: 'no ping yet (expected every 1h, grace 10m)' });
  });

  it('is DOWN at once when the job reports a failure, with what it said, until it pings again', async () => {
    const r = await rig();
    await r.hit(`/ping/${TOKEN}`);
    await r.clock.advance(5 * MIN);
    expect(await r.hit(`/ping/${TOKEN}/fail`, 'POST', `disk full\n${'x'.repeat(5_000)}`)).toBe(200);
    expect(r.checked).toHaveLength(2);
    const failed = await r.check();
    expect(failed).toMatchObject({ ok: false, failure: 'error' });
    expect(failed.reason).toMatch(/^the job reported a failure: disk full\nx+$/);
    expect(failed.reason!.length).toBeLessThan(260);
    await r.hit(`/ping/${TOKEN}`);
    expect(await r.check()).toMatchObject({ ok: true });
  });

  it('measures the run from /start to the ping as its latency', async () => {
    const r = await rig();
    expect(await r.hit(`/ping/${TOKEN}/start`)).toBe(200);
    expect(r.checked).toEqual([]);
    await r.clock.advance(42_000);
    await r.hit(`/ping/${TOKEN}`);
    expect(await r.check()).toMatchObject({ ok: true, latencyMs: 42_000, summary: 'last ping 1s ago, the run took 42s' });
  });

  it('answers a wrong token, a bad path or a token of the wrong shape with 404, and counts and writes nothing', async () => {
    const r = await rig();
    for (const path of [`/ping/${TOKEN.slice(0, -1)}X`, `/ping/${TOKEN}/nope`, '/ping/short', `/ping/${'a'.repeat(200)}`, `/ping/${TOKEN}x/fail`]) {
      expect(await r.hit(path)).toBe(404);
    }
    expect(r.checked).toEqual([]);
    expect(r.writes).toBe(0);
    expect(await r.check()).toMatchObject({ ok: true, summary: 'waiting for the first ping (due within 1h10m)' });
  });

  it('remembers the last ping across a restart (it is on disk before the job hears 200)', async () => {
    const data = new Map<string, unknown>();
    const clock = new FakeClock();
    const first = await rig(data, clock);
    await first.hit(`/ping/${TOKEN}`);
    await first.http.close();
    await first.kinds.close();
    open = open.filter((x) => x !== first);
    await clock.advance(71 * MIN);
    const second = await rig(data, clock);
    expect(await second.check()).toMatchObject({ ok: false, reason: 'no ping for 1h11m (expected every 1h, grace 10m)' });
  });
});

describe('describeBeat', () => {
  const t = { periodMs: 60 * MIN, graceMs: 5 * MIN, createdAt: 0, updatedAt: 0 };
  it.each<[string, Parameters<typeof describeBeat>[1], number, boolean]>([
    ['no ping, inside the first deadline', {}, 65 * MIN, true],
    ['no ping, past the first deadline', {}, 65 * MIN + 1, false],
    ['a ping, then on time', { lastPingAt: 10 * MIN }, 75 * MIN, true],
    ['a ping, then late', { lastPingAt: 10 * MIN }, 75 * MIN + 1, false],
    ['a failure after the last ping', { lastPingAt: 10 * MIN, failedAt: 11 * MIN }, 12 * MIN, false],
    ['a ping after the failure', { lastPingAt: 12 * MIN, failedAt: 11 * MIN }, 13 * MIN, true],
  ])('%s', (_name, beat, now, ok) => {
    expect(describeBeat(t, beat, now).ok).toBe(ok);
  });
});
