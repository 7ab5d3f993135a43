import { Composer } from 'grammy';
import type { Target } from '../../kinds/index.js';
import { formatWindowTime, occurrenceAt } from '../../domain/window.js';
import { commandArgs, type LookoutContext } from '../context.js';
import type { BotDeps } from '../deps.js';
import { splitMessage } from '../../alerts/split.js';
import { errorText, listText, statusText, unknownTarget, type StatusHistory } from '../texts.js';
import { percentile, sparkline, summarize } from '../../domain/history.js';
import { statsFor } from '../../reports/period.js';

/** Uptime 24h/7d and the last hour, one character a minute (latency bars, × for a failed check). */
async function statusHistory(deps: BotDeps, targetId: string, now: number): Promise<StatusHistory> {
  const start = Math.floor(now / 60_000) * 60_000 - 59 * 60_000;
  // Checked from several places: the verdict's uptime over the places' checks (each place's own series).
  const places = deps.placeNames?.(targetId) ?? [];
  const series = places.length > 0 ? places.map((p) => `${targetId}@${p}`) : [targetId];
  const [day, week, minutes] = await Promise.all([
    statsFor(deps.history, targetId, '24h', now, 0, places),
    statsFor(deps.history, targetId, '7d', now, 0, places),
    Promise.all(series.map((id) => deps.history.minutes(id, start, now + 1))).then((m) => m.flat()),
  ]);
  const slots = Array.from({ length: 60 }, (_, i) => minutes.filter((b) => b.t === start + i * 60_000));
  const bars = sparkline(slots.map((b) => (b.length > 0 && b.some((x) => x.f < x.n) ? percentile(summarize(b), 0.5) : undefined)));
  const lastHour = slots.map((b, i) => (b.length === 0 ? ' ' : b.some((x) => x.f > 0) ? '×' : (bars[i] ?? ' '))).join('');
  return {
    ...(day.availability.uptimePct !== undefined ? { uptime24h: day.availability.uptimePct } : {}),
    ...(week.availability.uptimePct !== undefined ? { uptime7d: week.availability.uptimePct } : {}),
    lastHour,
  };
}

/** Read commands, open to every member of an allowed chat: /list and /status. */
export function createTargetsRead(deps: BotDeps): Composer<LookoutContext> {
  const read = new Composer<LookoutContext>();

  read.command('list', async (ctx) => {
    const targets = await deps.catalog.list(ctx.chat.id);
    const now = deps.clock.now();
    const quiet = (t: Target): string | undefined => {
      const w = deps.policy.windowFor(t.chatId, t.id);
      const occurrence = w ? occurrenceAt(w, now) : undefined;
      if (!w || !occurrence) return undefined;
      return `${w.kind === 'mute' ? '🔕 muted' : '🔧 maintenance'} until ${formatWindowTime(occurrence.end, w.tz)}`;
    };
    const text = listText(targets, (id) => deps.engine.state(id), now, quiet);
    for (const chunk of splitMessage(text)) await ctx.reply(chunk, { parse_mode: 'HTML' });
  });

  read.command('status', async (ctx) => {
    const name = commandArgs(ctx).split(/\s+/)[0] ?? '';
    if (name === '') return ctx.reply(errorText(['give the name of a target'], 'status'), { parse_mode: 'HTML' });
    const target = await deps.catalog.get(ctx.chat.id, name.toLowerCase());
    if (!target) return ctx.reply(unknownTarget(name), { parse_mode: 'HTML' });
    const now = deps.clock.now();
    const text = statusText(target, deps.engine.state(target.id), deps.incidents.openFor(target.id), now, await statusHistory(deps, target.id, now), await deps.places?.(target.id));
    return ctx.reply(text, { parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
  });

  return read;
}
