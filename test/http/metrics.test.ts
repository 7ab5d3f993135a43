import { describe, expect, it } from 'vitest';
import { initialState, type StateRecord } from '../../src/domain/state.js';
import type { CheckEvent } from '../../src/engine/engine.js';
import { createMetrics } from '../../src/http/metrics.js';
import { httpTarget } from '../support/target-server.js';

function event(id: string, ok: boolean, state: StateRecord['state'], latencyMs = 20, latenessMs = 3): CheckEvent {
  const target = httpTarget({ id, name: id.split('/')[1]! });
  return {
    target,
    result: ok ? { ok, at: 0, latencyMs, status: 200 } : { ok, at: 0, latencyMs, failure: 'timeout', reason: 'timeout after 1s' },
    record: { ...initialState(id, 0), state },
    scheduledAt: 0,
    latenessMs,
    manual: false,
  };
}

/** Every sample line of the exposition text: `name{labels}` → value. */
function samples(text: string): Map<string, number> {
  return new Map(
    text
      .split('\n')
      .filter((l) => l !== '' && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]),
  );
}

describe('metrics', () => {
  it('count checks by result, observe durations and lateness, and count deliveries and Telegram errors', async () => {
    let depth = 3;
    const metrics = createMetrics(() => depth, () => 2);
    metrics.check(event('1/a', true, 'UP', 40, 20));
    metrics.check(event('1/a', false, 'UP', 1_000));
    metrics.check(event('1/b', false, 'DOWN'));
    metrics.delivery('delivered');
    metrics.delivery('retry');
    metrics.delivery('dropped');
    metrics.telegramError('sendMessage');
    metrics.telegramError('sendMessage');
    metrics.telegramError('editMessageText');
    depth = 5;
    const s = samples(await metrics.registry.metrics());
    expect(s.get('lookout_checks_total{target="1/a",result="ok"}')).toBe(1);
    expect(s.get('lookout_checks_total{target="1/a",result="timeout"}')).toBe(1);
    expect(s.get('lookout_check_duration_seconds_count{target="1/a"}')).toBe(2);
    expect(s.get('lookout_check_duration_seconds_sum{target="1/a"}')).toBeCloseTo(1.04);
    expect(s.get('lookout_check_duration_seconds_bucket{le="0.05",target="1/a"}')).toBe(1);
    expect(s.get('lookout_scheduler_lateness_seconds_count')).toBe(3);
    expect(s.get('lookout_scheduler_lateness_seconds_bucket{le="0.01"}')).toBe(2);
    expect(s.get('lookout_target_up{target="1/a"}')).toBe(1);
    expect(s.get('lookout_target_up{target="1/b"}')).toBe(0);
    expect(s.get('lookout_target_state{target="1/b",state="DOWN"}')).toBe(1);
    expect(s.get('lookout_target_state{target="1/b",state="UP"}')).toBe(0);
    expect(s.get('lookout_alerts_total{outcome="delivered"}')).toBe(1);
    expect(s.get('lookout_alerts_total{outcome="retry"}')).toBe(1);
    expect(s.get('lookout_alerts_total{outcome="dropped"}')).toBe(1);
    expect(s.get('lookout_telegram_api_errors_total{method="sendMessage"}')).toBe(2);
    expect(s.get('lookout_telegram_api_errors_total{method="editMessageText"}')).toBe(1);
    expect(s.get('lookout_outbox_depth')).toBe(5);
    expect(s.get('lookout_targets')).toBe(2);
  });

  it('forget drops every series of a removed target and keeps the others', async () => {
    const metrics = createMetrics(() => 0);
    metrics.check(event('1/a', true, 'UP'));
    metrics.check(event('1/a', false, 'DOWN'));
    metrics.check(event('1/b', true, 'UP'));
    metrics.forget('1/a');
    const text = await metrics.registry.metrics();
    expect(text).not.toContain('target="1/a"');
    expect(samples(text).get('lookout_checks_total{target="1/b",result="ok"}')).toBe(1);
    expect(samples(text).get('lookout_target_state{target="1/b",state="UP"}')).toBe(1);
  });
});

describe('the deployment files query what the metrics expose', () => {
  it('every metric name in the Grafana dashboard and the Prometheus rules exists', async () => {
    const { readFileSync } = await import('node:fs');
    const metrics = createMetrics(() => 0);
    metrics.check(event('1/a', true, 'UP'));
    metrics.delivery('delivered');
    metrics.telegramError('getMe');
    const exposed = new Set([...samples(await metrics.registry.metrics()).keys()].map((k) => k.replace(/\{.*$/, '')));
    const files = ['deploy/grafana-dashboard.json', 'deploy/prometheus-rules.yml'].map((f) => readFileSync(f, 'utf8'));
    const used = new Set(files.flatMap((f) => [...f.matchAll(/\blookout_[a-z_]+/g)].map((m) => m[0])));
    expect(used.size).toBeGreaterThan(8);
    for (const name of used) expect(exposed, name).toContain(name);
  });
});

describe('metrics through the app', () => {
  it("a renamed target's series go with the old name; the new name starts its own", async () => {
    const { startAppRig } = await import('../support/app-rig.js');
    const rig = await startAppRig();
    try {
      await rig.say(`/add ${rig.server.url}/health name=api confirm=1 every=1d`, 'Added');
      await rig.telegram.waitFor('editMessageText', (c) => String(c.payload.text).includes('First check'));
      const before = await rig.app.metrics.registry.metrics();
      expect(before).toContain(`target="${rig.config.allowedChatIds[0]}/api"`);
      await rig.say('/edit api name=api2', 'was api');
      await rig.app.engine.checkNow(`${rig.config.allowedChatIds[0]}/api2`);
      const after = await rig.app.metrics.registry.metrics();
      expect(after).not.toContain(`target="${rig.config.allowedChatIds[0]}/api"`);
      expect(after).toContain(`target="${rig.config.allowedChatIds[0]}/api2"`);
    } finally {
      await rig.close();
    }
  });
});

describe('metrics of an instance among several places', () => {
  it('label every per-target check series with the instance\'s location, and forget them all', async () => {
    const metrics = createMetrics(() => 0, () => 1, undefined, undefined, 'fra');
    metrics.check(event('1/a', false, 'DOWN', 30));
    const s = samples(await metrics.registry.metrics());
    expect(s.get('lookout_checks_total{target="1/a",result="timeout",location="fra"}')).toBe(1);
    expect(s.get('lookout_target_up{target="1/a",location="fra"}')).toBe(0);
    expect(s.get('lookout_target_state{target="1/a",state="DOWN",location="fra"}')).toBe(1);
    expect(s.get('lookout_check_duration_seconds_count{target="1/a",location="fra"}')).toBe(1);
    metrics.forget('1/a');
    expect([...samples(await metrics.registry.metrics()).keys()].filter((k) => k.includes('1/a'))).toEqual([]);
  });
});
