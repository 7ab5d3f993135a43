// npm run bench [-- --targets 10000 --interval 10000 --duration 60 --baseline 20 --json]
// Engine throughput, scheduling lateness, memory and CPU per check against a local HTTP server,
// compared with a bare undici loop at the same rate and connection policy.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import type { HttpTarget } from '../src/kinds/http/index.js';
import { createEngine } from '../src/engine/engine.js';
import { systemClock } from '../src/lib/clock.js';
import { createHttpAgent, createHttpProbe } from '../src/kinds/http/probe.js';
import { createProbeRegistry } from '../src/probes/registry.js';
import { openStore } from '../src/store/keyv.js';
import { createStateRepository } from '../src/store/states.js';
import { createTargetRepository } from '../src/store/targets.js';
import { httpTarget } from '../test/support/target-server.js';
import { cpuMsSince, quantile, round } from './stats.js';

const { values: args } = parseArgs({
  options: {
    targets: { type: 'string', default: '10000' },
    interval: { type: 'string', default: '10000' },
    duration: { type: 'string', default: '60' },
    baseline: { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '100' },
    resolution: { type: 'string', default: '10' },
    json: { type: 'boolean', default: false },
  },
});
const N = Number(args.targets);
const intervalMs = Number(args.interval);
const durationS = Number(args.duration);
const baselineS = Number(args.baseline);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function startServer(): Promise<{ port: number; child: ChildProcess }> {
  const child = fork(fileURLToPath(new URL('./target-server.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`target server exited with ${code}`)));
  });
  return { port, child };
}

function makeTarget(i: number, port: number): HttpTarget {
  return httpTarget({
    id: `-100/t${i}`,
    chatId: -100,
    name: `t${i}`,
    url: `http://127.0.0.1:${port}/t/${i}`,
    everyMs: intervalMs,
    timeoutMs: Math.min(5_000, intervalMs - 1),
    retryMs: 1_000,
  });
}

async function benchEngine(port: number) {
  const dataDir = await mkdtemp(join(tmpdir(), 'lookout-bench-'));
  const store = await openStore({ kind: 'sqlite', dataDir });
  const targets = createTargetRepository(store);
  const states = createStateRepository(store);
  await Promise.all(Array.from({ length: N }, (_, i) => targets.put(makeTarget(i, port))));
  const agent = createHttpAgent();
  const engine = createEngine({
    targets,
    states,
    probes: createProbeRegistry([createHttpProbe({ dispatcher: agent })]),
    clock: systemClock,
    concurrency: Number(args.concurrency),
    timerResolutionMs: Number(args.resolution),
  });
  let measuring = false;
  let checks = 0;
  let failures = 0;
  const lateness: number[] = [];
  engine.onCheck((e) => {
    if (!measuring) return;
    checks++;
    if (!e.result.ok) failures++;
    lateness.push(e.latenessMs);
  });
  await engine.start();
  // Warm-up: one interval, so every target has had its first check (and its UNKNOWN → UP write).
  await sleep(intervalMs + 500);
  global.gc?.();
  let rssPeak = 0;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 250);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  measuring = true;
  await sleep(durationS * 1_000);
  measuring = false;
  const cpuMs = cpuMsSince(cpu0);
  const elapsedS = (performance.now() - t0) / 1_000;
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  global.gc?.();
  const heapAfterGcMb = process.memoryUsage().heapUsed / 1_048_576;
  await engine.stop();
  await agent.close();
  await store.close();
  await rm(dataDir, { recursive: true, force: true });
  return {
    checks,
    failures,
    checks_per_s: checks / elapsedS,
    lateness_p50_ms: quantile(lateness, 0.5),
    lateness_p99_ms: quantile(lateness, 0.99),
    lateness_max_ms: quantile(lateness, 1),
    rss_mb: rssPeak / 1_048_576,
    heap_after_gc_mb: heapAfterGcMb,
    cpu_ms_per_check: cpuMs / checks,
  };
}

/** A bare undici loop: the same rate, the same agent settings, a fresh connection per request. */
async function benchBaseline(port: number, ratePerS: number) {
  const agent = createHttpAgent();
  const url = `http://127.0.0.1:${port}/baseline`;
  let done = 0;
  const one = async (): Promise<void> => {
    const res = await request(url, { dispatcher: agent, method: 'GET', headers: { 'user-agent': 'baseline' }, reset: true });
    await res.body.dump();
    done++;
  };
  // Requests are started on a 5 ms tick, as many as the elapsed time calls for (no drift).
  const began = performance.now();
  let launched = 0;
  const inflight = new Set<Promise<void>>();
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - began) / 1_000) * ratePerS);
    for (; launched < due; launched++) {
      const p = one().catch(() => undefined);
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
  }, 5);
  await sleep(2_000);
  const cpu0 = process.cpuUsage();
  const start = done;
  const t0 = performance.now();
  await sleep(baselineS * 1_000);
  const cpuMs = cpuMsSince(cpu0);
  const requests = done - start;
  const elapsedS = (performance.now() - t0) / 1_000;
  clearInterval(timer);
  await Promise.all(inflight);
  await agent.close();
  return { requests, requests_per_s: requests / elapsedS, cpu_ms_per_request: cpuMs / requests };
}

async function main(): Promise<void> {
  const server = await startServer();
  try {
    const engine = await benchEngine(server.port);
    const baseline = await benchBaseline(server.port, engine.checks_per_s);
    const result = {
      bench: 'engine',
      node: process.version,
      targets: N,
      interval_ms: intervalMs,
      duration_s: durationS,
      checks: engine.checks,
      failures: engine.failures,
      checks_per_s: round(engine.checks_per_s, 1),
      lateness_p50_ms: round(engine.lateness_p50_ms, 1),
      lateness_p99_ms: round(engine.lateness_p99_ms, 1),
      lateness_max_ms: round(engine.lateness_max_ms, 1),
      rss_mb: round(engine.rss_mb, 1),
      heap_after_gc_mb: round(engine.heap_after_gc_mb, 1),
      cpu_ms_per_check: round(engine.cpu_ms_per_check, 3),
      baseline_requests_per_s: round(baseline.requests_per_s, 1),
      baseline_cpu_ms_per_request: round(baseline.cpu_ms_per_request, 3),
      overhead_ratio: round(engine.cpu_ms_per_check / baseline.cpu_ms_per_request, 3),
    };
    if (args.json) {
      process.stdout.write(`${JSON.stringify(result)}\n`);
    } else {
      const goals: Record<string, string> = {
        checks_per_s: `goal >= ${N / (intervalMs / 1_000)}`,
        lateness_p99_ms: 'goal < 100',
        rss_mb: 'goal < 250',
        overhead_ratio: 'goal < 1.25',
      };
      for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(30)} ${String(v).padStart(12)}  ${goals[k] ?? ''}`);
    }
  } finally {
    server.child.kill();
  }
}

await main();
