import type { Context, MiddlewareFn } from 'grammy';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import { adminOnly, notEnabled } from '../texts.js';

/** Who Lookout serves and who may change things. */
export interface AccessOptions {
  allowedChatIds: readonly number[];
  adminUserIds: readonly number[];
  clock: Clock;
  /** How long a chat administrator lookup is trusted (ms). */
  cacheMs?: number;
  /** The most lookups kept (default 10,000): a busy group cannot grow the cache without end. */
  cacheMax?: number;
  /** Remembers which foreign chats were already told (so they are told once, also across restarts). */
  told: { has(chatId: number): Promise<boolean>; add(chatId: number): Promise<void> };
  logger?: Logger;
}

/** The access rules as middleware and a check. */
export interface Access {
  /** Lets through updates from allowed chats (and admins' private chats); answers others once. */
  gate: MiddlewareFn<Context>;
  /** Whether the sender may change things in this chat. */
  isAdmin(ctx: Context): Promise<boolean>;
  /** Middleware that stops non-admins with a reply saying so. */
  requireAdmin(what: string): MiddlewareFn<Context>;
  /** Administrator lookups held (tests, health). */
  cached(): number;
}

/** Telegram's account for anonymous group administrators. */
const GROUP_ANONYMOUS_BOT = 1_087_968_824;

/** Creates the access rules. */
export function createAccess(options: AccessOptions): Access {
  const allowed = new Set(options.allowedChatIds);
  const admins = new Set(options.adminUserIds);
  const cacheMs = options.cacheMs ?? 60_000;
  const cacheMax = options.cacheMax ?? 10_000;
  const cache = new Map<string, { admin: boolean; until: number }>();

  const isServed = (ctx: Context): boolean => {
    const chat = ctx.chat;
    if (!chat) return false;
    if (allowed.has(chat.id)) return true;
    return chat.type === 'private' && ctx.from !== undefined && admins.has(ctx.from.id);
  };

  async function isAdmin(ctx: Context): Promise<boolean> {
    const chat = ctx.chat;
    const from = ctx.from;
    if (!chat || !from) return false;
    if (admins.has(from.id)) return true;
    if (chat.type === 'private') return false;
    // A message sent "as the group" comes from an anonymous administrator.
    if (ctx.msg?.sender_chat?.id === chat.id || (from.id === GROUP_ANONYMOUS_BOT && ctx.msg?.sender_chat?.id === chat.id)) return true;
    const key = `${chat.id}:${from.id}`;
    const now = options.clock.now();
    const cached = cache.get(key);
    if (cached && cached.until > now) return cached.admin;
    try {
      const member = await ctx.api.getChatMember(chat.id, from.id);
      const admin = member.status === 'creator' || member.status === 'administrator';
      // Bounded: expired entries go first, then the oldest (a Map keeps insertion order).
      cache.delete(key);
      if (cache.size >= cacheMax) {
        for (const [k, v] of cache) if (v.until <= now) cache.delete(k);
        while (cache.size >= cacheMax) cache.delete(cache.keys().next().value as string);
      }
      cache.set(key, { admin, until: now + cacheMs });
      return admin;
    } catch (err) {
      options.logger?.warn({ err, chat: chat.id, event: 'admin_lookup_failed' }, 'could not look up chat member');
      return false;
    }
  }

  return {
    cached: () => cache.size,
    async gate(ctx, next) {
      if (isServed(ctx)) return next();
      const chat = ctx.chat;
      if (!chat) return;
      if (ctx.callbackQuery) {
        await ctx.answerCallbackQuery({ text: 'Lookout is not enabled in this chat.' }).catch(() => undefined);
        return;
      }
      // Only a command addressed to the bot, or the bot joining, earns the one answer.
      const addressed = ctx.msg?.text?.startsWith('/') || ctx.myChatMember !== undefined;
      if (!addressed || (await options.told.has(chat.id))) return;
      await options.told.add(chat.id);
      options.logger?.info({ chat: chat.id, event: 'chat_not_allowed' }, 'told a chat it is not enabled');
      await ctx.api.sendMessage(chat.id, notEnabled(chat.id), { parse_mode: 'HTML' }).catch(() => undefined);
    },

    isAdmin,

    requireAdmin(what) {
      return async (ctx, next) => {
        if (await isAdmin(ctx)) return next();
        if (ctx.callbackQuery) await ctx.answerCallbackQuery({ text: `Only chat administrators can ${what}.`, show_alert: true });
        else await ctx.reply(adminOnly(what), { parse_mode: 'HTML' });
      };
    },
  };
}
