import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { RunnerHandle } from '@grammyjs/runner';
import type { APIThrottlerOptions } from '@grammyjs/transformer-throttler';
import type { Bot } from 'grammy';
import { createIncidentBook } from './alerts/incidents.js';
import { createBoards, formatBoard, type Boards } from './alerts/board.js';
import { createLogAlerts } from './alerts/log-alerts.js';
import { createOutbox, type Outbox } from './alerts/outbox.js';
import { createNotifier, type Notifier } from './alerts/notify.js';
import { createStateNotices } from './alerts/state-notices.js';
import { attachTraces } from './alerts/traces.js';
import { createWarnings } from './alerts/warnings.js';
import { createSourceResolver } from './diagnostics/source.js';
import { createTracer } from './diagnostics/tracer.js';
import { createAlertPolicy } from './alerts/policy.js';
import { classifyTelegramError, createBoardApi, createTelegramSender } from './alerts/telegram.js';
import type { LookoutContext } from './bot/context.js';
import { createFileDownloader } from './bot/files.js';
import type { HealthReport } from './bot/features/health.js';
import { createBot, startPolling, startWebhook } from './bot/index.js';
import { createAccess } from './bot/middleware/access.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { readDeclared, TargetsFileError } from './config/targets-file.js';
import type { DocumentContents } from './domain/document.js';
import { createCatalog } from './engine/catalog.js';
import { syncDeclared, type SyncReport } from './engine/file-sync.js';
import { createEngine, type Engine } from './engine/engine.js';
import { createSelfStats } from './engine/self-stats.js';
import { systemClock, type Clock } from './lib/clock.js';
import { withTimeout } from './lib/timeout.js';
import { createLogger, type Logger } from './lib/logger.js';
import { createMetrics } from './http/metrics.js';
import { startHttpServer, type HttpServer } from './http/server.js';
import { createEc2Probe } from './probes/ec2.js';
import { createHttpAgent, createHttpProbe } from './probes/http.js';
import { createProbeRegistry } from './probes/registry.js';
import { createTcpProbe } from './probes/tcp.js';
import { createGrammyStorage } from './store/grammy-storage.js';
import { createChatSettingsRepository } from './store/chats.js';
import { createWindowRegistry, type WindowRegistry } from './store/windows.js';
import { openStore, StoreError, type KeyvStore } from './store/keyv.js';
import { createHistory, type History } from './store/history.js';
import { createStateRepository } from './store/states.js';
import { createTargetRepository } from './store/targets.js';

/**
 * How long shutdown waits for each part (ms): updates in handling, then running checks (aborted
 * after that), then deliveries (the rest stay in the outbox for the next start). The sum stays under
 * 10 s, Docker's default grace; `total` is the hard stop, inside the 30 s the deployment files give.
 */
export const STOP_BUDGET_MS = { updates: 2_000, checks: 3_000, deliveries: 3_000, total: 25_000 } as const;

/** Lookout's version, from package.json (shown by /health). */
export const VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();

export { TargetsFileError };

/** Scheduler wake-up slots (ms): the value `npm run bench` measures. */
export const TIMER_RESOLUTION_MS = 10;

/** A running Lookout: its parts and the way to stop it. */
export interface App {
  config: Config;
  engine: Engine;
  store: KeyvStore;
  outbox: Outbox;
  windows: WindowRegistry;
  history: History;
  boards: Boards;
  notifier: Notifier;
  logger: Logger;
  /** The HTTP endpoints, unless HTTP_PORT=0. */
  http?: HttpServer;
  bot?: Bot<LookoutContext>;
  /** Reads TARGETS_FILE again and applies it; a bad file changes nothing and says why. */
  reload(): Promise<{ ok: true; report: SyncReport } | { ok: false; errors: string[] }>;
  stop(): Promise<void>;
}


/** Test and embedding hooks: a clock, Telegram throttling, the poll timeout. */
export interface AppOptions {
  logger?: Logger;
  clock?: Clock;
  throttle?: APIThrottlerOptions;
  pollTimeoutS?: number;
  outboxBackoffMs?: { base: number; max: number };
  /** Grouping window for alerts of one chat (default 5 s). */
  groupWindowMs?: number;
  /** Least time between two edits of a chat's status board (default 10 s). */
  boardIntervalMs?: number;
}

/** Composition root: config → store → probes → engine → alerts → bot; returns once everything runs. */
export async function startApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger(config.logLevel, undefined, { secrets: [config.botToken, config.webhookSecret, config.statusToken] });
  const clock = options.clock ?? systemClock;
  // A bad file stops the start before anything is opened, like a bad setting.
  const declared = await readDeclared(config, clock.now());
  if (!declared.ok) throw new TargetsFileError(declared.errors);
  const store = await openStore({ kind: 'sqlite', dataDir: config.dataDir }, { logger, clock });
  const targets = createTargetRepository(store);
  const states = createStateRepository(store);
  const incidents = createIncidentBook(store);
  await incidents.load();
  const windows = createWindowRegistry(store);
  await windows.load();
  const chats = createChatSettingsRepository(store);
  const agent = createHttpAgent();
  const ec2Probe = createEc2Probe();
  const probes = createProbeRegistry([createHttpProbe({ dispatcher: agent }), createTcpProbe(), ec2Probe]);
  const engine = createEngine({
    targets,
    states,
    probes,
    clock,
    logger,
    concurrency: config.checkConcurrency,
    timerResolutionMs: TIMER_RESOLUTION_MS,
    stopGraceMs: STOP_BUDGET_MS.checks,
  });

  let bot: Bot<LookoutContext> | undefined;
  const told = store.namespace<boolean>('access');
  const access = createAccess({
    allowedChatIds: config.allowedChatIds,
    adminUserIds: config.adminUserIds,
    clock,
    logger,
    told: { has: async (id) => (await told.get(`told:${id}`)) === true, add: async (id) => void (await told.set(`told:${id}`, true)) },
  });
  const source = createSourceResolver(config.sourceLabel);
  const tracer = createTracer({ settings: config.trace, logger });
  const backoff = options.outboxBackoffMs ?? { base: 1_000, max: 300_000 };
  const outbox = createOutbox({
    store,
    incidents,
    clock,
    logger,
    baseBackoffMs: backoff.base,
    maxBackoffMs: backoff.max,
    // The bot exists by the time the outbox starts delivering (after createBot below).
    sender: { send: (...a) => telegram().send(...a), edit: (...a) => telegram().edit(...a) },
    classify: classifyTelegramError,
  });
  const telegramBot = (): Bot<LookoutContext> => {
    if (!bot) throw new Error('the bot is not created yet');
    return bot;
  };
  const telegram = (): ReturnType<typeof createTelegramSender> => createTelegramSender(telegramBot().api);
  const notifier = createNotifier({
    incidents,
    outbox,
    clock,
    ...(options.groupWindowMs !== undefined ? { windowMs: options.groupWindowMs } : {}),
    onError: (err) => logger.error({ err, event: 'notify_failed' }, 'could not queue a notification'),
  });
  const notices = createStateNotices(store, outbox);
  const warnings = createWarnings({ store, outbox, clock, thresholdsDays: config.expiryWarnDays, logger });
  const policy = createAlertPolicy({
    incidents,
    outbox,
    notifier,
    notices,
    windows,
    clock,
    source,
    target: (id) => engine.target(id),
    chatSettings: (chatId) => chats.get(chatId),
    logger,
  });
  const logAlerts = createLogAlerts({ logger, clock, windows });
  engine.onChange((change, target) => {
    if (!config.botToken) {
      // Headless: every state change is a JSON log line (alerts and resolutions by their event name).
      logAlerts(change, target);
      return;
    }
    policy.onChange(change, target).catch((err: unknown) => logger.error({ err, target: target.id, event: 'alert_failed' }, 'could not queue an alert'));
  });
  if (config.botToken) engine.onCheck((event) => warnings.observe(event.target, event.result));
  const metrics = createMetrics(() => outbox.depth(), () => engine.stats().targets, () => store.health());
  engine.onCheck((event) => metrics.check(event));
  const history = createHistory({ store, clock, logger, settings: config.history });
  const selfStats = createSelfStats(clock);
  engine.onCheck((event) => selfStats.observe(event));
  const startedAt = clock.now();
  const health = async (): Promise<HealthReport> => {
    const stats = engine.stats();
    const pingStarted = performance.now();
    const answered = (await withTimeout(store.ping(), 2_000)) === true;
    const self = selfStats.snapshot();
    return {
      version: VERSION,
      source: config.sourceLabel,
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
    };
  };
  engine.onCheck((event) => history.record(event.target.id, event.result));
  engine.onChange((change, target) => history.change(target.id, change.at, change.to));
  outbox.onDelivery((event) => metrics.delivery(event.outcome));
  const boards = createBoards({
    store,
    clock,
    logger,
    api: () => createBoardApi(telegramBot().api),
    render: async (chatId) => formatBoard(engine.targets().filter((t) => t.chatId === chatId), (id) => engine.state(id)),
    ...(options.boardIntervalMs !== undefined ? { minIntervalMs: options.boardIntervalMs } : {}),
    classify: classifyTelegramError,
  });
  engine.onChange((_change, target) => boards.changed(target.chatId));
  const catalog = createCatalog(targets, engine, {
    onPaused: (t) => policy.close(t.id, 'paused'),
    onRemoved: async (t) => {
      boards.changed(t.chatId);
      metrics.forget(t.id);
      await history.remove(t.id);
      await policy.close(t.id, 'removed');
      for (const w of windows.list(t.chatId).filter((x) => x.targetId === t.id)) await windows.remove(w.id);
    },
    onRenamed: async (previousId, t) => {
      boards.changed(t.chatId);
      await history.rename(previousId, t.id);
      await policy.renamed(previousId, t);
    },
  });

  let runner: RunnerHandle | undefined;
  let stopping: Promise<void> | undefined;
  if (config.botToken) {
    bot = createBot(
      {
        catalog,
        engine,
        policy,
        incidents,
        windows,
        history,
        boards,
        chats,
        access,
        tracer,
        source,
        clock,
        logger,
        allowMetadata: config.allowMetadataTargets,
        download: createFileDownloader(config.telegramApiRoot, config.botToken),
        health,
      },
      {
        token: config.botToken,
        apiRoot: config.telegramApiRoot,
        conversationStorage: createGrammyStorage(store, 'conversations'),
        ...(options.throttle ? { throttle: options.throttle } : {}),
      },
    );
  }
  const traces = bot ? attachTraces({ incidents, outbox, tracer, source, logger }) : undefined;
  if (bot) {
    bot.api.config.use(async (prev, method, payload, signal) => {
      try {
        const res = await prev(method, payload, signal);
        if (!res.ok) {
          metrics.telegramError(method);
          selfStats.telegramError();
        }
        return res;
      } catch (err) {
        metrics.telegramError(method);
        selfStats.telegramError();
        throw err;
      }
    });
  }
  await engine.start();
  // The timeline says where each target stands again; the time Lookout was stopped stays UNKNOWN.
  for (const t of engine.targets()) history.change(t.id, clock.now(), engine.state(t.id)?.state ?? 'UNKNOWN');
  history.start();
  // Resolved incidents are kept as long as the history (HISTORY_DAYS), then pruned, daily.
  const pruneIncidents = (): void =>
    void incidents.pruneResolved(clock.now() - config.history.hourDays * 86_400_000).then(
      (n) => n > 0 && logger.info({ event: 'incidents_pruned', count: n }, `pruned ${n} old incidents`),
      (err: unknown) => logger.error({ err, event: 'incidents_prune_failed' }, 'could not prune old incidents'),
    );
  pruneIncidents();
  const pruneTimer = setInterval(pruneIncidents, 86_400_000);
  pruneTimer.unref();
  // Webhook mode: Telegram posts updates to WEBHOOK_URL's path on this same server.
  const webhook = bot && config.webhookUrl && config.webhookSecret ? await startWebhook(bot, config.webhookUrl, config.webhookSecret) : undefined;
  const http =
    config.httpPort === 0
      ? undefined
      : await startHttpServer({
          port: config.httpPort,
          engine,
          store,
          metrics,
          ...(config.statusToken ? { statusToken: config.statusToken } : {}),
          ...(webhook
            ? {
                extra: async (req, res) => {
                  if (req.method !== 'POST' || (req.url ?? '').split('?')[0] !== webhook.path) return false;
                  if (stopping) {
                    // Shutting down: no new updates; Telegram keeps them and retries after the restart.
                    res.writeHead(503, { 'retry-after': '5' }).end();
                    return true;
                  }
                  await webhook.handle(req, res);
                  return true;
                },
              }
            : {}),
          logger,
        });
  await webhook?.register();
  if (bot) {
    await policy.start();
    await outbox.start();
    await boards.start();
  }
  const applyDeclared = async (contents: DocumentContents): Promise<SyncReport> => {
    const report = await syncDeclared(contents, {
      catalog,
      allTargets: () => targets.list(),
      windows,
      ...(bot ? { windowsChanged: () => policy.windowsChanged() } : {}),
    });
    logger.info({ event: 'targets_file_applied', file: config.targetsFile, ...report }, `TARGETS_FILE: ${report.added.length} added, ${report.changed.length} changed, ${report.removed.length} removed, ${report.unchanged.length} unchanged`);
    return report;
  };
  if (declared.value) await applyDeclared(declared.value);
  if (bot && !webhook) runner = await startPolling(bot, options.pollTimeoutS ?? 30);

  return {
    config,
    engine,
    store,
    outbox,
    windows,
    history,
    boards,
    notifier,
    logger,
    ...(bot ? { bot } : {}),
    ...(http ? { http } : {}),
    async reload() {
      const again = await readDeclared(config, clock.now());
      if (!again.ok) {
        logger.error({ event: 'targets_file_invalid', file: config.targetsFile, problems: again.errors }, 'TARGETS_FILE not applied: it has errors');
        return again;
      }
      return { ok: true, report: again.value ? await applyDeclared(again.value) : { added: [], changed: [], unchanged: [], removed: [], windows: 0 } };
    },
    stop: () =>
      (stopping ??= (async () => {
        // Stop taking updates, finish the checks in flight (their alerts are queued), then deliver.
        // Every wait is bounded: a handler stuck on an unreachable Telegram must not hold the exit.
        if (runner?.isRunning() && (await withTimeout(runner.stop().then(() => true), STOP_BUDGET_MS.updates)) === undefined) {
          logger.warn({ event: 'updates_abandoned' }, 'stopping: update handlers still running were left');
        }
        await engine.stop();
        await boards.stop();
        clearInterval(pruneTimer);
        // While Lookout is stopped nobody knows the state: that time counts neither as up nor as down.
        for (const t of engine.targets()) history.change(t.id, clock.now(), 'UNKNOWN');
        await history.stop();
        traces?.stop();
        tracer.stop();
        await warnings.settle();
        await policy.stop();
        await outbox.stop(STOP_BUDGET_MS.deliveries);
        await incidents.flush();
        await http?.close();
        await agent.close();
        ec2Probe.close();
        await store.close();
        logger.info({ event: 'stopped' }, 'Lookout stopped');
      })()),
  };
}

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`lookout: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  let app: App;
  try {
    app = await startApp(config);
  } catch (err) {
    if (err instanceof TargetsFileError || err instanceof StoreError) {
      process.stderr.write(`lookout: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  app.logger.info({ event: 'started', headless: !config.botToken, dataDir: config.dataDir }, 'Lookout started');
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      app.logger.warn({ event: 'forced_exit', signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    app.logger.info({ event: 'stopping', signal }, 'stopping');
    // The last resort: whatever hangs, the process is gone before the platform's own kill.
    setTimeout(() => {
      app.logger.error({ event: 'stop_timeout', afterMs: STOP_BUDGET_MS.total }, 'could not stop in time: exiting');
      process.exit(1);
    }, STOP_BUDGET_MS.total).unref();
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        app.logger.error({ err, event: 'stop_failed' }, 'could not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // SIGHUP re-reads TARGETS_FILE (`docker kill -s HUP`, `systemctl reload`).
  process.on('SIGHUP', () => void app.reload());
  // The engine's timers do not hold the process open; this does, until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
