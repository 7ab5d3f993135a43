import { Api, GrammyError, HttpError } from 'grammy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classifyTelegramError, createTelegramSender, keyboard, type MessageSender } from '../../../../src/alerts/channels/telegram/api.js';
import type { DeliveryVerdict } from '../../../../src/alerts/channel.js';
import { startFakeTelegram, type FakeTelegram } from '../../../support/fake-telegram.js';

/** A Bot API error as grammY throws it. */
const apiError = (error_code: number, description: string, retry_after?: number): GrammyError =>
  new GrammyError(
    "Call to 'sendMessage' failed!",
    { ok: false, error_code, description, ...(retry_after !== undefined ? { parameters: { retry_after } } : {}) },
    'sendMessage',
    {},
  );

describe('classifyTelegramError', () => {
  it.each<[string, unknown, DeliveryVerdict]>([
    ['429 with retry_after', apiError(429, 'Too Many Requests: retry after 7', 7), { action: 'retry', afterMs: 7_000 }],
    ['429 without retry_after', apiError(429, 'Too Many Requests'), { action: 'retry' }],
    ['500', apiError(500, 'Internal Server Error'), { action: 'retry' }],
    ['502', apiError(502, 'Bad Gateway'), { action: 'retry' }],
    [
      'message is not modified',
      apiError(400, 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same'),
      { action: 'done' },
    ],
    ['403 blocked', apiError(403, 'Forbidden: bot was kicked from the supergroup chat'), { action: 'drop', why: 'the bot cannot post in this chat: Forbidden: bot was kicked from the supergroup chat' }],
    ['400 message to edit not found', apiError(400, 'Bad Request: message to edit not found'), { action: 'drop', why: 'Bad Request: message to edit not found' }],
    ['400 chat not found', apiError(400, 'Bad Request: chat not found'), { action: 'drop', why: 'Bad Request: chat not found' }],
    ["400 message can't be edited", apiError(400, "Bad Request: message can't be edited"), { action: 'drop', why: "Bad Request: message can't be edited" }],
    ['400 thread not found', apiError(400, 'Bad Request: message thread not found'), { action: 'drop', why: 'Bad Request: message thread not found' }],
    ['other 400', apiError(400, "Bad Request: can't parse entities"), { action: 'drop', why: "Bad Request: can't parse entities" }],
    ['other 4xx', apiError(404, 'Not Found'), { action: 'drop', why: 'Not Found' }],
    ['HttpError', new HttpError('Network request failed', new Error('ECONNRESET')), { action: 'retry' }],
    ['plain Error', new Error('socket hang up'), { action: 'retry' }],
    ['a thrown non-error', 'boom', { action: 'retry' }],
  ])('%s', (_name, err, verdict) => {
    expect(classifyTelegramError(err)).toEqual(verdict);
  });
});

describe('keyboard', () => {
  it('maps button rows to inline keyboard rows', () => {
    expect(keyboard([[{ text: 'Recheck', data: 'rc:1/a' }, { text: 'Ack', data: 'ak:x' }], [{ text: 'Trace', data: 'tr:1/a' }]])).toEqual({
      inline_keyboard: [
        [
          { text: 'Recheck', callback_data: 'rc:1/a' },
          { text: 'Ack', callback_data: 'ak:x' },
        ],
        [{ text: 'Trace', callback_data: 'tr:1/a' }],
      ],
    });
    expect(keyboard([])).toEqual({ inline_keyboard: [] });
  });
});

describe('createTelegramSender against a fake Bot API', () => {
  const CHAT = -1001234567890;
  let fake: FakeTelegram;
  let sender: MessageSender;

  beforeEach(async () => {
    fake = await startFakeTelegram();
    sender = createTelegramSender(new Api(fake.token, { apiRoot: fake.apiRoot }));
  });

  afterEach(async () => {
    await fake.close();
  });

  /** The error a sender call rejects with. */
  const rejection = async (call: Promise<unknown>): Promise<unknown> => call.then(() => expect.fail('expected the call to fail'), (err: unknown) => err);

  it('sends HTML without link previews and returns the message id', async () => {
    const id = await sender.send(CHAT, '🔴 <b>api</b> is DOWN', {});
    const [call] = fake.callsOf('sendMessage');
    expect(call?.payload).toEqual({ chat_id: CHAT, text: '🔴 <b>api</b> is DOWN', parse_mode: 'HTML', link_preview_options: { is_disabled: true } });
    expect(fake.messages(CHAT).map((m) => m.message_id)).toEqual([id]);
  });

  it('passes the thread, the buttons, silence and the reply', async () => {
    const first = await sender.send(CHAT, 'alert', {});
    await sender.send(CHAT, 'resolution', { threadId: 7, buttons: [[{ text: 'Ack', data: 'ak:x' }]], silent: true, replyTo: first });
    const call = fake.callsOf('sendMessage')[1];
    expect(call?.payload).toMatchObject({
      message_thread_id: 7,
      reply_markup: { inline_keyboard: [[{ text: 'Ack', callback_data: 'ak:x' }]] },
      disable_notification: true,
      reply_parameters: { message_id: first, allow_sending_without_reply: true },
    });
  });

  it('edits text and removes the keyboard when no buttons are given', async () => {
    const id = await sender.send(CHAT, 'alert', { buttons: [[{ text: 'Ack', data: 'ak:x' }]] });
    await sender.edit(CHAT, id, 'alert\n\n✅ <b>Resolved</b>');
    expect(fake.callsOf('editMessageText')[0]?.payload).toMatchObject({ chat_id: CHAT, message_id: id, parse_mode: 'HTML', reply_markup: { inline_keyboard: [] } });
    const [message] = fake.messages(CHAT);
    expect(message?.text).toBe('alert\n\n✅ <b>Resolved</b>');
    expect(message?.reply_markup).toBeUndefined();
  });

  it('the errors it throws classify as the outbox needs', async () => {
    const id = await sender.send(CHAT, 'same', {});
    expect(classifyTelegramError(await rejection(sender.edit(CHAT, id, 'same')))).toEqual({ action: 'done' });
    expect(classifyTelegramError(await rejection(sender.edit(CHAT, id + 100, 'gone')))).toMatchObject({ action: 'drop' });

    fake.failNext('sendMessage', { status: 429, retryAfter: 3 });
    expect(classifyTelegramError(await rejection(sender.send(CHAT, 'x', {})))).toEqual({ action: 'retry', afterMs: 3_000 });

    fake.failNext('sendMessage', { status: 502 });
    const bad = await rejection(sender.send(CHAT, 'x', {}));
    expect(bad).toBeInstanceOf(GrammyError);
    expect(classifyTelegramError(bad)).toEqual({ action: 'retry' });
  });
});
