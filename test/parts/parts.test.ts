import { afterEach, describe, expect, it } from 'vitest';
import { definePart, startParts, stopParts } from '../../src/parts/part.js';
import { GROUP, startAppRig, type AppRig } from '../support/app-rig.js';
import { textOf } from '../support/fake-telegram.js';

let rig: AppRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('definePart', () => {
  it('starts and stops once each, in order, and stops the parts in reverse', async () => {
    const log: string[] = [];
    const make = (name: string) => definePart(name, { start: async () => void log.push(`start ${name}`), stop: async () => void log.push(`stop ${name}`) });
    const parts = [make('a'), make('b')];
    await startParts(parts);
    await Promise.all([parts[0]!.start(), parts[0]!.start()]);
    await stopParts(parts);
    await parts[1]!.stop();
    expect(log).toEqual(['start a', 'start b', 'stop b', 'stop a']);
    expect(parts.map((p) => p.running)).toEqual([false, false]);
  });

  it('a part that fails to stop does not keep the others from stopping', async () => {
    const log: string[] = [];
    const ok = definePart('ok', { start: async () => undefined, stop: async () => void log.push('stop ok') });
    const bad = definePart('bad', { start: async () => undefined, stop: async () => { throw new Error('stuck'); } });
    await startParts([ok, bad]);
    await stopParts([ok, bad]);
    expect(log).toEqual(['stop ok']);
  });
});

describe("the app's parts at run time", () => {
  it('the alert side stopped decides and queues (on disk); started again, it delivers what was queued', async () => {
    rig = await startAppRig();
    await rig.app.chatReady;
    await rig.say(`/add ${rig.server.url}api name=api confirm=1`, 'Added <b>api</b>');
    await rig.app.parts.alerting.stop();
    expect(rig.app.parts.alerting.running).toBe(false);
    rig.server.setStatus(503);
    await rig.app.engine.checkNow(`${GROUP}/api`);
    expect(rig.app.engine.state(`${GROUP}/api`)?.state).toBe('DOWN');
    // The decision is made and queued while nobody delivers.
    for (let i = 0; i < 100 && rig.app.outbox.depth() === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(rig.app.outbox.depth()).toBeGreaterThan(0);
    const before = rig.telegram.calls.length;
    await rig.app.parts.alerting.start();
    const alert = await rig.telegram.waitFor('sendMessage', (c) => rig!.telegram.calls.indexOf(c) >= before && String(c.payload.text).includes('api</b> is DOWN'), 10_000);
    expect(textOf(alert)).toContain('HTTP 503');
  });

  it('the chat stopped and started again answers commands, the ones sent meanwhile included', async () => {
    rig = await startAppRig();
    await rig.app.chatReady;
    await rig.app.parts.chat!.stop();
    expect(rig.app.parts.chat!.running).toBe(false);
    rig.telegram.sendText({ chatId: GROUP, userId: 1001, text: '/list', username: 'admin' });
    await rig.app.parts.chat!.start();
    await rig.app.chatReady;
    await rig.telegram.waitFor('sendMessage', (c) => String(c.payload.text).includes('No targets yet'), 10_000);
    expect(textOf(await rig.say('/help', 'Lookout'))).toContain('/add');
  });
});
