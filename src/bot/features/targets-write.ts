import { Composer, type Context } from 'grammy';
import { escapeHtml, formatResult, STATE_ICONS } from '../../alerts/format.js';
import { keyboard } from '../../alerts/channels/telegram/api.js';
import { formatDuration } from '../../domain/duration.js';
import { quoteValue } from '../../domain/errors.js';
import { parseArgs, type CommandArgs } from '../../domain/options.js';
import { buildTarget, editTarget, isSecretAnywhere } from '../../targets/options.js';
import { chatFullText } from '../../engine/catalog.js';
import { moduleOf, targetAddress, type Target } from '../../kinds/index.js';
import { commandArgs, type LookoutContext } from '../context.js';
import type { BotDeps } from '../deps.js';
import { errorText, managedByFile, settingsText, unknownTarget } from '../texts.js';

const html = { parse_mode: 'HTML', link_preview_options: { is_disabled: true } } as const;

/** Callback data of the /remove confirmation. */
export const REMOVE_ACTIONS = { confirm: 'rm', cancel: 'rmx' } as const;

/** The outcome of adding a target: the reply text, and the id to check first when it was added. */
export interface AddOutcome {
  text: string;
  targetId?: string;
  /** The chat has as many targets as it may: asking again will not help. */
  full?: true;
}

/** How many targets a chat has now (the engine knows every one, paused ones too). */
export const targetCount = (deps: BotDeps, chatId: number): number => deps.engine.targets().filter((t) => t.chatId === chatId).length;

/** The refusal of a target past `MAX_TARGETS_PER_CHAT`, or undefined while there is room. */
export function chatFullError(deps: BotDeps, chatId: number): string | undefined {
  return chatFullText(targetCount(deps, chatId), deps.maxTargetsPerChat);
}

/** Builds a target from `/add` arguments and adds it to the chat (no reply: callers answer). */
export async function addTarget(deps: BotDeps, chatId: number, threadId: number | undefined, args: CommandArgs, userId?: number): Promise<AddOutcome> {
  const full = chatFullError(deps, chatId);
  if (full) return { text: errorText([full]), full: true };
  const built = buildTarget(args, {
    chatId,
    ...(threadId !== undefined ? { threadId } : {}),
    now: deps.clock.now(),
    allowMetadata: deps.allowMetadata,
  });
  if (!built.ok) return { text: errorText(built.errors, 'add') };
  const added = await deps.catalog.add(built.value);
  if (!added.ok) return { text: errorText([added.error]) };
  const t = added.value;
  deps.logger?.info({ event: 'target_added', target: t.id, chat: chatId, by: userId }, 'target added');
  const extra = moduleOf(t).addedLines?.(t, { publicUrl: deps.publicUrl }) ?? [];
  return {
    text: [`✅ Added <b>${escapeHtml(t.name)}</b>: ${escapeHtml(targetAddress(t))}`, escapeHtml(settingsText(t)), ...extra.map((l) => escapeHtml(l))].join('\n'),
    targetId: t.id,
  };
}

/** Runs a new target's first check and words the outcome. */
export async function firstCheckLine(deps: BotDeps, targetId: string): Promise<string> {
  const event = await deps.engine.checkNow(targetId);
  return event ? `First check: ${STATE_ICONS[event.record.state]} ${escapeHtml(formatResult(event.result))}` : '';
}

/** The thread a message was posted in, when it is a forum topic message. */
export const threadOf = (ctx: Context): number | undefined => (ctx.msg?.is_topic_message ? ctx.msg.message_thread_id : undefined);

/** A command that carried a secret (an option its kind marks secret, like ec2's `secret=`) is deleted from the chat, or the user is asked to. */
async function forgetSecrets(ctx: Context, args: CommandArgs): Promise<void> {
  // Any kind's secret key counts: a secret given to the wrong kind is still a secret.
  if (!args.options.some((o) => isSecretAnywhere(o.key) && o.value !== '')) return;
  await forgetSecretMessage(ctx);
}

/** Deletes the message that carried a secret, or asks its sender to. */
export async function forgetSecretMessage(ctx: Context): Promise<void> {
  const deleted = await ctx.deleteMessage().then(
    () => true,
    () => false,
  );
  await ctx.reply(
    deleted
      ? '🔐 I deleted your message because it contained a secret.'
      : '🔐 Your message contains a secret: please delete it (I may not delete messages here). Sending credentials in a private chat with me is safer.',
  );
}

/** Finds the named target of this chat that a command may change, or replies why not. */
async function findTarget(deps: BotDeps, ctx: LookoutContext, name: string | undefined, command: string): Promise<Target | undefined> {
  if (!name) {
    await ctx.reply(errorText(['give the name of a target'], command), html);
    return undefined;
  }
  const target = await deps.catalog.get(ctx.chat!.id, name.toLowerCase());
  if (!target) await ctx.reply(unknownTarget(name), html);
  else if (target.managed === 'file') {
    await ctx.reply(managedByFile(target.name), html);
    return undefined;
  }
  return target;
}

/** Commands that change targets, for administrators: /add, /edit, /interval, /timeout, /remove, /pause, /resume. */
export function createTargetsWrite(deps: BotDeps): Composer<LookoutContext> {
  const write = new Composer<LookoutContext>();
  const admin = deps.access.requireAdmin('change targets');

  write.command('add', admin, async (ctx) => {
    const text = commandArgs(ctx);
    if (text === '') {
      await ctx.conversation.enter('add');
      return;
    }
    const args = parseArgs(text);
    if (!args.ok) return void (await ctx.reply(errorText(args.errors, 'add'), html));
    const outcome = await addTarget(deps, ctx.chat.id, threadOf(ctx), args.value, ctx.from?.id);
    await forgetSecrets(ctx, args.value);
    const reply = await ctx.reply(outcome.targetId ? `${outcome.text}\nChecking now…` : outcome.text, html);
    if (!outcome.targetId) return;
    const line = await firstCheckLine(deps, outcome.targetId);
    await ctx.api.editMessageText(ctx.chat.id, reply.message_id, `${outcome.text}\n${line}`, html).catch(() => undefined);
  });

  const edit = async (ctx: LookoutContext, command: string, name: string | undefined, options: CommandArgs['options']): Promise<void> => {
    const target = await findTarget(deps, ctx, name, command);
    if (!target) return;
    const edited = editTarget(target, options, { now: deps.clock.now(), allowMetadata: deps.allowMetadata });
    if (!edited.ok) return void (await ctx.reply(errorText(edited.errors, command), html));
    const replaced = await deps.catalog.replace(target, edited.value);
    if (!replaced.ok) return void (await ctx.reply(errorText([replaced.error]), html));
    const t = replaced.value;
    deps.logger?.info({ event: 'target_edited', target: t.id, chat: t.chatId, by: ctx.from?.id }, 'target edited');
    const renamed = t.name !== target.name ? ` (was ${escapeHtml(target.name)})` : '';
    // A new secret (a heartbeat's token=new) is shown whole once, here, as /add shows it.
    const module = moduleOf(t);
    const secretChanged = module.secrets(t).join('\n') !== moduleOf(target).secrets(target).join('\n');
    const extra = secretChanged ? (module.addedLines?.(t, { publicUrl: deps.publicUrl }) ?? []) : [];
    await ctx.reply([`✏️ Updated <b>${escapeHtml(t.name)}</b>${renamed}: ${escapeHtml(targetAddress(t))}`, escapeHtml(settingsText(t)), ...extra.map(escapeHtml)].join('\n'), html);
  };

  write.command('edit', admin, async (ctx) => {
    const args = parseArgs(commandArgs(ctx));
    if (!args.ok) return void (await ctx.reply(errorText(args.errors, 'edit'), html));
    const [name, ...rest] = args.value.positional;
    if (rest.length > 0) {
      return void (await ctx.reply(errorText([`unexpected ${quoteValue(rest[0]!)}: options are written key=value, like every=30s`], 'edit'), html));
    }
    await edit(ctx, 'edit', name, args.value.options);
    await forgetSecrets(ctx, args.value);
  });

  for (const [command, key] of [['interval', 'interval'], ['timeout', 'timeout']] as const) {
    write.command(command, admin, async (ctx) => {
      const words = commandArgs(ctx).split(/\s+/).filter(Boolean);
      if (words.length !== 2) {
        const problem = words.length < 2 ? `give a name and a duration` : `unexpected ${quoteValue(words[2]!)}`;
        return void (await ctx.reply(errorText([problem], command), html));
      }
      await edit(ctx, command, words[0], [{ key, value: words[1]! }]);
    });
  }

  write.command('remove', admin, async (ctx) => {
    const target = await findTarget(deps, ctx, commandArgs(ctx).split(/\s+/)[0], 'remove');
    if (!target) return;
    await ctx.reply(`Remove <b>${escapeHtml(target.name)}</b> (${escapeHtml(targetAddress(target))})? Its state goes with it.`, {
      ...html,
      reply_markup: keyboard([
        [
          { text: 'Remove', data: `${REMOVE_ACTIONS.confirm}:${target.id}` },
          { text: 'Cancel', data: REMOVE_ACTIONS.cancel },
        ],
      ]),
    });
  });

  write.callbackQuery(new RegExp(`^${REMOVE_ACTIONS.confirm}:(.+)$`), admin, async (ctx) => {
    const id = ctx.match[1]!;
    const [chatPart, name] = [id.slice(0, id.indexOf('/')), id.slice(id.indexOf('/') + 1)];
    const target = Number(chatPart) === ctx.chat?.id ? await deps.catalog.get(ctx.chat.id, name) : undefined;
    if (!target) {
      await ctx.answerCallbackQuery({ text: 'That target no longer exists.' });
      await ctx.editMessageReplyMarkup({ reply_markup: { inline_keyboard: [] } }).catch(() => undefined);
      return;
    }
    if (target.managed === 'file') return void (await ctx.answerCallbackQuery({ text: `${target.name} is managed by TARGETS_FILE.` }));
    await deps.catalog.remove(target);
    deps.logger?.info({ event: 'target_removed', target: target.id, chat: target.chatId, by: ctx.from.id }, 'target removed');
    await ctx.answerCallbackQuery({ text: `Removed ${target.name}` });
    await ctx.editMessageText(`🗑 Removed <b>${escapeHtml(target.name)}</b>.`, html).catch(() => undefined);
  });

  write.callbackQuery(REMOVE_ACTIONS.cancel, admin, async (ctx) => {
    await ctx.answerCallbackQuery({ text: 'Kept.' });
    await ctx.editMessageText('Nothing removed.').catch(() => undefined);
  });

  write.command('pause', admin, async (ctx) => {
    const target = await findTarget(deps, ctx, commandArgs(ctx).split(/\s+/)[0], 'pause');
    if (!target) return;
    if (target.paused) return void (await ctx.reply(`⏸ <b>${escapeHtml(target.name)}</b> is already paused.`, html));
    await deps.catalog.pause(target);
    await ctx.reply(`⏸ Paused <b>${escapeHtml(target.name)}</b>: no checks and no alerts until /resume ${escapeHtml(target.name)}.`, html);
  });

  write.command('resume', admin, async (ctx) => {
    const target = await findTarget(deps, ctx, commandArgs(ctx).split(/\s+/)[0], 'resume');
    if (!target) return;
    if (!target.paused) return void (await ctx.reply(`<b>${escapeHtml(target.name)}</b> is not paused.`, html));
    await deps.catalog.resume(target);
    await ctx.reply(`▶️ Resumed <b>${escapeHtml(target.name)}</b>: checking every ${formatDuration(target.everyMs)} again.`, html);
  });

  return write;
}
