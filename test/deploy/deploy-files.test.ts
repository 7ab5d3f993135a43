import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../src/config/config.js';

// No Docker daemon or flyctl on the CI machines: the deployment files are checked by reading them.
const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const defaults = (() => {
  const parsed = parseEnv({});
  if (!parsed.ok) throw new Error('defaults must parse');
  return parsed.config;
})();

describe('fly.toml', () => {
  const fly = read('fly.toml');
  it('mounts a volume at DATA_DIR and keeps one machine always running', () => {
    expect(fly).toMatch(/\[mounts\][^[]*destination = "\/data"/);
    expect(fly).toMatch(/DATA_DIR = "\/data"/);
    expect(fly).toMatch(/auto_stop_machines = "off"/);
    expect(fly).toMatch(/min_machines_running = 1/);
  });
  it('serves HTTP_PORT and checks /healthz, matching the code', () => {
    const port = /internal_port = (\d+)/.exec(fly)?.[1];
    expect(Number(port)).toBe(defaults.httpPort);
    expect(fly).toMatch(/HTTP_PORT = "8080"/);
    expect(fly).toMatch(/path = "\/healthz"/);
    expect(fly).toMatch(/WEBHOOK_URL = "https:\/\//);
    expect(fly).not.toMatch(/^\s*BOT_TOKEN\s*=/m);
  });
});

describe('Dockerfile health check', () => {
  it('asks /healthz on HTTP_PORT', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/HEALTHCHECK[\s\S]*\/healthz/);
    expect(dockerfile).toMatch(/HTTP_PORT=8080/);
  });
});

describe('docker-compose.yml', () => {
  it('keeps data in a volume at /data, restarts always and keeps NET_RAW for mtr', () => {
    const compose = read('docker-compose.yml');
    expect(compose).toMatch(/restart: always/);
    expect(compose).toMatch(/lookout-data:\/data/);
    expect(compose).toMatch(/cap_add: \[NET_RAW\]/);
  });
});

describe('monitoring files', () => {
  it('the Grafana dashboard is valid JSON and queries only metrics Lookout exposes', () => {
    const dashboard = JSON.parse(read('deploy/grafana-dashboard.json')) as { panels: Array<{ targets: Array<{ expr: string }> }> };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(5);
    for (const expr of exprs) expect(expr).toMatch(/lookout_/);
  });
  it('the Prometheus rules alert on Lookout being down', () => {
    const rules = read('deploy/prometheus-rules.yml');
    expect(rules).toMatch(/alert: LookoutDown/);
    expect(rules).toMatch(/lookout_outbox_depth/);
  });
});
