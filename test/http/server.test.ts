import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { GROUP, startAppRig, type AppRig } from '../support/app-rig.js';
import { closedPort } from '../support/target-server.js';
import { createMetrics } from '../../src/http/metrics.js';
import { startHttpServer } from '../../src/http/server.js';
import type { StoreHealth } from '../../src/store/keyv.js';

let rig: AppRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function get(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; type: string }> {
  const res = await request(`http://127.0.0.1:${port}${path}`, { headers });
  return { status: res.statusCode, text: await res.body.text(), type: String(res.headers['content-type']) };
}

/** The value of one series in Prometheus exposition text. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('HTTP endpoints', () => {
  it('/healthz, /metrics that move with checks, /api/status behind its token', async () => {
    const port = await closedPort();
    rig = await startAppRig({ HTTP_PORT: String(port), STATUS_TOKEN: 's3cr3t-status' });
    await rig.say(`/add ${rig.server.url}/health name=api`, 'Added');
    await rig.telegram.waitFor('editMessageText', (c) => String(c.payload.text).includes('First check'));

    const health = await get(port, '/healthz');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toEqual({ status: 'ok' });

    const id = `${GROUP}/api`;
    const before = await get(port, '/metrics');
    expect(before.type).toContain('text/plain');
    const okSeries = `lookout_checks_total{target="${id}",result="ok"}`;
    expect(sample(before.text, okSeries)).toBe(1);
    expect(sample(before.text, `lookout_target_up{target="${id}"}`)).toBe(1);
    expect(sample(before.text, `lookout_target_state{target="${id}",state="UP"}`)).toBe(1);
    expect(sample(before.text, 'lookout_outbox_depth')).toBe(0);
    // The app's store is behind these: writes reach the disk.
    expect(sample(before.text, 'lookout_store_healthy')).toBe(1);
    expect(sample(before.text, 'lookout_store_pending_writes')).toBe(0);
    expect(before.text).toContain(`lookout_check_duration_seconds_bucket{le="0.005",target="${id}"}`);
    expect(before.text).toContain('lookout_scheduler_lateness_seconds_count');
    expect(before.text).toContain('lookout_process_cpu_user_seconds_total');

    rig.server.setStatus(503);
    await rig.app.engine.checkNow(id);
    await rig.app.engine.checkNow(id);
    const after = await get(port, '/metrics');
    expect(sample(after.text, `lookout_checks_total{target="${id}",result="status"}`)).toBe(2);
    expect(sample(after.text, `lookout_target_up{target="${id}"}`)).toBe(0);
    expect(sample(after.text, `lookout_target_state{target="${id}",state="DOWN"}`)).toBe(1);
    await rig.telegram.waitFor('sendMessage', (c) => String(c.payload.text).includes('is DOWN'));
    await rig.app.outbox.idle();
    await new Promise((r) => setTimeout(r, 100));
    const delivered = await get(port, '/metrics');
    expect(sample(delivered.text, 'lookout_alerts_total{outcome="delivered"}')).toBeGreaterThanOrEqual(1);

    const refused = await get(port, '/api/status');
    expect(refused.status).toBe(401);
    expect((await get(port, '/api/status', { authorization: 'Bearer wrong' })).status).toBe(401);
    const status = await get(port, '/api/status', { authorization: 'Bearer s3cr3t-status' });
    expect(status.status).toBe(200);
    const body = JSON.parse(status.text) as { targets: Array<Record<string, unknown>> };
    expect(body.targets).toHaveLength(1);
    expect(body.targets[0]).toMatchObject({ id, name: 'api', kind: 'http', state: 'DOWN', lastResult: { ok: false, status: 503, reason: 'HTTP 503, expected 200-299' } });

    expect((await get(port, '/nope')).status).toBe(404);
  });

  it('/healthz is 503 with the reason when the scheduler stopped', async () => {
    const port = await closedPort();
    rig = await startAppRig({ HTTP_PORT: String(port) });
    await rig.app.engine.stop();
    const health = await get(port, '/healthz');
    expect(health.status).toBe(503);
    expect(JSON.parse(health.text)).toEqual({ status: 'unhealthy', problems: ['scheduler not running'] });
    // Without STATUS_TOKEN the status API is open.
    expect((await get(port, '/api/status')).status).toBe(200);
  });

  it('/healthz is 503 when the store fails, and when it hangs (without hanging itself)', async () => {
    const port = await closedPort();
    rig = await startAppRig({ HTTP_PORT: String(port) });
    expect((await get(port, '/healthz')).status).toBe(200);
    await rig.app.store.close();
    const broken = await get(port, '/healthz');
    expect(broken.status).toBe(503);
    expect(JSON.parse(broken.text)).toEqual({ status: 'unhealthy', problems: ['store not answering'] });

    const hung = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      engine: { running: true, targets: () => [], state: () => undefined },
      store: { ping: () => new Promise<boolean>(() => undefined), health: () => ({ ok: true, pendingWrites: 0, failedWrites: 0, episodes: 0 }) },
      metrics: createMetrics(() => 0),
      pingTimeoutMs: 100,
    });
    try {
      const health = await get(hung.port, '/healthz');
      expect(health.status).toBe(503);
      expect(JSON.parse(health.text).problems).toEqual(['store not answering']);
    } finally {
      await hung.close();
    }
  });

  it('a handler that throws is a 500, logged and handed to the error tracker', async () => {
    const reported: Array<{ err: unknown; context: Record<string, unknown> }> = [];
    const server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      engine: { running: true, targets: () => [], state: () => undefined },
      store: { ping: async () => true, health: () => ({ ok: true, pendingWrites: 0, failedWrites: 0, episodes: 0 }) },
      metrics: createMetrics(() => 0),
      handlers: [
        async () => {
          throw new Error('a bug in a handler');
        },
      ],
      reportError: (err, context) => reported.push({ err, context }),
    });
    try {
      const answer = await get(server.port, '/anything?secret=x');
      expect(answer.status).toBe(500);
      expect(reported).toHaveLength(1);
      expect((reported[0]!.err as Error).message).toBe('a bug in a handler');
      expect(reported[0]!.context).toEqual({ event: 'http_failed', method: 'GET', path: '/anything' });
    } finally {
      await server.close();
    }
  });

  it('/healthz is 503 with the cause while the store cannot save, and /metrics counts it', async () => {
    let health: StoreHealth = { ok: true, pendingWrites: 0, failedWrites: 0, episodes: 0 };
    const server = await startHttpServer({
      port: 0,
      host: '127.0.0.1',
      engine: { running: true, targets: () => [], state: () => undefined },
      store: { ping: async () => health.ok, health: () => health },
      metrics: createMetrics(() => 0, () => 0, undefined, () => health),
    });
    try {
      expect((await get(server.port, '/healthz')).status).toBe(200);
      const fine = (await get(server.port, '/metrics')).text;
      expect([sample(fine, 'lookout_store_healthy'), sample(fine, 'lookout_store_write_failures_total'), sample(fine, 'lookout_store_pending_writes')]).toEqual([1, 0, 0]);

      health = { ok: false, since: Date.UTC(2026, 10, 23, 12, 0, 0), cause: 'the disk is full', pendingWrites: 3, failedWrites: 5, episodes: 1 };
      const failing = await get(server.port, '/healthz');
      expect(failing.status).toBe(503);
      expect(JSON.parse(failing.text)).toEqual({ status: 'unhealthy', problems: ['store failing since 2026-11-23T12:00:00.000Z: the disk is full; 3 writes waiting'] });
      const during = (await get(server.port, '/metrics')).text;
      expect([sample(during, 'lookout_store_healthy'), sample(during, 'lookout_store_write_failures_total'), sample(during, 'lookout_store_pending_writes')]).toEqual([0, 5, 3]);

      health = { ok: true, pendingWrites: 0, failedWrites: 9, episodes: 1 };
      expect((await get(server.port, '/healthz')).status).toBe(200);
      const after = (await get(server.port, '/metrics')).text;
      expect([sample(after, 'lookout_store_healthy'), sample(after, 'lookout_store_write_failures_total'), sample(after, 'lookout_store_pending_writes')]).toEqual([1, 9, 0]);
    } finally {
      await server.close();
    }
  });

  it('HTTP_PORT=0 serves nothing', async () => {
    rig = await startAppRig({ HTTP_PORT: '0' });
    expect(rig.app.http).toBeUndefined();
  });
});
