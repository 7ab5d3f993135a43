import { Composer } from 'grammy';
import type { Target } from '../../domain/target.js';
import { formatWindowTime, occurrenceAt } from '../../domain/window.js';
import { commandArgs, type LookoutContext } from '../context.js';
import type { BotDeps } from '../deps.js';
import { splitMessage } from '../../alerts/split.js';
import { errorText, listText, statusText, unknownTarget } from '../texts.js';

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
    const text = statusText(target, deps.engine.state(target.id), deps.incidents.openFor(target.id), deps.clock.now());
    return ctx.reply(text, { parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
  });

  return read;
}
