import { afterEach, describe, expect, it } from 'vitest';
import { createStateRepository } from '../../src/store/states.js';
import { createTargetRepository } from '../../src/store/targets.js';
import { ADMIN, GROUP, MEMBER, startAppRig, type AppRig } from '../support/app-rig.js';
import { buttonsOf, textOf, type RecordedCall } from '../support/fake-telegram.js';

let rig: AppRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const text = textOf;
const buttons = buttonsOf;

async function addApi(r: AppRig, extra = ''): Promise<void> {
  await r.say(`/add ${r.server.url}/health name=api confirm=1 ${extra}`.trim(), 'Added');
  await r.telegram.waitFor('editMessageText', (c) => text(c).includes('First check'));
}

/** Makes `api` fail and runs /check, returning the alert message call. */
async function bringDown(r: AppRig): Promise<RecordedCall> {
  r.server.setStatus(503);
  await r.say('/check api', 'failed');
  return r.telegram.waitFor('sendMessage', (c) => text(c).includes('is DOWN'));
}

describe('targets by command, alerts, resolution', () => {
  it('adds a target, alerts with buttons when it fails, resolves and edits the alert', async () => {
    rig = await startAppRig();
    const added = await rig.say(`/add ${rig.server.url}/health name=api confirm=1`, 'Added');
    expect(text(added)).toContain('<b>api</b>');
    const first = await rig.telegram.waitFor('editMessageText', (c) => text(c).includes('First check'));
    expect(text(first)).toContain('HTTP 200');

    const list = await rig.say('/list', 'Targets');
    expect(text(list)).toMatch(/🟢 <b>api<\/b>/);

    const alert = await bringDown(rig);
    expect(alert.payload.chat_id).toBe(GROUP);
    expect(alert.payload.parse_mode).toBe('HTML');
    expect(text(alert)).toContain('🔴 <b>api</b> is DOWN');
    expect(text(alert)).toContain('Reason: HTTP 503, expected 200-299');
    expect(text(alert)).toContain('From: test-runner');
    expect(buttons(alert).map((b) => b.text)).toEqual(['Recheck', 'Mute 1h', 'Trace', 'Ack']);

    const alertId = rig.telegram.messages(GROUP).find((m) => m.text?.includes('is DOWN'))!.message_id;
    rig.server.setStatus(200);
    rig.telegram.pressButton({ chatId: GROUP, userId: ADMIN, data: buttons(alert)[0]!.callback_data, messageId: alertId });
    const toast = await rig.telegram.waitFor('answerCallbackQuery', (c) => String(c.payload.text).includes('api: UP'));
    expect(String(toast.payload.text)).toContain('HTTP 200');
    const resolution = await rig.telegram.waitFor('sendMessage', (c) => text(c).includes('is UP again'));
    expect((resolution.payload.reply_parameters as { message_id: number }).message_id).toBe(alertId);
    await rig.telegram.waitFor('editMessageText', (c) => c.payload.message_id === alertId && text(c).includes('Resolved'));
    const edited = rig.telegram.messages(GROUP).find((m) => m.message_id === alertId)!;
    expect(edited.text).toContain('Resolved');
    expect(edited.reply_markup?.inline_keyboard.flat() ?? []).toEqual([]);
  });

  it('acknowledges from the alert button (admins only) and shows who did', async () => {
    rig = await startAppRig();
    await addApi(rig);
    const alert = await bringDown(rig);
    const alertId = rig.telegram.messages(GROUP).find((m) => m.text?.includes('is DOWN'))!.message_id;
    const ack = buttons(alert).find((b) => b.text === 'Ack')!.callback_data;

    rig.telegram.pressButton({ chatId: GROUP, userId: MEMBER, data: ack, messageId: alertId });
    const refused = await rig.telegram.waitFor('answerCallbackQuery', (c) => String(c.payload.text).includes('Only chat administrators'));
    expect(refused.payload.show_alert).toBe(true);

    rig.telegram.pressButton({ chatId: GROUP, userId: ADMIN, data: ack, messageId: alertId });
    await rig.telegram.waitFor('answerCallbackQuery', (c) => String(c.payload.text).startsWith('Acknowledged'));
    const edit = await rig.telegram.waitFor('editMessageText', (c) => c.payload.message_id === alertId && text(c).includes('Acknowledged by'));
    expect(text(edit)).toContain('@user1001');
    expect(buttons(edit).map((b) => b.text)).toEqual(['Recheck', 'Mute 1h', 'Trace']);
  });

  it('keeps the incident through a rename: the resolution still replies to the alert', async () => {
    rig = await startAppRig();
    await addApi(rig);
    await bringDown(rig);
    const alertId = rig.telegram.messages(GROUP).find((m) => m.text?.includes('is DOWN'))!.message_id;
    await rig.say('/edit api name=api2', 'was api');
    rig.server.setStatus(200);
    await rig.say('/check api2', 'state UP');
    const resolution = await rig.telegram.waitFor('sendMessage', (c) => text(c).includes('is UP again'));
    expect(text(resolution)).toContain('<b>api2</b>');
    expect((resolution.payload.reply_parameters as { message_id: number }).message_id).toBe(alertId);
    await rig.telegram.waitFor('editMessageText', (c) => c.payload.message_id === alertId && text(c).includes('Resolved'));
  });

  it('sends the alert to the forum topic the target was added in', async () => {
    rig = await startAppRig();
    rig.telegram.sendText({ chatId: GROUP, userId: ADMIN, text: `/add ${rig.server.url}/health name=api confirm=1`, threadId: 7 });
    await rig.telegram.waitFor('editMessageText', (c) => text(c).includes('First check'));
    rig.server.setStatus(500);
    rig.telegram.sendText({ chatId: GROUP, userId: ADMIN, text: '/check api', threadId: 7 });
    const alert = await rig.telegram.waitFor('sendMessage', (c) => text(c).includes('is DOWN'));
    expect(alert.payload.message_thread_id).toBe(7);
  });
});

describe('delivery that loses nothing', () => {
  it('retries while Telegram fails and delivers the alert once', async () => {
    rig = await startAppRig();
    await addApi(rig);
    rig.telegram.failNext('sendMessage', { count: 2, status: 500 });
    rig.telegram.failNext('sendMessage', { count: 1, status: 429, retryAfter: 1 });
    rig.server.setStatus(503);
    await rig.app.engine.checkNow(`${GROUP}/api`);
    await rig.telegram.waitFor('sendMessage', (c) => !c.failed && text(c).includes('is DOWN'), 10_000);
    await rig.app.outbox.idle();
    const delivered = rig.telegram.callsOf('sendMessage').filter((c) => !c.failed && text(c).includes('is DOWN'));
    expect(delivered).toHaveLength(1);
  });

  it('delivers after a restart what was queued before it, once, and repeats nothing', async () => {
    rig = await startAppRig();
    await addApi(rig);
    rig.telegram.setDown(true, { includeGetUpdates: false });
    rig.server.setStatus(503);
    await rig.app.engine.checkNow(`${GROUP}/api`);
    await new Promise((r) => setTimeout(r, 200));
    expect(rig.app.outbox.depth()).toBe(1);
    await rig.app.stop();

    rig.telegram.setDown(false);
    rig.telegram.clearCalls();
    await rig.restart();
    await rig.telegram.waitFor('sendMessage', (c) => text(c).includes('is DOWN'));
    await rig.app.outbox.idle();
    // Still DOWN after the restart: the engine does not alert again, and the outbox sent it once.
    await rig.app.engine.checkNow(`${GROUP}/api`);
    await new Promise((r) => setTimeout(r, 100));
    expect(rig.telegram.callsOf('sendMessage').filter((c) => text(c).includes('is DOWN'))).toHaveLength(1);
    expect(rig.app.engine.state(`${GROUP}/api`)?.state).toBe('DOWN');
  });
});

describe('commands and their bad input', () => {
  it('answers every command, and each bad value with what is expected, changing nothing', async () => {
    rig = await startAppRig();
    await addApi(rig);
    const id = `${GROUP}/api`;
    const stored = async () => createTargetRepository(rig!.app.store).get(id);
    const before = await stored();

    const cases: Array<[string, string]> = [
      ['/add ftp://files.example.com', 'URL must be an http:// or https:// address'],
      [`/add ${rig.server.url}/x name=api`, 'a target named "api" already exists'],
      [`/add ${rig.server.url}/x every=5s`, 'every must be between 10s and 1d, got "5s"'],
      ['/add "unclosed', 'a quoted value is not closed'],
      ['/edit api every=5s', 'every must be between 10s and 1d, got "5s"'],
      ['/edit api', 'nothing to change'],
      ['/edit nope every=30s', 'No target named "nope"'],
      ['/edit api 30s', 'unexpected "30s"'],
      ['/interval api 5s', 'interval must be between 10s and 1d, got "5s"'],
      ['/interval api', 'give a name and a duration'],
      ['/timeout api 2m', 'timeout must be shorter than the interval (1m), got "2m"'],
      ['/timeout api abc', 'timeout must be a duration like 30s'],
      ['/status', 'give the name of a target'],
      ['/status nope', 'No target named "nope"'],
      ['/check nope', 'No target named "nope"'],
      ['/pause nope', 'No target named "nope"'],
      ['/remove', 'give the name of a target'],
      ['/edit api method=FETCH expect=99', 'method must be one of GET'],
    ];
    for (const [command, expected] of cases) {
      const reply = await rig.say(command, '⚠️');
      expect(text(reply).replace(/&quot;/g, '"'), command).toContain(expected);
    }
    expect(await stored()).toEqual(before);
    expect(rig.app.engine.target(id)).toEqual(before);
  });

  it('edits, pauses, resumes, checks and removes', async () => {
    rig = await startAppRig();
    await addApi(rig);
    const edit = await rig.say('/edit api every=30s timeout=5s keyword=ok note="call <Bob>"', 'Updated');
    expect(text(edit)).toContain('every 30s, timeout 5s');
    const status = await rig.say('/status api', 'is UP');
    expect(text(status)).toContain('keyword &quot;ok&quot;');
    expect(text(status)).toContain('Note: call &lt;Bob&gt;');
    await rig.say('/interval api 20s', 'every 20s');
    await rig.say('/timeout api 3s', 'timeout 3s');
    await rig.say('/edit api name=api2', 'was api');
    await rig.say('/status api2', 'is UP');
    expect(rig.app.engine.state(`${GROUP}/api2`)?.checks).toBeGreaterThan(0);
    await rig.say('/pause api2', 'Paused');
    expect(rig.app.engine.state(`${GROUP}/api2`)?.state).toBe('PAUSED');
    await rig.say('/pause api2', 'already paused');
    await rig.say('/check api2', 'PAUSED');
    await rig.say('/resume api2', 'Resumed');
    await rig.say('/check api2', 'state UP');

    const confirm = await rig.say('/remove api2', 'Remove');
    expect(buttons(confirm).map((b) => b.text)).toEqual(['Remove', 'Cancel']);
    const messageId = rig.telegram.messages(GROUP).at(-1)!.message_id;
    rig.telegram.pressButton({ chatId: GROUP, userId: ADMIN, data: buttons(confirm)[0]!.callback_data, messageId });
    await rig.telegram.waitFor('editMessageText', (c) => text(c).includes('Removed'));
    expect(await createTargetRepository(rig.app.store).get(`${GROUP}/api2`)).toBeUndefined();
    expect(await createStateRepository(rig.app.store).get(`${GROUP}/api2`)).toBeUndefined();
    await rig.say('/list', 'No targets yet');
  });

  it('guides /add without arguments through a dialogue', async () => {
    rig = await startAppRig();
    await rig.say('/add', 'Which address');
    await rig.say('not a url', 'URL must be');
    await rig.say(`${rig.server.url}/health`, 'Options?');
    await rig.say('every=5s', 'every must be between 10s and 1d');
    const done = await rig.say('name=dialog every=30s', 'Added');
    expect(text(done)).toContain('<b>dialog</b>');
    expect(text(done)).toContain('First check');
    expect(await createTargetRepository(rig.app.store).get(`${GROUP}/dialog`)).toMatchObject({ everyMs: 30_000 });
    await rig.say('/add', 'Which address');
    await rig.say('/cancel', 'Cancelled');
  });

  it('answers /cmd@BotName and /help, and registers the commands', async () => {
    rig = await startAppRig();
    const commands = await rig.telegram.waitFor('setMyCommands');
    expect((commands.payload.commands as Array<{ command: string }>).map((c) => c.command)).toContain('add');
    await rig.say('/help@lookout_test_bot', '/add URL');
    await rig.say('/list@lookout_test_bot', 'No targets yet');
  });
});

describe('who may do what', () => {
  it('serves a chat that is not allowed with one answer and nothing else', async () => {
    rig = await startAppRig();
    const other = -1009999;
    const reply = await rig.say(`/add ${rig.server.url}/ name=x`, 'not enabled', ADMIN, other);
    expect(text(reply)).toContain(String(other));
    rig.telegram.sendText({ chatId: other, userId: ADMIN, text: '/list' });
    rig.telegram.sendText({ chatId: GROUP, userId: ADMIN, text: '/help' });
    await rig.telegram.waitFor('sendMessage', (c) => c.payload.chat_id === GROUP);
    expect(rig.telegram.callsOf('sendMessage').filter((c) => c.payload.chat_id === other)).toHaveLength(1);
    expect(await createTargetRepository(rig.app.store).list()).toEqual([]);
  });

  it('lets members read but not change anything', async () => {
    rig = await startAppRig();
    await addApi(rig);
    const before = await createTargetRepository(rig.app.store).get(`${GROUP}/api`);
    for (const command of [`/add ${rig.server.url}/ name=x`, '/edit api every=30s', '/interval api 30s', '/remove api', '/pause api', '/check api']) {
      const reply = await rig.say(command, '⛔', MEMBER);
      expect(text(reply)).toContain('Only chat administrators');
    }
    await rig.say('/list', 'api', MEMBER);
    await rig.say('/status api', 'is UP', MEMBER);
    expect(await createTargetRepository(rig.app.store).list()).toEqual([before]);
  });

  it('gives ADMIN_USER_IDS full rights, also in their private chat', async () => {
    rig = await startAppRig({ ADMIN_USER_IDS: String(MEMBER) });
    await rig.say(`/add ${rig.server.url}/health name=mine`, 'Added', MEMBER);
    await rig.say('/help', '/add URL', MEMBER, MEMBER);
  });
});

describe('robustness', () => {
  it('answers a failing command with an apology, changes nothing and keeps serving', async () => {
    rig = await startAppRig();
    await addApi(rig);
    // Break the store under the bot: the next write fails.
    const targets = createTargetRepository(rig.app.store);
    const before = await targets.list();
    await rig.app.store.close();
    const reply = await rig.say(`/add ${rig.server.url}/other name=other`, 'Something went wrong');
    expect(text(reply)).toContain('nothing was changed');
    // Still alive: the next update is answered too (the store is still broken, so with the apology).
    await rig.say('/list', 'Something went wrong');
    expect(rig.app.engine.running).toBe(true);
    expect(rig.app.engine.target(`${GROUP}/other`)).toBeUndefined();
    expect(before.map((t) => t.name)).toEqual(['api']);
  });

  it('never sends more than one message a second to a group with the default throttling', async () => {
    const { startFakeTelegram } = await import('../support/fake-telegram.js');
    const { createBot } = await import('../../src/bot/index.js');
    const telegram = await startFakeTelegram();
    try {
      const { createAccess } = await import('../../src/bot/middleware/access.js');
      const { systemClock } = await import('../../src/lib/clock.js');
      const access = createAccess({ allowedChatIds: [GROUP], adminUserIds: [], clock: systemClock, told: { has: async () => false, add: async () => undefined } });
      const bot = createBot({ access } as never, { token: telegram.token, apiRoot: telegram.apiRoot, conversationStorage: { read: () => undefined, write: () => undefined, delete: () => undefined }, botInfo: telegram.botInfo });
      await Promise.all([1, 2, 3].map((n) => bot.api.sendMessage(GROUP, `m${n}`)));
      const times = telegram.callsOf('sendMessage').map((c) => c.at);
      expect(times).toHaveLength(3);
      expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(900);
      expect(times[2]! - times[1]!).toBeGreaterThanOrEqual(900);
    } finally {
      await telegram.close();
    }
  });
});
