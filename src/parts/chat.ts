import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Bot } from 'grammy';
import type { LookoutContext } from '../bot/context.js';
import { startChat } from '../bot/index.js';
import type { Logger } from '../lib/logger.js';
import { definePart, extendPart, type Part } from './part.js';

/** What the chat part needs. */
export interface ChatDeps {
  bot: Bot<LookoutContext>;
  pollTimeoutS: number;
  /** Webhook mode: Telegram posts to `url` (registered once the HTTP server listens). */
  webhook?: { url: string; secret: string; listening: Promise<void> };
  retry?: { baseMs: number; maxMs: number };
  /** How long a stop waits for update handlers (ms). */
  updatesMs: number;
  logger: Logger;
}

/** The chat: long polling or the webhook, started in the background, stopped with a bounded wait. */
export interface ChatPart extends Part {
  /** Resolves once the chat is up; undefined while stopped. */
  readonly ready: Promise<void> | undefined;
  /** The webhook route for the HTTP server: a POST to the webhook's path; 503 while the chat is not running. */
  route(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
}

export function createChatPart(deps: ChatDeps): ChatPart {
  const { bot, logger } = deps;
  let chat: ReturnType<typeof startChat> | undefined;
  let taking = false;
  // The webhook's path is fixed by its URL, so the route is known before the part starts.
  const webhookPath = deps.webhook ? new URL(deps.webhook.url).pathname : undefined;
  const part = definePart(
    'chat',
    {
      async start() {
        taking = true;
        // The chat comes up in the background (Telegram may be unreachable at start): checks and alerts do not wait for it.
        chat = startChat(bot, {
          pollTimeoutS: deps.pollTimeoutS,
          logger,
          ...(deps.webhook ? { webhook: deps.webhook } : {}),
          ...(deps.retry ? { retry: deps.retry } : {}),
        });
      },
      async stop() {
        taking = false;
        // Stop taking updates; every wait is bounded: a handler stuck on an unreachable Telegram must not hold the exit.
        if ((await chat?.stop(deps.updatesMs)) === 'abandoned') {
          logger.warn({ event: 'updates_abandoned' }, 'stopping: update handlers still running were left');
        }
      },
    },
    logger,
  );
  return extendPart<Omit<ChatPart, keyof Part>>(part, {
    get ready() {
      return chat?.ready;
    },
    async route(req, res) {
      if (webhookPath === undefined || req.method !== 'POST' || (req.url ?? '').split('?')[0] !== webhookPath) return false;
      const hook = chat?.webhook;
      if (!taking || !hook) {
        // Shutting down (or not leading the chat): no new updates; Telegram keeps them and retries.
        res.writeHead(503, { 'retry-after': '5' }).end();
        return true;
      }
      await hook.handle(req, res);
      return true;
    },
  });
}
