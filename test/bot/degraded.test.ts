import { afterEach, describe, expect, it } from 'vitest';
import { GROUP, startAppRig, type AppRig } from '../support/app-rig.js';
import { FakeClock } from '../support/fake-clock.js';
import { textOf as text, type RecordedCall } from '../support/fake-telegram.js';

let rig: AppRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const settle = (ms = 250): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sent = (r: AppRig, pattern: RegExp): RecordedCall[] => r.telegram.callsOf('sendMessage').filter((c) => !c.failed && pattern.test(text(c)));
const ID = `${GROUP}/api`;

describe('maintenance detection', () => {
  it('a maintenance page puts the target in MAINTENANCE quietly, without an alert, and back', async () => {
    rig = await startAppRig();
    await rig.say(`/add ${rig.server.url}/health name=api confirm=1`, 'Added');
    rig.server.setStatus(503);
    rig.server.setBody('<h1>Down for maintenance</h1><p>Back at 14:00.</p>');
    await rig.say('/check api', 'MAINTENANCE');
    const notice = await rig.telegram.waitFor('sendMessage', (c) => text(c).includes('reports maintenance'));
    expect(text(notice)).toContain('HTTP 503 with a maintenance page');
    expect(notice.payload.disable_notification).toBe(true);
    rig.server.setStatus(200);
    rig.server.setBody('ok');
    await rig.say('/check api', 'state UP');
    const back = await rig.telegram.waitFor('sendMessage', (c) => text(c).includes('out of maintenance'));
    expect(back.payload.disable_notification).toBe(true);
    await settle();
    expect(sent(rig, /is DOWN/)).toEqual([]);
  });

  it('503 with Retry-After is maintenance; a plain 503 is DOWN', async () => {
    rig = await startAppRig();
    await rig.say(`/add ${rig.server.url}/health name=api confirm=1`, 'Added');
    rig.server.setStatus(503);
    rig.server.setHeaders({ 'retry-after': '600' });
    await rig.say('/check api', 'MAINTENANCE');
    await rig.telegram.waitFor('sendMessage', (c) => text(c).includes('Retry-After 600s'));
    rig.server.setHeaders({});
    rig.server.setBody('Service Unavailable');
    await rig.say('/check api', 'state DOWN');
    const alert = await rig.telegram.waitFor('sendMessage', (c) => text(c).includes('is DOWN'));
    expect(text(alert)).toContain('HTTP 503, expected 200-299');
  });
});

describe('DEGRADED', () => {
  it('by latency: confirm slow checks in a row, then back to normal', async () => {
    rig = await startAppRig();
    await rig.say(`/add ${rig.server.url}/health name=api latency=100 confirm=2 recover=1`, 'Added');
    await rig.telegram.waitFor('editMessageText', (c) => text(c).includes('First check'));
    rig.server.setDelay(250);
    await rig.say('/check api', 'state UP');
    await rig.say('/check api', 'state DEGRADED');
    const degraded = await rig.telegram.waitFor('sendMessage', (c) => text(c).includes('is DEGRADED'));
    expect(text(degraded)).toMatch(/🟡 <b>api<\/b> is DEGRADED: latency \d+ ms over 100 ms for 2 checks in a row/);
    rig.server.setDelay(0);
    await rig.say('/check api', 'state UP');
    const back = await rig.telegram.waitFor('sendMessage', (c) => text(c).includes('back to normal'));
    expect(text(back)).toContain('was DEGRADED for');
  });

  it('by error rate over 15 minutes without going DOWN, then back to normal', async () => {
    const clock = new FakeClock();
    rig = await startAppRig({}, undefined, { clock });
    await rig.say(`/add ${rig.server.url}/health name=api confirm=3 every=1d`, 'Added');
    await rig.telegram.waitFor('editMessageText', (c) => text(c).includes('First check'));
    // Checks a minute apart, every fourth failing once (the quick re-check after it passes): never
    // 3 failures in a row, but more than 10% of the window.
    for (let i = 1; i <= 11; i++) {
      rig.server.setStatus(i % 4 === 0 ? 500 : 200);
      await rig.app.engine.checkNow(ID);
      rig.server.setStatus(200);
      await clock.advance(60_000);
    }
    expect(rig.app.engine.state(ID)?.state).toBe('DEGRADED');
    const degraded = await rig.telegram.waitFor('sendMessage', (c) => text(c).includes('is DEGRADED'));
    expect(text(degraded)).toMatch(/error rate \d+% over the last 15 min \(2 of \d+ checks failed\)/);
    expect(sent(rig, /is DOWN/)).toEqual([]);
    // Quiet for 16 minutes: the failures leave the window, and the next good check ends it.
    rig.server.setStatus(200);
    await clock.advance(16 * 60_000);
    await rig.app.engine.checkNow(ID);
    expect(rig.app.engine.state(ID)?.state).toBe('UP');
    await rig.telegram.waitFor('sendMessage', (c) => text(c).includes('back to normal'));
  });
});
