import { hostname } from 'node:os';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { APIThrottlerOptions } from '@grammyjs/transformer-throttler';
import type { Bot } from 'grammy';
import { createIncidentBook } from './alerts/incidents.js';
import { createBoards, formatBoard, type Boards } from './alerts/channels/telegram/board.js';
import type { Channel } from './alerts/channel.js';
import { CHANNEL_SPECS, channelSpec } from './alerts/channels/kinds.js';
import { createLogChannel, logDestination } from './alerts/channels/log/channel.js';
import type { ChannelContext } from './alerts/channels/spec.js';
import { applyDestinations, createDestinations, type Destination } from './alerts/destinations.js';
import { createAlertRecords } from './alerts/channels/telegram/alert-records.js';
import { createTelegramChannel, telegramDestination } from './alerts/channels/telegram/channel.js';
import { channelOf, createOutbox, type Outbox } from './alerts/outbox.js';
import { createStateNotices } from './alerts/state-notices.js';
import { attachTraces } from './alerts/traces.js';
import { createWarnings } from './alerts/warnings.js';
import { createSourceResolver } from './diagnostics/source.js';
import { createTracer } from './diagnostics/tracer.js';
import { createAlertPolicy, type AlertPolicy, type Tell } from './alerts/policy.js';
import type { LookoutContext } from './bot/context.js';
import { createFileDownloader } from './bot/files.js';
import type { Bus } from './cluster/bus.js';
import type { Membership } from './cluster/members.js';
import { createSharing, type Sharing } from './cluster/sharing.js';
import { createRemoteTracer, type RemoteTrace } from './cluster/remote-trace.js';
import { ownerOf } from './cluster/assignment.js';
import { parseTraceHost } from './domain/host.js';
import { createHealthReporter, type ClusterInfo } from './health/report.js';
import { clusterHealthz, registerClusterMetrics } from './health/cluster.js';
import { withTimeout } from './lib/timeout.js';
import { startParts, type Part } from './parts/part.js';
import { createAlertingPart } from './parts/alerting.js';
import type { ChatPart } from './parts/chat.js';
import { createCheckingPart } from './parts/checking.js';
import { createHttpPart } from './parts/http.js';
import { createRestApi } from './api/index.js';
import { createStatusPages } from './statuspage/pages.js';
import { createStatusRoutes } from './statuspage/routes.js';
import type { ApiDeps } from './api/api.js';
import { NOTIFY_TEST_WAIT_MS } from './bot/texts.js';
import { createAccess } from './bot/middleware/access.js';
import { ConfigError, loadConfig, secretsOf, type Config } from './config/config.js';
import { readDeclared, TargetsFileError } from './config/targets-file.js';
import type { DocumentContents } from './targets/document.js';
import { createCatalog } from './engine/catalog.js';
import { syncDeclared, type SyncReport } from './engine/file-sync.js';
import { createEngine, TAKEOVER_SPREAD_MS, type Engine } from './engine/engine.js';
import { createSelfStats } from './engine/self-stats.js';
import { systemClock, type Clock } from './lib/clock.js';
import { createLogger, createSecretRegistry, type Logger, type SecretRegistry } from './lib/logger.js';
import { createErrorTracker, type ErrorTracker } from './lib/error-tracker.js';
import { createMetrics, type Metrics } from './http/metrics.js';
import { startHttpServer, type HttpServer } from './http/server.js';
import { createHttpAgent } from './kinds/http/probe.js';
import { moduleOf, startKinds, type Target } from './kinds/index.js';
import type { StateRecord } from './domain/state.js';
import { createGrammyStorage } from './store/grammy-storage.js';
import { createChatSettingsRepository } from './store/chats.js';
import { createWindowRegistry, type WindowRegistry } from './store/windows.js';
import { describeLocation, openStore, StoreError, type KeyvStore, type StoreLocation } from './store/keyv.js';
import { createHistory, type History } from './store/history.js';
import { createLocatedStateRepository, createStateRepository, locationNamespace } from './store/states.js';
import { createTargetRepository, type TargetRepository } from './store/targets.js';
import { createJudge, viewOf, type Judge } from './cluster/judge.js';
import { createRemoteViews } from './cluster/remote-views.js';

/**
 * How long shutdown waits for each part (ms): updates in handling, then running checks (aborted
 * after that), then deliveries in flight (waited for, not abandoned: one given up on may be accepted
 * all the same and would be sent again after the restart; nothing new starts, the rest stay in the
 * outbox). `total` is the hard stop, inside the 30 s the deployment files give.
 */
export const STOP_BUDGET_MS = { updates: 2_000, checks: 3_000, deliveries: 15_000, total: 25_000 } as const;

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
  policy: AlertPolicy;
  metrics: Metrics;
  /** Resolves once the chat is up (getMe, commands, polling or webhook); absent when headless or while the chat part is stopped. */
  readonly chatReady?: Promise<void> | undefined;
  logger: Logger;
  /** The HTTP endpoints, unless HTTP_PORT=0. */
  readonly http?: HttpServer | undefined;
  /** The parts with a lifecycle: the alert side and the chat can be stopped and started again at run time. */
  parts: { checking: Part; http: Part; alerting: Part; chat?: Part };
  /** Several instances on one database: how checks and changes are shared (absent for one instance). */
  sharing?: Sharing;
  /** Whether this instance runs the alert side and the chat (always, for one instance). */
  readonly leading: boolean;
  /** Several instances: this one won the lock; starts the alert side (applying TARGETS_FILE) and the chat. Rejects when `stillLeader()` turns false on the way. */
  lead(stillLeader?: () => boolean): Promise<void>;
  /** Several instances: this one lost the lock; stops the chat and the alert side (what they had is in the store), keeps checking. */
  stepDown(): Promise<void>;
  bot?: Bot<LookoutContext>;
  /** Reads TARGETS_FILE again and applies it; a bad file changes nothing and says why. */
  reload(): Promise<{ ok: true; report: SyncReport } | { ok: false; errors: string[] }>;
  stop(): Promise<void>;
}


/** Test and embedding hooks: a clock, Telegram throttling, the poll timeout. */
export interface AppOptions {
  logger?: Logger;
  /** Sends an unexpected error to the error tracker (SENTRY_DSN): a failed update handler or HTTP request. */
  reportError?: (err: unknown, context: Record<string, unknown>) => void;
  clock?: Clock;
  throttle?: APIThrottlerOptions;
  pollTimeoutS?: number;
  outboxBackoffMs?: { base: number; max: number };
  /** Grouping window for alerts of one chat (default 5 s; the longest spacing in a storm is 60 times it, up to 60 s). */
  groupWindowMs?: number;
  /** While deliveries back off, how often Telegram is probed (default 5 s). */
  probeEveryMs?: number;
  /** Secret strings kept out of the logs; destinations add theirs as they are added. */
  secrets?: SecretRegistry;
  /** Waits between attempts to bring the chat up (default 1 s doubling to 60 s). */
  chatRetry?: { baseMs: number; maxMs: number };
  /** Least time between two edits of a chat's status board (default 10 s). */
  boardIntervalMs?: number;
  /**
   * Several instances on one database: the member registry and the bus, started. The app then checks
   * only its share, and runs the alert side and the chat only after `lead()`.
   */
  cluster?: { membership: Membership; bus: Bus };
}

/** Where the store lives: PostgreSQL with `DATABASE_URL`, else the SQLite file in `DATA_DIR`. */
export const storeLocation = (config: Config): StoreLocation =>
  config.databaseUrl !== undefined ? { kind: 'postgres', url: config.databaseUrl } : { kind: 'sqlite', dataDir: config.dataDir };

/** Composition root: config → store → probes → engine → alerts → bot; returns once checking runs (the chat comes up in the background). */
export async function startApp(config: Config, options: AppOptions = {}): Promise<App> {
  const secrets = options.secrets ?? createSecretRegistry(secretsOf(config));
  const logger = options.logger ?? createLogger(config.logLevel, undefined, { secrets });
  const clock = options.clock ?? systemClock;
  // A bad file stops the start before anything is opened, like a bad setting.
  // The stamp is taken before the read: a file changed while it was read counts as changed at lead().
  const declaredStamp = fileStamp(config.targetsFile);
  const declared = await readDeclared(config, clock.now());
  if (!declared.ok) throw new TargetsFileError(declared.errors);
  const store = await openStore(storeLocation(config), { logger, clock });
  const targets = createTargetRepository(store);
  const states = createStateRepository(store);
  const incidents = createIncidentBook(store);
  const windows = createWindowRegistry(store);
  const chats = createChatSettingsRepository(store);
  const alertRecords = createAlertRecords(store);
  const destinations = createDestinations(store);
  // What only the alert side and the chat read: loaded at the start of one instance, and by one of
  // several when it starts leading (the leader before it kept changing them).
  const loadLeaderState = async (): Promise<void> => {
    await incidents.load();
    await windows.load();
    await chats.load();
    await alertRecords.load();
    await destinations.load();
    for (const d of destinations.list()) secrets.add(...(channelSpec(d.kind)?.secrets(d.settings) ?? []));
  };
  if (!options.cluster) await loadLeaderState();
  const agent = createHttpAgent(undefined, { allowMetadata: config.allowMetadataTargets, ...(config.sourceAddress !== undefined ? { sourceAddress: config.sourceAddress } : {}) });
  // The kinds' parts reach the engine through these closures: it is made just below, and used only once checks run.
  const kinds = startKinds({
    allowMetadata: config.allowMetadataTargets,
    httpAgent: agent,
    clock,
    logger,
    storage: (namespace) => store.namespace(`kind:${namespace}`),
    // Of several instances, the one that checks the target does (a heartbeat's ping may reach any).
    checkNow: (id) => (sharing && !engine.owned(id) ? sharing.checkOnOwner(id) : void engine.checkNow(id).catch(() => undefined)),
    targets: () => engine.targets(),
    publicUrl: config.publicUrl,
    ...(config.sourceAddress !== undefined ? { sourceAddress: config.sourceAddress } : {}),
  });
  await kinds.start();
  // Several locations: where a target's state is kept depends on the target (its locations) and on the
  // live places; the engine reads targets before their states, and these remember each target it read.
  const seenTargets = new Map<string, Target>();
  const engineTargets: TargetRepository = options.cluster
    ? {
        ...targets,
        list: async () => {
          const list = await targets.list();
          for (const t of list) seenTargets.set(t.id, t);
          return list;
        },
        get: async (id) => {
          const t = await targets.get(id);
          if (t) seenTargets.set(id, t);
          else seenTargets.delete(id);
          return t;
        },
        put: async (t) => {
          seenTargets.set(t.id, t);
          await targets.put(t);
        },
      }
    : targets;
  const perLocation = (id: string): boolean => {
    const t = seenTargets.get(id);
    return sharing !== undefined && t !== undefined && sharing.placement(id, t).perLocation;
  };
  const checksHere = (id: string): boolean => {
    const t = seenTargets.get(id);
    return sharing === undefined || t === undefined || sharing.placement(id, t).locations.includes(config.location);
  };
  const engineStates = options.cluster ? createLocatedStateRepository(store, config.location, perLocation, checksHere) : states;
  let placesBefore = 0;
  const engine = createEngine({
    targets: engineTargets,
    states: engineStates,
    probes: kinds.probes,
    clock,
    logger,
    concurrency: config.checkConcurrency,
    timerResolutionMs: TIMER_RESOLUTION_MS,
    startSlots: true,
    stopGraceMs: STOP_BUDGET_MS.checks,
    // Several instances: only this one's share (sharing is made below, before anything is checked).
    // The target is passed: its locations= decide who checks it (the engine may ask before it holds the target).
    ...(options.cluster ? { owns: (id: string, t: Target) => sharing?.owns(id, t) ?? true, phaseSalt: config.location, takeoverSpreadMs: Math.min(TAKEOVER_SPREAD_MS, options.cluster.membership.earlyByMs) } : {}),
  });
  const cluster = options.cluster;
  let sharing: Sharing | undefined;
  // One instance always leads; of several, the one holding the lock (main() calls lead()).
  let leading = cluster === undefined;
  let roleSince = clock.now();
  let role: ClusterInfo['role'] = cluster ? 'member' : 'leader';

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
  // Several places: traces are taken where the target fails (the leader asks that place's instance).
  const remoteTracer = cluster
    ? createRemoteTracer({
        bus: cluster.bus,
        store,
        self: cluster.membership.id,
        location: config.location,
        tracer,
        source,
        refuse: (host) => (parseTraceHost(host).ok ? undefined : 'not a host this instance traces'),
        timeoutMs: config.trace.timeoutMs + 15_000,
        logger,
      })
    : undefined;
  remoteTracer?.start();
  // The bot's client exists before anything that delivers: sending needs no getMe, so alerts never
  // wait for the chat to come up. Its handlers are installed further down, once their parts exist.
  // grammy is loaded only with a token: a headless process never loads it.
  const tg = config.botToken ? await import('./bot/runtime.js') : undefined;
  const bot = tg && config.botToken
    ? tg.createBotClient({ token: config.botToken, apiRoot: config.telegramApiRoot, ...(options.throttle ? { throttle: options.throttle } : {}) })
    : undefined;
  const telegramChannel = tg && bot
    ? createTelegramChannel({
        sender: () => tg.createTelegramSender(bot.api),
        classify: tg.classifyTelegramError,
        records: alertRecords,
        clock,
        ...(options.groupWindowMs !== undefined ? { windowMs: options.groupWindowMs, maxIntervalMs: Math.max(options.groupWindowMs, 60 * options.groupWindowMs) } : {}),
      })
    : undefined;
  const channelEnv = config.channelEnv;
  const channelContext: ChannelContext = {
    clock,
    logger,
    store,
    env: channelEnv,
    settings: (id) => destinations.get(id)?.settings,
    allowMetadata: config.allowMetadataTargets,
  };
  const channels = new Map<string, Channel>([
    ...(telegramChannel ? [[telegramChannel.kind, telegramChannel] as const] : []),
    ['log', createLogChannel(logger)],
    ...CHANNEL_SPECS.map((spec) => [spec.kind, spec.create(channelContext)] as const),
  ]);
  const backoff = options.outboxBackoffMs ?? { base: 1_000, max: 300_000 };
  const outbox = createOutbox({
    store,
    channels,
    clock,
    logger,
    baseBackoffMs: backoff.base,
    maxBackoffMs: backoff.max,
    ...(options.probeEveryMs !== undefined ? { probeEveryMs: options.probeEveryMs } : {}),
  });
  // Routing: every notification of a chat goes to the chat itself (its topic in Telegram; the log when
  // headless), and to the chat's destinations that asked for it.
  const tell: Tell = (n) => {
    const target = n.targetId !== undefined ? engine.target(n.targetId) : undefined;
    const own = bot ? telegramDestination(n.chatId, n.threadId) : logDestination(n.chatId);
    return outbox.enqueue(n, [own, ...destinations.route(n, target)]);
  };
  // A destination that answered "gone" is paused (its queue kept) and the chat's admins are told once.
  outbox.onDelivery((event) => {
    if (event.outcome !== 'paused') return;
    const d = destinations.get(event.item.destination);
    if (!d || d.paused) return;
    const why = event.why ?? (event.error instanceof Error ? event.error.message : String(event.error));
    void destinations
      .update(d.id, (x) => {
        x.paused = { at: clock.now(), why };
      })
      .then(() =>
        outbox.enqueue(
          { kind: 'destination-paused', destination: d.name, channel: d.kind, why, id: `paused:${d.id}:${clock.now()}`, at: clock.now(), chatId: d.chatId },
          [bot ? telegramDestination(d.chatId) : logDestination(d.chatId)],
        ),
      )
      .catch((err: unknown) => logger.error({ err, event: 'destination_pause_failed', destination: d.id }, 'could not pause a destination'));
  });
  const testDestination = async (d: Destination, by: string): Promise<string> => {
    const id = `test:${d.id}:${clock.now()}`;
    const outcome = new Promise<string>((resolve) => {
      const timer = setTimeout(() => {
        off();
        resolve(`not delivered yet after ${NOTIFY_TEST_WAIT_MS / 1_000}s: ${outbox.outcomes().get(d.id)?.lastError ?? 'still waiting'} (it stays queued and is retried)`);
      }, NOTIFY_TEST_WAIT_MS);
      const off = outbox.onDelivery((event) => {
        if (event.item.notification.id !== id) return;
        if (event.outcome === 'retry') return;
        clearTimeout(timer);
        off();
        const why = event.why ?? (event.error instanceof Error ? event.error.message : String(event.error ?? ''));
        resolve(event.outcome === 'delivered' ? 'delivered ✅' : event.outcome === 'paused' ? `refused, and paused: ${why}` : `refused: ${why}`);
      });
    });
    await outbox.enqueue({ kind: 'test', destination: d.name, by, id, at: clock.now(), chatId: d.chatId }, [d.id]);
    return outcome;
  };
  // The chats hear once that Lookout cannot save (and once that it can again), not with every alert.
  let failing: { since: number; failedWrites: number } | undefined;
  store.onHealth((h) => {
    // Of several instances, the leader tells the chats (every instance's /health shows its own store).
    if (!leading) return;
    const episode = failing ?? { since: h.since ?? clock.now(), failedWrites: h.failedWrites };
    failing = h.ok ? undefined : episode;
    const body = h.ok
      ? { kind: 'store-recovered' as const, since: episode.since, retried: Math.max(0, h.failedWrites - episode.failedWrites) }
      : { kind: 'store-failing' as const, cause: h.cause ?? 'writes are refused', since: episode.since };
    for (const chatId of bot ? config.allowedChatIds : [0]) {
      void tell({ ...body, id: `store:${body.kind}:${episode.since}:${chatId}`, at: clock.now(), chatId }).catch((err: unknown) =>
        logger.error({ err, event: 'store_notice_failed' }, 'could not queue the store notice'),
      );
    }
  });
  const notices = createStateNotices({ store, tell, now: clock.now, targets: () => engine.targets(), state: (id) => stateOf(id) });
  // What an instance that does not lead has to tell (expiry warnings of its targets) goes to the leader through the journal.
  const tellFromHere: Tell = (n) => (leading || !sharing ? tell(n) : sharing.forwardTell(n));
  const warnings = createWarnings({ store, tell: tellFromHere, clock, thresholdsDays: config.expiryWarnDays, logger });
  const policy = createAlertPolicy({
    incidents,
    tell,
    notices,
    windows,
    clock,
    store,
    source,
    target: (id) => engine.target(id),
    targets: () => engine.targets(),
    state: (id) => stateOf(id),
    stateSaved: (id) => engine.stateSaved(id),
    chatSettings: (chatId) => chats.get(chatId),
    logger,
  });
  // Several locations: the leader's verdict over what each place sees of the targets checked per location.
  const judgeStore = store.namespace<string[]>('judge');
  const judge: Judge | undefined = cluster
    ? createJudge({
        live: () => sharing?.placed().map((m) => m.location) ?? [],
        placement: (id, t) => sharing!.placement(id, t),
        target: (id) => engine.target(id),
        targets: () => engine.targets(),
        verdicts: states,
        at: (l) => createStateRepository(store, locationNamespace(l)),
        decide: async (change, target) => {
          history.change(target.id, change.at, change.to);
          await policy.onChange(change, target);
          boards.changed(target.chatId);
        },
        locationChanged: async (location, lost, remaining, chats) => {
          const at = clock.now();
          for (const [chatId, n] of chats) {
            await tell({ kind: 'location', location, lost, remaining: [...remaining], targets: n, id: `location:${location}:${lost ? 'lost' : 'back'}:${at}:${chatId}`, at, chatId });
          }
        },
        announce: (r) => sharing?.announce(r),
        places: { get: async () => (await judgeStore.get('places')) ?? undefined, set: async (l) => void (await judgeStore.set('places', [...l])) },
        clock,
        logger,
      })
    : undefined;
  const placeKey = (t: Target): string => JSON.stringify([t.locations ?? null, t.quorum ?? null]);
  // Several locations: what each place sees of a target now, asked of its instances for /status.
  const remoteViews = cluster
    ? createRemoteViews({
        bus: cluster.bus,
        own: (id) => {
          const record = engine.owned(id) && perLocation(id) ? engine.state(id) : undefined;
          return record ? viewOf(config.location, record) : undefined;
        },
        logger,
      })
    : undefined;
  remoteViews?.start();
  /** The target's state as the chat, the policy and /api/status show it: the verdict of a target checked per location. */
  // (On another instance: the leader's verdict as it announced it, not this place's own record.)
  const verdictCopies = new Map<string, StateRecord>();
  const stateOf = (id: string): StateRecord | undefined => (judge && perLocation(id) && !(engine.target(id)?.paused ?? false) ? (leading ? judge.record(id) : verdictCopies.get(id)) : undefined) ?? engine.state(id);
  // What the chat and the HTTP endpoints see of the engine: a target checked per location shows its verdict.
  const shownEngine: Engine = judge ? Object.assign(Object.create(engine) as Engine, { state: stateOf }) : engine;
  engine.onChange((change, target) => {
    // Checked per location: this place's view goes to the leader's verdict (here, or through the journal).
    if (judge && sharing && sharing.placement(target.id, target).perLocation) {
      const record = engine.state(target.id);
      const decided = leading ? (record ? judge.seen(target, sharing.location, record) : Promise.resolve()) : sharing.forward(change, target);
      decided.catch((err: unknown) => logger.error({ err, target: target.id, event: 'alert_failed' }, 'could not queue an alert'));
      return;
    }
    // Not leading (several instances): the change goes to the leader's policy through the journal.
    const decided = leading || !sharing ? policy.onChange(change, target) : sharing.forward(change, target);
    if (leading && sharing) {
      const record = engine.state(target.id);
      if (record) sharing.announce(record);
    }
    decided.catch((err: unknown) => logger.error({ err, target: target.id, event: 'alert_failed' }, 'could not queue an alert'));
  });
  engine.onCheck((event) => warnings.observe(event.target, event.result));
  const metrics = createMetrics(() => outbox.depth(), () => engine.stats().targets, () => outbox.depthByChannel(), () => store.health(), options.cluster ? config.location : undefined);
  const clusterInfo = (): ClusterInfo | undefined =>
    cluster
      ? {
          instance: cluster.membership.id,
          location: config.location,
          role,
          peers: cluster.membership.members().map((m) => ({ id: m.id, ...(m.location !== undefined ? { location: m.location } : {}), seenAgoMs: Math.max(0, Date.now() - m.seenAt.getTime()), pending: m.pending })),
          checking: engine.targets().filter((t) => engine.owned(t.id)).length,
          roleSince,
        }
      : undefined;
  if (cluster) registerClusterMetrics(metrics.registry, () => clusterInfo()!, clock.now);
  engine.onCheck((event) => metrics.check(event));
  const history = createHistory({ store, clock, logger, settings: config.history });
  const selfStats = createSelfStats(clock);
  engine.onCheck((event) => selfStats.observe(event));
  const health = createHealthReporter({
    version: VERSION,
    source: config.sourceLabel,
    clock,
    engine,
    store,
    selfStats,
    history,
    outbox,
    destinations,
    secrets,
    ...(cluster ? { cluster: () => clusterInfo()! } : {}),
  });
  // A target checked per location: each place's checks and states are its own series (`<id>@<place>`); the
  // target's own timeline is the verdict's (written by the leader), so /report counts what the verdict saw.
  const historyId = (t: Target): string => (judge && sharing?.placement(t.id, t).perLocation ? `${t.id}@${config.location}` : t.id);
  engine.onCheck((event) => history.record(historyId(event.target), event.result));
  engine.onChange((change, target) => history.change(historyId(target), change.at, change.to));
  outbox.onDelivery((event) => metrics.delivery(event.outcome, channelOf(event.item.destination)));
  const boards = createBoards({
    store,
    clock,
    logger,
    api: () => {
      if (!tg || !bot) throw new Error('the status board needs a bot');
      return tg.createBoardApi(bot.api);
    },
    render: async (chatId) => formatBoard(engine.targets().filter((t) => t.chatId === chatId), (id) => stateOf(id)),
    ...(options.boardIntervalMs !== undefined ? { minIntervalMs: options.boardIntervalMs } : {}),
    // Boards are not started without a bot, so the fallback only answers a call that cannot happen.
    classify: (err) => tg?.classifyTelegramError(err) ?? { action: 'drop', why: 'no bot' },
  });
  engine.onChange((_change, target) => boards.changed(target.chatId));
  const catalog = createCatalog(engineTargets, engine, {
    onSaved: (t) => secrets.add(...moduleOf(t).secrets(t)),
    onPaused: (t) => policy.close(t.id, 'paused'),
    onRemoved: async (t) => {
      boards.changed(t.chatId);
      metrics.forget(t.id);
      await history.remove(t.id);
      // Its places' own series and states too (the places live now; a place gone meanwhile keeps its rows),
      // and its verdict: a target added again under the name starts over.
      for (const place of new Set(sharing?.placed().map((m) => m.location) ?? [])) {
        await history.remove(`${t.id}@${place}`);
        await createStateRepository(store, locationNamespace(place)).delete(t.id);
      }
      judge?.forget(t.id);
      await policy.close(t.id, 'removed');
      for (const w of windows.list(t.chatId).filter((x) => x.targetId === t.id)) await windows.remove(w.id);
    },
    onRenamed: async (previousId, t) => {
      boards.changed(t.chatId);
      if (judge?.judged(t.id)) {
        // Checked per location: the verdict moves with the name (an open outage is not told again), and so
        // do the places' own series.
        await judge.renamed(previousId, t.id);
        for (const place of new Set(sharing?.placed().map((m) => m.location) ?? [])) await history.rename(`${previousId}@${place}`, `${t.id}@${place}`);
      } else judge?.forget(previousId);
      // The old id's series would linger in /metrics for ever; the new id starts its own.
      metrics.forget(previousId);
      await history.rename(previousId, t.id);
      await policy.renamed(previousId, t);
    },
    onChanged: (id, previousId, previous) => {
      sharing?.targetChanged(id, previousId);
      const t = engine.target(id);
      // Its places or its quorum changed: the verdict is taken over the places it asks for now.
      if (leading && judge && t && previous && placeKey(previous) !== placeKey(t)) void judge.relocated().catch((err: unknown) => logger.error({ err, event: 'verdict_failed' }, 'could not take the verdict again'));
    },
  });
  if (cluster) {
    sharing = createSharing({
      membership: cluster.membership,
      bus: cluster.bus,
      engine,
      store,
      targets,
      clock,
      logger,
      // A target given to another instance: its series leave this one's /metrics, its checks so far reach the store now.
      reassigned: ({ given }) => {
        for (const id of given) metrics.forget(id);
        if (given.length > 0) void history.flush();
        // Several places now (or a different number): this place's records of the targets it checks per
        // location are written where the leader reads them (one place kept them in `states`, and a place
        // tells only its changes).
        const places = new Set(sharing?.placed().map((m) => m.location) ?? []).size;
        if (places !== placesBefore && places >= 2) {
          const mine = engine.targets().filter((t) => engine.owned(t.id) && perLocation(t.id)).map((t) => engine.state(t.id)).filter((r): r is StateRecord => r !== undefined);
          void engineStates.putMany(mine).catch((err: unknown) => logger.error({ err, event: 'store_write_failed' }, 'could not save the states of this place'));
          // The verdicts as saved, until the leader announces newer ones (what /api/status here shows of them).
          if (!leading)
            void states
              .all()
              .then((saved) => {
                for (const [id, r] of saved) if (perLocation(id) && !verdictCopies.has(id)) verdictCopies.set(id, r);
              })
              .catch((err: unknown) => logger.warn({ err, event: 'store_read_failed' }, 'could not read the verdicts'));
        }
        placesBefore = places;
        // The live places may have changed: the verdicts are taken over the ones that remain.
        if (leading) void judge?.relocated().catch((err: unknown) => logger.error({ err, event: 'verdict_failed' }, 'could not take the verdicts again'));
      },
      location: config.location,
      verdict: (r) => {
        const held = verdictCopies.get(r.targetId);
        if (!held || held.since <= r.since) verdictCopies.set(r.targetId, r);
      },
    });
  }

  const statusPages = createStatusPages(store, clock.now);
  let stopping: Promise<void> | undefined;
  let judgeTimer: ReturnType<typeof setInterval> | undefined;
  if (tg && bot && config.botToken) {
    tg.installHandlers(
      bot,
      {
        catalog,
        engine: shownEngine,
        policy,
        incidents,
        alerts: alertRecords,
        windows,
        history,
        boards,
        chats,
        access,
        updates: store.namespace('updates'),
        tracer,
        source,
        clock,
        logger,
        allowMetadata: config.allowMetadataTargets,
        publicUrl: config.httpPort === 0 ? undefined : config.publicUrl,
        destinations,
        outbox,
        channels: { specs: CHANNEL_SPECS, env: channelEnv, secrets },
        testDestination,
        maxTargetsPerChat: config.maxTargetsPerChat,
        ...(judge && remoteViews
          ? {
              // What each place sees now (asked over the bus; a place that does not answer within 1 s is shown as last told).
              places: async (id: string) => {
                const t = engine.target(id);
                if (!t || !sharing || !judge.judged(id)) return [];
                const wanted = sharing.placement(id, t).locations;
                const now = await remoteViews.collect(id, wanted, 1_000);
                const told = judge.views(id);
                return wanted.flatMap((l) => now.get(l) ?? told.find((v) => v.location === l) ?? []);
              },
              placeNames: (id: string) => {
                const t = engine.target(id);
                return t && sharing && judge.judged(id) ? sharing.placement(id, t).locations : [];
              },
            }
          : {}),
        ...(remoteTracer && cluster
          ? {
              traceFrom: async (place: string, host: string, port: number | undefined): Promise<RemoteTrace | string> => {
                const there = (sharing?.placed() ?? []).filter((m) => m.location === place).map((m) => m.id);
                const places = [...new Set((sharing?.placed() ?? []).map((m) => m.location))].sort();
                if (there.length === 0) return `no instance checks from ${place} now (places: ${places.join(', ') || 'none'})`;
                // One of the place's instances, the same for the same host (spreads the work, stable).
                const instance = ownerOf(host, there)!;
                if (instance === cluster.membership.id) {
                  const result = await tracer.trace(host, port);
                  const address = await source.addressFor(host);
                  return { result, label: `${place} (${source.label})`, ...(address ? { address } : {}) };
                }
                return (await remoteTracer.traceOn(instance, host, port)) ?? `${instance} did not answer within ${Math.round((config.trace.timeoutMs + 15_000) / 1_000)} s`;
              },
            }
          : {}),
        statusPages,
        download: createFileDownloader(config.telegramApiRoot, config.botToken),
        ...(options.reportError ? { reportError: options.reportError } : {}),
        health,
      },
      createGrammyStorage(store, 'conversations'),
    );
    tg.countFailedCalls(bot.api, (method) => {
      metrics.telegramError(method);
      selfStats.telegramError();
    });
  }
  /** The failing places of a target checked per location, and who checks it there. */
  const failingPlaces = (targetId: string): Array<{ location: string; instance: string }> => {
    const t = engine.target(targetId);
    if (!t || !judge || !sharing || !judge.judged(targetId)) return [];
    const p = sharing.placement(targetId, t);
    return judge
      .views(targetId)
      .filter((v) => v.state === 'DOWN' && p.locations.includes(v.location))
      .map((v) => ({ location: v.location, instance: p.owners[p.locations.indexOf(v.location)]! }));
  };
  const traces = bot
    ? attachTraces({
        outbox,
        tracer,
        source,
        logger,
        now: clock.now,
        ...(remoteTracer && cluster ? { places: failingPlaces, remote: remoteTracer, self: { id: cluster.membership.id, location: config.location } } : {}),
      })
    : undefined;
  // The parts, in the order they start (stop() takes the chat, checking, the alert side, then http): checking, the HTTP endpoints, the
  // alert side, the chat. The alert side and the chat can stop and start again while the process runs.
  const checking = createCheckingPart({
    engine,
    history,
    warnings,
    ...(sharing ? { sharing } : {}),
    alone: () => !cluster || cluster.membership.live().every((id) => id === cluster.membership.id),
    secrets,
    clock,
    logger,
  });
  const webhookMode = bot !== undefined && config.webhookUrl !== undefined && config.webhookSecret !== undefined;
  // The REST API: the chat's catalog, grammar and registries, reached by bearer tokens (API_TOKENS).
  const apiDeps: ApiDeps = {
    tokens: config.apiTokens,
    ratePerMinute: config.apiRatePerMinute,
    chats: bot ? config.allowedChatIds : [0],
    catalog,
    engine: shownEngine,
    policy,
    incidents,
    windows,
    settings: chats,
    history,
    destinations,
    outbox,
    channels: { specs: CHANNEL_SPECS, env: channelEnv, secrets },
    tell,
    clock,
    allowMetadata: config.allowMetadataTargets,
    maxTargetsPerChat: config.maxTargetsPerChat,
    publicUrl: config.publicUrl,
    ...(judge && sharing
      ? {
          placeNames: (id: string) => {
            const t = engine.target(id);
            return t && judge.judged(id) ? sharing.placement(id, t).locations : [];
          },
        }
      : {}),
    // Of several instances, the leader runs the alert side the API's changes are told through.
    unavailable: () => (leading ? undefined : 'this instance does not lead: send changes to the leader (its /healthz says leader)'),
    count: (status, route) => metrics.api(status, route),
    logger,
  };
  const api = createRestApi(apiDeps, VERSION);
  // Public status pages and badges: rendered at most once per 5 s whatever the crowd, with ETags.
  const statusRoutes = createStatusRoutes({
    pages: statusPages,
    sources: {
      // From memory: the engine knows every target (a page is built every 5 s while read; no store listing).
      targets: async (chatId) => shownEngine.targets().filter((t) => t.chatId === chatId),
      state: (id) => shownEngine.state(id),
      history,
      incidents,
      ...(apiDeps.placeNames ? { placeNames: apiDeps.placeNames } : {}),
    },
    now: clock.now,
    count: (kind, hit) => metrics.statusPage(kind, hit),
    logger,
  });
  let chatPart: ChatPart | undefined;
  const httpPart = createHttpPart(
    {
      port: config.httpPort,
      engine: shownEngine,
      store,
      metrics,
      ...(config.statusToken ? { statusToken: config.statusToken } : {}),
      kinds,
      handlers: [api, statusRoutes],
      ...(options.reportError ? { reportError: options.reportError } : {}),
      ...(cluster ? { about: () => clusterHealthz(clusterInfo()!, clock.now()) } : {}),
    },
    logger,
    webhookMode ? (req, res) => chatPart?.route(req, res) ?? Promise.resolve(false) : undefined,
  );
  chatPart = tg && bot
    ? tg.createChatPart({
        bot,
        pollTimeoutS: options.pollTimeoutS ?? 30,
        ...(webhookMode ? { webhook: { url: config.webhookUrl!, secret: config.webhookSecret!, listening: httpPart.listening } } : {}),
        ...(options.chatRetry ? { retry: options.chatRetry } : {}),
        updatesMs: STOP_BUDGET_MS.updates,
        logger,
      })
    : undefined;
  const alerting = createAlertingPart({
    policy,
    outbox,
    boards,
    startBoards: bot !== undefined,
    incidents,
    alertRecords,
    keepMs: config.history.hourDays * 86_400_000,
    deliveriesMs: STOP_BUDGET_MS.deliveries,
    clock,
    logger,
  });
  // One instance starts every part; of several, the alert side and the chat wait for lead().
  await startParts(cluster ? [checking, httpPart] : [checking, httpPart, alerting, ...(chatPart ? [chatPart] : [])]);
  const applyDeclared = async (contents: DocumentContents): Promise<SyncReport> => {
    const report = await syncDeclared(contents, {
      catalog,
      allTargets: () => targets.list(),
      windows,
      windowsChanged: () => policy.windowsChanged(),
      applyChannels: async (list, mode) => {
        const declaredDestinations = list as Destination[];
        for (const d of declaredDestinations) secrets.add(...(channelSpec(d.kind)?.secrets(d.settings) ?? []));
        return applyDestinations(destinations, declaredDestinations, mode, async (d) => void (await outbox.discard(d.id)));
      },
    });
    logger.info({ event: 'targets_file_applied', file: config.targetsFile, ...report }, `TARGETS_FILE: ${report.added.length} added, ${report.changed.length} changed, ${report.removed.length} removed, ${report.unchanged.length} unchanged${report.channels ? `, ${report.channels} destinations added or changed` : ''}`);
    return report;
  };
  if (declared.value && !cluster) await applyDeclared(declared.value);
  const setRole = (next: ClusterInfo['role']): void => {
    role = next;
    roleSince = clock.now();
  };
  let led = false;
  let steppedDown = false;

  return {
    config,
    engine,
    store,
    outbox,
    windows,
    history,
    boards,
    policy,
    metrics,
    logger,
    parts: { checking, http: httpPart, alerting, ...(chatPart ? { chat: chatPart } : {}) },
    get chatReady() {
      return chatPart?.ready;
    },
    ...(sharing ? { sharing } : {}),
    get leading() {
      return leading;
    },
    async lead(stillLeader = () => true) {
      if (!cluster || led || stopping) return;
      led = true;
      // The lock can go while this runs (a database blip): then the takeover stops where it is, and the
      // caller steps down (stepDown() stops whatever was started).
      const check = (): void => {
        if (!stillLeader()) throw new Error('the leadership was lost while taking over');
      };
      await loadLeaderState();
      check();
      // The states of the targets others check, as they saved them: what the policy reconciles against.
      // (Not into a target this instance checks per location: its own record there is its place's, not the verdict.)
      for (const record of (await states.all()).values()) if (!(engine.owned(record.targetId) && perLocation(record.targetId))) engine.observe(record);
      await judge?.prime();
      check();
      await startParts([alerting]);
      check();
      // What the others decided while nobody (or the last leader) led, then everything as it comes.
      // The verdicts of the targets checked per location, from what each place saved.
      await judge?.load();
      check();
      await sharing!.lead({
        decide: async (change, target, seen) => {
          if (seen && judge) return judge.seen(target, seen.location, seen.record);
          await policy.onChange(change, target);
          boards.changed(target.chatId);
        },
        tell,
      });
      check();
      leading = true;
      setRole('leader');
      // Places that stay silent (no change since they joined) are read from the store every few seconds.
      if (judge) {
        judgeTimer = setInterval(() => void judge.refresh().catch((err: unknown) => logger.error({ err, event: 'verdict_failed' }, 'could not read the places\' states')), JUDGE_REFRESH_MS);
        judgeTimer.unref();
      }
      // The file as it is now: this instance may have started long before it was last changed (read again
      // only then: parsing a file of 10,000 targets holds the checks up for a second).
      const file = fileStamp(config.targetsFile) === declaredStamp ? declared : await readDeclared(config, clock.now());
      if (!file.ok) logger.error({ event: 'targets_file_invalid', file: config.targetsFile, problems: file.errors }, 'TARGETS_FILE not applied: it has errors');
      else if (file.value) await applyDeclared(file.value);
      // Not a chat started by an instance that no longer holds the lock (two bots answering one chat).
      check();
      if (chatPart) await startParts([chatPart]);
      check();
      logger.info({ event: 'leading', instance: cluster.membership.id }, 'this instance leads: the chat and the alerts run here');
    },
    async stepDown() {
      if (!cluster || !led || steppedDown) return;
      steppedDown = true;
      leading = false;
      setRole('stepping-down');
      sharing?.unlead();
      judge?.stop();
      if (judgeTimer !== undefined) clearInterval(judgeTimer);
      // Nothing new is sent from this instant (deliveries in flight are waited for); then the chat stops
      // taking updates and the policy finishes what it was deciding (saved, for the next leader).
      const paused = outbox.pause(STOP_BUDGET_MS.deliveries);
      await chatPart?.stop();
      await alerting.stop();
      await paused;
    },
    ...(bot ? { bot } : {}),
    get http() {
      return httpPart.server;
    },
    async reload() {
      if (!leading) {
        logger.info({ event: 'targets_file_not_leading' }, 'TARGETS_FILE is applied by the leading instance');
        return { ok: true, report: { added: [], changed: [], unchanged: [], removed: [], windows: 0 } };
      }
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
        await chatPart?.stop();
        await checking.stop();
        traces?.stop();
        remoteTracer?.stop();
        remoteViews?.stop();
        if (judgeTimer !== undefined) clearInterval(judgeTimer);
        judge?.stop();
        tracer.stop();
        await alerting.stop();
        await httpPart.stop();
        await outbox.stop(0);
        await agent.close();
        await kinds.close();
        await store.close();
        logger.info({ event: 'stopped' }, 'Lookout stopped');
      })()),
  };
}

async function main(): Promise<void> {
  // Signals are handled from the first line: a stop asked for while starting waits for the start to
  // finish its current step, then stops cleanly (exit 0) instead of dying with nothing saved.
  let app: App | undefined;
  // Several instances: the app being stopped for a restart as a member (its writes still count as waiting).
  let retiring: App | undefined;
  let logger: Logger | undefined;
  // SENTRY_DSN: its handlers send an uncaught exception or unhandled rejection, then exit 1 (within 2 s).
  let tracker: ErrorTracker | undefined;
  let signals = 0;
  let stopAsked: NodeJS.Signals | undefined;
  // Several instances on one database: what a stop must also let go of (the lock, the member row, the bus).
  let clusterStop: (() => Promise<void>) | undefined;
  const stopNow = (running: App): void => {
    running.stop().then(
      () => (clusterStop ?? (async () => undefined))(),
    ).then(
      () => tracker?.close(2_000),
    ).then(
      () => process.exit(0),
      (err: unknown) => {
        running.logger.error({ err, event: 'stop_failed' }, 'could not stop cleanly');
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      logger?.warn({ event: 'forced_exit', signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    if (logger) logger.info({ event: 'stopping', signal, starting: app === undefined }, 'stopping');
    else process.stderr.write(`lookout: stopping (${signal})\n`);
    // The last resort: whatever hangs, the process is gone before the platform's own kill.
    setTimeout(() => {
      logger?.error({ event: 'stop_timeout', afterMs: STOP_BUDGET_MS.total }, 'could not stop in time: exiting');
      process.exit(1);
    }, STOP_BUDGET_MS.total).unref();
    if (app) stopNow(app);
    else stopAsked = signal;
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // SIGHUP re-reads TARGETS_FILE (`docker kill -s HUP`, `systemctl reload`).
  process.on('SIGHUP', () => void app?.reload());
  // The engine's timers do not hold the process open; this does, until a signal arrives.
  setInterval(() => undefined, 1 << 30);

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
  const secrets = createSecretRegistry(secretsOf(config));
  logger = createLogger(config.logLevel, undefined, { secrets });
  tracker = createErrorTracker({ dsn: config.sentry.dsn, environment: config.sentry.environment, release: `lookout@${VERSION}`, secrets, logger });
  const log = logger;
  const start = async (): Promise<void> => {
    try {
      app = await startApp(config, { logger: log, secrets, reportError: (err, context) => tracker?.capture(err, context) });
    } catch (err) {
      if (err instanceof TargetsFileError || err instanceof StoreError) {
        process.stderr.write(`lookout: ${err.message}\n`);
        process.exit(1);
      }
      throw err;
    }
    app.logger.info({ event: 'started', headless: !config.botToken, dataDir: config.dataDir, store: describeLocation(storeLocation(config)) }, 'Lookout started');
    if (stopAsked) stopNow(app);
  };
  if (config.databaseUrl === undefined) return start();
  // The database is checked before anything else, as a single instance checks it at start: a bad URL or
  // an unreachable server is one line and exit 1, not an instance waiting for ever.
  try {
    await (await openStore(storeLocation(config), { logger: log })).close();
  } catch (err) {
    if (err instanceof StoreError) {
      process.stderr.write(`lookout: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const url = config.databaseUrl;
  // Loaded only here: a single instance on SQLite loads no PostgreSQL code (pg is ~17 MB of RSS).
  const { createBus, createLeaderElector, createMembership, newMemberId } = await import('./cluster/postgres-parts.js');
  const instance = config.instanceId ?? newMemberId();
  // Several instances on one database. Every one checks its share of the targets; the one holding the
  // lock also leads (the chat, the alert policy, the outbox). A leader that loses the lock stops the chat
  // and the alert side at once, keeps checking, waits until what it decided is in the database, then
  // starts again as a member: taking over is a start on the shared database, the path every restart
  // takes, so the next leader finishes what was decided and not sent.
  // The member row and the bus outlive a restart of the app: this instance keeps its share meanwhile.
  const membership = createMembership({
    url,
    id: instance,
    location: config.location,
    ttlMs: config.memberTtlMs,
    // A dead instance's share is started over TAKEOVER_SPREAD_MS: counted out that much earlier, each target waits at most interval + TTL.
    earlierMs: TAKEOVER_SPREAD_MS,
    logger: log,
    // With the app being restarted, the writes the old one still holds count (a new leader waits for them).
    pending: () => (app?.store.health().pendingWrites ?? 0) + (retiring?.store.health().pendingWrites ?? 0),
  });
  const bus = createBus({ url, logger: log });
  // What any stop of the process lets go of besides the app: the member row (deleted, so the share moves
  // at once) and the bus. Kept apart from the elector, which each start of the app has its own of.
  const leaveCluster = async (): Promise<void> => {
    await withTimeout(membership.stop(), 2_000);
    await bus.publish('members', { id: instance }).catch(() => undefined);
    await withTimeout(bus.stop(), 2_000);
  };
  await membership.start();
  await bus.start();
  for (let incarnation = 0; ; incarnation++) {
    let running: App;
    try {
      running = await startApp(config, { logger: log, secrets, cluster: { membership, bus }, reportError: (err, context) => tracker?.capture(err, context) });
    } catch (err) {
      if (err instanceof TargetsFileError || (err instanceof StoreError && incarnation === 0)) {
        process.stderr.write(`lookout: ${err.message}\n`);
        process.exit(1);
      }
      if (stopAsked) {
        // A stop asked for while the app was being started again: nothing runs that could be left half done.
        await leaveCluster();
        await tracker.close(2_000);
        process.exit(0);
      }
      if (!(err instanceof StoreError)) throw err;
      // Starting again after a lost lock while the database is away: wait for it, as the first start did not.
      log.warn({ event: 'restart_waiting', cause: err.message }, 'the database cannot be used yet: trying again in 2 s');
      await new Promise((r) => setTimeout(r, 2_000));
      continue;
    }
    app = running;
    let lastRecovery = 0;
    running.store.onHealth((h) => {
      if (h.ok) lastRecovery = Date.now();
    });
    // A check of the lock every 2 s that may take 1.5 s: a loaded machine or database must not pass for a lost lock
    // (each loss is a step-down and a restart of the app); a real loss is seen within 3.5 s.
    const elector = createLeaderElector({ url, logger: log, checkMs: 2_000, checkTimeoutMs: 1_500 });
    let leaving = false;
    clusterStop = async () => {
      leaving = true;
      await elector.stop();
      await leaveCluster();
    };
    log.info({ event: 'started', role: 'member', instance, headless: !config.botToken, store: describeLocation(storeLocation(config)) }, 'Lookout started: checking its share, standing by to lead');
    if (stopAsked) {
      stopNow(running);
      return;
    }
    const steppedDown = new Promise<void>((resolve) => {
      let led = false;
      let leadDone: Promise<void> = Promise.resolve();
      let down = false;
      const stepDown = (why: string): void => {
        if (down || leaving) return;
        down = true;
        log.error({ event: 'leadership_lost', instance, why }, 'this instance lost the leadership: stopping the chat and the alerts');
        void (async () => {
          // A takeover still on its way ends first (it stops at its next step), then everything it started stops.
          await leadDone.catch(() => undefined);
          await withTimeout(running.stepDown(), LEADERSHIP_STOP_MS);
          await elector.stop();
          // Before starting again: what this instance decided reaches the database, and the database answers.
          while (!stopAsked && !(running.store.health().ok && running.store.health().pendingWrites === 0 && (await withTimeout(running.store.ping(), 2_000)) === true)) {
            await new Promise((r) => setTimeout(r, 250));
          }
          resolve();
        })();
      };
      elector.onChange((leading) => {
        if (leaving) return;
        if (leading && !led) {
          led = true;
          leadDone = (async () => {
            await handover(membership, running, () => lastRecovery, config.memberTtlMs, log);
            if (!elector.isLeader || stopAsked) throw new Error('the leadership was lost before taking over');
            await running.lead(() => elector.isLeader && !stopAsked);
          })();
          // A takeover that fails (the database went away again) keeps nobody from leading: this instance lets go.
          leadDone.catch((err: unknown) => {
            if (!stopAsked) stepDown(err instanceof Error ? err.message : String(err));
          });
        } else if (!leading && led) stepDown('the lock connection failed');
      });
    });
    await elector.start();
    await steppedDown;
    if (stopAsked) return;
    log.info({ event: 'restarting', instance }, 'what this instance decided is in the database: starting again as a member');
    // A signal meanwhile only leaves the cluster once the old app stopped and the next one started (then stopNow above).
    clusterStop = undefined;
    app = undefined;
    retiring = running;
    await withTimeout(running.stop(), STOP_BUDGET_MS.total);
    retiring = undefined;
    if (stopAsked) {
      await leaveCluster();
      await tracker.close(2_000);
      process.exit(0);
    }
  }
}

/** The file's size and modification time, to tell whether it changed since it was read. */
function fileStamp(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    const s = statSync(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return undefined;
  }
}

/** How often the leader reads the saved states of places it has not heard from (ms). */
const JUDGE_REFRESH_MS = 5_000;
/** How long a leader that lost its lock may take to stop the chat and the alert side (ms). */
const LEADERSHIP_STOP_MS = 5_000;
/** How long a new leader waits at most for the others' waiting writes (the last leader's decisions) to reach the database (ms). */
const HANDOVER_MAX_MS = 10_000;

/**
 * Before a new leader reads the incidents and the outbox: the writes other instances still hold (a
 * leader that lost its lock when the database went away holds its last decisions) reach the database
 * first, as far as their member rows tell. Right after the database came back, two beats are waited
 * for, so every instance has had the time to say what it holds.
 */
async function handover(membership: Membership, app: App, lastRecovery: () => number, ttlMs: number, log: Logger): Promise<void> {
  const started = Date.now();
  const beat = Math.floor(ttlMs / 3);
  for (;;) {
    await membership.refresh();
    const waiting = membership.members().filter((m) => m.id !== membership.id && m.pending > 0);
    const recent = Date.now() - lastRecovery() < 2 * beat;
    if (waiting.length === 0 && !recent && app.store.health().pendingWrites === 0) return;
    if (Date.now() - started > HANDOVER_MAX_MS) {
      log.warn({ event: 'handover_timeout', waiting: waiting.map((m) => m.id) }, 'leading without waiting longer for the other instances\' writes');
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // `node dist/main.js migrate --from DATA_DIR --to postgres://...` (what `npm run migrate` runs).
  if (process.argv[2] === 'migrate') void import('./cli/migrate.js').then(async (m) => process.exit(await m.runCli(process.argv.slice(3))));
  else void main();
}
