import { createRequire } from 'node:module';
import type * as SentryNode from '@sentry/node';
import { scrubSecrets, type Logger, type SecretRegistry } from './logger.js';

/** Where unexpected exceptions go: a Sentry project with a DSN, nowhere without one. */
export interface ErrorTracker {
  /** Sends `err` with `context` as extra data, both scrubbed of secrets; does nothing without a DSN. */
  capture(err: unknown, context?: Record<string, unknown>): void;
  /** Waits up to `timeoutMs` (default 2 s) for what was captured to be sent; false when time ran out. */
  flush(timeoutMs?: number): Promise<boolean>;
  /** Sends what is left (up to `timeoutMs`, default 2 s), then removes Sentry's client and its process handlers. */
  close(timeoutMs?: number): Promise<void>;
}

/** Options of {@link createErrorTracker}. */
export interface ErrorTrackerOptions {
  /** `SENTRY_DSN`; undefined gives a tracker that sends nothing. */
  dsn: string | undefined;
  /** `SENTRY_ENVIRONMENT` (default `production`). */
  environment?: string;
  /** What the events are filed under, like `lookout@0.1.0`. */
  release?: string;
  /** The secret strings cut out of every event, read at each event (secrets become known while running). */
  secrets: SecretRegistry | (() => readonly string[]);
  /** Says that the tracker runs, and when an event could not be sent. */
  logger?: Logger;
}

const DEFAULT_TIMEOUT_MS = 2_000;

// What the SDK would otherwise collect by default; none of the integrations that collect it are installed,
// and this keeps it so if one ever is.
const NO_DATA_COLLECTION: SentryNode.NodeOptions['dataCollection'] = {
  userInfo: false,
  cookies: false,
  httpHeaders: false,
  httpBodies: [],
  urlQueryParams: false,
  graphQL: { document: false, variables: false },
  genAI: { inputs: false, outputs: false },
  mcp: { inputs: false, outputs: false },
  databaseQueryData: false,
  queues: false,
  stackFrameVariables: false,
  frameContextLines: 0,
};

const NO_TRACKER: ErrorTracker = {
  capture: () => undefined,
  flush: () => Promise.resolve(true),
  close: () => Promise.resolve(),
};

/**
 * An error tracker: without a DSN one that does nothing; with one, Sentry (@sentry/node) sending uncaught
 * exceptions and unhandled rejections (the process still exits 1 after them, once they are sent, at most
 * 2 s later) and what {@link ErrorTracker.capture} is given, every event scrubbed like the logs. Nothing
 * else: no tracing, no automatic breadcrumbs (no HTTP, fetch or console instrumentation), no request or
 * user data.
 */
export function createErrorTracker(opts: ErrorTrackerOptions): ErrorTracker {
  if (opts.dsn === undefined) return NO_TRACKER;
  const given = opts.secrets;
  const secrets = typeof given === 'function' ? given : () => given.values();
  // Loaded only with a DSN: the SDK costs about 15 MB of heap and 0.3 s at start that an install without
  // Sentry should not pay. require() keeps the start synchronous, so nothing thrown early goes unseen.
  const sentry = createRequire(import.meta.url)('@sentry/node') as typeof SentryNode;
  // As a plain emitter: its typed overloads take one event name at a time.
  const emitter: NodeJS.EventEmitter = process;
  const events = ['uncaughtException', 'unhandledRejection'];
  const before = new Map(events.map((e) => [e, new Set(emitter.listeners(e))]));
  const client = sentry.init({
    dsn: opts.dsn,
    environment: opts.environment ?? 'production',
    ...(opts.release !== undefined ? { release: opts.release } : {}),
    defaultIntegrations: false,
    integrations: [
      // Exits 1 once the event is sent, unless another handler is registered: what Node itself does.
      sentry.onUncaughtExceptionIntegration(),
      // `strict`: captured, then exit 1 as Node does by default (the mode `warn` would keep the process running).
      sentry.onUnhandledRejectionIntegration({ mode: 'strict' }),
      // An error's `cause` chain, each scrubbed with the rest of the event.
      sentry.linkedErrorsIntegration(),
    ],
    // 0, not unset: unset, SENTRY_TRACES_SAMPLE_RATE in the environment would turn tracing on.
    tracesSampleRate: 0,
    dataCollection: NO_DATA_COLLECTION,
    sendClientReports: false,
    enableOpenTelemetrySetup: false,
    enableRuntimeChannelInjection: false,
    shutdownTimeout: DEFAULT_TIMEOUT_MS,
    // Extra data keeps 5 levels (Sentry's default is 3), still inside the depth scrubSecrets walks.
    normalizeDepth: 5,
    // The whole event and every breadcrumb, with the registry's values of the moment: messages, stacks,
    // extra data, request, breadcrumbs; keys like `token` and header values go whole.
    beforeSend: (event) => scrubSecrets(event, secrets()) as typeof event,
    beforeBreadcrumb: (breadcrumb) => scrubSecrets(breadcrumb, secrets()) as typeof breadcrumb,
  });
  // Only the handlers this init added are taken away on close (an embedding app may have its own).
  const added = events.map((e) => [e, emitter.listeners(e).filter((l) => !before.get(e)?.has(l))] as const);
  client?.on('afterSendEvent', (_event, response) => {
    const status = response.statusCode;
    if (status === undefined || status >= 400) {
      opts.logger?.warn({ event: 'error_tracker_send_failed', status: status ?? 'no answer' }, 'an event could not be sent to Sentry');
    }
  });
  opts.logger?.info({ event: 'error_tracker_started', host: new URL(opts.dsn).host, environment: opts.environment ?? 'production' }, 'uncaught exceptions go to Sentry');
  return {
    capture(err, context) {
      if (client === undefined || sentry.getClient() !== client) return;
      sentry.captureException(err, context !== undefined ? { extra: context } : undefined);
    },
    flush: async (timeoutMs = DEFAULT_TIMEOUT_MS) => (client === undefined ? true : client.flush(timeoutMs)),
    async close(timeoutMs = DEFAULT_TIMEOUT_MS) {
      for (const [e, listeners] of added) for (const l of listeners) emitter.off(e, l as (...a: unknown[]) => void);
      if (client === undefined) return;
      if (sentry.getClient() === client) await sentry.close(timeoutMs);
      else await client.close(timeoutMs);
    },
  };
}
