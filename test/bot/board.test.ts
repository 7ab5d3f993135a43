import { afterEach, describe, expect, it } from 'vitest';
import { GROUP, MEMBER, startAppRig, type AppRig } from '../support/app-rig.js';
import { FakeClock } from '../support/fake-clock.js';
import { textOf, type RecordedCall } from '../support/fake-telegram.js';

let rig: AppRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

async function start(clock = new FakeClock(NOW)): Promise<{ r: AppRig; clock: FakeClock }> {
  const r = await startAppRig({}, undefined, { clock, boardIntervalMs: 5_000 });
  return { r, clock };
}

/** Edits of the board message (alerts are edited too; they are other messages). */
const boardEdits = (r: AppRig, messageId: number): RecordedCall[] =>
  r.telegram.callsOf('editMessageText').filter((c) => c.payload.message_id === messageId && c.payload.chat_id === GROUP);

async function postBoard(r: AppRig): Promise<number> {
  await r.say('/board', 'Status board');
  const pin = await r.telegram.waitFor('pinChatMessage');
  // The board is saved once the pin is answered.
  for (let i = 0; i < 100 && r.app.boards.get(GROUP) === undefined; i++) await new Promise((res) => setTimeout(res, 10));
  return Number(pin.payload.message_id);
}

/** Lets the app's promises run while the fake clock moves in small steps. */
async function advance(clock: FakeClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 500) {
    await clock.advance(Math.min(500, ms - t));
    await new Promise((res) => setTimeout(res, 5));
  }
}

describe('the status board', () => {
  it('is posted and pinned, edited on a state change, and only admins manage it', async () => {
    const { r, clock } = await start();
    rig = r;
    expect(textOf(await r.say('/board', 'Only chat administrators', MEMBER))).toContain('⛔');
    const id = await postBoard(r);
    const posted = r.telegram.callsOf('sendMessage').find((c) => textOf(c).includes('Status board'))!;
    expect(textOf(posted)).toContain('No targets yet');
    expect(posted.payload.disable_notification).toBe(true);
    expect(r.telegram.callsOf('pinChatMessage')[0]!.payload).toMatchObject({ chat_id: GROUP, message_id: id, disable_notification: true });

    await r.say(`/add ${r.server.url}/health name=api`, 'Added');
    await advance(clock, 6_000);
    const edit = boardEdits(r, id).at(-1)!;
    expect(textOf(edit)).toMatch(/🟢 <b>api<\/b> · \d+(\.\d+)? ms · since Dec 1 12:00 UTC/);

    r.server.setStatus(503);
    await r.app.engine.checkNow(`${GROUP}/api`);
    await r.app.engine.checkNow(`${GROUP}/api`);
    await advance(clock, 6_000);
    const down = textOf(boardEdits(r, id).at(-1)!);
    expect(down).toContain('🔴 <b>api</b> · HTTP 503, expected 200-299');
    expect(down.indexOf('🔴')).toBeLessThan(down.indexOf('<b>api</b>'));
  });

  it('coalesces a burst of 100 state changes into a couple of edits, and skips edits that change nothing', async () => {
    const { r, clock } = await start();
    rig = r;
    await r.say(`/add ${r.server.url}/health name=api confirm=1`, 'Added');
    await r.telegram.waitFor('editMessageText', (c) => textOf(c).includes('First check'));
    const id = await postBoard(r);
    const before = boardEdits(r, id).length;
    let changes = 0;
    const off = r.app.engine.onChange(() => changes++);
    for (let i = 0; i < 100; i++) {
      r.server.setStatus(i % 2 === 0 ? 503 : 200);
      await r.app.engine.checkNow(`${GROUP}/api`);
      if (i % 10 === 0) await advance(clock, 500);
    }
    off();
    expect(changes).toBe(100);
    await advance(clock, 12_000);
    const edits = boardEdits(r, id).length - before;
    // 100 flips end UP (the last check answered 200): the board shows the final state.
    expect(textOf(boardEdits(r, id).at(-1)!)).toContain('🟢 <b>api</b>');
    // 100 changes over ~5 s of fake time: one edit per 5 s at most.
    expect(edits).toBeGreaterThanOrEqual(1);
    expect(edits).toBeLessThanOrEqual(3);

    const settled = boardEdits(r, id).length;
    r.app.boards.changed(GROUP);
    r.app.boards.changed(GROUP);
    await advance(clock, 12_000);
    expect(boardEdits(r, id).length).toBe(settled);
  });

  it('posts itself again when the message was deleted, and keeps its message across a restart', async () => {
    const { r, clock } = await start();
    rig = r;
    await r.say(`/add ${r.server.url}/health name=api confirm=1`, 'Added');
    const first = await postBoard(r);
    // Someone deletes the board.
    const del = await fetch(`${r.telegram.apiRoot}/bot${r.telegram.token}/deleteMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chat_id: GROUP, message_id: first }),
    });
    expect(del.ok).toBe(true);
    r.server.setStatus(503);
    await r.app.engine.checkNow(`${GROUP}/api`);
    await advance(clock, 6_000);
    const pins = await r.telegram.waitForCount('pinChatMessage', 2);
    const second = Number(pins[1]!.payload.message_id);
    expect(second).not.toBe(first);
    await new Promise((res) => setTimeout(res, 50));
    expect(r.app.boards.get(GROUP)?.messageId).toBe(second);
    expect(r.telegram.messages(GROUP).find((m) => m.message_id === second)?.text).toContain('🔴 <b>api</b>');

    // Restart: the same message is edited on the next change.
    await r.app.stop();
    await r.restart();
    r.server.setStatus(200);
    await r.app.engine.checkNow(`${GROUP}/api`);
    await advance(clock, 6_000);
    await r.telegram.waitFor('editMessageText', (c) => c.payload.message_id === second && textOf(c).includes('🟢 <b>api</b>'));
    expect(r.telegram.callsOf('pinChatMessage')).toHaveLength(2);
  });

  it('/board off unpins it and stops the edits; without the right to pin it says so', async () => {
    const { r, clock } = await start();
    rig = r;
    await r.say(`/add ${r.server.url}/health name=api confirm=1`, 'Added');
    r.telegram.failNext('pinChatMessage', { status: 400, description: 'Bad Request: not enough rights to manage pinned messages in the chat' });
    await r.say('/board', 'could not pin');
    const id = r.app.boards.get(GROUP)!.messageId;
    expect(r.app.boards.get(GROUP)?.pinned).toBe(false);
    expect(textOf(await r.say('/board', 'already running'))).toContain('already running');
    expect(textOf(await r.say('/board off', 'stopped'))).toContain('Status board stopped');
    const edits = boardEdits(r, id).length;
    r.server.setStatus(503);
    await r.app.engine.checkNow(`${GROUP}/api`);
    await advance(clock, 12_000);
    expect(boardEdits(r, id).length).toBe(edits);
    expect(textOf(await r.say('/board off', 'no status board'))).toContain('There is no status board');
    expect(textOf(await r.say('/board now', 'unexpected'))).toContain('/board off stops it');
  });

  it('notices a deletion without a state change: /board posts it again, and so does a restart', async () => {
    const { r } = await start();
    rig = r;
    await r.say(`/add ${r.server.url}/health name=api confirm=1`, 'Added');
    const first = await postBoard(r);
    const remove = (messageId: number): Promise<Response> =>
      fetch(`${r.telegram.apiRoot}/bot${r.telegram.token}/deleteMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chat_id: GROUP, message_id: messageId }),
      });
    await remove(first);
    r.telegram.sendText({ chatId: GROUP, userId: 1001, text: '/board' });
    const pins = await r.telegram.waitForCount('pinChatMessage', 2);
    const second = Number(pins[1]!.payload.message_id);
    expect(second).not.toBe(first);
    expect(r.telegram.callsOf('sendMessage').filter((c) => textOf(c).includes('already running'))).toEqual([]);

    // Deleted while Lookout was stopped: posted again at start, although nothing changed.
    await r.app.stop();
    await remove(second);
    await r.restart();
    const again = await r.telegram.waitForCount('pinChatMessage', 3);
    expect(Number(again[2]!.payload.message_id)).not.toBe(second);
  });

  it('a chat the bot was removed from loses its board instead of retrying forever', async () => {
    const { r, clock } = await start();
    rig = r;
    await r.say(`/add ${r.server.url}/health name=api confirm=1`, 'Added');
    const id = await postBoard(r);
    r.telegram.failNext('editMessageText', { status: 403, description: 'Forbidden: bot was kicked from the supergroup chat', count: 50 });
    r.server.setStatus(503);
    await r.app.engine.checkNow(`${GROUP}/api`);
    for (let i = 0; i < 40 && r.app.boards.get(GROUP) !== undefined; i++) {
      await clock.advance(1_000);
      await new Promise((res) => setTimeout(res, 50));
    }
    expect(r.app.boards.get(GROUP)).toBeUndefined();
    expect(boardEdits(r, id).some((c) => c.error?.code === 403)).toBe(true);
    const tried = boardEdits(r, id).length;
    await advance(clock, 60_000);
    expect(boardEdits(r, id).length).toBe(tried);
  });
});
