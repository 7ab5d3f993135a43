import { Composer } from 'grammy';
import { quoteValue } from '../../domain/errors.js';
import { commandArgs, type LookoutContext } from '../context.js';
import type { BotDeps } from '../deps.js';
import { errorText } from '../texts.js';

const html = { parse_mode: 'HTML' } as const;

/** The live status board: /board posts and pins it, /board off stops it (administrators). */
export function createBoardCommands(deps: BotDeps): Composer<LookoutContext> {
  const board = new Composer<LookoutContext>();

  board.command('board', deps.access.requireAdmin('manage the status board'), async (ctx) => {
    const word = commandArgs(ctx).toLowerCase();
    if (word === 'off') {
      const stopped = await deps.boards.close(ctx.chat.id);
      return void (await ctx.reply(stopped ? '📊 Status board stopped and unpinned.' : 'There is no status board in this chat; /board starts one.', html));
    }
    if (word !== '') return void (await ctx.reply(errorText([`unexpected ${quoteValue(word)}: /board starts the board, /board off stops it`], 'board'), html));
    const threadId = ctx.msg.is_topic_message ? ctx.msg.message_thread_id : undefined;
    const { record, created } = await deps.boards.open(ctx.chat.id, threadId);
    if (!created) {
      return void (await ctx.reply('📊 The status board is already running: it is this message.', {
        ...html,
        reply_parameters: { message_id: record.messageId, allow_sending_without_reply: true },
      }));
    }
    if (!record.pinned) {
      await ctx.reply('📊 Status board posted. I could not pin it: make me an administrator allowed to pin messages, then /board off and /board again.', html);
    }
  });

  return board;
}
