import { Composer } from 'grammy';
import { ALERT_ACTIONS } from '../../alerts/channels/telegram/render.js';
import { formatResult } from '../../alerts/format.js';
import { commandArgs, displayName, type LookoutContext } from '../context.js';
import type { BotDeps } from '../deps.js';
import { checkText, errorText, unknownTarget } from '../texts.js';

const html = { parse_mode: 'HTML' } as const;

/** The answer to a button whose object is gone, unknown, or not this chat's. */
export const STALE_BUTTON = 'This button is no longer valid.';

/** /check and the buttons on alerts: Recheck, Ack, Mute 1h, Trace. */
export function createChecks(deps: BotDeps): Composer<LookoutContext> {
  const checks = new Composer<LookoutContext>();
  const admin = deps.access.requireAdmin('do that');

  checks.command('check', admin, async (ctx) => {
    const name = commandArgs(ctx).split(/\s+/)[0] ?? '';
    if (name === '') return ctx.reply(errorText(['give the name of a target'], 'check'), html);
    const target = await deps.catalog.get(ctx.chat.id, name.toLowerCase());
    if (!target) return ctx.reply(unknownTarget(name), html);
    await ctx.replyWithChatAction('typing').catch(() => undefined);
    const event = await deps.engine.checkNow(target.id);
    if (!event) return ctx.reply(unknownTarget(name), html);
    return ctx.reply(checkText(target, event.record, event.result.ok, formatResult(event.result)), html);
  });

  const ownTarget = (ctx: LookoutContext, targetId: string): boolean => targetId.startsWith(`${ctx.chat?.id}/`);

  checks.callbackQuery(new RegExp(`^${ALERT_ACTIONS.recheck}:(.+)$`), admin, async (ctx) => {
    const targetId = ctx.match[1]!;
    if (!ownTarget(ctx, targetId)) return ctx.answerCallbackQuery({ text: 'That target is not in this chat.' });
    const event = await deps.engine.checkNow(targetId);
    if (!event) return ctx.answerCallbackQuery({ text: 'That target no longer exists.' });
    return ctx.answerCallbackQuery({ text: `${event.target.name}: ${event.record.state}, ${formatResult(event.result)}`.slice(0, 200), show_alert: false });
  });

  checks.callbackQuery(new RegExp(`^${ALERT_ACTIONS.ack}:(.+)$`), admin, async (ctx) => {
    // The button acts only on its own chat's alert: data pressed (or forged) elsewhere finds nothing.
    const record = await deps.alerts.get(ctx.match[1]!);
    if (!record || record.chatId !== ctx.chat?.id) return ctx.answerCallbackQuery({ text: STALE_BUTTON });
    const ids = record.incidents.map((i) => i.facts.id);
    const outcome = await deps.policy.acknowledge(ids, { userId: ctx.from.id, name: displayName(ctx.from) }, record.chatId);
    const text =
      outcome === undefined ? STALE_BUTTON
      : outcome === 'already' ? 'Already acknowledged.'
      : outcome === 'resolved' ? 'That alert is already resolved.'
      : 'Acknowledged. Reminders stop for it.';
    return ctx.answerCallbackQuery({ text });
  });

  return checks;
}

/** Registered last: any button no handler took (old data, a version gone, forged) gets an answer, not a spinner. */
export function createStaleButtons(): Composer<LookoutContext> {
  const stale = new Composer<LookoutContext>();
  stale.on('callback_query:data', (ctx) => ctx.answerCallbackQuery({ text: STALE_BUTTON }));
  return stale;
}
