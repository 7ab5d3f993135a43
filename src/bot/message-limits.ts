import type { Transformer } from 'grammy';
import { MESSAGE_LIMIT } from '../alerts/split.js';
import { clipHtml, clipPlain } from '../lib/html.js';
import type { Logger } from '../lib/logger.js';

/** Telegram's limit for a caption of a photo or document. */
export const CAPTION_LIMIT = 1_024;
/** Telegram's limit for the text of a callback query answer. */
export const CALLBACK_TEXT_LIMIT = 200;

/** Which field of which call Telegram limits, and to how many characters. */
const LIMITED: Record<string, { field: 'text' | 'caption'; limit: number; plain?: boolean }> = {
  sendMessage: { field: 'text', limit: MESSAGE_LIMIT },
  editMessageText: { field: 'text', limit: MESSAGE_LIMIT },
  sendPhoto: { field: 'caption', limit: CAPTION_LIMIT },
  sendDocument: { field: 'caption', limit: CAPTION_LIMIT },
  editMessageCaption: { field: 'caption', limit: CAPTION_LIMIT },
  answerCallbackQuery: { field: 'text', limit: CALLBACK_TEXT_LIMIT, plain: true },
};

/**
 * The last line of defence for Telegram's length limits: a text or caption over its limit is cut
 * (HTML kept valid) instead of being refused by Telegram, which would leave the user with no answer at
 * all. Replies are meant to be short or split before they get here, so a cut is logged as a bug.
 */
export function limitMessageLength(logger?: Logger): Transformer {
  return (prev, method, payload, signal) => {
    const rule = LIMITED[method];
    const fields = payload as Record<string, unknown> | undefined;
    const value = rule && fields ? fields[rule.field] : undefined;
    if (!rule || typeof value !== 'string' || value.length <= rule.limit) return prev(method, payload, signal);
    const html = !rule.plain && fields!.parse_mode === 'HTML';
    const clipped = html ? clipHtml(value, rule.limit) : clipPlain(value, rule.limit);
    logger?.warn({ event: 'message_clipped', method, chars: value.length, chat: fields!.chat_id }, `a ${method} ${rule.field} over ${rule.limit} characters was cut`);
    const next: Record<string, unknown> = { ...fields, [rule.field]: clipped };
    // Entities given as offsets must not point past the cut.
    const entitiesKey = rule.field === 'text' ? 'entities' : 'caption_entities';
    const entities = next[entitiesKey];
    if (Array.isArray(entities)) next[entitiesKey] = entities.filter((e: { offset: number; length: number }) => e.offset + e.length < clipped.length);
    return prev(method, next as typeof payload, signal);
  };
}
