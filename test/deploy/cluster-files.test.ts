import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { parseEnv } from '../../src/config/config.js';
import { SETTINGS } from '../../src/config/settings.js';
import { STOP_BUDGET_MS } from '../../src/main.js';

// The files for several instances on one PostgreSQL (README "Running more than one"): no Docker daemon,
// cluster or flyctl on the CI machines, so they are checked by parsing them. Each check is a function that
// lists the problems it finds, so that mutated copies can show every check can fail.

const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
const clone = <T>(value: T): T => structuredClone(value);
const HTTP_PORT = (() => {
  const parsed = parseEnv({});
  if (!parsed.ok) throw new Error('defaults must parse');
  return parsed.config.httpPort;
})();
const SETTING_NAMES = new Set(SETTINGS.map((s) => s.name));
/** A Telegram bot token (`123456789:AA…`): none may be committed. */
const TELEGRAM_TOKEN = /\d{6,12}:[A-Za-z0-9_-]{30,}/;
/** A well-formed token that is no one's, for checking that the rest of a file's settings parse. */
const FAKE_TOKEN = `123456789:${'A'.repeat(35)}`;

/** Compose durations (`30s`, `1m30s`, `500ms`) in ms; NaN when not one. */
function durationMs(value: unknown): number {
  if (typeof value !== 'string' || !/^(\d+(ms|h|m|s))+$/.test(value)) return Number.NaN;
  const unit = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
  let total = 0;
  for (const [, n, u] of value.matchAll(/(\d+)(ms|h|m|s)/g)) total += Number(n) * unit[u as keyof typeof unit];
  return total;
}

/** `${VAR}`, `${VAR:-default}`, `${VAR:?error}`, `${VAR?error}` as compose would give them with `vars` set. */
function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{(\w+)(?:(:?[-?])([^}]*))?\}/g, (_, name: string, op: string | undefined, word: string | undefined) => {
    const set = vars[name];
    if (op?.endsWith('-')) return set !== undefined && (op === '-' || set !== '') ? set : (word ?? '');
    return set ?? '';
  });
}

// ---------------------------------------------------------------- docker-compose.cluster.yml

type ComposeService = {
  image?: string;
  build?: unknown;
  restart?: string;
  environment?: Record<string, string> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: string[] | string };
  stop_grace_period?: string;
  volumes?: string[];
  ports?: string[];
  cap_add?: string[];
  cap_drop?: string[];
};
type Compose = { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };

const envOf = (s: ComposeService): Record<string, string> =>
  Array.isArray(s.environment) ? Object.fromEntries(s.environment.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])) : { ...(s.environment ?? {}) };
const healthTest = (s: ComposeService): string => [s.healthcheck?.test ?? []].flat().join(' ');

function composeProblems(compose: Compose, names: readonly string[] = ['lookout-a', 'lookout-b']): string[] {
  const problems: string[] = [];
  const services = compose.services ?? {};
  const postgresNames = Object.keys(services).filter((n) => /^postgres:15(\b|$)/.test(services[n]?.image ?? ''));
  if (postgresNames.length !== 1) return ['one postgres:15 service'];
  const pgName = postgresNames[0] as string;
  const pg = services[pgName] as ComposeService;
  const pgEnv = envOf(pg);
  if (pgEnv.POSTGRES_USER !== 'lookout' || pgEnv.POSTGRES_DB !== 'lookout') problems.push('postgres: POSTGRES_USER and POSTGRES_DB lookout');
  if (!/^\$\{POSTGRES_PASSWORD[:?}]/.test(pgEnv.POSTGRES_PASSWORD ?? '')) problems.push('postgres: POSTGRES_PASSWORD from the environment');
  const pgVolume = (pg.volumes ?? []).find((v) => v.endsWith(':/var/lib/postgresql/data'))?.split(':')[0];
  if (pgVolume === undefined || !Object.keys(compose.volumes ?? {}).includes(pgVolume)) problems.push('postgres: a named volume for its data');
  if (!/pg_isready/.test(healthTest(pg))) problems.push('postgres: healthcheck pg_isready');

  const lookouts = Object.entries(services).filter(([name]) => name.startsWith('lookout'));
  if (lookouts.map(([n]) => n).sort().join(',') !== [...names].sort().join(',')) problems.push(`${names.length === 2 ? 'two' : names.length} Lookouts: ${names.join(' and ')}`);
  const hostPorts = new Set<string>();
  for (const [name, s] of lookouts) {
    const env = envOf(s);
    const url = interpolate(env.DATABASE_URL ?? '', { POSTGRES_PASSWORD: 'pw' });
    const parsed = URL.canParse(url) ? new URL(url) : undefined;
    if (!/^\$\{POSTGRES_PASSWORD[:?}]/.test(/^postgres:\/\/lookout:([^@]*)@/.exec(env.DATABASE_URL ?? '')?.[1] ?? '')) problems.push(`${name}: DATABASE_URL takes the password from POSTGRES_PASSWORD`);
    if (parsed?.protocol !== 'postgres:' || parsed.hostname !== pgName || parsed.port !== '5432' || parsed.pathname !== '/lookout' || parsed.username !== 'lookout') {
      problems.push(`${name}: DATABASE_URL points at the ${pgName} service`);
    }
    const dependsOn = Array.isArray(s.depends_on) ? {} : (s.depends_on ?? {});
    if (dependsOn[pgName]?.condition !== 'service_healthy') problems.push(`${name}: depends_on ${pgName} service_healthy`);
    if (s.restart !== 'unless-stopped') problems.push(`${name}: restart unless-stopped`);
    if (!(durationMs(s.stop_grace_period) >= 25_000 && durationMs(s.stop_grace_period) > STOP_BUDGET_MS.total)) problems.push(`${name}: stop_grace_period ≥ 25s`);
    // node's fetch: the image has no curl.
    if (!/\bnode\b[\s\S]*fetch\([\s\S]*\/healthz/.test(healthTest(s))) problems.push(`${name}: healthcheck on /healthz with node`);
    if (s.build === undefined && !/^lookout(:|$)/.test(s.image ?? '')) problems.push(`${name}: built from the Dockerfile or the lookout image`);
    if (!/^\$\{BOT_TOKEN\b/.test(env.BOT_TOKEN ?? '') || !/^\$\{ALLOWED_CHAT_IDS\b/.test(env.ALLOWED_CHAT_IDS ?? '')) problems.push(`${name}: BOT_TOKEN and ALLOWED_CHAT_IDS from the environment`);
    if (Number(env.HTTP_PORT) !== HTTP_PORT) problems.push(`${name}: HTTP_PORT ${HTTP_PORT}`);
    for (const key of Object.keys(env)) if (!SETTING_NAMES.has(key)) problems.push(`${name}: unknown setting ${key}`);
    if (JSON.stringify(s.cap_drop) !== '["ALL"]' || JSON.stringify(s.cap_add) !== '["NET_RAW"]') problems.push(`${name}: drops every capability but NET_RAW`);
    for (const port of s.ports ?? []) {
      const host = port.split(':').slice(0, -1).join(':');
      if (hostPorts.has(host)) problems.push(`${name}: host port ${host} taken twice`);
      hostPorts.add(host);
    }
    const config = parseEnv(Object.fromEntries(Object.entries(env).map(([k, v]) => [k, interpolate(v, { POSTGRES_PASSWORD: 'pw', BOT_TOKEN: FAKE_TOKEN, ALLOWED_CHAT_IDS: '1' })])));
    if (!config.ok || config.config.databaseUrl === undefined) problems.push(`${name}: its environment parses with a DATABASE_URL`);
  }
  return problems;
}

describe('docker-compose.cluster.yml', () => {
  const text = read('docker-compose.cluster.yml');
  const compose = parseYaml(text, { merge: true }) as Compose;

  it('runs postgres:15 and two Lookouts on it, healthy before they start, with time to stop', () => {
    expect(composeProblems(compose)).toEqual([]);
    // One place for both (the default, the host name, would make each container a place: every target checked twice).
    const places = ['lookout-a', 'lookout-b'].map((n) => interpolate(envOf(compose.services[n]!).LOCATION ?? '', {}));
    expect(places[0]).not.toBe('');
    expect(places[1]).toBe(places[0]);
  });

  it('the checks catch a broken copy', () => {
    const wrongHost = clone(compose);
    (wrongHost.services['lookout-b']?.environment as Record<string, string>).DATABASE_URL = 'postgres://lookout:${POSTGRES_PASSWORD}@localhost:5432/lookout';
    expect(composeProblems(wrongHost)).toEqual(['lookout-b: DATABASE_URL points at the postgres service']);

    const started = clone(compose);
    (started.services['lookout-a'] as ComposeService).depends_on = { postgres: { condition: 'service_started' } };
    expect(composeProblems(started)).toEqual(['lookout-a: depends_on postgres service_healthy']);

    const short = clone(compose);
    (short.services['lookout-a'] as ComposeService).stop_grace_period = '10s';
    delete (short.services['lookout-b'] as ComposeService).healthcheck;
    expect(composeProblems(short)).toEqual(['lookout-a: stop_grace_period ≥ 25s', 'lookout-b: healthcheck on /healthz with node']);

    const one = clone(compose);
    delete one.services['lookout-b'];
    delete (one.services.postgres as ComposeService).healthcheck;
    expect(composeProblems(one)).toEqual(['postgres: healthcheck pg_isready', 'two Lookouts: lookout-a and lookout-b']);

    const literal = clone(compose);
    (literal.services.postgres?.environment as Record<string, string>).POSTGRES_PASSWORD = 'hunter2';
    (literal.services['lookout-a']?.environment as Record<string, string>).DATABASE_URL = 'postgres://lookout:hunter2@postgres:5432/lookout';
    expect(composeProblems(literal)).toEqual(['postgres: POSTGRES_PASSWORD from the environment', 'lookout-a: DATABASE_URL takes the password from POSTGRES_PASSWORD']);
  });

  it('commits no secret: the password and the token come from the environment', () => {
    expect(text).not.toMatch(TELEGRAM_TOKEN);
    // `:?` makes compose refuse to start without a password instead of using an empty one.
    expect(text).toMatch(/POSTGRES_PASSWORD: \$\{POSTGRES_PASSWORD:\?/);
  });
});

// ---------------------------------------------------------------- deploy/k8s/

type Probe = { httpGet?: { path?: string; port?: number | string } };
type Container = {
  name: string;
  image?: string;
  ports?: Array<{ name?: string; containerPort: number }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  securityContext?: { runAsNonRoot?: boolean; allowPrivilegeEscalation?: boolean; capabilities?: { add?: string[]; drop?: string[] } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
};
type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    type?: string;
    ports?: Array<{ port: number; targetPort?: number | string }>;
    template?: {
      metadata?: { labels?: Record<string, string> };
      spec?: { terminationGracePeriodSeconds?: number; securityContext?: { runAsNonRoot?: boolean }; containers?: Container[] };
    };
  };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  resources?: string[];
};
type Folder = { files: Record<string, Manifest[]>; kustomization: Manifest };

const K8S = 'deploy/k8s';
function readFolder(): Folder {
  const files: Record<string, Manifest[]> = {};
  let kustomization: Manifest | undefined;
  for (const file of readdirSync(new URL(`../../${K8S}/`, import.meta.url)).filter((f) => /\.ya?ml$/.test(f)).sort()) {
    const docs = parseAllDocuments(read(`${K8S}/${file}`));
    for (const doc of docs) if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
    const manifests = docs.map((d) => d.toJS() as Manifest).filter((m) => m !== null);
    if (file === 'kustomization.yaml') kustomization = manifests[0];
    else files[file] = manifests;
  }
  if (!kustomization) throw new Error('no kustomization.yaml');
  return { files, kustomization };
}

const subset = (small: Record<string, string> | undefined, big: Record<string, string> | undefined): boolean =>
  small !== undefined && Object.keys(small).length > 0 && Object.entries(small).every(([k, v]) => big?.[k] === v);

function k8sProblems({ files, kustomization }: Folder): string[] {
  const problems: string[] = [];
  const all = Object.values(files).flat();
  const of = (kind: string): Manifest[] => all.filter((m) => m.kind === kind);

  const listed = [...(kustomization.resources ?? [])].sort();
  if (JSON.stringify(listed) !== JSON.stringify(Object.keys(files).sort())) problems.push(`kustomization lists every file (${Object.keys(files).sort().join(', ')})`);

  const deployments = of('Deployment');
  if (deployments.length !== 1) return [...problems, 'one Deployment'];
  const deployment = deployments[0] as Manifest;
  const pod = deployment.spec?.template;
  const podLabels = pod?.metadata?.labels;
  const container = pod?.spec?.containers?.[0];
  if (deployment.spec?.replicas !== 2) problems.push('Deployment: 2 replicas');
  if (!subset(deployment.spec?.selector?.matchLabels, podLabels)) problems.push('Deployment: its selector matches its pod labels');
  if (!container) return [...problems, 'Deployment: a container'];
  const port = container.ports?.find((p) => p.containerPort === HTTP_PORT);
  if (!port) problems.push(`Deployment: containerPort ${HTTP_PORT}`);
  const probePort = (p: Probe): number | undefined =>
    typeof p.httpGet?.port === 'number' ? p.httpGet.port : container.ports?.find((c) => c.name !== undefined && c.name === p.httpGet?.port)?.containerPort;
  for (const kind of ['readinessProbe', 'livenessProbe'] as const) {
    const probe = container[kind];
    if (probe?.httpGet?.path !== '/healthz' || probePort(probe) !== HTTP_PORT) problems.push(`Deployment: ${kind} on /healthz:${HTTP_PORT}`);
  }
  if (container.startupProbe && (container.startupProbe.httpGet?.path !== '/healthz' || probePort(container.startupProbe) !== HTTP_PORT)) problems.push('Deployment: startupProbe on /healthz');
  if (!((pod?.spec?.terminationGracePeriodSeconds ?? 30) * 1_000 > STOP_BUDGET_MS.total)) problems.push('Deployment: terminationGracePeriodSeconds exceeds the shutdown budget');
  const security = container.securityContext;
  if ((security?.runAsNonRoot ?? pod?.spec?.securityContext?.runAsNonRoot) !== true) problems.push('Deployment: runAsNonRoot');
  if (JSON.stringify(security?.capabilities?.drop) !== '["ALL"]' || JSON.stringify(security?.capabilities?.add) !== '["NET_RAW"]') problems.push('Deployment: drops ALL capabilities and adds NET_RAW only');
  // no_new_privs would make the kernel ignore mtr-packet's and ping's file capability.
  if (security?.allowPrivilegeEscalation === false) problems.push('Deployment: allowPrivilegeEscalation false breaks mtr and ping');
  for (const r of ['cpu', 'memory']) {
    if (!container.resources?.requests?.[r] || !container.resources?.limits?.[r]) problems.push(`Deployment: ${r} requests and limits`);
  }

  const configMapName = container.envFrom?.find((e) => e.configMapRef)?.configMapRef?.name;
  const secretName = container.envFrom?.find((e) => e.secretRef)?.secretRef?.name;
  const configMap = of('ConfigMap').find((m) => m.metadata.name === configMapName);
  const secret = of('Secret').find((m) => m.metadata.name === secretName);
  if (!configMap) problems.push(`Deployment: env from a ConfigMap in the folder (${configMapName ?? 'none'})`);
  if (!secret) problems.push(`Deployment: env from a Secret in the folder (${secretName ?? 'none'})`);
  if (configMap) {
    const data = configMap.data ?? {};
    for (const key of ['ALLOWED_CHAT_IDS', 'LOG_LEVEL', 'HTTP_PORT']) if (data[key] === undefined) problems.push(`ConfigMap: ${key}`);
    if (data.HTTP_PORT !== undefined && Number(data.HTTP_PORT) !== HTTP_PORT) problems.push(`ConfigMap: HTTP_PORT ${HTTP_PORT}`);
    for (const key of Object.keys(data)) {
      if (!SETTING_NAMES.has(key)) problems.push(`ConfigMap: unknown setting ${key}`);
      if (SETTINGS.find((s) => s.name === key)?.secret) problems.push(`ConfigMap: ${key} belongs in the Secret`);
    }
  }
  if (secret) {
    const values = { ...(secret.stringData ?? {}) };
    if (secret.data !== undefined) problems.push('Secret: stringData placeholders, no data');
    for (const key of ['BOT_TOKEN', 'DATABASE_URL']) if (values[key] === undefined) problems.push(`Secret: ${key}`);
    for (const [key, value] of Object.entries(values)) {
      if (!SETTING_NAMES.has(key)) problems.push(`Secret: unknown setting ${key}`);
      if (!value.includes('change-me')) problems.push(`Secret: ${key} is a placeholder (change-me)`);
    }
  }
  if (configMap && secret) {
    // The placeholder token is refused at start (as it should be); the rest must parse as it stands.
    const env = parseEnv({ ...configMap.data, ...secret.stringData, BOT_TOKEN: FAKE_TOKEN });
    if (!env.ok || env.config.databaseUrl === undefined) problems.push(`ConfigMap and Secret parse as settings with a DATABASE_URL${env.ok ? '' : `: ${env.errors.join('; ')}`}`);
  }

  const services = of('Service');
  if (services.length !== 1) return [...problems, 'one Service'];
  const service = services[0] as Manifest;
  if ((service.spec?.type ?? 'ClusterIP') !== 'ClusterIP') problems.push('Service: ClusterIP');
  if (!subset(service.spec?.selector, podLabels)) problems.push("Service: selects the Deployment's pods");
  const servicePort = service.spec?.ports?.[0];
  const target = servicePort?.targetPort ?? servicePort?.port;
  const targetNumber = typeof target === 'number' ? target : container.ports?.find((p) => p.name !== undefined && p.name === target)?.containerPort;
  if (servicePort?.port !== HTTP_PORT || port === undefined || targetNumber !== port.containerPort) problems.push(`Service: port ${HTTP_PORT} to the containerPort`);
  return problems;
}

describe('deploy/k8s/', () => {
  const folder = readFolder();
  const deploymentFile = Object.keys(folder.files).find((f) => folder.files[f]?.some((m) => m.kind === 'Deployment')) as string;
  const withDeployment = (change: (d: Manifest) => void): Folder => {
    const copy = clone(folder);
    change(copy.files[deploymentFile]?.find((m) => m.kind === 'Deployment') as Manifest);
    return copy;
  };
  const container = (d: Manifest): Container => d.spec?.template?.spec?.containers?.[0] as Container;

  it('a Deployment of 2 replicas probed on /healthz, its ConfigMap, Secret and Service, all in the kustomization', () => {
    expect(k8sProblems(folder)).toEqual([]);
    expect(Object.keys(folder.files).sort()).toEqual(['configmap.yaml', 'deployment.yaml', 'secret.yaml', 'service.yaml']);
  });

  it('the checks catch a broken copy', () => {
    expect(k8sProblems(withDeployment((d) => ((d.spec as { replicas: number }).replicas = 1)))).toEqual(['Deployment: 2 replicas']);
    expect(k8sProblems(withDeployment((d) => ((container(d).livenessProbe as Probe).httpGet = { path: '/health', port: 8080 })))).toEqual(['Deployment: livenessProbe on /healthz:8080']);
    expect(k8sProblems(withDeployment((d) => ((container(d).readinessProbe as Probe).httpGet = { path: '/healthz', port: 9090 })))).toEqual(['Deployment: readinessProbe on /healthz:8080']);
    expect(
      k8sProblems(
        withDeployment((d) => {
          container(d).envFrom = [{ configMapRef: { name: 'other' } }, { secretRef: { name: 'lookout-secrets' } }];
        }),
      ),
    ).toEqual(['Deployment: env from a ConfigMap in the folder (other)']);
    // Pod labels changed without the Service (and the Deployment's selector) following.
    expect(k8sProblems(withDeployment((d) => ((d.spec?.template?.metadata as { labels: Record<string, string> }).labels = { app: 'x' })))).toEqual([
      'Deployment: its selector matches its pod labels',
      "Service: selects the Deployment's pods",
    ]);
    expect(k8sProblems(withDeployment((d) => (container(d).ports = [{ name: 'web', containerPort: 8080 }])))).toEqual(['Service: port 8080 to the containerPort']);
    expect(k8sProblems(withDeployment((d) => (container(d).securityContext = { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'], add: ['NET_RAW', 'NET_ADMIN'] } })))).toEqual([
      'Deployment: drops ALL capabilities and adds NET_RAW only',
      'Deployment: allowPrivilegeEscalation false breaks mtr and ping',
    ]);

    const unlisted = clone(folder);
    unlisted.kustomization.resources = unlisted.kustomization.resources?.filter((r) => r !== 'service.yaml');
    expect(k8sProblems(unlisted)).toEqual(['kustomization lists every file (configmap.yaml, deployment.yaml, secret.yaml, service.yaml)']);

    const leaked = clone(folder);
    const secret = Object.values(leaked.files).flat().find((m) => m.kind === 'Secret') as Manifest;
    (secret.stringData as Record<string, string>).BOT_TOKEN = FAKE_TOKEN;
    const configMap = Object.values(leaked.files).flat().find((m) => m.kind === 'ConfigMap') as Manifest;
    (configMap.data as Record<string, string>).WEBHOOK_SECRET = 'x';
    expect(k8sProblems(leaked)).toEqual(['ConfigMap: WEBHOOK_SECRET belongs in the Secret', 'Secret: BOT_TOKEN is a placeholder (change-me)']);
  });

  it('commits no secret value', () => {
    for (const file of [...Object.keys(folder.files), 'kustomization.yaml']) {
      const text = read(`${K8S}/${file}`);
      expect(text, file).not.toMatch(TELEGRAM_TOKEN);
    }
    // Base64 `data:` would hide a real value from review: the Secret has stringData placeholders only.
    expect(read(`${K8S}/secret.yaml`)).not.toMatch(/^\s*data:/m);
    // The image's user is `node` (uid 1000): runAsNonRoot can only verify a numeric user.
    expect(read('Dockerfile')).toMatch(/^USER node$/m);
    expect(read(`${K8S}/deployment.yaml`)).toMatch(/runAsUser: 1000/);
  });
});

// ---------------------------------------------------------------- README

describe('README "Running more than one"', () => {
  const readme = read('README.md');
  const section = /### Running more than one[^\n]*\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? '';
  it('has the exact commands for compose, Kubernetes and Fly.io', () => {
    for (const command of [
      'docker compose -f docker-compose.cluster.yml up -d',
      'kubectl apply -k deploy/k8s/',
      'fly postgres create',
      'fly postgres attach',
      'fly scale count 2',
    ]) {
      expect(section, command).toContain(command);
    }
    // A standby answers 503 to everything but /healthz and /metrics (src/main.ts startStandbyServer).
    expect(section).toMatch(/503/);
  });
});

describe('docker-compose.locations.yml', () => {
  const compose = parseYaml(read('docker-compose.locations.yml'), { merge: true }) as Compose;
  const names = ['lookout-fra', 'lookout-nyc', 'lookout-sgp'];

  it('runs postgres:15 and three Lookouts on it, each in a place of its own (LOCATION fra, nyc, sgp)', () => {
    expect(composeProblems(compose, names)).toEqual([]);
    const locations = names.map((n) => envOf(compose.services[n]!).LOCATION);
    expect(locations).toEqual(['fra', 'nyc', 'sgp']);
    for (const n of names) expect(envOf(compose.services[n]!).INSTANCE_ID).toBe(n);
  });

  it('the checks catch a copy with two Lookouts in one place', () => {
    const same = clone(compose);
    (same.services['lookout-nyc']!.environment as Record<string, string>).LOCATION = 'fra';
    expect(new Set(names.map((n) => envOf(same.services[n]!).LOCATION)).size).toBe(2);
  });
});
