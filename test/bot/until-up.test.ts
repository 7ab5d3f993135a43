import { afterEach, describe, expect, it } from 'vitest';
import { GROUP, startAppRig, type AppRig } from '../support/app-rig.js';
import { textOf } from '../support/fake-telegram.js';

let rig: AppRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('maintenance that ends itself (until-up)', () => {
  it('ends as soon as the target is UP again after recover good checks, says so quietly, and sends no alert', async () => {
    rig = await startAppRig();
    const r = rig;
    await r.say(`/add ${r.server.url}/health name=api confirm=1 recover=2`, 'Added');
    await r.telegram.waitFor('editMessageText', (c) => textOf(c).includes('First check'));
    const added = textOf(await r.say('/maintenance api now 2h until-up deploy v2', 'Maintenance window added'));
    expect(added).toContain('ends when UP again · deploy v2');
    // UP checks inside the window do not end it: it waits for the target to come back.
    await r.say('/check api', 'state UP');
    expect(r.app.windows.list(GROUP)).toHaveLength(1);

    r.server.setStatus(503);
    await r.say('/check api', 'state DOWN');
    r.server.setStatus(200);
    await r.say('/check api', 'state DOWN');
    expect(r.app.windows.list(GROUP)).toHaveLength(1);
    await r.say('/check api', 'state UP');
    const ended = await r.telegram.waitFor('sendMessage', (c) => textOf(c).includes('ended: it is UP again'));
    expect(textOf(ended)).toBe('🔧 Maintenance of <b>api</b> ended: it is UP again. Alerts are back on.');
    expect(ended.payload.disable_notification).toBe(true);
    expect(r.app.windows.list(GROUP)).toEqual([]);
    expect(r.telegram.callsOf('sendMessage').filter((c) => textOf(c).includes('is DOWN'))).toEqual([]);

    // With the window gone, the next outage alerts.
    r.server.setStatus(503);
    await r.say('/check api', 'state DOWN');
    await r.telegram.waitFor('sendMessage', (c) => textOf(c).includes('is DOWN'));
  });

  it('needs a target and a one-off window', async () => {
    rig = await startAppRig();
    await rig.say(`/add ${rig.server.url}/health name=api`, 'Added');
    expect(textOf(await rig.say('/maintenance all now 1h until-up', 'until-up'))).toContain('until-up needs a target name');
    expect(textOf(await rig.say('/maintenance api cron="0 2 * * SUN" 1h until-up', 'until-up'))).toContain('until-up is for one-off windows');
    expect(rig.app.windows.list(GROUP)).toEqual([]);
  });
});
