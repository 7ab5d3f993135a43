import { GrammyError, HttpError, type Api } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { DeliveryVerdict } from '../../channel.js';
import type { Button } from './render.js';

/** How a message is posted. */
export interface SendOptions {
  threadId?: number;
  buttons?: Button[][];
  /** Deliver quietly (`disable_notification`). */
  silent?: boolean;
  /** Reply to this message (when it still exists). */
  replyTo?: number;
}

/** The Bot API calls the Telegram channel makes. */
export interface MessageSender {
  /** Sends a message and returns its id. */
  send(chatId: number, text: string, options: SendOptions): Promise<number>;
  /** Replaces a message's text and keyboard. */
  edit(chatId: number, messageId: number, text: string, buttons?: Button[][]): Promise<void>;
  /** A cheap call (getMe) that answers whether the Bot API is reachable. */
  probe?(): Promise<boolean>;
}

/** Inline keyboard markup from button rows. */
export function keyboard(buttons: Button[][]): InlineKeyboardMarkup {
  return { inline_keyboard: buttons.map((row) => row.map((b) => ({ text: b.text, callback_data: b.data }))) };
}

/** Delivers through the bot's API (with the throttler and auto-retry installed on it). */
/** Calls `failed` with the method of every Bot API call that fails (refused, or not answered): /metrics and /health count them. */
export function countFailedCalls(api: Api, failed: (method: string) => void): void {
  api.config.use(async (prev, method, payload, signal) => {
    try {
      const res = await prev(method, payload, signal);
      if (!res.ok) failed(method);
      return res;
    } catch (err) {
      failed(method);
      throw err;
    }
  });
}

export function createTelegramSender(api: Api): MessageSender {
  return {
    async send(chatId, text, options) {
      const message = await api.sendMessage(chatId, text, {
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        ...(options.threadId !== undefined ? { message_thread_id: options.threadId } : {}),
        ...(options.buttons ? { reply_markup: keyboard(options.buttons) } : {}),
        ...(options.silent ? { disable_notification: true } : {}),
        ...(options.replyTo !== undefined ? { reply_parameters: { message_id: options.replyTo, allow_sending_without_reply: true } } : {}),
      });
      return message.message_id;
    },
    async edit(chatId, messageId, text, buttons) {
      await api.editMessageText(chatId, messageId, text, {
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        reply_markup: keyboard(buttons ?? []),
      });
    },
    probe: () =>
      api.getMe().then(
        () => true,
        () => false,
      ),
  };
}

/** What to do after a failed Bot API call. */
export function classifyTelegramError(err: unknown): DeliveryVerdict {
  if (err instanceof GrammyError) {
    const description = err.description.toLowerCase();
    if (err.error_code === 429) {
      const after = err.parameters.retry_after;
      return { action: 'retry', ...(after !== undefined ? { afterMs: after * 1_000 } : {}) };
    }
    if (description.includes('message is not modified')) return { action: 'done' };
    if (err.error_code === 403) return { action: 'drop', why: `the bot cannot post in this chat: ${err.description}` };
    if (err.error_code === 400 && /message to edit not found|chat not found|message can't be edited/.test(description)) {
      return { action: 'drop', why: err.description };
    }
    if (err.error_code === 400 && /thread not found|topic_closed|topic_deleted/.test(description)) {
      return { action: 'drop', why: err.description };
    }
    if (err.error_code >= 500) return { action: 'retry' };
    // Any other 4xx is a bug in what we sent; retrying cannot fix it.
    return { action: 'drop', why: err.description };
  }
  if (err instanceof HttpError) return { action: 'retry' };
  return { action: 'retry' };
}
