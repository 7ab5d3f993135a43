import { conversations, createConversation } from '@grammyjs/conversations';
import { autoRetry } from '@grammyjs/auto-retry';
import { run, sequentialize, type RunnerHandle } from '@grammyjs/runner';
import { apiThrottler, type APIThrottlerOptions } from '@grammyjs/transformer-throttler';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Bot, GrammyError, HttpError, webhookCallback, type BotError, type StorageAdapter } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import { createAddDialogue } from './conversations/add-dialogue.js';
import type { LookoutContext } from './context.js';
import type { BotDeps } from './deps.js';
import { createBoardCommands } from './features/board.js';
import { createChecks, createStaleButtons } from './features/checks.js';
import { createHealth } from './features/health.js';
import { createHelp } from './features/help.js';
import { createHistoryCommands } from './features/history.js';
import { createNotify } from './features/notify.js';
import { createOnCall } from './features/oncall.js';
import { createTargetsRead } from './features/targets-read.js';
import { createTargetsWrite } from './features/targets-write.js';
import { createTrace } from './features/trace.js';
import { createTransfer } from './features/transfer.js';
import { createWindows } from './features/windows.js';
import type { Logger } from '../lib/logger.js';
import { limitMessageLength } from './message-limits.js';
import { COMMANDS } from './texts.js';
import { createUpdateLedger } from './update-ledger.js';
import { createStatusPageCommands } from './features/statuspage.js';

/** How the bot reaches Telegram. */
export interface BotOptions {
  token: string;
  apiRoot: string;
  /** Where guided dialogues are kept between messages (and restarts). */
  conversationStorage: StorageAdapter<unknown>;
  /** Throttling of outgoing calls; Telegram's own limits by default. */
  throttle?: APIThrottlerOptions;
  /** Known bot identity (skips getMe; tests). */
  botInfo?: UserFromGetMe;
}

/** Creates the bot with every command family; it does not start by itself. */
export function createBot(deps: BotDeps, options: BotOptions): Bot<LookoutContext> {
  const bot = createBotClient(options);
  installHandlers(bot, deps, options.conversationStorage);
  return bot;
}

/**
 * The bot's client alone: its API with retry and throttling, no handlers yet. Delivery can use it at
 * once (no getMe needed to send), so alerts never wait for the chat to come up.
 */
export function createBotClient(options: Omit<BotOptions, 'conversationStorage'>): Bot<LookoutContext> {
  const bot = new Bot<LookoutContext>(options.token, {
    client: { apiRoot: options.apiRoot },
    ...(options.botInfo ? { botInfo: options.botInfo } : {}),
  });
  // Order matters: auto-retry wraps the throttler, so a 429 waits `retry_after` and goes through it again.
  // It handles 429 only: 5xx and network errors surface at once, and the outbox retries those with its
  // own persisted backoff (auto-retry would hold the chat's queue for 3 s, 6 s, ... instead).
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60, rethrowInternalServerErrors: true, rethrowHttpErrors: true }));
  bot.api.config.use(apiThrottler(options.throttle));
  return bot;
}

/** Installs the update ledger, access control, the dialogues and every command family on a bot. */
export function installHandlers(bot: Bot<LookoutContext>, deps: BotDeps, conversationStorage: StorageAdapter<unknown>): void {
  // Whatever a handler or an alert sends, Telegram's length limits hold (a cut, never a refused reply).
  bot.api.config.use(limitMessageLength(deps.logger));
  // First of all: an update an earlier leader handled is skipped before anything sees it, and each update
  // counts as handled only once everything after it ended (polling and webhook alike).
  bot.use(createUpdateLedger({ records: deps.updates, clock: deps.clock, logger: deps.logger }).middleware);
  bot.use(deps.access.gate);
  bot.use(sequentialize((ctx) => ctx.chat?.id.toString()));
  bot.use(
    conversations<LookoutContext, LookoutContext>({
      storage: { type: 'key', version: 1, adapter: conversationStorage as never },
    }),
  );
  bot.use(createConversation(createAddDialogue(deps), 'add'));

  const apologise = async (err: BotError<LookoutContext>): Promise<void> => {
    const e = err.error;
    const kind = e instanceof GrammyError ? 'telegram' : e instanceof HttpError ? 'network' : 'handler';
    deps.logger?.error({ err: e, kind, chat: err.ctx.chat?.id, event: 'update_failed' }, 'an update failed');
    if (kind === 'handler') deps.reportError?.(e, { event: 'update_failed', chat: err.ctx.chat?.id });
    const reply = '⚠️ Something went wrong on my side; nothing was changed. Please try again.';
    if (err.ctx.callbackQuery) await err.ctx.answerCallbackQuery({ text: reply }).catch(() => undefined);
    else if (err.ctx.msg?.text?.startsWith('/') || err.ctx.msg?.text !== undefined) await err.ctx.reply(reply).catch(() => undefined);
  };
  // Each command family fails alone; bot.catch is the last line for the plugins around them.
  bot.errorBoundary(apologise).use(createHelp(), createTargetsRead(deps), createTargetsWrite(deps), createChecks(deps), createWindows(deps), createTrace(deps), createHistoryCommands(deps), createTransfer(deps), createBoardCommands(deps), createOnCall(deps), createHealth(deps), createNotify(deps), createStatusPageCommands(deps), createStaleButtons());
  bot.catch(apologise);
}

/** The chat side of a running Lookout, started in the background. */
export interface ChatHandle {
  /** Webhook mode: the path updates arrive at, and their handler (503 until the bot is up or while stopping). */
  webhook?: { path: string; handle(req: IncomingMessage, res: ServerResponse): Promise<void> };
  /** Resolves once the bot is up (getMe, commands, polling or the webhook registered). */
  readonly ready: Promise<void>;
  /** Gives up on a start still retrying, and stops taking updates (handlers get `timeoutMs` to finish). */
  stop(timeoutMs: number): Promise<'stopped' | 'abandoned'>;
}

/** How the chat comes up: long polling, or a webhook once the HTTP server listens. */
export interface ChatOptions {
  pollTimeoutS?: number;
  webhook?: { url: string; secret: string; listening: Promise<unknown> };
  logger?: Logger;
  /** Waits between failed attempts to come up: doubling from `baseMs` to `maxMs` (default 1 s to 60 s). */
  retry?: { baseMs: number; maxMs: number };
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });

/**
 * Brings the chat up without holding anything else up: getMe, the command list, then long polling or
 * the webhook, retried with backoff while Telegram cannot be reached. Checks and alert delivery run
 * meanwhile (sending needs no getMe), and a stop during the retries ends them at once.
 */
export function startChat(bot: Bot<LookoutContext>, options: ChatOptions = {}): ChatHandle {
  const abort = new AbortController();
  const retry = options.retry ?? { baseMs: 1_000, maxMs: 60_000 };
  let runner: RunnerHandle | undefined;
  let up = false;
  const callback = options.webhook ? webhookCallback(bot, 'http', { secretToken: options.webhook.secret, onTimeout: 'return', timeoutMilliseconds: 9_000 }) : undefined;

  // grammY types its signals with the abort-controller polyfill's class; Node's is the same at run time.
  const signal = abort.signal as never;
  const ready = (async () => {
    for (let attempt = 0; !abort.signal.aborted; attempt++) {
      try {
        // Not bot.init(): it retries getMe by itself for ever, and would keep this loop from seeing the failure.
        if (!bot.isInited()) bot.botInfo = await bot.api.getMe(signal);
        if (options.webhook) {
          await bot.api.setMyCommands(COMMANDS.map(({ command, description }) => ({ command, description })), undefined, signal);
          // Registered once the HTTP server listens, so Telegram's first POST finds it.
          await options.webhook.listening;
          await bot.api.setWebhook(options.webhook.url, { secret_token: options.webhook.secret }, signal);
        } else {
          await bot.api.deleteWebhook(undefined, signal);
          await bot.api.setMyCommands(COMMANDS.map(({ command, description }) => ({ command, description })), undefined, signal);
          if (abort.signal.aborted) return;
          runner = run(bot, { runner: { fetch: { timeout: options.pollTimeoutS ?? 30 }, silent: true, retryInterval: 'exponential', maxRetryTime: Infinity } });
        }
        up = true;
        if (attempt > 0) options.logger?.info({ event: 'chat_up', attempts: attempt + 1 }, 'the chat is up');
        return;
      } catch (err) {
        if (abort.signal.aborted) return;
        const waitMs = Math.min(retry.maxMs, retry.baseMs * 2 ** Math.min(attempt, 16));
        options.logger?.warn({ err, event: 'chat_start_retry', attempt: attempt + 1, retryInMs: waitMs }, 'Telegram cannot be reached yet; checks and alerts go on, the chat will follow');
        await sleep(waitMs, abort.signal);
      }
    }
  })();

  return {
    ...(options.webhook && callback
      ? {
          webhook: {
            path: new URL(options.webhook.url).pathname,
            async handle(req: IncomingMessage, res: ServerResponse) {
              // Not up yet, or shutting down: Telegram keeps the update and sends it again later.
              if (!up || abort.signal.aborted) {
                res.writeHead(503, { 'retry-after': '5' }).end();
                return;
              }
              await callback(req, res);
            },
          },
        }
      : {}),
    ready,
    async stop(timeoutMs) {
      abort.abort();
      if (!runner?.isRunning()) return 'stopped';
      let timer: ReturnType<typeof setTimeout> | undefined;
      const stopped = await Promise.race([
        runner.stop().then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
      ]);
      clearTimeout(timer);
      return stopped ? 'stopped' : 'abandoned';
    },
  };
}
