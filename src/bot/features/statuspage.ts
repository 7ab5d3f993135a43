import { Composer } from 'grammy';
import { escapeHtml } from '../../lib/html.js';
import { parseArgs } from '../../domain/options.js';
import { quoteValue } from '../../domain/errors.js';
import { parsePageOptions, type StatusPage } from '../../statuspage/pages.js';
import { commandArgs, type LookoutContext } from '../context.js';
import type { BotDeps } from '../deps.js';
import { errorText } from '../texts.js';

const html = { parse_mode: 'HTML', link_preview_options: { is_disabled: true } } as const;

/** How a page is described in the chat. */
function describePage(deps: BotDeps, p: StatusPage): string {
  const url = `${deps.publicUrl ?? ''}/status/${p.slug}`;
  const first = p.targets?.[0];
  return [
    `🌐 Status page <b>${escapeHtml(p.title)}</b>: ${escapeHtml(url)}`,
    `Shows ${p.targets ? escapeHtml(p.targets.join(', ')) : 'every target of this chat'}; addresses ${p.showUrls ? 'shown' : 'hidden'}.`,
    first ? `Badge: ${escapeHtml(`${deps.publicUrl ?? ''}/badge/${p.slug}/${first}.svg`)} (?type=uptime&period=30d for uptime)` : `Badges: ${escapeHtml(`${deps.publicUrl ?? ''}/badge/${p.slug}/NAME.svg`)}`,
  ].join('\n');
}

/** `/statuspage [on [title="…"] [targets=a,b] [show-urls] [slug=name] | off]`: the chat's public status page. */
export function createStatusPageCommands(deps: BotDeps): Composer<LookoutContext> {
  const commands = new Composer<LookoutContext>();

  commands.command('statuspage', async (ctx, next) => {
    if (commandArgs(ctx) !== '') return next();
    const page = await deps.statusPages.ofChat(ctx.chat.id);
    await ctx.reply(page ? describePage(deps, page) : 'This chat has no public status page. Admins publish one with <code>/statuspage on title="Example status" targets=api,web</code>.', html);
  });

  commands.command('statuspage', deps.access.requireAdmin('publish the status page'), async (ctx) => {
    const args = parseArgs(commandArgs(ctx));
    if (!args.ok) return void (await ctx.reply(errorText(args.errors, 'statuspage'), html));
    const [verb, ...rest] = args.value.positional;
    const chatId = ctx.chat.id;
    if (verb?.toLowerCase() === 'off') {
      if (rest.length > 0 || args.value.options.length > 0) return void (await ctx.reply(errorText(['/statuspage off takes nothing more'], 'statuspage'), html));
      const page = await deps.statusPages.ofChat(chatId);
      if (!page) return void (await ctx.reply('This chat has no status page.', html));
      await deps.statusPages.remove(page.slug);
      deps.logger?.info({ event: 'statuspage_off', chat: chatId, by: ctx.from?.id }, 'status page removed');
      return void (await ctx.reply(`🌐 The status page <b>${escapeHtml(page.title)}</b> is gone: /status/${escapeHtml(page.slug)} answers 404 now.`, html));
    }
    if (verb?.toLowerCase() !== 'on') return void (await ctx.reply(errorText([`unexpected ${quoteValue(verb ?? '')}: use /statuspage on [title="…"] [targets=a,b] [show-urls] or /statuspage off`], 'statuspage'), html));
    if (deps.publicUrl === undefined) return void (await ctx.reply(errorText(['the HTTP server is off (HTTP_PORT=0): a status page needs it'], 'statuspage'), html));
    const chatTitle = ctx.chat.type === 'private' ? 'Status' : ctx.chat.title;
    const parsed = parsePageOptions({ positional: rest, options: args.value.options }, `${chatTitle} status`.slice(0, 80));
    if (!parsed.ok) return void (await ctx.reply(errorText(parsed.errors, 'statuspage'), html));
    const names = new Set((await deps.catalog.list(chatId)).map((t) => t.name));
    const unknown = (parsed.value.targets ?? []).filter((n) => !names.has(n));
    if (unknown.length > 0) return void (await ctx.reply(errorText([`no target named ${unknown.slice(0, 5).map((n) => quoteValue(n)).join(', ')} in this chat; /list shows them`], 'statuspage'), html));
    const taken = await deps.statusPages.get(parsed.value.slug);
    if (taken && taken.chatId !== chatId) return void (await ctx.reply(errorText([`the address /status/${parsed.value.slug} is taken: choose another with slug=`], 'statuspage'), html));
    const page: StatusPage = {
      slug: parsed.value.slug,
      chatId,
      title: parsed.value.title,
      ...(parsed.value.targets ? { targets: parsed.value.targets } : {}),
      showUrls: parsed.value.showUrls,
      createdAt: deps.clock.now(),
      ...(ctx.from ? { createdBy: ctx.from.id } : {}),
    };
    await deps.statusPages.put(page);
    deps.logger?.info({ event: 'statuspage_on', chat: chatId, slug: page.slug, by: ctx.from?.id }, 'status page published');
    await ctx.reply(`${describePage(deps, page)}\nAnyone with the link can see it; /statuspage off removes it.`, html);
  });

  return commands;
}
