import { traceTarget } from '../../kinds/index.js';
import { Composer, InputFile, type Context } from 'grammy';
import { ALERT_ACTIONS } from '../../alerts/channels/telegram/render.js';
import { MESSAGE_LIMIT } from '../../alerts/split.js';
import { formatHopTable, formatTraceReport } from '../../diagnostics/report.js';
import { parseTraceHost } from '../../domain/host.js';
import { LOCATION_RE } from '../../domain/locations.js';
import { quoteValue } from '../../domain/errors.js';
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
async function traceInChat(deps: BotDeps, ctx: Context, host: string, port: number | undefined, replyTo?: number, from?: string): Promise<void> {
  const chatId = ctx.chat!.id;
  if (!deps.tracer.begin(chatId)) {
    await ctx.reply('⏳ A trace is already running in this chat; wait for it to finish.', html);
    return;
  }
  let progress: { message_id: number };
  try {
    await ctx.replyWithChatAction('typing').catch(() => undefined);
    progress = await ctx.reply(`🛰 Tracing <b>${escapeHtml(host)}</b>${from !== undefined ? ` from ${escapeHtml(from)}` : ''}…`, {
      ...html,
      ...(replyTo !== undefined ? { reply_parameters: { message_id: replyTo, allow_sending_without_reply: true } } : {}),
    });
  } catch (err) {
    deps.tracer.end(chatId);
    throw err;
  }
  void (async () => {
    try {
      let result: Awaited<ReturnType<BotDeps['tracer']['trace']>>;
      let where: { label: string; address?: string };
      if (from !== undefined && deps.traceFrom) {
        const got = await deps.traceFrom(from, host, port).finally(() => deps.tracer.end(chatId));
        if (typeof got === 'string') {
          await ctx.api.editMessageText(chatId, progress.message_id, `⚠️ No trace from ${escapeHtml(from)}: ${escapeHtml(got)}`, html);
          return;
        }
        result = got.result;
        where = { label: got.label, ...(got.address ? { address: got.address } : {}) };
      } else {
        result = await deps.tracer.trace(host, port).finally(() => deps.tracer.end(chatId));
        const address = await deps.source.addressFor(host);
        where = { label: deps.source.label, ...(address ? { address } : {}) };
      }
      const report = formatTraceReport(result, where);
      if (report.length <= MESSAGE_LIMIT) {
        await ctx.api.editMessageText(chatId, progress.message_id, report, html);
      } else if (result.ok) {
        // A very long path: the summary in the chat, the whole table as a file.
        await ctx.api.editMessageText(chatId, progress.message_id, report.slice(0, report.indexOf('\n')), html);
        await ctx.api.sendDocument(chatId, new InputFile(Buffer.from(formatHopTable(result.hops, where.label)), `trace-${host}.txt`));
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
    const words = commandArgs(ctx).split(/\s+/).filter(Boolean);
    // `from=nyc`: taken by an instance of that place (several places on one database).
    const fromWord = words.find((w) => w.toLowerCase().startsWith('from='));
    const rest = words.filter((w) => w !== fromWord);
    let from: string | undefined;
    if (fromWord !== undefined) {
      from = fromWord.slice(5).toLowerCase();
      if (!LOCATION_RE.test(from)) return void (await ctx.reply(errorText([`from= must be a location name (a-z, 0-9, -; up to 32), got ${quoteValue(fromWord.slice(5))}`], 'trace'), html));
      if (!deps.traceFrom) return void (await ctx.reply(errorText(['from= needs instances in several places on one database (DATABASE_URL, LOCATION)'], 'trace'), html));
    }
    // More than one word left is checked as one host (and refused as one).
    const word = rest.join(' ');
    if (word === '') return void (await ctx.reply(errorText(['give a host name, an IP address or a target name'], 'trace'), html));
    const target = /^[a-z0-9][a-z0-9_-]{0,31}$/i.test(word) ? await deps.catalog.get(ctx.chat.id, word.toLowerCase()) : undefined;
    const to = target ? traceTarget(target) : undefined;
    if (target && !to) return void (await ctx.reply(errorText([`${target.name} is a ${target.kind} target: it has no host to trace`], 'trace'), html));
    if (to) return traceInChat(deps, ctx, to.host, to.port, undefined, from);
    const host = parseTraceHost(word);
    if (!host.ok) return void (await ctx.reply(errorText(host.errors, 'trace'), html));
    await traceInChat(deps, ctx, host.value, undefined, undefined, from);
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
