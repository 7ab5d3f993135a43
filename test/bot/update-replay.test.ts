import { afterEach, describe, expect, it } from 'vitest';
import { createUpdateLedger } from '../../src/bot/update-ledger.js';
import { systemClock } from '../../src/lib/clock.js';
import { ADMIN, GROUP, startAppRig, type AppRig } from '../support/app-rig.js';
import { textOf, type RecordedCall } from '../support/fake-telegram.js';
import { closedPort } from '../support/target-server.js';

let rig: AppRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const SECRET = 'hook-Secret_123';

/** The answers to /help (its text names /add URL). */
const helpReplies = (r: AppRig): RecordedCall[] => r.telegram.callsOf('sendMessage').filter((c) => !c.failed && textOf(c).includes('/add URL'));

const skipped = (r: AppRig, updateId: number): boolean =>
  r.logs.some((line) => {
    const entry = JSON.parse(line) as { event?: string; update?: number };
    return entry.event === 'update_replayed_skipped' && entry.update === updateId;
  });

/** Waits (up to `ms`) until `done()` holds; answers whether it did. */
async function until(done: () => boolean | Promise<boolean>, ms = 5_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await done()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return done();
}

describe('a new leader and the updates Telegram sends again', () => {
  it('long polling: an update the old leader handled but never confirmed is not answered again', async () => {
    rig = await startAppRig();
    await rig.app.chatReady;
    await rig.telegram.waitFor('getUpdates');
    // The old leader handles /help and is killed before its next getUpdates (the one confirming it) reaches Telegram.
    rig.telegram.loseConfirmations(true);
    const update = rig.telegram.sendText({ chatId: GROUP, userId: ADMIN, text: '/help' });
    const reply = await rig.telegram.waitFor('sendMessage', (c) => textOf(c).includes('/add URL'));
    await until(() => reply.answeredAt !== undefined);
    // Its ledger records the update right after the handler; without a ledger nothing is recorded and this
    // wait just ends: the assertions further down are the ones that count.
    const ledger = createUpdateLedger({ records: rig.app.store.namespace('updates'), clock: systemClock });
    await until(async () => (await ledger.handled())?.updateId === update.update_id, 1_000);
    await rig.app.stop();
    expect(rig.telegram.pendingUpdates().map((u) => u.update_id)).toEqual([update.update_id]);

    // The new leader on the same database polls without an offset and gets the update again.
    rig.telegram.loseConfirmations(false);
    await rig.restart();
    await until(() => rig!.telegram.pendingUpdates().length === 0);
    expect(rig.telegram.pendingUpdates()).toEqual([]);
    await until(() => skipped(rig!, update.update_id) || helpReplies(rig!).length > 1);
    expect(helpReplies(rig)).toHaveLength(1);
    expect(skipped(rig, update.update_id)).toBe(true);

    // What comes after is answered as usual.
    await rig.say('/help', '/add URL');
    expect(helpReplies(rig)).toHaveLength(2);
  });

  it('webhook: an update the old leader handled but never answered is not answered again', async () => {
    const port = await closedPort();
    const env = { HTTP_PORT: String(port), WEBHOOK_URL: 'https://lookout.example/telegram/hook', WEBHOOK_SECRET: SECRET };
    rig = await startAppRig(env);
    await rig.telegram.waitFor('setWebhook');
    const origin = `http://127.0.0.1:${port}`;
    const update = rig.telegram.sendText({ chatId: GROUP, userId: ADMIN, text: '/help' });
    // Telegram's POST reaches the old leader, which handles it and is killed before its answer gets back:
    // posted here by hand, so the fake never sees the answer and keeps the update.
    const res = await fetch(new URL('/telegram/hook', origin), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-telegram-bot-api-secret-token': SECRET },
      body: JSON.stringify(update),
    });
    await res.arrayBuffer();
    expect(helpReplies(rig)).toHaveLength(1);
    await rig.app.stop();
    expect(rig.telegram.pendingUpdates().map((u) => u.update_id)).toEqual([update.update_id]);

    await rig.restart();
    await rig.telegram.waitForCount('setWebhook', 2);
    await rig.app.chatReady;
    expect(await rig.telegram.deliverWebhook(origin)).toEqual([200]);
    expect(rig.telegram.pendingUpdates()).toEqual([]);
    expect(helpReplies(rig)).toHaveLength(1);
    expect(skipped(rig, update.update_id)).toBe(true);
  });
});
