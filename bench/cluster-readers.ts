// What the cluster benchmark reads from a Lookout instance, one small function per field, so that a
// renamed field or metric is fixed in one place. /healthz is JSON; /metrics is prom-client's text format.

/** An instance's part in the cluster: the leader, or one of the others ('standby' today, 'member' with shared checks). */
export type Role = 'leader' | 'member';

/** What /healthz said. `role` is undefined when the body names none (a leader before shared checks). */
export interface Health {
  /** HTTP 200. */
  ok: boolean;
  httpStatus: number;
  status?: string;
  role?: Role;
  /** The role as written (`standby`, `member`, `leader`). */
  rawRole?: string;
  instance?: string;
  peers?: string[];
}

/** Reads a /healthz answer: `{ status, role: 'leader' | 'member' | 'standby', instance, peers: [ids] }`. */
export function readHealth(httpStatus: number, body: unknown): Health {
  const b = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const rawRole = typeof b.role === 'string' ? b.role : undefined;
  const role: Role | undefined = rawRole === 'leader' ? 'leader' : rawRole === 'member' || rawRole === 'standby' ? 'member' : undefined;
  return {
    ok: httpStatus === 200,
    httpStatus,
    ...(typeof b.status === 'string' ? { status: b.status } : {}),
    ...(role ? { role } : {}),
    ...(rawRole !== undefined ? { rawRole } : {}),
    ...(typeof b.instance === 'string' ? { instance: b.instance } : {}),
    ...(Array.isArray(b.peers) ? { peers: b.peers.map(String) } : {}),
  };
}

/** The value of a sample line `name{labels} value` or `name value` (NaN when not a number). */
function sampleValue(line: string): number {
  const space = line.lastIndexOf(' ');
  return Number(line.slice(space + 1));
}

/** The lines of `text` that are samples of exactly the metric `name` (with or without labels). */
function samplesOf(text: string, name: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const next = line.charAt(name.length);
    if (next === '{' || next === ' ') out.push(line);
  }
  return out;
}

/** The metrics the bench reads, asked for by name: the whole /metrics of 10,000 targets is 13 MB and holds the checks up. */
export const SCRAPE_PATH = '/metrics?name=lookout_checks_run_total&name=lookout_scheduler_lateness_seconds&name=lookout_leader';

/** Checks this instance has run: `lookout_checks_run_total`, else the sum of `lookout_checks_total{target,result}` over every series. */
export function readChecksTotal(metrics: string): number {
  const run = samplesOf(metrics, 'lookout_checks_run_total')[0];
  if (run !== undefined) return sampleValue(run);
  let sum = 0;
  for (const line of samplesOf(metrics, 'lookout_checks_total')) {
    const v = sampleValue(line);
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

/** `lookout_leader` (1 leads, 0 does not), or undefined when the metric is missing. */
export function readLeaderGauge(metrics: string): number | undefined {
  const line = samplesOf(metrics, 'lookout_leader')[0];
  return line === undefined ? undefined : sampleValue(line);
}

/** A cumulative histogram: bucket upper bounds (seconds, the last +Inf) with their cumulative counts. */
export interface Histogram {
  buckets: Array<{ le: number; count: number }>;
  sum: number;
  count: number;
}

/** `lookout_scheduler_lateness_seconds` (buckets 1 ms … 5 s, src/http/metrics.ts), or undefined when missing. */
export function readLateness(metrics: string): Histogram | undefined {
  return readHistogram(metrics, 'lookout_scheduler_lateness_seconds');
}

/** A histogram without labels besides `le`, read from its `_bucket`, `_sum` and `_count` lines. */
export function readHistogram(metrics: string, name: string): Histogram | undefined {
  const buckets: Array<{ le: number; count: number }> = [];
  for (const line of samplesOf(metrics, `${name}_bucket`)) {
    const le = /le="([^"]+)"/.exec(line)?.[1];
    if (le === undefined) continue;
    buckets.push({ le: le === '+Inf' ? Infinity : Number(le), count: sampleValue(line) });
  }
  if (buckets.length === 0) return undefined;
  buckets.sort((a, b) => a.le - b.le);
  const sum = sampleValue(samplesOf(metrics, `${name}_sum`)[0] ?? ' 0');
  const count = sampleValue(samplesOf(metrics, `${name}_count`)[0] ?? ' 0');
  return { buckets, sum, count };
}

/** How much a counter grew from `before` to `after`; a counter that went down was reset (a restart) and counts from 0. */
export function counterDelta(before: number, after: number): number {
  return after >= before ? after - before : after;
}

/** The observations between two scrapes of one histogram (bucket by bucket; a reset counts from 0). */
export function histogramDelta(before: Histogram | undefined, after: Histogram): Histogram {
  const reset = before === undefined || after.count < before.count;
  const prior = (le: number): number => (reset ? 0 : (before.buckets.find((b) => b.le === le)?.count ?? 0));
  return {
    buckets: after.buckets.map((b) => ({ le: b.le, count: b.count - prior(b.le) })),
    sum: reset ? after.sum : after.sum - before.sum,
    count: reset ? after.count : after.count - before.count,
  };
}

/** A quantile read from a histogram: Prometheus' interpolation and the bucket bound it lies under. */
export interface BucketQuantile {
  /** Interpolated inside the bucket as histogram_quantile() does (seconds). */
  value: number;
  /** The upper bound of the bucket holding the quantile: at least a q share of observations are ≤ it. */
  atMost: number;
}

/** The q-quantile (0..1) of a (delta) histogram, or undefined when it holds no observation. */
export function bucketQuantile(h: Histogram, q: number): BucketQuantile | undefined {
  const total = h.buckets.at(-1)?.count ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerLe = 0;
  let lowerCount = 0;
  for (const b of h.buckets) {
    if (b.count >= rank) {
      if (b.le === Infinity) return { value: lowerLe, atMost: Infinity };
      const inBucket = b.count - lowerCount;
      const value = inBucket > 0 ? lowerLe + ((b.le - lowerLe) * (rank - lowerCount)) / inBucket : b.le;
      return { value, atMost: b.le };
    }
    lowerLe = b.le;
    lowerCount = b.count;
  }
  return undefined;
}

/** Adds histograms with the same buckets (all instances together). */
export function addHistograms(list: readonly Histogram[]): Histogram | undefined {
  const first = list[0];
  if (first === undefined) return undefined;
  return {
    buckets: first.buckets.map((b) => ({ le: b.le, count: list.reduce((n, h) => n + (h.buckets.find((x) => x.le === b.le)?.count ?? 0), 0) })),
    sum: list.reduce((n, h) => n + h.sum, 0),
    count: list.reduce((n, h) => n + h.count, 0),
  };
}

/** GET http://127.0.0.1:port/healthz, read; undefined when nothing answers within 2 s. */
export async function fetchHealth(port: number): Promise<Health | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2_000) });
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    return readHealth(res.status, body);
  } catch {
    return undefined;
  }
}

/** The body of a 200 answer from http://127.0.0.1:port`path`, or undefined. */
export async function fetchText(port: number, path: string, timeoutMs: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    return res.ok ? text : undefined;
  } catch {
    return undefined;
  }
}
