import { TargetSeries } from './target-series.js';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CheckEvent } from '../engine/engine.js';
import type { StoreHealth } from '../store/keyv.js';

/** Lookout's Prometheus metrics, in their own registry. */
export interface Metrics {
  registry: Registry;
  /** Records one finished check (counts, duration, up, state, scheduler lateness). */
  check(event: CheckEvent): void;
  /** Records a delivery outcome of the outbox, by channel kind. */
  delivery(outcome: 'delivered' | 'retry' | 'dropped' | 'paused', channel?: string): void;
  /** Records a failed Bot API call. */
  telegramError(method: string): void;
  /** Forgets the series of a removed target. */
  forget(targetId: string): void;
  /** Records one REST API answer (401s are also counted on their own). */
  api(status: number, route: string): void;
  /** Records one status page or badge answer (`hit`: 304 Not Modified). */
  statusPage(kind: 'page' | 'badge', hit: boolean): void;
}

/** How often the event loop delay histogram samples (ms). */
export const EVENT_LOOP_SAMPLE_MS = 1000;


/** Creates the metrics; `outboxDepth`, `targetCount`, `depthByChannel` and `storeHealth` (its series only when given) are read at scrape time. */
export function createMetrics(
  outboxDepth: () => number,
  targetCount: () => number = () => 0,
  depthByChannel: () => Map<string, number> = () => new Map(),
  storeHealth?: () => StoreHealth,
  /** Several instances: the place this one checks from, a `location` label on every per-target check series. */
  location?: string,
): Metrics {
  const registry = new Registry();
  // The event loop delay is sampled once a second, not every 10 ms (prom-client's default): that 100 Hz timer
  // woke the idle process 100 times a second and was most of what an idle Lookout cost (430 → 70 ms of CPU a
  // minute). A stall still shows when it covers a sample; the scheduler's own histogram
  // (lookout_scheduler_lateness_seconds) sees every check's delay.
  collectDefaultMetrics({ register: registry, prefix: 'lookout_', eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  // The per-target series live in one compact record per target (see TargetSeries).
  const series = new TargetSeries(location);
  series.register(registry);
  // One series for all: cheap to scrape alone (`/metrics?name=lookout_checks_run_total`) where the per-target ones are megabytes.
  const run = new Counter({ name: 'lookout_checks_run_total', help: 'Checks this instance ran', registers: [registry] });
  const lateness = new Histogram({
    name: 'lookout_scheduler_lateness_seconds',
    help: 'How late checks start after their scheduled time',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry],
  });
  const deliveries = new Counter({ name: 'lookout_alerts_total', help: 'Chat messages by delivery outcome', labelNames: ['outcome'], registers: [registry] });
  const byChannel = new Counter({ name: 'lookout_deliveries_total', help: 'Deliveries by channel and outcome', labelNames: ['channel', 'outcome'], registers: [registry] });
  new Gauge({
    name: 'lookout_outbox_channel_depth',
    help: 'Notifications waiting for delivery, by channel',
    labelNames: ['channel'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [channel, n] of depthByChannel()) this.set({ channel }, n);
    },
  });
  const telegram = new Counter({ name: 'lookout_telegram_api_errors_total', help: 'Failed Bot API calls by method', labelNames: ['method'], registers: [registry] });
  new Gauge({
    name: 'lookout_outbox_depth',
    help: 'Messages waiting for delivery',
    registers: [registry],
    collect() {
      this.set(outboxDepth());
    },
  });
  new Gauge({
    name: 'lookout_targets',
    help: 'Targets Lookout checks (paused ones included)',
    registers: [registry],
    collect() {
      this.set(targetCount());
    },
  });
  if (storeHealth) registerStoreMetrics(registry, storeHealth);
  const apiAnswers = new Counter({ name: 'lookout_api_requests_total', help: 'REST API answers by route and status', labelNames: ['route', 'status'], registers: [registry] });
  const apiRefused = new Counter({ name: 'lookout_api_unauthorized_total', help: 'REST API requests refused for a missing or wrong token', registers: [registry] });
  const pages = new Counter({ name: 'lookout_status_page_requests_total', help: 'Status page and badge answers (not_modified: answered 304 from the ETag)', labelNames: ['kind', 'result'], registers: [registry] });
  return {
    api(status, route) {
      apiAnswers.inc({ route, status: String(status) });
      if (status === 401) apiRefused.inc();
    },
    statusPage: (kind, hit) => pages.inc({ kind, result: hit ? 'not_modified' : 'rendered' }),
    registry,
    check(event) {
      const result = event.result.ok ? 'ok' : (event.result.failure ?? 'error');
      series.check(event.target.id, result, event.result.latencyMs / 1_000, event.record.state);
      run.inc();
      lateness.observe(Math.max(0, event.latenessMs) / 1_000);
    },
    delivery(outcome, channel) {
      deliveries.inc({ outcome });
      if (channel !== undefined) byChannel.inc({ channel, outcome });
    },
    telegramError: (method) => telegram.inc({ method }),
    forget(targetId) {
      series.forget(targetId);
    },
  };
}

/** The store's health as three series: healthy or not, failed writes so far, writes waiting now. */
function registerStoreMetrics(registry: Registry, storeHealth: () => StoreHealth): void {
  new Gauge({
    name: 'lookout_store_healthy',
    help: '1 when every write reaches the disk, 0 while the store is failing (writes wait in memory)',
    registers: [registry],
    collect() {
      this.set(storeHealth().ok ? 1 : 0);
    },
  });
  let counted = 0;
  new Counter({
    name: 'lookout_store_write_failures_total',
    help: 'Store writes refused by the storage (disk full, read-only, I/O error), retries included',
    registers: [registry],
    collect() {
      // The store keeps the count; the counter catches up with it at each scrape.
      const failed = storeHealth().failedWrites;
      if (failed > counted) this.inc(failed - counted);
      counted = Math.max(counted, failed);
    },
  });
  new Gauge({
    name: 'lookout_store_pending_writes',
    help: 'Store writes kept in memory until the storage takes them again',
    registers: [registry],
    collect() {
      this.set(storeHealth().pendingWrites);
    },
  });
}
