/**
 * Everything the process needs from grammy at run time, in one module that main loads only when a bot
 * token is configured: a headless process (a targets file, no chat) loads no grammy code, which is about
 * 25 MB of RSS and a tenth of a second of start-up. Types are imported statically as usual (erased).
 */
export { createBotClient, installHandlers } from './index.js';
export { classifyTelegramError, countFailedCalls, createTelegramSender } from '../alerts/channels/telegram/api.js';
export { createBoardApi } from '../alerts/channels/telegram/board-api.js';
export { createChatPart } from '../parts/chat.js';
