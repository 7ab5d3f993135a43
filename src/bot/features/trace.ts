import { traceTarget } from '../../kinds/index.js';
import { Composer, InputFile, type Context } from 'grammy';
import { ALERT_ACTIONS } from '../../alerts/channels/telegram/render.js';
import { MESSAGE_LIMIT } from '../../alerts/split.js';
import { formatHopTable, formatTraceReport } from '../../diagnostics/report.js';
import { parseTraceHost } from '../../domain/host.js';
import { escapeHtml } from '../../lib/html.js';
import { commandArgs, type LookoutContext } from '../context.js';
import type { BotDeps } from '../deps.js';
import { errorText } from '../texts.js';

const html = { parse_mode: 'HTML' } as const;

/**
 * Starts a trace for a chat (one at a time there): answers with a progress message at once and edits
 * it into the report when mtr is done. The handler does not wait for mtr, so the chat's other commands
 * are not held up behind a trace.
 */
async function traceInChat(deps: BotDeps, ctx: Context, host: string, port: number | undefined, replyTo?: number): Promise<void> {
  const chatId = ctx.chat!.id;
  if (!deps.tracer.begin(chatId)) {
    await ctx.reply('⏳ A trace is already running in this chat; wait for it to finish.', html);
    return;
  }
  let progress: { message_id: number };
  try {
    await ctx.replyWithChatAction('typing').catch(() => undefined);
    progress = await ctx.reply(`🛰 Tracing <b>${escapeHtml(host)}</b>…`, {
      ...html,
      ...(replyTo !== undefined ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {}),
    });
  } catch (err) {
    deps.tracer.end(chatId);
    throw err;
  }
  void (async () => {
    try {
      const result = await deps.tracer.trace(host, port).finally(() => deps.tracer.end(chatId));
      const address = await deps.source.addressFor(host);
      const report = formatTraceReport(result, { label: deps.source.label, ...(address ? { address } : {}) });
      if (report.length <= MESSAGE_LIMIT) {
        await ctx.api.editMessageText(chatId, progress.message_id, report, html);
      } else if (result.ok) {
        // A very long path: the summary in the chat, the whole table as a file.
        await ctx.api.editMessageText(chatId, progress.message_id, report.slice(0, report.indexOf('\n')), html);
        await ctx.api.sendDocument(chatId, new InputFile(Buffer.from(formatHopTable(result.hops, deps.source.label)), `trace-${host}.txt`));
      }
      deps.logger?.info({ event: 'trace', chat: chatId, host, ok: result.ok }, 'trace finished');
    } catch (err) {
      deps.logger?.error({ err, event: 'trace_failed', chat: chatId }, 'trace reply failed');
    }
  })();
}

/** /trace HOST|NAME and the Trace button on alerts (administrators: traces send probes). */
export function createTrace(deps: BotDeps): Composer<LookoutContext> {
  const trace = new Composer<LookoutContext>();
  const admin = deps.access.requireAdmin('run traces');

  trace.command('trace', admin, async (ctx) => {
    const word = commandArgs(ctx);
    if (word === '') return void (await ctx.reply(errorText(['give a host name, an IP address or a target name'], 'trace'), html));
    const target = /^[a-z0-9][a-z0-9_-]{0,31}$/i.test(word) ? await deps.catalog.get(ctx.chat.id, word.toLowerCase()) : undefined;
    const to = target ? traceTarget(target) : undefined;
    if (target && !to) return void (await ctx.reply(errorText([`${target.name} is a ${target.kind} target: it has no host to trace`], 'trace'), html));
    if (to) return traceInChat(deps, ctx, to.host, to.port);
    const host = parseTraceHost(word);
    if (!host.ok) return void (await ctx.reply(errorText(host.errors, 'trace'), html));
    await traceInChat(deps, ctx, host.value, undefined);
  });

  trace.callbackQuery(new RegExp(`^${ALERT_ACTIONS.trace}:(.+)$`), admin, async (ctx) => {
    const targetId = ctx.match[1]!;
    const target = targetId.startsWith(`${ctx.chat?.id}/`) ? deps.engine.target(targetId) : undefined;
    const to = target ? traceTarget(target) : undefined;
    if (!to) return void (await ctx.answerCallbackQuery({ text: target ? 'That target has no host to trace.' : 'That target no longer exists.' }));
    await ctx.answerCallbackQuery({ text: `Tracing ${to.host}…` });
    await traceInChat(deps, ctx, to.host, to.port, ctx.callbackQuery.message?.message_id);
  });

  return trace;
}
