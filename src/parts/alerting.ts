import type { AlertPolicy } from '../alerts/policy.js';
import type { Outbox } from '../alerts/outbox.js';
import type { Boards } from '../alerts/channels/telegram/board.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { definePart, type Part } from './part.js';

/** What the alert side needs. */
export interface AlertingDeps {
  policy: AlertPolicy;
  outbox: Outbox;
  boards: Boards;
  /** With a bot: the boards are brought up to date at start (they check their messages with Telegram). */
  startBoards: boolean;
  incidents: { pruneResolved(before: number): Promise<number>; flush(): Promise<void> };
  alertRecords: { prune(before: number): Promise<unknown>; flush(): Promise<void> };
  /** Resolved incidents older than this are pruned (ms; the history's length). */
  keepMs: number;
  /** How long a stop waits for deliveries in flight (ms). */
  deliveriesMs: number;
  clock: Clock;
  logger: Logger;
}

/** The alert policy, the outbox, the boards and the daily prune: what only the leading instance runs. */
export function createAlertingPart(deps: AlertingDeps): Part {
  const { policy, outbox, clock, logger } = deps;
  let pruneTimer: ReturnType<typeof setInterval> | undefined;
  // Resolved incidents are kept as long as the history (HISTORY_DAYS), then pruned, daily.
  const prune = (): void => {
    const before = clock.now() - deps.keepMs;
    void Promise.all([deps.incidents.pruneResolved(before), deps.alertRecords.prune(before)]).then(
      ([n]) => n > 0 && logger.info({ event: 'incidents_pruned', count: n }, `pruned ${n} old incidents`),
      (err: unknown) => logger.error({ err, event: 'incidents_prune_failed' }, 'could not prune old incidents'),
    );
  };
  return definePart(
    'alerting',
    {
      async start() {
        await policy.start();
        await outbox.start();
        // The boards check their messages with Telegram: that must not hold the start up either.
        if (deps.startBoards) void deps.boards.start().catch((err: unknown) => logger.error({ err, event: 'board_start_failed' }, 'could not bring the status boards up to date'));
        prune();
        pruneTimer = setInterval(prune, 86_400_000);
        pruneTimer.unref();
      },
      async stop() {
        clearInterval(pruneTimer);
        await deps.boards.stop();
        await policy.stop();
        // What is not delivered in the budget stays queued, on disk, for whoever delivers next.
        await outbox.pause(deps.deliveriesMs);
        await deps.incidents.flush();
        await deps.alertRecords.flush();
      },
    },
    logger,
  );
}
