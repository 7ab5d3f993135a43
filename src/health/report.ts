import { performance } from 'node:perf_hooks';
import type { Destinations } from '../alerts/destinations.js';
import type { Outbox } from '../alerts/outbox.js';
import type { Engine } from '../engine/engine.js';
import type { SelfStats } from '../engine/self-stats.js';
import type { Clock } from '../lib/clock.js';
import { scrubSecrets, type SecretRegistry } from '../lib/logger.js';
import { withTimeout } from '../lib/timeout.js';
import type { History } from '../store/history.js';
import type { KeyvStore, StoreHealth } from '../store/keyv.js';

// How Lookout itself is doing: the report /health shows, gathered from the parts. Core, not the bot's:
// the chat is one reader of it.

/** Everything /health reports about Lookout itself. */
export interface HealthReport {
  version: string;
  source: string;
  uptimeMs: number;
  targets: number;
  paused: number;
  checksLastMinute: number;
  latenessP50Ms?: number;
  latenessP95Ms?: number;
  overdue: number;
  running: number;
  /** One write and read of the store now (ms); undefined when it did not answer. */
  storeMs?: number;
  /** Average time of a history row write so far (ms). */
  historyWriteMs?: number;
  outboxDepth: number;
  telegramErrorsLastHour: number;
  /** Every destination besides the chats: its last delivery, its last error, what waits for it. */
  destinations?: Array<{ chatId: number; name: string; kind: string; lastOkAt?: number; lastErrorAt?: number; lastError?: string; depth: number; paused: boolean }>;
  /** Whether writes reach the disk (`store.health()`). */
  store: StoreHealth;
  /** Several instances on one database: this one's role and its peers. */
  cluster?: ClusterInfo;
}

/** Where this instance stands among the instances on one database (`DATABASE_URL`). */
export interface ClusterInfo {
  /** This instance's id (`INSTANCE_ID`). */
  instance: string;
  /** Where it runs (`LOCATION`). */
  location: string;
  /** `leader`: runs the chat and the alerts; `member`: checks its share; `stepping-down`: lost the lock, saving what it decided. */
  role: 'leader' | 'member' | 'stepping-down';
  /** The live instances (this one among them), with how many targets each checks as far as this one computes. */
  peers: Array<{ id: string; location?: string; seenAgoMs: number; pending: number }>;
  /** Targets this instance checks. */
  checking: number;
  /** When its role last changed (epoch ms). */
  roleSince: number;
}

/** What the report is read from. */
export interface HealthSources {
  version: string;
  source: string;
  clock: Clock;
  engine: Pick<Engine, 'stats' | 'targets' | 'overdue'>;
  store: Pick<KeyvStore, 'ping' | 'health'>;
  selfStats: Pick<SelfStats, 'snapshot'>;
  history: Pick<History, 'stats'>;
  outbox: Pick<Outbox, 'depth' | 'outcomes'>;
  destinations: Pick<Destinations, 'list'>;
  secrets: Pick<SecretRegistry, 'values'>;
  cluster?: () => ClusterInfo;
}

/** A function that gathers the report now; the uptime counts from when it was made. */
export function createHealthReporter(deps: HealthSources): () => Promise<HealthReport> {
  const { clock, engine, store, selfStats, history, outbox, destinations, secrets } = deps;
  const startedAt = clock.now();
  return async (): Promise<HealthReport> => {
    const stats = engine.stats();
    const pingStarted = performance.now();
    const answered = (await withTimeout(store.ping(), 2_000)) === true;
    const self = selfStats.snapshot();
    return {
      version: deps.version,
      source: deps.source,
      uptimeMs: clock.now() - startedAt,
      targets: stats.targets,
      paused: engine.targets().filter((t) => t.paused).length,
      ...self,
      overdue: engine.overdue(),
      running: stats.inFlight,
      ...(answered ? { storeMs: performance.now() - pingStarted } : {}),
      ...(history.stats.writes > 0 ? { historyWriteMs: history.stats.writeMs / history.stats.writes } : {}),
      outboxDepth: outbox.depth(),
      store: store.health(),
      ...(deps.cluster ? { cluster: deps.cluster() } : {}),
      destinations: destinations.list().map((d) => {
        const o = outbox.outcomes().get(d.id);
        return {
          chatId: d.chatId,
          name: d.name,
          kind: d.kind,
          ...(o?.lastOkAt !== undefined ? { lastOkAt: o.lastOkAt } : {}),
          ...(o?.lastErrorAt !== undefined ? { lastErrorAt: o.lastErrorAt } : {}),
          // What a destination answered may quote the request: the known secrets are cut out.
          ...(o?.lastError !== undefined ? { lastError: scrubSecrets(o.lastError, secrets.values()) as string } : {}),
          depth: o?.depth ?? 0,
          paused: d.paused !== undefined || (o?.paused ?? false),
        };
      }),
    };
  };
}
