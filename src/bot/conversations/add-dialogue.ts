import type { Conversation } from '@grammyjs/conversations';
import { parseArgs } from '../../domain/options.js';
import { isKind, KIND_LIST, KIND_NAMES, moduleNamed, type TargetKind } from '../../kinds/index.js';

/** The kind an address answer starts with (a bare URL is the first kind). */
const kindOf = (text: string): TargetKind => {
  const first = text.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  return isKind(first) ? first : KIND_NAMES[0]!;
};
import { buildTarget } from '../../targets/options.js';
import type { DialogueContext, LookoutContext } from '../context.js';
import type { BotDeps } from '../deps.js';
import { addTarget, chatFullError, firstCheckLine, threadOf } from '../features/targets-write.js';
import { errorText } from '../texts.js';

const html = { parse_mode: 'HTML', link_preview_options: { is_disabled: true } } as const;
/** A dialogue left unanswered this long ends by itself. */
const ANSWER_WITHIN_MS = 5 * 60_000;
const ATTEMPTS = 3;
const GIVE_UP = 'Giving up after three tries: nothing was added. /add starts again.';

/** The guided `/add`: asks for the address, then the options, validating each answer. */
export function createAddDialogue(deps: BotDeps) {
  return async function add(conversation: Conversation<LookoutContext, DialogueContext>, ctx: DialogueContext): Promise<void> {
    const user = ctx.from;
    const chat = ctx.chat;
    if (!user || !chat) return;
    const thread = threadOf(ctx);
    const full = await conversation.external(() => chatFullError(deps, chat.id));
    if (full) return void (await ctx.reply(errorText([full]), html));
    const answer = async (prompt: string): Promise<string | undefined> => {
      await ctx.reply(prompt, html);
      const reply = await conversation
        .waitFrom(user, { maxMilliseconds: ANSWER_WITHIN_MS, next: true })
        .andFor('message:text', { next: true });
      const text = reply.message.text.trim();
      if (text === '/cancel' || text.startsWith('/cancel@')) {
        await ctx.reply('Cancelled: nothing was added.');
        return undefined;
      }
      return text;
    };

    const validate = (text: string): { ok: true } | { ok: false; text: string } => {
      const args = parseArgs(text);
      if (!args.ok) return { ok: false, text: errorText(args.errors) };
      const built = buildTarget(args.value, { chatId: chat.id, now: 0, allowMetadata: deps.allowMetadata });
      return built.ok ? { ok: true } : { ok: false, text: errorText(built.errors) };
    };

    let address: string | undefined;
    for (let attempt = 1; attempt <= ATTEMPTS && address === undefined; attempt++) {
      const text = await answer(
        attempt === 1
          ? `Which address should I check? Send ${KIND_LIST.map((k) => k.dialogue).join(', or ')}. /cancel stops.`
          : 'Send the address again.',
      );
      if (text === undefined) return;
      const checked = validate(text);
      if (checked.ok) address = text;
      else await ctx.reply(checked.text, html);
    }
    if (address === undefined) return void (await ctx.reply(GIVE_UP));

    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      const options = await answer(
        attempt === 1
          ? `Options? For example ${moduleNamed(kindOf(address)).optionsExample}, or send <code>skip</code> for the defaults.`
          : 'Send the options again, or <code>skip</code>.',
      );
      if (options === undefined) return;
      const full = options.toLowerCase() === 'skip' ? address : `${address} ${options}`;
      const checked = validate(full);
      if (!checked.ok) {
        await ctx.reply(checked.text, html);
        continue;
      }
      const args = parseArgs(full);
      if (!args.ok) continue;
      const outcome = await conversation.external(() => addTarget(deps, chat.id, thread, args.value, user.id));
      if (!outcome.targetId) {
        // Valid options, but refused by the catalog (the name is taken): ask again; a full chat ends it.
        await ctx.reply(outcome.text, html);
        if (outcome.full) return;
        continue;
      }
      const line = await conversation.external(() => firstCheckLine(deps, outcome.targetId!));
      await ctx.reply(`${outcome.text}\n${line}`, html);
      return;
    }
    await ctx.reply(GIVE_UP);
  };
}
