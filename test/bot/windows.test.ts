import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/keyv.js';
import { createTargetRepository } from '../../src/store/targets.js';
import { ADMIN, GROUP, startAppRig, type AppRig } from '../support/app-rig.js';
import { FakeClock } from '../support/fake-clock.js';
import { buttonsOf, startFakeTelegram, textOf, type RecordedCall } from '../support/fake-telegram.js';
import { closedPort, httpTarget, startTargetServer } from '../support/target-server.js';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let rig: AppRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const text = textOf;
const buttons = buttonsOf;
const settle = (ms = 250): Promise<void> => new Promise((r) => setTimeout(r, ms));
const downAlerts = (r: AppRig): RecordedCall[] => r.telegram.callsOf('sendMessage').filter((c) => !c.failed && /is DOWN|targets are DOWN/.test(text(c)));

async function start(clock = new FakeClock()): Promise<{ r: AppRig; clock: FakeClock }> {
  const r = await startAppRig({}, undefined, { clock });
  return { r, clock };
}

/** Adds `api` with a one-day interval, so only explicit checks run during a test. */
async function addApi(r: AppRig, extra = ''): Promise<void> {
  await r.say(`/add ${r.server.url}/health name=api confirm=1 every=1d ${extra}`.trim(), 'Added');
  await r.telegram.waitFor('editMessageText', (c) => text(c).includes('First check'));
}

async function check(r: AppRig, expect: string): Promise<void> {
  await r.say('/check api', expect);
}

describe('maintenance windows', () => {
  it('an outage inside a window sends nothing, also when the window ends', async () => {
    const { r, clock } = await start();
    rig = r;
    await addApi(r);
    const added = await r.say('/maintenance api now 1h db upgrade', 'Maintenance window added');
    expect(text(added)).toContain('db upgrade');
    r.server.setStatus(503);
    await check(r, 'state DOWN');
    r.server.setStatus(200);
    await check(r, 'state UP');
    await clock.advance(61 * 60_000);
    const ended = await r.telegram.waitFor('sendMessage', (c) => text(c).includes('Maintenance ended'));
    expect(ended.payload.disable_notification).toBe(true);
    await settle();
    expect(downAlerts(r)).toEqual([]);
    expect(r.telegram.callsOf('sendMessage').filter((c) => text(c).includes('UP again'))).toEqual([]);
  });

  it('an outage that outlasts the window alerts when it ends', async () => {
    const { r, clock } = await start();
    rig = r;
    await addApi(r);
    await r.say('/maintenance api now 30m', 'Maintenance window added');
    r.server.setStatus(503);
    await check(r, 'state DOWN');
    await settle();
    expect(downAlerts(r)).toEqual([]);
    await clock.advance(31 * 60_000);
    // The window's end and the alert it held come out together, or the alert one group later.
    await r.app.policy.settle();
    await clock.advance(5_000);
    const alert = await r.telegram.waitFor('sendMessage', (c) => text(c).includes('is DOWN'));
    expect(text(alert)).toContain('HTTP 503');
    expect(alert.payload.disable_notification).toBeUndefined();
  });

  it('announces a scheduled window quietly when it starts and when it ends', async () => {
    const { r, clock } = await start(new FakeClock(Date.UTC(2026, 10, 23, 12, 0, 0)));
    rig = r;
    await addApi(r);
    await r.say('/maintenance all 13:00 30m patching', 'Maintenance window added');
    await clock.advance(60 * 60_000);
    const started = await r.telegram.waitFor('sendMessage', (c) => text(c).includes('Maintenance started'));
    expect(started.payload.disable_notification).toBe(true);
    expect(text(started)).toContain('all targets');
    expect(text(started)).toContain('patching');
    await clock.advance(31 * 60_000);
    await r.telegram.waitFor('sendMessage', (c) => text(c).includes('Maintenance ended'));
  });

  it('lists windows with ids, takes recurring ones with a time zone, and cancels by id', async () => {
    const { r } = await start();
    rig = r;
    await addApi(r);
    await r.say('/maintenance api cron="0 2 * * SUN" 2h tz=Europe/Berlin weekly', 'Maintenance window added');
    const list = await r.say('/maintenance', 'Windows');
    const id = /<code>([a-z0-9]+)<\/code>/.exec(text(list))?.[1];
    expect(id).toBeDefined();
    expect(text(list)).toContain('Europe/Berlin');
    expect(text(list)).toContain('0 2 * * SUN');
    await r.say(`/maintenance cancel ${id}`, 'Cancelled');
    await r.say('/maintenance', 'No maintenance windows');
  });

  it('refuses bad input with specific errors and changes nothing', async () => {
    const { r } = await start();
    rig = r;
    await addApi(r);
    const cases: Array<[string, string]> = [
      ['/settings tz=Mars/Base', 'unknown time zone "Mars/Base"'],
      ['/maintenance api cron="0 2 * * SUN" 2h tz=Mars/Base', 'unknown time zone "Mars/Base"'],
      ['/maintenance api cron="99 2 * * *" 2h', 'cron must be a cron expression'],
      ['/maintenance api now 0s', 'duration must be between 1m and 30d'],
      ['/mute api 0s', 'duration must be between 1m and 30d'],
      ['/mute api -5m', 'duration'],
      ['/maintenance api 2020-01-01T00:00Z 1h', 'is in the past'],
      ['/maintenance api soon 1h', 'start must be now, HH:MM or a date'],
      ['/maintenance nope now 1h', 'No target named "nope"'],
      ['/mute nope 1h', 'No target named "nope"'],
      ['/mute', 'give a target name or all'],
      ['/maintenance cancel zzz', 'no window with id "zzz"'],
      ['/unmute api', 'api is not muted'],
    ];
    for (const [command, expected] of cases) {
      const reply = await r.say(command, '⚠️');
      expect(text(reply).replace(/&quot;/g, '"'), command).toContain(expected);
    }
    expect(r.app.windows.list()).toEqual([]);
    await r.say('/settings', 'tz=UTC');
  });
});

describe('mutes, acknowledgements and reminders', () => {
  it('mutes from the alert button, holds a new alert, and /unmute releases it', async () => {
    const { r, clock } = await start();
    rig = r;
    await addApi(r);
    r.server.setStatus(503);
    await check(r, 'state DOWN');
    const alert = await r.telegram.waitFor('sendMessage', (c) => text(c).includes('is DOWN'));
    const messageId = r.telegram.messages(GROUP).find((m) => m.text?.includes('is DOWN'))!.message_id;
    const mute = buttons(alert).find((b) => b.text === 'Mute 1h')!;
    r.telegram.pressButton({ chatId: GROUP, userId: ADMIN, data: mute.callback_data, messageId });
    await r.telegram.waitFor('answerCallbackQuery', (c) => String(c.payload.text).includes('muted for 1h'));
    expect(r.app.windows.list(GROUP)).toHaveLength(1);

    r.server.setStatus(200);
    await check(r, 'state UP');
    r.server.setStatus(500);
    await check(r, 'state DOWN');
    await settle();
    expect(downAlerts(r)).toHaveLength(1);

    await r.say('/unmute api', 'Unmuted');
    // The resolution went out moments ago, so the released alert waits for the grouping window.
    await clock.advance(5_000);
    const released = await r.telegram.waitFor('sendMessage', (c) => text(c).includes('is DOWN') && text(c).includes('HTTP 500'));
    expect(buttons(released).map((b) => b.text)).toContain('Ack');
    expect(r.app.windows.list(GROUP)).toEqual([]);
  });

  it('reminds while DOWN and unacknowledged, as a reply, and stops after Ack', async () => {
    const { r, clock } = await start();
    rig = r;
    await addApi(r, 'remind=1h');
    r.server.setStatus(503);
    await check(r, 'state DOWN');
    const alert = await r.telegram.waitFor('sendMessage', (c) => text(c).includes('is DOWN'));
    const alertId = r.telegram.messages(GROUP).find((m) => m.text?.includes('is DOWN'))!.message_id;
    await clock.advance(60 * 60_000);
    const reminder = await r.telegram.waitFor('sendMessage', (c) => text(c).includes('still DOWN'));
    expect((reminder.payload.reply_parameters as { message_id: number }).message_id).toBe(alertId);

    r.telegram.pressButton({ chatId: GROUP, userId: ADMIN, data: buttons(alert).find((b) => b.text === 'Ack')!.callback_data, messageId: alertId });
    await r.telegram.waitFor('editMessageText', (c) => text(c).includes('Acknowledged by'));
    await clock.advance(3 * 60 * 60_000);
    await settle();
    expect(r.telegram.callsOf('sendMessage').filter((c) => text(c).includes('still DOWN'))).toHaveLength(1);
  });
});

describe('grouping', () => {
  it('200 targets failing at once make at most 10 messages within a minute, naming every target', async () => {
    const telegram = await startFakeTelegram();
    const server = await startTargetServer();
    const dataDir = await mkdtemp(join(tmpdir(), 'lookout-storm-'));
    const port = await closedPort();
    const seed = await openStore({ kind: 'sqlite', dataDir });
    const repo = createTargetRepository(seed);
    const names: string[] = [];
    for (let i = 0; i < 200; i++) {
      const name = `svc-${String(i).padStart(3, '0')}`;
      names.push(name);
      await repo.put(httpTarget({ id: `${GROUP}/${name}`, chatId: GROUP, name, url: `http://127.0.0.1:${port}/${name}`, everyMs: 86_400_000, confirm: 1 }));
    }
    await seed.close();
    const clock = new FakeClock();
    rig = await startAppRig({}, { dataDir, telegram, server }, { clock });
    await Promise.all(names.map((n) => rig!.app.engine.checkNow(`${GROUP}/${n}`)));
    // Every DOWN is decided and queued in the outbox (the first went out at once; the rest wait for their group).
    await rig.app.policy.settle();
    expect(rig.app.outbox.depth()).toBeGreaterThanOrEqual(199);
    for (let s = 0; s < 60; s++) await clock.advance(1_000);
    await settle(500);
    await rig.app.outbox.idle();
    const messages = downAlerts(rig);
    expect(messages.length).toBeGreaterThan(1);
    expect(messages.length).toBeLessThanOrEqual(10);
    const all = messages.map(text).join('\n');
    for (const name of names) expect(all).toMatch(new RegExp(`\\b${name}\\b`));
    expect(rig.app.engine.state(`${GROUP}/svc-000`)?.state).toBe('DOWN');
  });
});

describe('lists', () => {
  it('/list shows a target that is muted and until when', async () => {
    const { r } = await start();
    rig = r;
    await addApi(r);
    await r.say('/mute api 2h deploy', 'Muted');
    const list = await r.say('/list', 'Targets');
    expect(text(list)).toContain('🔕 muted until');
  });
});
