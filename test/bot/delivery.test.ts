import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, GROUP, startAppRig, type AppRig } from '../support/app-rig.js';
import { FakeClock } from '../support/fake-clock.js';
import { buttonsOf, startFakeTelegram, textOf } from '../support/fake-telegram.js';
import { startTargetServer } from '../support/target-server.js';
import { mountTmpfs, tmpfsTestsRun } from '../support/tmpfs.js';

// What issue 13 found in delivery, through the whole app against the fake Bot API.

const OTHER_GROUP = -1009999999999;
let rig: AppRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const realWait = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function addTarget(r: AppRig, name: string, chatId = GROUP): Promise<void> {
  await r.say(`/add ${r.server.url}/${name} name=${name} confirm=1 every=1d remind=0`, 'Added', ADMIN, chatId);
  await r.telegram.waitFor('editMessageText', (c) => c.payload.chat_id === chatId && textOf(c).includes('First check') && textOf(c).includes(name));
}

describe('catching up after a Telegram outage', () => {
  it('after five minutes without Telegram, the queued alert and the newer ones go out within seconds of its return, in order', async () => {
    const clock = new FakeClock();
    rig = await startAppRig({}, undefined, { clock, outboxBackoffMs: { base: 1_000, max: 300_000 }, probeEveryMs: 5_000 });
    await addTarget(rig, 'api');
    await addTarget(rig, 'web');
    rig.telegram.setDown(true, { includeGetUpdates: false });
    rig.server.setStatus(503);
    await rig.app.engine.checkNow(`${GROUP}/api`);
    await rig.app.policy.settle();
    // Five minutes of outage: the backoff grows to minutes.
    for (let s = 0; s < 300; s++) {
      await clock.advance(1_000);
      if (s === 120) {
        await rig.app.engine.checkNow(`${GROUP}/web`);
        await rig.app.policy.settle();
      }
      await realWait(2);
    }
    rig.telegram.setDown(false);
    const back = clock.now();
    const delivered = (): string[] =>
      rig!.telegram
        .callsOf('sendMessage')
        .filter((c) => !c.failed && /DOWN/.test(textOf(c)))
        .map((c) => textOf(c));
    for (let s = 0; s < 60 && delivered().length < 1; s++) {
      await clock.advance(1_000);
      await realWait(20);
    }
    // Both were waiting: they go out together, the older first.
    expect(delivered()).toHaveLength(1);
    const lines = delivered()[0]!.split('\n');
    expect(lines[0]).toBe('🔴 <b>2 of 2 targets are DOWN</b>');
    expect(lines[1]).toMatch(/^🔴 <b>api<\/b>/);
    expect(lines[2]).toMatch(/^🔴 <b>web<\/b>/);
    // Within seconds: a probe every 5 s notices Telegram is back (the backoff alone would wait minutes).
    expect(clock.now() - back).toBeLessThanOrEqual(12_000);
  });
});

describe('outages shorter than a group', () => {
  it('an outage that begins and ends while the chat waits for its group is told as one quiet line, and counted in /report', async () => {
    const clock = new FakeClock();
    rig = await startAppRig({}, undefined, { clock });
    await addTarget(rig, 'first');
    await addTarget(rig, 'short');
    rig.server.setStatus(503);
    await rig.app.engine.checkNow(`${GROUP}/first`);
    await rig.telegram.waitFor('sendMessage', (c) => textOf(c).includes('<b>first</b> is DOWN'));
    // Within the group window that the first alert opened: down and up again.
    await rig.app.engine.checkNow(`${GROUP}/short`);
    await clock.advance(2_000);
    rig.server.setStatus(200);
    await rig.app.engine.checkNow(`${GROUP}/short`);
    await rig.app.policy.settle();
    await clock.advance(5_000);
    const blip = await rig.telegram.waitFor('sendMessage', (c) => textOf(c).startsWith('⚡'));
    expect(textOf(blip)).toMatch(/^⚡ <b>short<\/b> was DOWN for 2s: HTTP 503, expected 200-299$/);
    expect(blip.payload.disable_notification).toBe(true);
    const report = await rig.say('/report', 'SLA report');
    expect(textOf(report)).toMatch(/short\s+\S+\s+1\s/);
  });
});

describe('buttons act only on their own chat', () => {
  it("an Ack pressed in another chat with this chat's alert data changes nothing; unknown buttons get an answer", async () => {
    rig = await startAppRig({ ALLOWED_CHAT_IDS: `${GROUP},${OTHER_GROUP}` });
    rig.telegram.setMember(OTHER_GROUP, ADMIN, 'administrator');
    await addTarget(rig, 'api');
    rig.server.setStatus(503);
    await rig.app.engine.checkNow(`${GROUP}/api`);
    const alert = await rig.telegram.waitFor('sendMessage', (c) => textOf(c).includes('is DOWN'));
    const ack = buttonsOf(alert).find((b) => b.text === 'Ack')!.callback_data;

    // An admin of the other allowed chat replays the data there.
    rig.telegram.pressButton({ chatId: OTHER_GROUP, userId: ADMIN, data: ack, messageId: 1 });
    const refused = await rig.telegram.waitFor('answerCallbackQuery', (c) => String(c.payload.text) === 'This button is no longer valid.');
    expect(refused).toBeDefined();
    expect(rig.app.policy && (await rig.app.engine.state(`${GROUP}/api`))?.state).toBe('DOWN');
    expect(rig.telegram.callsOf('editMessageText').filter((c) => textOf(c).includes('Acknowledged'))).toEqual([]);

    // Stale or forged data of any kind: an answer, not a spinning button.
    rig.telegram.clearCalls();
    rig.telegram.pressButton({ chatId: GROUP, userId: ADMIN, data: 'ak:nosuchalert', messageId: 1 });
    rig.telegram.pressButton({ chatId: GROUP, userId: ADMIN, data: 'zz:whatever', messageId: 1 });
    await rig.telegram.waitForCount('answerCallbackQuery', 2);
    expect(rig.telegram.callsOf('answerCallbackQuery').map((c) => c.payload.text)).toEqual(['This button is no longer valid.', 'This button is no longer valid.']);

    // In its own chat it works.
    const alertId = rig.telegram.messages(GROUP).find((m) => m.text?.includes('is DOWN'))!.message_id;
    rig.telegram.pressButton({ chatId: GROUP, userId: ADMIN, data: ack, messageId: alertId });
    await rig.telegram.waitFor('editMessageText', (c) => textOf(c).includes('Acknowledged by'));
  });
});

describe('destinations never wait for one another', () => {
  it('a Slack that answers 500 never delays the Telegram alert or the webhook', async () => {
    const { startReceiver } = await import('../support/receiver.js');
    const slack = await startReceiver();
    const hook = await startReceiver();
    try {
      slack.answer(() => ({ status: 500, body: 'no' }));
      rig = await startAppRig();
      await rig.say(`/notify add slack team ${slack.url}/services/T/B/x`, 'Added');
      await rig.say(`/notify add webhook ops ${hook.url}/hook`, 'Added');
      await addTarget(rig, 'api');
      rig.server.setStatus(503);
      await rig.app.engine.checkNow(`${GROUP}/api`);
      await rig.telegram.waitFor('sendMessage', (c) => textOf(c).includes('<b>api</b> is DOWN'), 5_000);
      await hook.waitFor(1, 5_000);
      // Both arrived while Slack kept failing (its alert waits for its own retry).
      expect(slack.requests.length).toBeGreaterThanOrEqual(1);
      expect(rig.app.outbox.depthByChannel().get('slack')).toBe(1);
    } finally {
      await slack.close();
      await hook.close();
    }
  });
});

describe('a destination that is gone', () => {
  it('is paused, the chat is told once what it answered, /notify resume delivers what waited; /metrics counts by channel', async () => {
    const { startReceiver } = await import('../support/receiver.js');
    const hook = await startReceiver();
    try {
      hook.answer({ status: 410, body: 'gone for good' });
      rig = await startAppRig();
      await rig.say(`/notify add webhook ops ${hook.url}/hook`, 'Added');
      await addTarget(rig, 'api');
      await addTarget(rig, 'web');
      rig.server.setStatus(503);
      await rig.app.engine.checkNow(`${GROUP}/api`);
      const told = await rig.telegram.waitFor('sendMessage', (c) => textOf(c).includes('are paused'));
      expect(textOf(told)).toBe('⏸ Alerts to <b>ops</b> (webhook) are paused: it answered HTTP 410 (gone for good). Fix it, then /notify resume ops.');
      await rig.app.engine.checkNow(`${GROUP}/web`);
      await rig.app.policy.settle();
      const listed = await rig.say('/notify', 'Destinations');
      expect(textOf(listed)).toContain('⏸ paused since');
      // Nothing more goes to it while paused, and the chat is not told again.
      expect(rig.telegram.callsOf('sendMessage').filter((c) => textOf(c).includes('are paused'))).toHaveLength(1);
      hook.answer({ status: 200 });
      await rig.say('/notify resume ops', 'again');
      await hook.waitFor(2);
      const metrics = await rig.app.metrics.registry.metrics();
      expect(metrics).toMatch(/lookout_deliveries_total\{channel="webhook",outcome="paused"\} 1/);
      expect(metrics).toMatch(/lookout_deliveries_total\{channel="telegram",outcome="delivered"\} \d+/);
    } finally {
      await hook.close();
    }
  });
});

describe('a full disk', () => {
  it.runIf(tmpfsTestsRun)('alerts still go out, the chat is told once that Lookout cannot save, and once that it saves again; nothing is lost', async () => {
    const disk = mountTmpfs('4m');
    try {
      const clock = new FakeClock();
      rig = await startAppRig({}, { dataDir: disk.dir, telegram: await startFakeTelegram(), server: await startTargetServer() }, { clock });
      for (const name of ['a', 'b', 'c', 'd', 'e']) await addTarget(rig, name);
      disk.fill();
      rig.server.setStatus(503);
      for (const name of ['a', 'b', 'c', 'd', 'e']) await rig.app.engine.checkNow(`${GROUP}/${name}`);
      await rig.app.policy.settle();
      for (let s = 0; s < 20 && rig.telegram.callsOf('sendMessage').filter((c) => /is DOWN|are DOWN/.test(textOf(c))).length < 2; s++) {
        await clock.advance(1_000);
        await realWait(30);
      }
      const alerts = rig.telegram.callsOf('sendMessage').filter((c) => /is DOWN|are DOWN/.test(textOf(c))).map(textOf).join('\n');
      for (const name of ['a', 'b', 'c', 'd', 'e']) expect(alerts).toContain(`<b>${name}</b>`);
      const told = (): string[] => rig!.telegram.callsOf('sendMessage').map(textOf).filter((t) => t.startsWith('💾'));
      expect(told().filter((t) => t.includes('cannot save'))).toHaveLength(1);
      expect(rig.app.store.health().ok).toBe(false);

      disk.free();
      for (let s = 0; s < 60 && !told().some((t) => t.includes('saves again')); s++) {
        await clock.advance(1_000);
        await realWait(30);
      }
      expect(told().filter((t) => t.includes('saves again'))).toHaveLength(1);
      expect(told().filter((t) => t.includes('cannot save'))).toHaveLength(1);
      // What was decided while the disk was full is on disk now: a restart does not alert again.
      await rig.app.stop();
      rig.telegram.clearCalls();
      await rig.restart();
      await rig.app.policy.settle();
      await rig.app.outbox.idle();
      expect(rig.telegram.callsOf('sendMessage').filter((c) => /is DOWN|are DOWN/.test(textOf(c)))).toEqual([]);
    } finally {
      await rig?.close().catch(() => undefined);
      rig = undefined;
      disk.unmount();
    }
  });
});
