import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseEnv } from '../../src/config/config.js';
import { STOP_BUDGET_MS } from '../../src/main.js';

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
  type Service = { restart: string; volumes: string[]; cap_add: string[]; cap_drop: string[]; stop_grace_period: string; environment: Record<string, string>; security_opt?: string[] };
  const compose = parseYaml(read('docker-compose.yml')) as { services: { lookout: Service }; volumes: Record<string, unknown> };
  const service = compose.services.lookout;
  it('keeps data in a named volume at DATA_DIR, restarts always and keeps only NET_RAW for mtr', () => {
    expect(service.restart).toBe('always');
    expect(service.volumes).toContain('lookout-data:/data');
    expect(Object.keys(compose.volumes)).toContain('lookout-data');
    expect(service.environment.DATA_DIR).toBe('/data');
    expect(Number(service.environment.HTTP_PORT)).toBe(defaults.httpPort);
    expect(service.cap_drop).toEqual(['ALL']);
    expect(service.cap_add).toEqual(['NET_RAW']);
    // no-new-privileges would make the kernel ignore mtr-packet's file capability.
    expect(service.security_opt ?? []).not.toContain('no-new-privileges:true');
  });
  it('waits longer than the shutdown may take', () => {
    expect(Number(/^(\d+)s$/.exec(service.stop_grace_period)?.[1]) * 1_000).toBeGreaterThan(STOP_BUDGET_MS.total);
  });
});

describe('fly.toml and the systemd unit give the shutdown its time', () => {
  it('kill_timeout and TimeoutStopSec exceed the hard stop', () => {
    expect(Number(/^kill_timeout = (\d+)$/m.exec(read('fly.toml'))?.[1]) * 1_000).toBeGreaterThan(STOP_BUDGET_MS.total);
    const unit = /```ini\n([\s\S]*?lookout\.service[\s\S]*?)```/.exec(read('README.md'))?.[1] ?? '';
    expect(Number(/^\s*TimeoutStopSec=(\d+)$/m.exec(unit)?.[1]) * 1_000).toBeGreaterThan(STOP_BUDGET_MS.total);
    for (const line of ['NoNewPrivileges=true', 'ProtectSystem=strict', 'User=lookout', 'Restart=always', 'AmbientCapabilities=CAP_NET_RAW', 'ExecReload=/bin/kill -HUP $MAINPID']) {
      expect(unit).toContain(line);
    }
  });
});

describe('monitoring files', () => {
  it('the Grafana dashboard is valid JSON with a query in every panel', () => {
    const dashboard = JSON.parse(read('deploy/grafana-dashboard.json')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
    expect(dashboard.panels.length).toBeGreaterThan(5);
    for (const panel of dashboard.panels) expect(panel.targets.length, panel.title).toBeGreaterThan(0);
  });
  it('the Prometheus rules parse and alert on Lookout being down', () => {
    const rules = parseYaml(read('deploy/prometheus-rules.yml')) as { groups: Array<{ rules: Array<{ alert: string; expr: string; for: string }> }> };
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.map((r) => r.alert)).toEqual(expect.arrayContaining(['LookoutDown', 'LookoutUnhealthy', 'LookoutOutboxBacklog']));
    for (const r of all) expect(r.expr, r.alert).toBeTruthy();
  });
});
