import { Composer, InputFile } from 'grammy';
import { quoteValue } from '../../domain/errors.js';
import { chartSvg, renderPng } from '../../reports/chart.js';
import { parsePeriod, statsFor, statsForPlaces } from '../../reports/period.js';
import { historyCaption, reportMessages, type ReportRow } from '../../reports/texts.js';
import { commandArgs, type LookoutContext } from '../context.js';
import type { BotDeps } from '../deps.js';
import { errorText, unknownTarget } from '../texts.js';

const html = { parse_mode: 'HTML' } as const;

/** History and reports, open to every member of an allowed chat: /history and /report. */
export function createHistoryCommands(deps: BotDeps): Composer<LookoutContext> {
  const history = new Composer<LookoutContext>();

  history.command('history', async (ctx) => {
    const [name, periodWord, extra] = commandArgs(ctx).split(/\s+/).filter(Boolean);
    if (!name) return void (await ctx.reply(errorText(['give the name of a target'], 'history'), html));
    if (extra !== undefined) return void (await ctx.reply(errorText([`unexpected ${quoteValue(extra)}`], 'history'), html));
    const period = parsePeriod(periodWord, ['24h', '7d', '30d'], '24h');
    if (!period.ok) return void (await ctx.reply(errorText(period.errors, 'history'), html));
    const target = await deps.catalog.get(ctx.chat.id, name.toLowerCase());
    if (!target) return void (await ctx.reply(unknownTarget(name), html));
    // Checked from several places: a latency line per place, the verdict's outages shaded.
    const places = deps.placeNames?.(target.id) ?? [];
    const both = places.length > 0 ? await statsForPlaces(deps.history, target.id, places, period.value, deps.clock.now()) : undefined;
    const stats = both?.stats ?? (await statsFor(deps.history, target.id, period.value, deps.clock.now()));
    const png = renderPng(chartSvg(`${target.name} · latency${places.length > 0 ? ' by place' : ''}, last ${period.value} (UTC)`, period.value, stats, both?.places ?? []));
    await ctx.replyWithPhoto(new InputFile(png, `${target.name}-${period.value}.png`), { caption: historyCaption(target.name, period.value, stats), ...html });
  });

  history.command('report', async (ctx) => {
    const [periodWord, extra] = commandArgs(ctx).split(/\s+/).filter(Boolean);
    if (extra !== undefined) return void (await ctx.reply(errorText([`unexpected ${quoteValue(extra)}`], 'report'), html));
    const period = parsePeriod(periodWord, ['7d', '30d'], '7d');
    if (!period.ok) return void (await ctx.reply(errorText(period.errors, 'report'), html));
    const now = deps.clock.now();
    const targets = await deps.catalog.list(ctx.chat.id);
    const rows: ReportRow[] = [];
    for (const t of targets) {
      // Checked from several places: uptime as the verdict saw it, latency over every place's checks.
      const places = deps.placeNames?.(t.id) ?? [];
      const [stats, previous] = await Promise.all([statsFor(deps.history, t.id, period.value, now, 0, places), statsFor(deps.history, t.id, period.value, now, 1, places)]);
      rows.push({ name: t.name, stats, previous, ...(t.slaPct !== undefined ? { slaPct: t.slaPct } : {}) });
    }
    const first = rows[0]?.stats;
    for (const message of reportMessages(period.value, first?.from ?? now, first?.to ?? now, rows)) await ctx.reply(message, html);
  });

  return history;
}
