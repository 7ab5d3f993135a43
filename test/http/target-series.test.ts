import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { DURATION_BUCKETS, STATES, TargetSeries } from '../../src/http/target-series.js';

type Check = [id: string, result: string, seconds: number, state: string];

/** The same four metrics as prom-client's own classes would keep them (what TargetSeries replaced). */
function promClientText(checks: readonly Check[], location?: string, forget: readonly string[] = []): Promise<string> {
  const registry = new Registry();
  const placed = location !== undefined ? ['location'] : [];
  const at = location !== undefined ? { location } : {};
  const counter = new Counter({ name: 'lookout_checks_total', help: 'Checks by target and result', labelNames: ['target', 'result', ...placed], registers: [registry] });
  const duration = new Histogram({ name: 'lookout_check_duration_seconds', help: 'Check duration by target', labelNames: ['target', ...placed], buckets: [...DURATION_BUCKETS], registers: [registry] });
  const up = new Gauge({ name: 'lookout_target_up', help: '1 when the target is UP or DEGRADED, else 0', labelNames: ['target', ...placed], registers: [registry] });
  const state = new Gauge({ name: 'lookout_target_state', help: '1 for the state the target is in', labelNames: ['target', 'state', ...placed], registers: [registry] });
  const results = new Map<string, Set<string>>();
  for (const [id, result, seconds, s] of checks) {
    counter.inc({ target: id, result, ...at });
    results.set(id, (results.get(id) ?? new Set()).add(result));
    duration.observe({ target: id, ...at }, seconds);
    up.set({ target: id, ...at }, s === 'UP' || s === 'DEGRADED' ? 1 : 0);
    for (const name of STATES) state.set({ target: id, state: name, ...at }, name === s ? 1 : 0);
  }
  for (const id of forget) {
    for (const result of results.get(id) ?? []) counter.remove({ target: id, result, ...at });
    duration.remove({ target: id, ...at });
    up.remove({ target: id, ...at });
    for (const name of STATES) state.remove({ target: id, state: name, ...at });
  }
  return registry.metrics();
}

function seriesText(checks: readonly Check[], location?: string, forget: readonly string[] = []): Promise<string> {
  const registry = new Registry();
  const series = new TargetSeries(location);
  series.register(registry);
  for (const [id, result, seconds, s] of checks) series.check(id, result, seconds, s);
  for (const id of forget) series.forget(id);
  return registry.metrics();
}

/** The sample lines, sorted (prom-client and TargetSeries may list series in another order). */
const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '').sort();

const CHECKS: Check[] = [
  ['1/a', 'ok', 0.004, 'UP'],
  ['1/a', 'ok', 0.005, 'UP'],
  ['1/b', 'timeout', 10, 'DOWN'],
  ['1/a', 'status', 0.3, 'DEGRADED'],
  ['1/b', 'timeout', 12.5, 'DOWN'],
  ['1/c', 'ok', 0.02, 'MAINTENANCE'],
  ['1/b', 'ok', 0.0499, 'UP'],
  ['2/"quoted"\\', 'ok', 1, 'PAUSED'],
];

describe('TargetSeries', () => {
  it('exposes exactly what prom-client\'s Counter, Histogram and Gauges exposed for the same checks', async () => {
    expect(lines(await seriesText(CHECKS))).toEqual(lines(await promClientText(CHECKS)));
  });

  it('with a location label on every series', async () => {
    expect(lines(await seriesText(CHECKS, 'fra'))).toEqual(lines(await promClientText(CHECKS, 'fra')));
  });

  it('forgets a removed target\'s series and keeps the others', async () => {
    const text = await seriesText(CHECKS, undefined, ['1/b']);
    expect(lines(text)).toEqual(lines(await promClientText(CHECKS, undefined, ['1/b'])));
    expect(text).not.toContain('"1/b"');
    expect(text).toContain('lookout_target_up{target="1/a"} 1');
  });

  it('counts an observation on a bucket bound in that bucket, and one beyond the last in +Inf only', async () => {
    const text = await seriesText([['1/x', 'ok', 0.01, 'UP'], ['1/x', 'timeout', 11, 'DOWN']]);
    expect(text).toContain('lookout_check_duration_seconds_bucket{le="0.005",target="1/x"} 0');
    expect(text).toContain('lookout_check_duration_seconds_bucket{le="0.01",target="1/x"} 1');
    expect(text).toContain('lookout_check_duration_seconds_bucket{le="10",target="1/x"} 1');
    expect(text).toContain('lookout_check_duration_seconds_bucket{le="+Inf",target="1/x"} 2');
    expect(text).toContain('lookout_check_duration_seconds_count{target="1/x"} 2');
    expect(text).toContain('lookout_target_state{target="1/x",state="DOWN"} 1');
    expect(text).toContain('lookout_target_up{target="1/x"} 0');
  });
});
