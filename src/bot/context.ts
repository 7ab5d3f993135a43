import type { ConversationFlavor } from '@grammyjs/conversations';
import type { Context } from 'grammy';

/** The context every handler of Lookout's bot gets. */
export type LookoutContext = ConversationFlavor<Context>;

/** The context inside a conversation (the plugin gives conversations a plain context). */
export type DialogueContext = Context;

/** The arguments after a command (`/status api` → `api`), trimmed. */
export function commandArgs(ctx: Context): string {
  const match = ctx.match;
  return (typeof match === 'string' ? match : '').trim();
}

/** How a user is named in messages: @username, else first and last name. */
export function displayName(user: { username?: string; first_name: string; last_name?: string }): string {
  return user.username ? `@${user.username}` : [user.first_name, user.last_name].filter(Boolean).join(' ');
}
