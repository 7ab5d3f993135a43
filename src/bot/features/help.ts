import { Composer } from 'grammy';
import type { LookoutContext } from '../context.js';
import { helpText } from '../texts.js';

/** /start and /help. */
export function createHelp(): Composer<LookoutContext> {
  const help = new Composer<LookoutContext>();
  help.command(['start', 'help'], (ctx) => ctx.reply(helpText(), { parse_mode: 'HTML', link_preview_options: { is_disabled: true } }));
  return help;
}
