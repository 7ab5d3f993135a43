import { Composer } from 'grammy';
import { carriesSecret, parseDestination, type Destination } from '../../alerts/destinations.js';
import { formatTime } from '../../alerts/format.js';
import { parseArgs } from '../../domain/options.js';
import { escapeHtml } from '../../lib/html.js';
import { commandArgs, displayName, type LookoutContext } from '../context.js';
import type { BotDeps } from '../deps.js';
import { forgetSecretMessage } from './targets-write.js';
import { errorText } from '../texts.js';

const html = { parse_mode: 'HTML' } as const;
const clip = (text: string, max = 40): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** One line of `/notify list`. */
function describeLine(deps: BotDeps, d: Destination): string {
  const spec = deps.channels.specs.find((s) => s.kind === d.kind);
  const where = spec ? spec.describe(d.settings) : '?';
  const outcome = deps.outbox.outcomes().get(d.id);
  const state = d.paused
    ? `⏸ paused since ${formatTime(d.paused.at)}: ${escapeHtml(clip(d.paused.why, 120))}`
    : outcome?.lastErrorAt !== undefined && (outcome.lastOkAt ?? 0) < outcome.lastErrorAt
      ? `⚠️ failing since ${formatTime(outcome.lastErrorAt)}: ${escapeHtml(clip(outcome.lastError ?? '', 120))}`
      : outcome?.lastOkAt !== undefined
        ? `✅ last delivered ${formatTime(outcome.lastOkAt)}`
        : 'nothing sent yet';
  const scope = d.targets ? `targets ${d.targets.join(', ')}` : 'every target';
  return `<b>${escapeHtml(d.name)}</b> · ${escapeHtml(d.kind)} · ${escapeHtml(where)}\n   events ${d.events.join(', ')} · ${escapeHtml(scope)}${d.managed ? ' · 🔒 TARGETS_FILE' : ''}\n   ${state}`;
}

/** `/notify`: where this chat's alerts go besides the chat (Slack, e-mail, PagerDuty, SNS, webhooks). */
export function createNotify(deps: BotDeps): Composer<LookoutContext> {
  const notify = new Composer<LookoutContext>();
  const admin = deps.access.requireAdmin('change where alerts go');

  const list = async (ctx: LookoutContext): Promise<unknown> => {
    const specs = deps.channels.specs;
    const mine = deps.destinations.list(ctx.chat!.id);
    if (mine.length === 0) {
      return ctx.reply(
        [
          'Alerts go to this chat only.',
          specs.length > 0 ? `Add a destination: ${specs.map((s) => `<code>${escapeHtml(s.usage)}</code>`).join(', ')}` : '',
        ]
          .filter(Boolean)
          .join('\n'),
        html,
      );
    }
    return ctx.reply([`📣 <b>Destinations</b> (besides this chat):`, ...mine.map((d) => describeLine(deps, d))].join('\n'), html);
  };

  const find = async (ctx: LookoutContext, name: string | undefined, command: string, changing: boolean): Promise<Destination | undefined> => {
    if (!name) {
      await ctx.reply(errorText(['give the name of a destination'], 'notify'), html);
      return undefined;
    }
    const d = deps.destinations.byName(ctx.chat!.id, name.toLowerCase());
    if (!d) {
      await ctx.reply(`⚠️ No destination named "${escapeHtml(clip(name))}" in this chat. /notify list shows them.`, html);
      return undefined;
    }
    if (changing && d.managed === 'file') {
      await ctx.reply(`🔒 <b>${escapeHtml(d.name)}</b> is managed by TARGETS_FILE: change it in the file. /notify ${command} works only on destinations made here.`, html);
      return undefined;
    }
    return d;
  };

  notify.command('notify', async (ctx, next) => {
    const args = parseArgs(commandArgs(ctx));
    if (!args.ok) return ctx.reply(errorText(args.errors, 'notify'), html);
    const [verb, ...rest] = args.value.positional;
    if (verb === undefined || verb.toLowerCase() === 'list') return list(ctx);
    // Everything else changes something (or sends something): administrators only.
    const isAdmin = await deps.access.isAdmin(ctx);
    if (!isAdmin) return next();
    const chatId = ctx.chat.id;
    const specs = deps.channels.specs;
    switch (verb.toLowerCase()) {
      case 'add': {
        const [kind, name, address, ...extra] = rest;
        if (kind === undefined || name === undefined || address === undefined) {
          return ctx.reply(errorText([`give a kind, a name and an address: ${specs.map((s) => s.usage).join('; ')}`], 'notify'), html);
        }
        if (extra.length > 0) return ctx.reply(errorText([`one address only; "${escapeHtml(clip(extra[0]!))}" is extra (options are key=value)`], 'notify'), html);
        const input = { kind, name, address, options: args.value.options };
        const known = new Set((await deps.catalog.list(chatId)).map((t) => t.name));
        const parsed = parseDestination(chatId, input, specs, deps.channels.env, deps.clock.now(), known);
        if (!parsed.ok) return ctx.reply(errorText(parsed.errors, 'notify'), html);
        if (deps.destinations.byName(chatId, parsed.value.name)) {
          return ctx.reply(`⚠️ A destination named <b>${escapeHtml(parsed.value.name)}</b> exists already: /notify remove ${escapeHtml(parsed.value.name)} first.`, html);
        }
        const spec = specs.find((s) => s.kind === parsed.value.kind)!;
        deps.channels.secrets.add(...spec.secrets(parsed.value.settings));
        await deps.destinations.put(parsed.value);
        deps.logger?.info({ event: 'destination_added', chat: chatId, destination: parsed.value.id, by: ctx.from?.id }, 'destination added');
        await ctx.reply(
          `📣 Added <b>${escapeHtml(parsed.value.name)}</b> (${escapeHtml(spec.kind)}: ${escapeHtml(spec.describe(parsed.value.settings))}) for ${parsed.value.events.join(', ')}. /notify test ${escapeHtml(parsed.value.name)} tries it.`,
          html,
        );
        if (carriesSecret(input, specs, parsed.value.settings)) await forgetSecretMessage(ctx);
        return;
      }
      case 'remove': {
        const d = await find(ctx, rest[0], 'remove', true);
        if (!d) return;
        await deps.destinations.remove(d.id);
        const dropped = await deps.outbox.discard(d.id);
        return ctx.reply(`🗑 Removed <b>${escapeHtml(d.name)}</b>${dropped > 0 ? ` (${dropped} undelivered notification${dropped === 1 ? '' : 's'} dropped)` : ''}.`, html);
      }
      case 'pause': {
        const d = await find(ctx, rest[0], 'pause', true);
        if (!d) return;
        await deps.destinations.update(d.id, (x) => {
          x.paused = { at: deps.clock.now(), why: `paused by ${displayName(ctx.from!)}` };
        });
        return ctx.reply(`⏸ Nothing goes to <b>${escapeHtml(d.name)}</b> until /notify resume ${escapeHtml(d.name)}.`, html);
      }
      case 'resume': {
        const d = await find(ctx, rest[0], 'resume', false);
        if (!d) return;
        await deps.destinations.update(d.id, (x) => {
          delete x.paused;
        });
        deps.outbox.resume(d.id);
        return ctx.reply(`▶️ Alerts go to <b>${escapeHtml(d.name)}</b> again${deps.outbox.outcomes().get(d.id)?.depth ? '; what waited is on its way' : ''}.`, html);
      }
      case 'test': {
        const d = await find(ctx, rest[0], 'test', false);
        if (!d) return;
        const outcome = await deps.testDestination(d, displayName(ctx.from!));
        return ctx.reply(`🧪 <b>${escapeHtml(d.name)}</b>: ${escapeHtml(outcome)}`, html);
      }
      default:
        return ctx.reply(errorText([`unknown /notify action "${clip(verb, 20)}": use list, add, remove, pause, resume or test`], 'notify'), html);
    }
  });

  // Not an administrator: the same refusal as every other command that changes things.
  notify.command('notify', admin, () => undefined);

  return notify;
}
