import { GrammyError, type Api } from 'grammy';
import type { BoardApi } from './board.js';

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
    pin: (chatId, messageId) =>
      api.pinChatMessage(chatId, messageId, { disable_notification: true }).then(
        () => true,
        () => false,
      ),
    async unpin(chatId, messageId) {
      await api.unpinChatMessage(chatId, messageId).catch(() => undefined);
    },
  };
}
