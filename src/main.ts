import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { createEngine, type Engine } from './engine/engine.js';
import { systemClock } from './lib/clock.js';
import { createLogger, type Logger } from './lib/logger.js';
import { createHttpAgent, createHttpProbe } from './probes/http.js';
import { createProbeRegistry } from './probes/registry.js';
import { createTcpProbe } from './probes/tcp.js';
import { openStore, type KeyvStore } from './store/keyv.js';
import { createStateRepository } from './store/states.js';
import { createTargetRepository } from './store/targets.js';

/** Scheduler wake-up slots (ms): the value `npm run bench` measures. */
export const TIMER_RESOLUTION_MS = 10;

/** A running Lookout: its parts and the way to stop it. */
export interface App {
  config: Config;
  engine: Engine;
  store: KeyvStore;
  logger: Logger;
  stop(): Promise<void>;
}

/** Composition root: config → store → probes → engine; returns once everything runs. */
export async function startApp(config: Config, logger = createLogger(config.logLevel)): Promise<App> {
  const store = await openStore({ kind: 'sqlite', dataDir: config.dataDir });
  const targets = createTargetRepository(store);
  const states = createStateRepository(store);
  const agent = createHttpAgent();
  const probes = createProbeRegistry([createHttpProbe({ dispatcher: agent }), createTcpProbe()]);
  const engine = createEngine({
    targets,
    states,
    probes,
    clock: systemClock,
    logger,
    concurrency: config.checkConcurrency,
    timerResolutionMs: TIMER_RESOLUTION_MS,
  });
  if (!config.botToken) {
    // Headless: every state change is an alert line in the log.
    engine.onChange((change, target) =>
      logger.warn({ event: 'alert', target: target.id, chat: target.chatId, from: change.from, to: change.to, reason: change.result?.reason }, `${target.name} is ${change.to}`),
    );
  }
  await engine.start();
  let stopping: Promise<void> | undefined;
  return {
    config,
    engine,
    store,
    logger,
    stop: () =>
      (stopping ??= (async () => {
        await engine.stop();
        await agent.close();
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
  const app = await startApp(config);
  app.logger.info({ event: 'started', headless: !config.botToken, dataDir: config.dataDir }, 'Lookout started');
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      app.logger.warn({ event: 'forced_exit', signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    app.logger.info({ event: 'stopping', signal }, 'stopping');
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
  // The engine's timers do not hold the process open; this does, until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
