import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, GROUP, startAppRig, type AppRig } from '../support/app-rig.js';
import { FakeClock } from '../support/fake-clock.js';
import { buttonsOf, textOf, type RecordedCall } from '../support/fake-telegram.js';

let rig: AppRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const MIN = 60_000;
const BOB = 4242;

async function start(): Promise<{ r: AppRig; clock: FakeClock }> {
  const clock = new FakeClock(Date.UTC(2026, 11, 1, 12, 0, 0));
  const r = await startAppRig({}, undefined, { clock });
  await r.say(`/add ${r.server.url}/health name=api confirm=1 remind=0`, 'Added');
  await r.telegram.waitFor('editMessageText', (c) => textOf(c).includes('First check'));
  await r.say('/settings escalate=15m', 'escalate=15m');
  // @alice_sre by username, Bob (no username) picked from Telegram's mention list: a text mention.
  const text = '/oncall @alice_sre Bob';
  const before = r.telegram.calls.length;
  r.telegram.sendText({ chatId: GROUP, userId: ADMIN, text, entities: [{ type: 'text_mention', offset: text.indexOf('Bob'), length: 3, user: { id: BOB, is_bot: false, first_name: 'Bob' } }] });
  const reply = await r.telegram.waitFor('sendMessage', (c) => r.telegram.calls.indexOf(c) >= before && textOf(c).includes('On call'));
  expect(textOf(reply)).toContain('On call, in order: @alice_sre → Bob');
  return { r, clock };
}

/** Moves the fake clock in steps, letting real requests finish between them. */
async function advance(clock: FakeClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 30_000) {
    await clock.advance(Math.min(30_000, ms - t));
    await new Promise((res) => setTimeout(res, 10));
  }
}

const escalations = (r: AppRig): RecordedCall[] => r.telegram.callsOf('sendMessage').filter((c) => textOf(c).startsWith('🚨'));

async function bringDown(r: AppRig): Promise<{ alert: RecordedCall; alertId: number }> {
  r.server.setStatus(503);
  await r.say('/check api', 'state DOWN');
  const alert = await r.telegram.waitFor('sendMessage', (c) => textOf(c).includes('is DOWN'));
  const alertId = r.telegram.messages(GROUP).find((m) => m.text?.includes('is DOWN'))!.message_id;
  return { alert, alertId };
}

describe('escalation to the people on call', () => {
  it('no Ack: the first person is mentioned after 15 m, the next after 30 m, as replies that notify', async () => {
    const { r, clock } = await start();
    rig = r;
    const { alertId } = await bringDown(r);
    await advance(clock, 14 * MIN);
    expect(escalations(r)).toHaveLength(0);
    await advance(clock, 1.5 * MIN);
    const first = await r.telegram.waitFor('sendMessage', (c) => textOf(c).startsWith('🚨'));
    expect(textOf(first)).toContain('@alice_sre: <b>api</b> has been DOWN for 15m');
    expect((first.payload.reply_parameters as { message_id: number }).message_id).toBe(alertId);
    expect(first.payload.disable_notification).toBeUndefined();
    expect(first.payload.parse_mode).toBe('HTML');

    await advance(clock, 15 * MIN);
    await r.telegram.waitFor('sendMessage', (c) => textOf(c).startsWith('🚨') && textOf(c).includes('tg://user'));
    const second = escalations(r)[1]!;
    // A text mention: Telegram notifies Bob although he has no username.
    expect(textOf(second)).toContain(`<a href="tg://user?id=${BOB}">Bob</a>`);
    expect(textOf(second)).toContain('has been DOWN for 30m');

    // What Telegram makes of them: a mention entity for @alice_sre, a text mention for Bob; both notify.
    const sent = r.telegram.messages(GROUP).filter((m) => m.text?.startsWith('🚨'));
    expect(sent[0]?.entities).toEqual([{ type: 'mention', offset: 3, length: '@alice_sre'.length }]);
    expect(sent[1]?.entities).toEqual([expect.objectContaining({ type: 'text_mention', offset: 3, length: 3, user: expect.objectContaining({ id: BOB }) })]);

    // Everyone was told: no more escalations.
    await advance(clock, 30 * MIN);
    expect(escalations(r)).toHaveLength(2);
  });

  it('Ack stops it, and escalate=0 on a target turns it off', async () => {
    const { r, clock } = await start();
    rig = r;
    const { alert, alertId } = await bringDown(r);
    await advance(clock, 5 * MIN);
    r.telegram.pressButton({ chatId: GROUP, userId: ADMIN, data: buttonsOf(alert).find((b) => b.text === 'Ack')!.callback_data, messageId: alertId });
    await r.telegram.waitFor('editMessageText', (c) => textOf(c).includes('Acknowledged by'));
    await advance(clock, 40 * MIN);
    expect(escalations(r)).toHaveLength(0);

    r.server.setStatus(200);
    await r.say('/check api', 'state UP');
    await r.say('/edit api escalate=0', 'Updated');
    r.server.setStatus(503);
    await r.say('/check api', 'state DOWN');
    await advance(clock, 40 * MIN);
    expect(escalations(r)).toHaveLength(0);
  });

  it('/oncall shows the list without mentioning anyone and refuses what is not a mention', async () => {
    const { r } = await start();
    rig = r;
    const shown = textOf(await r.say('/oncall', 'On call'));
    expect(shown).toContain('On call, in order: @alice_sre → Bob');
    expect(shown).not.toContain('tg://user');
    expect(textOf(await r.say('/oncall alice', 'not a mention'))).toContain('"alice" is not a mention'.replace(/"/g, '&quot;'));
    expect(textOf(await r.say('/settings escalate=5s', 'escalate'))).toContain('escalate must be a duration between 1m and 1d, or 0 for never, got &quot;5s&quot;');
    expect(textOf(await r.say('/oncall off', 'Nobody'))).toContain('Nobody is on call');
    expect(textOf(await r.say('/oncall', 'Nobody'))).toContain('Nobody is on call in this chat');
  });

  it('a grouped alert is escalated once, not once per target; turning escalation off stops a pending one', async () => {
    const { r, clock } = await start();
    rig = r;
    await r.say(`/add ${r.server.url}/db name=db confirm=1 remind=0`, 'Added');
    await r.say(`/add ${r.server.url}/web name=web confirm=1 remind=0`, 'Added');
    r.server.setStatus(503);
    // The first goes out alone at once; the other two are grouped into one message.
    await Promise.all(['api', 'db', 'web'].map((n) => r.app.engine.checkNow(`${GROUP}/${n}`)));
    // The policy looks up the source address (real time) before it hands the alerts to the grouping.
    await new Promise((res) => setTimeout(res, 400));
    await advance(clock, 10_000);
    await r.telegram.waitFor('sendMessage', (c) => textOf(c).includes('is DOWN') || textOf(c).includes('targets are DOWN'));
    await advance(clock, 16 * MIN);
    await r.telegram.waitFor('sendMessage', (c) => textOf(c).startsWith('🚨'));
    await advance(clock, MIN);
    // The first target's alert may go alone and the second be grouped later: one mention per alert message.
    const messages = new Set(r.telegram.messages(GROUP).filter((m) => m.text?.includes('DOWN') && !m.text.startsWith('🚨')).map((m) => m.message_id));
    const firstRound = escalations(r).filter((c) => textOf(c).includes('@alice_sre'));
    expect(messages.size).toBe(2);
    expect(firstRound).toHaveLength(2);
    expect(firstRound.some((c) => textOf(c).includes('and 1 more target have been DOWN'))).toBe(true);
    expect(new Set(firstRound.map((c) => (c.payload.reply_parameters as { message_id: number }).message_id)).size).toBe(firstRound.length);

    await r.say('/settings escalate=0', 'escalate=off');
    const before = escalations(r).length;
    await advance(clock, 40 * MIN);
    expect(escalations(r)).toHaveLength(before);
  });
});
