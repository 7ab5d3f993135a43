import { Bot, GrammyError, InputFile, type Context } from 'grammy';
import type { CallbackQuery } from 'grammy/types';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeTelegram, type FakeTelegram } from './fake-telegram.js';

let fake: FakeTelegram;
let bots: Array<{ bot: Bot; running?: Promise<void> }> = [];

beforeEach(async () => {
  fake = await startFakeTelegram();
});

afterEach(async () => {
  for (const entry of bots) {
    if (entry.bot.isRunning()) await entry.bot.stop();
    await entry.running;
  }
  bots = [];
  await fake.close();
});

function createBot(token = fake.token): Bot {
  const bot = new Bot(token, { client: { apiRoot: fake.apiRoot } });
  bots.push({ bot });
  return bot;
}

// bot.start() settles only when the bot stops, so it is kept for afterEach to await.
function startPolling(bot: Bot): void {
  const entry = bots.find((candidate) => candidate.bot === bot);
  if (entry === undefined) throw new Error('create the bot with createBot()');
  entry.running = bot.start({ drop_pending_updates: false, timeout: 1 });
}

async function apiError(promise: Promise<unknown>): Promise<GrammyError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (!(error instanceof GrammyError)) throw new Error(`expected a GrammyError, got ${String(error)}`);
  return error;
}

describe('fake Telegram Bot API with a real grammY bot', () => {
  it('answers getMe for bot.init()', async () => {
    const bot = createBot();
    await bot.init();
    expect(bot.botInfo).toMatchObject({ id: 123456789, is_bot: true, first_name: 'Lookout', username: 'lookout_test_bot' });
    expect(fake.callsOf('getMe')).toHaveLength(1);
  });

  it('delivers a /ping command to a polling bot and records its reply', async () => {
    const bot = createBot();
    bot.command('ping', (ctx) => ctx.reply('pong'));
    startPolling(bot);

    fake.sendText({ chatId: 42, userId: 42, text: '/ping' });
    const reply = await fake.waitFor('sendMessage');

    expect(reply.payload).toMatchObject({ chat_id: 42, text: 'pong' });
    expect(fake.callsOf('deleteWebhook')[0]?.payload).toEqual({ drop_pending_updates: false });
    expect(fake.messages(42)).toMatchObject([{ message_id: 2, text: 'pong', from: { id: fake.botInfo.id } }]);
  });

  it('routes a group command addressed by @username into its forum topic', async () => {
    const bot = createBot();
    bot.command('status', (ctx) => ctx.reply('all green'));
    startPolling(bot);

    const update = fake.sendText({ chatId: -1001234567890, userId: 7, text: '/status@lookout_test_bot now', threadId: 5 });
    const reply = await fake.waitFor('sendMessage');

    expect(update.message).toMatchObject({
      chat: { type: 'supergroup', is_forum: true },
      message_thread_id: 5,
      is_topic_message: true,
      entities: [{ type: 'bot_command', offset: 0, length: '/status@lookout_test_bot'.length }],
    });
    expect(reply.payload).toMatchObject({ chat_id: -1001234567890, message_thread_id: 5, text: 'all green' });
  });

  it('holds getUpdates for its timeout when nothing is queued', async () => {
    const bot = createBot();
    const started = Date.now();
    const updates = await bot.api.getUpdates({ timeout: 1 });
    expect(updates).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(800);
  });

  it('wakes a held getUpdates as soon as an update is pushed', async () => {
    const bot = createBot();
    const started = Date.now();
    const poll = bot.api.getUpdates({ timeout: 10 });
    await fake.waitFor('getUpdates');
    const pushed = fake.pushUpdate({
      message: { message_id: 1, date: 1, chat: { id: 1, type: 'private', first_name: 'A' }, from: { id: 1, is_bot: false, first_name: 'A' }, text: 'hi' },
    });

    expect(await poll).toEqual([pushed]);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(pushed.update_id).toBe(1);
  });

  it('keeps updates until an offset confirms them', async () => {
    const bot = createBot();
    const first = fake.sendText({ chatId: 1, userId: 1, text: 'one' });
    const second = fake.sendText({ chatId: 1, userId: 1, text: 'two' });

    expect(await bot.api.getUpdates({ limit: 1 })).toEqual([first]);
    expect(await bot.api.getUpdates({})).toEqual([first, second]);
    expect(await bot.api.getUpdates({ offset: second.update_id })).toEqual([second]);
    expect(await bot.api.getUpdates({ offset: second.update_id + 1 })).toEqual([]);
    expect(fake.pendingUpdates()).toEqual([]);
  });

  it('loses confirming polls while told to, so a new client gets the updates again', async () => {
    const bot = createBot();
    const update = fake.sendText({ chatId: 1, userId: 1, text: 'one' });
    expect(await bot.api.getUpdates({})).toEqual([update]);
    fake.loseConfirmations(true);
    const abort = new AbortController();
    const lost = bot.api.getUpdates({ offset: update.update_id + 1, timeout: 10 }, abort.signal as never).catch(() => 'aborted');
    const call = await fake.waitFor('getUpdates', (c) => c.payload.offset === update.update_id + 1);
    expect(call.lost).toBe(true);
    expect(fake.pendingUpdates()).toEqual([update]);
    abort.abort();
    expect(await lost).toBe('aborted');

    fake.loseConfirmations(false);
    expect(await bot.api.getUpdates({})).toEqual([update]);
    expect(await bot.api.getUpdates({ offset: update.update_id + 1 })).toEqual([]);
    expect(fake.pendingUpdates()).toEqual([]);
  });

  it('delivers each update to a polling bot exactly once', async () => {
    const bot = createBot();
    const seen: string[] = [];
    bot.on('message:text', async (ctx) => {
      seen.push(ctx.message.text);
      await ctx.reply(`got ${ctx.message.text}`);
    });
    startPolling(bot);

    fake.sendText({ chatId: 3, userId: 3, text: 'a' });
    await fake.waitFor('sendMessage', (call) => call.payload.text === 'got a');
    fake.sendText({ chatId: 3, userId: 3, text: 'b' });
    await fake.waitFor('sendMessage', (call) => call.payload.text === 'got b');
    await bots[0]?.bot.stop();
    await bots[0]?.running;

    expect(seen).toEqual(['a', 'b']);
    expect(fake.pendingUpdates()).toEqual([]);
    const methods = fake.calls.map((call) => call.method);
    expect(methods.slice(0, 2).sort()).toEqual(['deleteWebhook', 'getMe']);
    expect(methods.at(-1)).toBe('getUpdates');
  });

  it('fails the next call with a 429 carrying retry_after, then succeeds', async () => {
    const bot = createBot();
    fake.failNext('sendMessage', { status: 429, retryAfter: 1 });

    const error = await apiError(bot.api.sendMessage(10, 'first'));
    expect(error.error_code).toBe(429);
    expect(error.parameters.retry_after).toBe(1);
    expect(error.description).toBe('Too Many Requests: retry after 1');

    const sent = await bot.api.sendMessage(10, 'second');
    expect(sent.text).toBe('second');
    expect(fake.callsOf('sendMessage').map((call) => call.failed)).toEqual([true, undefined]);
  });

  it('answers 502 for every method while down, getUpdates optionally excepted', async () => {
    const bot = createBot();
    fake.setDown(true, { includeGetUpdates: false });
    expect((await apiError(bot.api.getMe())).error_code).toBe(502);
    expect(await bot.api.getUpdates({})).toEqual([]);
    fake.setDown(true);
    expect((await apiError(bot.api.getUpdates({}))).error_code).toBe(502);
    fake.setDown(false);
    expect((await bot.api.getMe()).username).toBe('lookout_test_bot');
  });

  it('rejects an edit that changes nothing with "message is not modified"', async () => {
    const bot = createBot();
    const sent = await bot.api.sendMessage(20, 'DOWN: api');

    const error = await apiError(bot.api.editMessageText(20, sent.message_id, 'DOWN: api'));
    expect(error.error_code).toBe(400);
    expect(error.description).toMatch(/^Bad Request: message is not modified/);

    const missing = await apiError(bot.api.editMessageText(20, 999, 'x'));
    expect(missing.description).toBe('Bad Request: message to edit not found');
  });

  it('keeps the current text and keyboard of each bot message in messages(chatId)', async () => {
    const bot = createBot();
    const keyboard = { inline_keyboard: [[{ text: 'Ack', callback_data: 'ack:api' }]] };
    const alert = await bot.api.sendMessage(-100, 'DOWN: api', { reply_markup: keyboard });
    const other = await bot.api.sendMessage(-100, 'DOWN: db', { reply_parameters: { message_id: alert.message_id } });
    expect(alert.reply_markup).toEqual(keyboard);
    expect(other.reply_to_message?.text).toBe('DOWN: api');

    const edited = await bot.api.editMessageText(-100, alert.message_id, 'UP: api');
    await bot.api.deleteMessage(-100, other.message_id);

    expect(edited).toMatchObject({ text: 'UP: api' });
    expect(fake.messages(-100)).toHaveLength(1);
    expect(fake.messages(-100)[0]).toMatchObject({ message_id: alert.message_id, text: 'UP: api' });
    expect(fake.messages(-100)[0]?.reply_markup).toBeUndefined();
  });

  it('reports the chat member status setMember set', async () => {
    const bot = createBot();
    expect((await bot.api.getChatMember(-200, 5)).status).toBe('member');
    fake.setMember(-200, 5, 'administrator');
    expect(await bot.api.getChatMember(-200, 5)).toMatchObject({ status: 'administrator', user: { id: 5 } });
  });

  it('answers a wrong token with 401 Unauthorized', async () => {
    const bot = createBot('42:wrong');
    const error = await apiError(bot.init());
    expect(error.error_code).toBe(401);
    expect(error.description).toBe('Unauthorized');
    expect(fake.calls[0]).toMatchObject({ method: 'getMe', failed: true });
  });

  it('answers an unknown method with 404', async () => {
    const response = await fetch(`${fake.apiRoot}/bot${fake.token}/noSuchMethod`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: '{}',
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ ok: false, error_code: 404, description: 'Not Found: method not found' });
  });

  it('delivers pressButton as a callback query to a callback_query:data handler', async () => {
    const bot = createBot();
    const received: CallbackQuery[] = [];
    bot.on('callback_query:data', async (ctx: Context) => {
      if (ctx.callbackQuery !== undefined) received.push(ctx.callbackQuery);
      await ctx.answerCallbackQuery({ text: 'Acknowledged' });
      await ctx.editMessageText('ACK: api');
    });
    const alert = await bot.api.sendMessage(-300, 'DOWN: api', { reply_markup: { inline_keyboard: [[{ text: 'Ack', callback_data: 'ack:api' }]] } });
    startPolling(bot);

    const update = fake.pressButton({ chatId: -300, userId: 9, data: 'ack:api', messageId: alert.message_id });
    const answer = await fake.waitFor('answerCallbackQuery');
    await fake.waitFor('editMessageText');

    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ data: 'ack:api', from: { id: 9 }, message: { message_id: alert.message_id, text: 'DOWN: api' } });
    expect(answer.payload).toEqual({ callback_query_id: update.callback_query?.id, text: 'Acknowledged' });
    expect(fake.messages(-300)[0]?.text).toBe('ACK: api');
  });

  it('parses a multipart sendDocument upload', async () => {
    const bot = createBot();
    const sent = await bot.api.sendDocument(-400, new InputFile(new TextEncoder().encode('hello world'), 'report.txt'), {
      caption: 'weekly report',
      reply_markup: { inline_keyboard: [[{ text: 'Open', url: 'https://example.test' }]] },
    });

    const call = fake.callsOf('sendDocument')[0];
    expect(call?.payload).toMatchObject({ chat_id: -400, caption: 'weekly report', reply_markup: { inline_keyboard: [[{ text: 'Open' }]] } });
    expect(call?.files?.map(({ content, ...rest }) => ({ ...rest, content: content.toString() }))).toEqual([{ field: 'document', filename: 'report.txt', bytes: 11, content: 'hello world' }]);
    expect(sent.document).toMatchObject({ file_name: 'report.txt', file_size: 11 });
    expect(sent.caption).toBe('weekly report');
  });

  it('stores the commands setMyCommands set', async () => {
    const bot = createBot();
    await bot.api.setMyCommands([{ command: 'status', description: 'Show targets' }]);
    expect(await bot.api.getMyCommands()).toEqual([{ command: 'status', description: 'Show targets' }]);
    expect(await bot.api.getMyCommands({ scope: { type: 'all_group_chats' } })).toEqual([]);
  });

  it('rejects waitFor with the methods it saw when the call never comes', async () => {
    const bot = createBot();
    await bot.init();
    await expect(fake.waitFor('sendMessage', undefined, 50)).rejects.toThrow(/no sendMessage call within 50 ms; calls seen: getMe x1/);
  });

  it('waits for a number of calls', async () => {
    const bot = createBot();
    const three = fake.waitForCount('sendChatAction', 3, 2000);
    for (let i = 0; i < 3; i += 1) await bot.api.sendChatAction(1, 'typing');
    expect(await three).toHaveLength(3);
  });

  it('posts a message at once but answers it after setAnswerDelay, and marks an answer nobody waited for', async () => {
    const bot = createBot();
    fake.setAnswerDelay('sendMessage', 200);
    const startedAt = Date.now();
    const sent = bot.api.sendMessage(-500, 'slow');
    const call = await fake.waitFor('sendMessage');
    // Applied on arrival: the chat has the message before the bot hears back.
    expect(fake.messages(-500).map((m) => m.text)).toEqual(['slow']);
    expect(call.answeredAt).toBeUndefined();
    expect((await sent).message_id).toBe(1);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(190);
    expect(call.answeredAt).toBeGreaterThanOrEqual(call.at + 190);
    expect(call.result).toMatchObject({ message_id: 1, text: 'slow' });

    const aborted = new AbortController();
    const gone = fetch(`${fake.apiRoot}/bot${fake.token}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chat_id: -500, text: 'given up' }),
      signal: aborted.signal,
    }).catch(() => 'aborted');
    const second = await fake.waitFor('sendMessage', (c) => c.payload.text === 'given up');
    aborted.abort();
    expect(await gone).toBe('aborted');
    await new Promise((r) => setTimeout(r, 300));
    expect(second.abandoned).toBe(true);
    expect(second.result).toMatchObject({ message_id: 2, text: 'given up' });
    expect(fake.messages(-500).map((m) => m.text)).toEqual(['slow', 'given up']);
  });

  it('releases a held poll on close and can be closed twice', async () => {
    const bot = createBot();
    const poll = bot.api.getUpdates({ timeout: 30 });
    await fake.waitFor('getUpdates');
    await fake.close();
    expect(await poll).toEqual([]);
    await fake.close();
  });
});
