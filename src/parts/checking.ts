import type { Sharing } from '../cluster/sharing.js';
import type { Engine } from '../engine/engine.js';
import { moduleOf } from '../kinds/index.js';
import type { Clock } from '../lib/clock.js';
import type { Logger, SecretRegistry } from '../lib/logger.js';
import type { History } from '../store/history.js';
import { definePart, type Part } from './part.js';

/** What the checking part needs. */
export interface CheckingDeps {
  engine: Engine;
  history: History;
  /** Expiry warnings in flight are let finish at stop. */
  warnings: { settle(): Promise<void> };
  /** Several instances: the shared checks (started after the engine, stopped before it). */
  sharing?: Sharing;
  /** Whether no other instance checks (one instance, or the only live one): then Lookout's own stopped time is UNKNOWN. */
  alone: () => boolean;
  secrets: SecretRegistry;
  clock: Clock;
  logger: Logger;
}

/**
 * The engine, the history's flushes and (of several instances) the sharing of checks. An instance alone
 * marks its stopped time UNKNOWN in the timeline; of several, one stopping is no gap: the others take
 * its targets and the timeline goes on.
 */
export function createCheckingPart(deps: CheckingDeps): Part {
  const { engine, history, sharing, clock } = deps;
  return definePart(
    'checking',
    {
      async start() {
        await engine.start();
        for (const t of engine.targets()) deps.secrets.add(...moduleOf(t).secrets(t));
        // The timeline says where each target stands again; the time Lookout was stopped stays UNKNOWN.
        if (deps.alone()) for (const t of engine.targets()) history.change(t.id, clock.now(), engine.state(t.id)?.state ?? 'UNKNOWN');
        history.start();
        await sharing?.start();
      },
      async stop() {
        const alone = deps.alone();
        await sharing?.stop();
        await engine.stop();
        // While Lookout is stopped nobody knows the state: that time counts neither as up nor as down.
        if (alone) for (const t of engine.targets()) history.change(t.id, clock.now(), 'UNKNOWN');
        await history.stop();
        await deps.warnings.settle();
      },
    },
    deps.logger,
  );
}
