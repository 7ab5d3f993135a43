import { request } from 'undici';
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

async function post(port: number, body: unknown, secret?: string): Promise<number> {
  const res = await request(`http://127.0.0.1:${port}/telegram/hook`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secret !== undefined ? { 'x-telegram-bot-api-secret-token': secret } : {}) },
    body: JSON.stringify(body),
  });
  await res.body.dump();
  return res.statusCode;
}

describe('webhook mode', () => {
  it('registers the webhook with its secret, handles posted updates, refuses a wrong secret, and does not poll', async () => {
    const port = await closedPort();
    rig = await startAppRig({ HTTP_PORT: String(port), WEBHOOK_URL: 'https://lookout.example/telegram/hook', WEBHOOK_SECRET: SECRET });
    const registered = await rig.telegram.waitFor('setWebhook');
    expect(registered.payload).toMatchObject({ url: 'https://lookout.example/telegram/hook', secret_token: SECRET });

    // The fake makes a proper update; here it is delivered the webhook way, by POSTing it.
    const update = rig.telegram.sendText({ chatId: GROUP, userId: ADMIN, text: '/help' });
    expect(await post(port, update, 'wrong')).toBe(401);
    expect(await post(port, update)).toBe(401);
    await new Promise((r) => setTimeout(r, 200));
    expect(rig.telegram.callsOf('sendMessage')).toEqual([]);

    expect(await post(port, update, SECRET)).toBe(200);
    const reply = await rig.telegram.waitFor('sendMessage');
    expect(text(reply)).toContain('/add URL');
    expect(rig.telegram.callsOf('getUpdates')).toEqual([]);
  });
});

describe('settings', () => {
  it('refuses WEBHOOK_URL with HTTP_PORT=0', async () => {
    const { parseEnv } = await import('../../src/config/config.js');
    const parsed = parseEnv({ WEBHOOK_URL: 'https://x.example/hook', WEBHOOK_SECRET: 's', HTTP_PORT: '0' });
    expect(parsed).toEqual({ ok: false, errors: ['HTTP_PORT must not be 0 with WEBHOOK_URL: Telegram posts the updates to this server'] });
  });
});
