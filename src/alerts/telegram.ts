import { GrammyError, HttpError, type Api } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import type { Button } from './format.js';
import type { BoardApi } from './board.js';
import type { DeliveryVerdict, MessageSender, SendOptions } from './sender.js';

/** Inline keyboard markup from button rows. */
export function keyboard(buttons: Button[][]): InlineKeyboardMarkup {
  return { inline_keyboard: buttons.map((row) => row.map((b) => ({ text: b.text, callback_data: b.data }))) };
}

/** Delivers through the bot's API (with the throttler and auto-retry installed on it). */
export function createTelegramSender(api: Api): MessageSender {
  return {
    async send(chatId: number, text: string, options: SendOptions): Promise<number> {
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
    async edit(chatId: number, messageId: number, text: string, buttons?: Button[][]): Promise<void> {
      await api.editMessageText(chatId, messageId, text, {
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        reply_markup: keyboard(buttons ?? []),
      });
    },
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

/** The status board's calls through the bot's API: quiet, HTML, and edits that change nothing or find no message told apart. */
export function createBoardApi(api: Api): BoardApi {
  return {
    async send(chatId, threadId, text) {
      const message = await api.sendMessage(chatId, text, {
        parse_mode: 'HTML',
        link_preview_options: { is_disabled: true },
        disable_notification: true,
        ...(threadId !== undefined ? { message_thread_id: threadId } : {}),
      });
      return message.message_id;
    },
    async edit(chatId, messageId, text) {
      try {
        await api.editMessageText(chatId, messageId, text, { parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
        return 'ok';
      } catch (err) {
        if (err instanceof GrammyError && err.error_code === 400) {
          const description = err.description.toLowerCase();
          if (description.includes('message is not modified')) return 'same';
          if (/message to edit not found|message can't be edited|message_id_invalid/.test(description)) return 'gone';
        }
        throw err;
      }
    },
    pin: (chatId, messageId) => api.pinChatMessage(chatId, messageId, { disable_notification: true }).then(
      () => true,
      () => false,
    ),
    async unpin(chatId, messageId) {
      await api.unpinChatMessage(chatId, messageId).catch(() => undefined);
    },
  };
}
