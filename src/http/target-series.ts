import type { Metric, Registry } from 'prom-client';

/** The states of `lookout_target_state`, one series each per target. */
export const STATES = ['UNKNOWN', 'UP', 'DEGRADED', 'DOWN', 'MAINTENANCE', 'PAUSED'] as const;
/** Upper bounds (seconds) of `lookout_check_duration_seconds`. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** What one target's series hold: counts by result, the duration histogram, and its state. */
interface Row {
  /** Checks by result, in the order the results were first seen. */
  results: Map<string, number>;
  /** Per bucket (not cumulative) counts, then +Inf, then the sum of seconds. */
  durations: Float64Array;
  /** Index in STATES; -1 before the first check. */
  state: number;
}

interface Value {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/**
 * The per-target check series (`lookout_checks_total`, `lookout_check_duration_seconds`, `lookout_target_up`,
 * `lookout_target_state`), kept in one small record per target and turned into samples only when scraped.
 *
 * Why not prom-client's Counter/Gauge/Histogram: they keep each series as an object with its own label object
 * and hash string in a dictionary per metric — nine series per target, about 2 KB per target, 20 MB of a
 * 10,000-target process's 80 MB heap — and hash the labels on every update (nine per check). The exposition
 * is the same: prom-client's registry formats what `get()` returns, as for its own metrics.
 */
export class TargetSeries {
  readonly #rows = new Map<string, Row>();
  readonly #placed: Record<string, string>;

  constructor(location?: string) {
    this.#placed = location !== undefined ? { location } : {};
  }

  /** Records one check of `id`: its result label, its duration and the state it left the target in. */
  check(id: string, result: string, seconds: number, state: string): void {
    let row = this.#rows.get(id);
    if (row === undefined) {
      row = { results: new Map(), durations: new Float64Array(DURATION_BUCKETS.length + 2), state: -1 };
      this.#rows.set(id, row);
    }
    row.results.set(result, (row.results.get(result) ?? 0) + 1);
    let b = 0;
    while (b < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[b]!) b++;
    row.durations[b]! += 1;
    row.durations[DURATION_BUCKETS.length + 1]! += seconds;
    row.state = (STATES as readonly string[]).indexOf(state);
  }

  /** Forgets every series of a removed target. */
  forget(id: string): void {
    this.#rows.delete(id);
  }

  /** Registers the four metrics with `registry`. */
  register(registry: Registry): void {
    const placed = this.#placed;
    const rows = this.#rows;
    const metric = (name: string, help: string, type: 'counter' | 'gauge' | 'histogram', values: () => Value[]): void => {
      // The registry formats any object with a name, help, type and get() (it duck-types its own metrics too);
      // the cast is because its type names only prom-client's classes.
      const m = { name, help, type, aggregator: 'sum', get: async () => ({ name, help, type, aggregator: 'sum', values: values() }), reset: () => undefined };
      registry.registerMetric(m as unknown as Metric);
    };
    metric('lookout_checks_total', 'Checks by target and result', 'counter', () => {
      const out: Value[] = [];
      for (const [target, row] of rows) for (const [result, n] of row.results) out.push({ value: n, labels: { target, result, ...placed } });
      return out;
    });
    metric('lookout_check_duration_seconds', 'Check duration by target', 'histogram', () => {
      const out: Value[] = [];
      const name = 'lookout_check_duration_seconds';
      for (const [target, row] of rows) {
        let cumulative = 0;
        for (let b = 0; b < DURATION_BUCKETS.length; b++) {
          cumulative += row.durations[b]!;
          out.push({ value: cumulative, labels: { le: DURATION_BUCKETS[b]!, target, ...placed }, metricName: `${name}_bucket` });
        }
        cumulative += row.durations[DURATION_BUCKETS.length]!;
        out.push({ value: cumulative, labels: { le: '+Inf', target, ...placed }, metricName: `${name}_bucket` });
        out.push({ value: row.durations[DURATION_BUCKETS.length + 1]!, labels: { target, ...placed }, metricName: `${name}_sum` });
        out.push({ value: cumulative, labels: { target, ...placed }, metricName: `${name}_count` });
      }
      return out;
    });
    metric('lookout_target_up', '1 when the target is UP or DEGRADED, else 0', 'gauge', () => {
      const out: Value[] = [];
      for (const [target, row] of rows) out.push({ value: row.state === 1 || row.state === 2 ? 1 : 0, labels: { target, ...placed } });
      return out;
    });
    metric('lookout_target_state', '1 for the state the target is in', 'gauge', () => {
      const out: Value[] = [];
      for (const [target, row] of rows) for (let s = 0; s < STATES.length; s++) out.push({ value: s === row.state ? 1 : 0, labels: { target, state: STATES[s]!, ...placed } });
      return out;
    });
  }
}
