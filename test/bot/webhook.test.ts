import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, GROUP, startAppRig, type AppRig } from '../support/app-rig.js';
import { textOf as text } from '../support/fake-telegram.js';
import { closedPort } from '../support/target-server.js';

let rig: AppRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const SECRET = 'hook-Secret_123';

describe('webhook mode', () => {
  it('registers the webhook with its secret, handles posted updates, refuses a wrong secret, and does not poll', async () => {
    const port = await closedPort();
    rig = await startAppRig({ HTTP_PORT: String(port), WEBHOOK_URL: 'https://lookout.example/telegram/hook', WEBHOOK_SECRET: SECRET });
    const registered = await rig.telegram.waitFor('setWebhook');
    expect(registered.payload).toMatchObject({ url: 'https://lookout.example/telegram/hook', secret_token: SECRET });

    // The fake Bot API delivers the update the webhook way: it POSTs it to the registered path.
    const origin = `http://127.0.0.1:${port}`;
    rig.telegram.sendText({ chatId: GROUP, userId: ADMIN, text: '/help' });
    expect(await rig.telegram.deliverWebhook(origin, { secret: 'wrong' })).toEqual([401]);
    expect(await rig.telegram.deliverWebhook(origin, { secret: null })).toEqual([401]);
    await new Promise((r) => setTimeout(r, 200));
    expect(rig.telegram.callsOf('sendMessage')).toEqual([]);
    expect(rig.telegram.pendingUpdates()).toHaveLength(1);

    expect(await rig.telegram.deliverWebhook(origin)).toEqual([200]);
    const reply = await rig.telegram.waitFor('sendMessage');
    expect(text(reply)).toContain('/add URL');
    expect(rig.telegram.pendingUpdates()).toEqual([]);
    expect(rig.telegram.callsOf('getUpdates')).toEqual([]);
  });
});

describe('webhook mode, stopping', () => {
  it('refuses updates with 503 once stopping began, so Telegram keeps them for the next start', async () => {
    const port = await closedPort();
    rig = await startAppRig({ HTTP_PORT: String(port), WEBHOOK_URL: 'https://lookout.example/telegram/hook', WEBHOOK_SECRET: SECRET });
    await rig.telegram.waitFor('setWebhook');
    const stopped = rig.app.stop();
    rig.telegram.sendText({ chatId: GROUP, userId: ADMIN, text: '/help' });
    const statuses = await rig.telegram.deliverWebhook(`http://127.0.0.1:${port}`).catch(() => ['closed']);
    await stopped;
    // Either refused (503) or the server had already closed: never handled.
    expect([[503], ['closed']]).toContainEqual(statuses);
    expect(rig.telegram.callsOf('sendMessage')).toEqual([]);
    expect(rig.telegram.pendingUpdates()).toHaveLength(1);
  });
});

describe('settings', () => {
  it('refuses WEBHOOK_URL with HTTP_PORT=0', async () => {
    const { parseEnv } = await import('../../src/config/config.js');
    const parsed = parseEnv({ WEBHOOK_URL: 'https://x.example/hook', WEBHOOK_SECRET: 's', HTTP_PORT: '0' });
    expect(parsed).toEqual({ ok: false, errors: ['HTTP_PORT must not be 0 with WEBHOOK_URL: Telegram posts the updates to this server'] });
  });
});
