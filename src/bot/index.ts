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
import { createChecks } from './features/checks.js';
import { createHealth } from './features/health.js';
import { createHelp } from './features/help.js';
import { createHistoryCommands } from './features/history.js';
import { createOnCall } from './features/oncall.js';
import { createTargetsRead } from './features/targets-read.js';
import { createTargetsWrite } from './features/targets-write.js';
import { createTrace } from './features/trace.js';
import { createTransfer } from './features/transfer.js';
import { createWindows } from './features/windows.js';
import { limitMessageLength } from './message-limits.js';
import { COMMANDS } from './texts.js';

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
  const bot = new Bot<LookoutContext>(options.token, {
    client: { apiRoot: options.apiRoot },
    ...(options.botInfo ? { botInfo: options.botInfo } : {}),
  });
  // Order matters: auto-retry wraps the throttler, so a 429 waits `retry_after` and goes through it again.
  // It handles 429 only: 5xx and network errors surface at once, and the outbox retries those with its
  // own persisted backoff (auto-retry would hold the chat's queue for 3 s, 6 s, ... instead).
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60, rethrowInternalServerErrors: true, rethrowHttpErrors: true }));
  bot.api.config.use(apiThrottler(options.throttle));
  // Whatever a handler or an alert sends, Telegram's length limits hold (a cut, never a refused reply).
  bot.api.config.use(limitMessageLength(deps.logger));

  bot.use(deps.access.gate);
  bot.use(sequentialize((ctx) => ctx.chat?.id.toString()));
  bot.use(
    conversations<LookoutContext, LookoutContext>({
      storage: { type: 'key', version: 1, adapter: options.conversationStorage as never },
    }),
  );
  bot.use(createConversation(createAddDialogue(deps), 'add'));

  const apologise = async (err: BotError<LookoutContext>): Promise<void> => {
    const e = err.error;
    const kind = e instanceof GrammyError ? 'telegram' : e instanceof HttpError ? 'network' : 'handler';
    deps.logger?.error({ err: e, kind, chat: err.ctx.chat?.id, event: 'update_failed' }, 'an update failed');
    const reply = '⚠️ Something went wrong on my side; nothing was changed. Please try again.';
    if (err.ctx.callbackQuery) await err.ctx.answerCallbackQuery({ text: reply }).catch(() => undefined);
    else if (err.ctx.msg?.text?.startsWith('/') || err.ctx.msg?.text !== undefined) await err.ctx.reply(reply).catch(() => undefined);
  };
  // Each command family fails alone; bot.catch is the last line for the plugins around them.
  bot.errorBoundary(apologise).use(createHelp(), createTargetsRead(deps), createTargetsWrite(deps), createChecks(deps), createWindows(deps), createTrace(deps), createHistoryCommands(deps), createTransfer(deps), createBoardCommands(deps), createOnCall(deps), createHealth(deps));
  bot.catch(apologise);
  return bot;
}

/**
 * Webhook mode: registers `url` with Telegram (with `secret_token`) and returns the request handler the
 * HTTP server mounts at the URL's path. Requests without the right secret are answered 401 by grammY.
 */
export async function startWebhook(
  bot: Bot<LookoutContext>,
  url: string,
  secret: string,
): Promise<{ path: string; handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>; register: () => Promise<void> }> {
  await bot.init();
  await bot.api.setMyCommands(COMMANDS.map(({ command, description }) => ({ command, description })));
  const callback = webhookCallback(bot, 'http', { secretToken: secret, onTimeout: 'return', timeoutMilliseconds: 9_000 });
  return {
    path: new URL(url).pathname,
    handle: (req, res) => callback(req, res),
    // Called once the HTTP server listens, so Telegram's first POST finds it.
    register: async () => void (await bot.api.setWebhook(url, { secret_token: secret })),
  };
}

/** Registers the commands and starts long polling; returns the runner to stop it with. */
export async function startPolling(bot: Bot<LookoutContext>, pollTimeoutS = 30): Promise<RunnerHandle> {
  await bot.init();
  await bot.api.deleteWebhook();
  await bot.api.setMyCommands(COMMANDS.map(({ command, description }) => ({ command, description })));
  return run(bot, { runner: { fetch: { timeout: pollTimeoutS }, silent: true, retryInterval: 'exponential', maxRetryTime: Infinity } });
}
