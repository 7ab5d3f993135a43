import { Composer } from 'grammy';
import type { MessageEntity } from 'grammy/types';
import { formatDuration } from '../../domain/duration.js';
import { quoteValue } from '../../domain/errors.js';
import { escapeHtml } from '../../lib/html.js';
import type { OnCallPerson } from '../../store/chats.js';
import { commandArgs, displayName, type LookoutContext } from '../context.js';
import type { BotDeps } from '../deps.js';
import { errorText } from '../texts.js';

const html = { parse_mode: 'HTML' } as const;
const USERNAME_RE = /^@([A-Za-z][A-Za-z0-9_]{3,31})$/;
/** The most people an on-call list holds. */
export const ONCALL_MAX = 10;

/**
 * The people a `/oncall` message names, in order: `@username` words, and text mentions (users
 * without a username, picked from Telegram's mention list). Anything else is an error.
 */
export function parseOnCall(text: string, entities: readonly MessageEntity[]): { people: OnCallPerson[]; errors: string[] } {
  const people: OnCallPerson[] = [];
  const errors: string[] = [];
  // Text mentions cover words that are names, not @usernames: take them out before reading words.
  let rest = text;
  const spans = entities.filter((e): e is MessageEntity.TextMentionMessageEntity => e.type === 'text_mention').sort((a, b) => a.offset - b.offset);
  const found: Array<{ at: number; person: OnCallPerson }> = [];
  for (const e of spans) {
    found.push({ at: e.offset, person: { id: e.user.id, name: displayName(e.user) } });
    rest = `${rest.slice(0, e.offset)}${' '.repeat(e.length)}${rest.slice(e.offset + e.length)}`;
  }
  const commandLength = /^\/\S+/.exec(rest)?.[0].length ?? 0;
  const words = [...rest.slice(commandLength).matchAll(/\S+/g)];
  for (const w of words) {
    const m = USERNAME_RE.exec(w[0]);
    if (m) found.push({ at: commandLength + w.index, person: { username: m[1]!, name: `@${m[1]!}` } });
    else errors.push(`${quoteValue(w[0])} is not a mention: write @username, or pick the person from Telegram's list after typing @`);
  }
  for (const { person } of found.sort((a, b) => a.at - b.at)) {
    const same = people.some((p) => (p.id !== undefined && p.id === person.id) || (p.username !== undefined && p.username.toLowerCase() === person.username?.toLowerCase()));
    if (!same) people.push(person);
  }
  if (people.length > ONCALL_MAX) errors.push(`at most ${ONCALL_MAX} people can be on call, got ${people.length}`);
  return { people, errors };
}

/** `/oncall`: shows the chat's on-call list; `/oncall @a @b` sets it, `/oncall off` clears it (administrators). */
export function createOnCall(deps: BotDeps): Composer<LookoutContext> {
  const oncall = new Composer<LookoutContext>();

  oncall.command('oncall', async (ctx, next) => {
    if (commandArgs(ctx) !== '') return next();
    const settings = await deps.chats.get(ctx.chat.id);
    const list = settings.oncall ?? [];
    const escalate = settings.escalateMs ? formatDuration(settings.escalateMs) : 'off';
    // Shown without notifying anyone: names only, no mentions.
    await ctx.reply(
      list.length === 0
        ? `Nobody is on call in this chat. <code>/oncall @alice @bob</code> sets the order; <code>/settings escalate=15m</code> how long an alert may stay unacknowledged.`
        : `On call, in order: ${list.map((p) => escapeHtml(p.name)).join(' → ')}\nEscalation after ${escalate} without Ack (per target: escalate=…).`,
      html,
    );
  });

  oncall.command('oncall', deps.access.requireAdmin('change who is on call'), async (ctx) => {
    if (commandArgs(ctx).toLowerCase() === 'off') {
      const settings = await deps.chats.get(ctx.chat.id);
      delete settings.oncall;
      await deps.chats.put(ctx.chat.id, settings);
      return void (await ctx.reply('Nobody is on call any more: alerts are not escalated.', html));
    }
    const { people, errors } = parseOnCall(ctx.msg.text ?? '', ctx.msg.entities ?? []);
    if (errors.length > 0) return void (await ctx.reply(errorText(errors, 'oncall'), html));
    const settings = await deps.chats.get(ctx.chat.id);
    settings.oncall = people;
    await deps.chats.put(ctx.chat.id, settings);
    deps.logger?.info({ event: 'oncall_set', chat: ctx.chat.id, people: people.length, by: ctx.from?.id }, 'on-call list set');
    const escalate = settings.escalateMs ? `after ${formatDuration(settings.escalateMs)}` : 'once escalate= is set (/settings escalate=15m, or per target)';
    await ctx.reply(`✅ On call, in order: ${people.map((p) => escapeHtml(p.name)).join(' → ')}. An alert nobody acknowledges is escalated ${escapeHtml(escalate)}, one more person each period.`, html);
  });

  return oncall;
}
