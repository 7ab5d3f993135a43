// npm run bench:history [-- --targets 1000 --days 30 --json]
// History write cost per check, and the size of the SQLite database after a simulated month of
// 1,000 targets checked every 60 s (goal: under 200 MB).
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { TargetState } from '../src/domain/state.js';
import type { Clock } from '../src/lib/clock.js';
import { createHistory } from '../src/store/history.js';
import { openStore } from '../src/store/keyv.js';
import { round } from './stats.js';

const { values: args } = parseArgs({
  options: {
    targets: { type: 'string', default: '1000' },
    days: { type: 'string', default: '30' },
    flush: { type: 'string', default: '60' },
    json: { type: 'boolean', default: false },
  },
});
const N = Number(args.targets);
const DAYS = Number(args.days);
const flushMinutes = Number(args.flush);
const MIN = 60_000;
const START = Date.UTC(2026, 10, 1);

/** A clock the simulation sets; the history's own flush timer is not used (flushes are called). */
let now = START;
const clock: Clock = { now: () => now, setTimeout: () => 0 as never, clearTimeout: () => undefined };

/** Deterministic pseudo-random numbers. */
let seed = 7;
const random = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
  return seed / 0x7fffffff;
};
const REASONS = ['timeout after 10s', 'HTTP 503, expected 200-299', 'connection refused'];

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size;
  return total;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), 'lookout-bench-history-'));
  const store = await openStore({ kind: 'sqlite', dataDir });
  const history = createHistory({ store, clock });
  const ids = Array.from({ length: N }, (_, i) => `-100/t${i}`);
  const states = new Map<string, TargetState>(ids.map((id) => [id, 'UP']));
  for (const id of ids) history.change(id, START, 'UP');

  let checks = 0;
  let recordNs = 0;
  const minutes = DAYS * 24 * 60;
  const wall = performance.now();
  for (let m = 0; m < minutes; m++) {
    now = START + m * MIN;
    const started = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      const id = ids[i]!;
      // Each target at its own phase within the minute; ~1% of checks fail, mostly in short outages.
      const at = now + ((i * 7_919) % MIN);
      const failing = random() < 0.01;
      history.record(id, failing ? { ok: false, latencyMs: 10_000, reason: REASONS[i % 3]!, at } : { ok: true, latencyMs: 20 + random() * 300 + (random() < 0.02 ? 2_000 : 0), at });
      const next: TargetState = failing && random() < 0.1 ? 'DOWN' : 'UP';
      if (next !== states.get(id)) {
        states.set(id, next);
        history.change(id, at, next);
      }
      checks++;
    }
    recordNs += Number(process.hrtime.bigint() - started);
    // In production the history flushes every 5 minutes; the simulation flushes every `--flush`
    // minutes (default 60) to finish sooner. The rows end the same: only how often they are rewritten differs.
    if (m % flushMinutes === flushMinutes - 1) await history.flush();
  }
  now = START + minutes * MIN;
  await history.stop();
  const simulatedS = (performance.now() - wall) / 1_000;
  const flushMs = history.stats.writeMs;
  await store.close();
  const bytes = await sizeOf(dataDir);
  await rm(dataDir, { recursive: true, force: true });

  const result = {
    targets: N,
    days: DAYS,
    checks,
    record_ns_per_check: round(recordNs / checks, 0),
    row_writes: history.stats.writes,
    write_ms_per_row: round(flushMs / history.stats.writes, 3),
    // What a check at 60 s costs the history in all: counting it, plus its share of the production
    // writes (every 5 minutes a minute row and an hour row per target: 2 row writes per 5 checks).
    write_cost_us_per_check: round((recordNs / checks + (flushMs / history.stats.writes) * 1e6 * (2 / 5)) / 1_000, 2),
    db_mb: round(bytes / 1e6, 1),
    simulated_in_s: round(simulatedS, 1),
  };
  if (args.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else for (const [k, v] of Object.entries(result)) console.log(`${k.padEnd(26)} ${String(v).padStart(12)}  ${k === 'db_mb' ? 'goal < 200' : ''}`);
}

await main();
