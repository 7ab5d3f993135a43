import { Composer } from 'grammy';
import { ALERT_ACTIONS } from '../../alerts/channels/telegram/render.js';
import { escapeHtml } from '../../alerts/format.js';
import { formatDuration } from '../../domain/duration.js';
import { quoteValue } from '../../domain/errors.js';
import { parseArgs } from '../../domain/options.js';
import { parseEscalate } from '../../targets/options.js';
import type { ChatSettings } from '../../store/chats.js';
import {
  formatWindowTime,
  nextOccurrence,
  occurrenceAt,
  parseMuteSpec,
  parseTimeZone,
  parseWindowSpec,
  windowOf,
  type Window,
  type WindowSpec,
} from '../../domain/window.js';
import { commandArgs, type LookoutContext } from '../context.js';
import type { BotDeps } from '../deps.js';
import { errorText, managedByFile, unknownTarget } from '../texts.js';

const html = { parse_mode: 'HTML', link_preview_options: { is_disabled: true } } as const;

/** `tz=UTC, escalate=15m` */
function settingsLine(settings: ChatSettings): string {
  return `tz=${settings.tz}, escalate=${settings.escalateMs ? formatDuration(settings.escalateMs) : 'off'}`;
}

/** Windows, mutes and chat settings: /maintenance, /mute, /unmute, /settings and the Mute 1h button. */
export function createWindows(deps: BotDeps): Composer<LookoutContext> {
  const windows = new Composer<LookoutContext>();
  const admin = deps.access.requireAdmin('change windows and mutes');
  const adminSettings = deps.access.requireAdmin('change settings');

  /** `NAME` or `all`: the target id it covers (undefined = all), or a reply saying why not. */
  async function scopeOf(ctx: LookoutContext, word: string | undefined, command: string): Promise<{ targetId?: string; label: string } | undefined> {
    if (!word) {
      await ctx.reply(errorText(['give a target name or all'], command), html);
      return undefined;
    }
    if (word.toLowerCase() === 'all') return { label: 'all targets' };
    const target = await deps.catalog.get(ctx.chat!.id, word.toLowerCase());
    if (!target) {
      await ctx.reply(unknownTarget(word), html);
      return undefined;
    }
    return { targetId: target.id, label: target.name };
  }

  function describe(w: Window, now: number): string {
    const scope = w.targetId === undefined ? 'all targets' : escapeHtml(w.targetId.slice(w.targetId.indexOf('/') + 1));
    const icon = w.kind === 'mute' ? '🔕' : '🔧';
    const current = occurrenceAt(w, now);
    const next = current ?? nextOccurrence(w, now);
    const when = current
      ? `now, until ${formatWindowTime(current.end, w.tz)}`
      : next
        ? `${formatWindowTime(next.start, w.tz)} → ${formatWindowTime(next.end, w.tz)}`
        : 'over';
    const recurring = w.cron ? ` · every <code>${escapeHtml(w.cron)}</code> for ${formatDuration(w.durationMs)} (${escapeHtml(w.tz)})` : '';
    const reason = `${w.untilUp ? ' · ends when UP again' : ''}${w.reason ? ` · ${escapeHtml(w.reason)}` : ''}`;
    return `${icon} <code>${w.id}</code> <b>${scope}</b> · ${escapeHtml(when)}${recurring}${reason}`;
  }

  async function addWindow(ctx: LookoutContext, scope: { targetId?: string; label: string }, kind: Window['kind'], spec: WindowSpec): Promise<Window> {
    const now = deps.clock.now();
    const window = windowOf(
      {
        id: deps.windows.nextId(now),
        chatId: ctx.chat!.id,
        ...(ctx.msg?.is_topic_message && ctx.msg.message_thread_id !== undefined ? { threadId: ctx.msg.message_thread_id } : {}),
        ...(scope.targetId !== undefined ? { targetId: scope.targetId } : {}),
        kind,
        ...(ctx.from ? { createdBy: ctx.from.id } : {}),
        createdAt: now,
      },
      spec,
    );
    await deps.windows.add(window);
    await deps.policy.windowsChanged();
    deps.logger?.info({ event: 'window_added', chat: window.chatId, window: window.id, kind, by: ctx.from?.id }, 'window added');
    return window;
  }

  windows.command('maintenance', async (ctx, next) => {
    const args = parseArgs(commandArgs(ctx));
    if (!args.ok) return void (await ctx.reply(errorText(args.errors, 'maintenance'), html));
    const [first, second] = args.value.positional;
    if (first === undefined && args.value.options.length === 0) {
      const now = deps.clock.now();
      const list = deps.windows.list(ctx.chat.id).filter((w) => occurrenceAt(w, now) || nextOccurrence(w, now));
      const text = list.length === 0 ? 'No maintenance windows or mutes. Add one with <code>/maintenance NAME|all now 2h</code>.' : ['<b>Windows</b>', ...list.map((w) => describe(w, now))].join('\n');
      return void (await ctx.reply(text, html));
    }
    return next();
  });

  windows.command('maintenance', admin, async (ctx) => {
    const args = parseArgs(commandArgs(ctx));
    if (!args.ok) return void (await ctx.reply(errorText(args.errors, 'maintenance'), html));
    const [first, ...rest] = args.value.positional;
    if (first?.toLowerCase() === 'cancel') {
      const id = rest[0];
      const window = id ? deps.windows.get(id.toLowerCase()) : undefined;
      if (!id || !window || window.chatId !== ctx.chat.id) {
        return void (await ctx.reply(errorText([`no window with id ${quoteValue(id ?? '')} in this chat; /maintenance lists them`]), html));
      }
      if (window.managed === 'file') return void (await ctx.reply(managedByFile(`window ${window.id}`), html));
      await deps.windows.remove(window.id);
      await deps.policy.windowsChanged();
      return void (await ctx.reply(`✅ Cancelled window <code>${window.id}</code>.`, html));
    }
    const scope = await scopeOf(ctx, first, 'maintenance');
    if (!scope) return;
    const settings = await deps.chats.get(ctx.chat.id);
    const spec = parseWindowSpec({ positional: rest, options: args.value.options }, { tz: settings.tz, now: deps.clock.now() });
    if (!spec.ok) return void (await ctx.reply(errorText(spec.errors, 'maintenance'), html));
    if (spec.value.untilUp && scope.targetId === undefined) {
      return void (await ctx.reply(errorText(['until-up needs a target name: it ends when that target is UP again'], 'maintenance'), html));
    }
    const window = await addWindow(ctx, scope, 'maintenance', spec.value);
    await ctx.reply(`🔧 Maintenance window added:\n${describe(window, deps.clock.now())}\nChecks go on; alerts wait until it ends.`, html);
  });

  windows.command('mute', admin, async (ctx) => {
    const args = parseArgs(commandArgs(ctx));
    if (!args.ok) return void (await ctx.reply(errorText(args.errors, 'mute'), html));
    const [first, ...rest] = args.value.positional;
    const scope = await scopeOf(ctx, first, 'mute');
    if (!scope) return;
    const settings = await deps.chats.get(ctx.chat.id);
    const spec = parseMuteSpec({ positional: rest, options: args.value.options }, { tz: settings.tz, now: deps.clock.now() });
    if (!spec.ok) return void (await ctx.reply(errorText(spec.errors, 'mute'), html));
    const window = await addWindow(ctx, scope, 'mute', spec.value);
    const until = formatWindowTime(window.start! + window.durationMs, window.tz);
    const reason = window.reason ? `: ${escapeHtml(window.reason)}` : '';
    await ctx.reply(`🔕 Muted <b>${escapeHtml(scope.label)}</b> for ${formatDuration(window.durationMs)} (until ${escapeHtml(until)})${reason}. /unmute ${escapeHtml(first!.toLowerCase())} ends it.`, html);
  });

  windows.command('unmute', admin, async (ctx) => {
    const word = commandArgs(ctx).split(/\s+/)[0];
    const scope = await scopeOf(ctx, word, 'unmute');
    if (!scope) return;
    const matching = deps.windows
      .list(ctx.chat.id)
      .filter((w) => w.kind === 'mute' && (scope.targetId === undefined || w.targetId === scope.targetId));
    // Mutes declared in TARGETS_FILE stay: the file is their source of truth.
    const mutes = matching.filter((w) => w.managed !== 'file');
    if (mutes.length === 0 && matching.length > 0) return void (await ctx.reply(managedByFile(`the mute of ${scope.label}`), html));
    if (mutes.length === 0) return void (await ctx.reply(errorText([`${scope.label} is not muted`]), html));
    for (const w of mutes) await deps.windows.remove(w.id);
    await deps.policy.windowsChanged();
    await ctx.reply(`🔔 Unmuted <b>${escapeHtml(scope.label)}</b>${mutes.length > 1 ? ` (${mutes.length} mutes ended)` : ''}.`, html);
  });

  windows.callbackQuery(new RegExp(`^${ALERT_ACTIONS.mute}:(.+)$`), deps.access.requireAdmin('mute alerts'), async (ctx) => {
    const targetId = ctx.match[1]!;
    const target = targetId.startsWith(`${ctx.chat?.id}/`) ? deps.engine.target(targetId) : undefined;
    if (!target) return ctx.answerCallbackQuery({ text: 'That target no longer exists.' });
    const settings = await deps.chats.get(target.chatId);
    const spec = parseMuteSpec({ positional: ['1h'], options: [] }, { tz: settings.tz, now: deps.clock.now() });
    if (!spec.ok) return ctx.answerCallbackQuery({ text: spec.errors.join('; ') });
    await addWindow(ctx, { targetId: target.id, label: target.name }, 'mute', { ...spec.value, reason: 'muted from an alert' });
    return ctx.answerCallbackQuery({ text: `${target.name} muted for 1h. /unmute ${target.name} ends it.` });
  });

  windows.command('settings', async (ctx, next) => {
    if (commandArgs(ctx) !== '') return next();
    const settings = await deps.chats.get(ctx.chat.id);
    await ctx.reply(
      `Settings of this chat: ${escapeHtml(settingsLine(settings))}\ntz is used for HH:MM starts and shown times; escalate is how long an alert may stay unacknowledged before /oncall people are mentioned.\nChange with <code>/settings tz=Europe/Berlin escalate=15m</code>.`,
      html,
    );
  });

  windows.command('settings', adminSettings, async (ctx) => {
    const args = parseArgs(commandArgs(ctx));
    if (!args.ok) return void (await ctx.reply(errorText(args.errors, 'settings'), html));
    const errors: string[] = [];
    const settings = await deps.chats.get(ctx.chat.id);
    for (const word of args.value.positional) errors.push(`unexpected ${quoteValue(word)}: settings are written key=value, like tz=Europe/Berlin`);
    for (const { key, value } of args.value.options) {
      if (key === 'tz') {
        const tz = parseTimeZone(value);
        if (tz.ok) settings.tz = tz.value;
        else errors.push(...tz.errors);
      } else if (key === 'escalate') {
        const ms = parseEscalate(value);
        if (ms.ok) settings.escalateMs = ms.value;
        else errors.push(...ms.errors);
      } else {
        errors.push(`unknown setting ${quoteValue(key)}; expected tz or escalate`);
      }
    }
    if (errors.length > 0) return void (await ctx.reply(errorText(errors, 'settings'), html));
    await deps.chats.put(ctx.chat.id, settings);
    await ctx.reply(`✅ Settings of this chat: ${escapeHtml(settingsLine(settings))}.`, html);
  });

  return windows;
}
