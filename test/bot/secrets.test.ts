import { afterEach, describe, expect, it } from 'vitest';
import { startAppRig, type AppRig } from '../support/app-rig.js';
import { textOf as text } from '../support/fake-telegram.js';

let rig: AppRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('secrets stay secret', () => {
  it('the bot token and header values appear in no log line and no chat message', async () => {
    rig = await startAppRig();
    const header = 'Bearer sk_live_9f8e7d6c5b4a';
    await rig.say(`/add ${rig.server.url}/health name=api confirm=1 header="Authorization: ${header}" header="X-Api-Key: key-0123456789"`, 'Added');
    await rig.telegram.waitFor('editMessageText', (c) => text(c).includes('First check'));
    expect(rig.server.requests.last?.headers.authorization).toBe(header);
    const status = await rig.say('/status api', 'Headers');
    expect(text(status)).toContain('Authorization: Be••••');
    rig.server.setStatus(500);
    await rig.say('/check api', 'state DOWN');
    await rig.telegram.waitFor('sendMessage', (c) => text(c).includes('is DOWN'));
    await rig.say('/edit api header="Authorization: Bearer rotated_secret_value"', 'Updated');
    const everything = [...rig.logs, ...rig.telegram.calls.filter((c) => c.method !== 'getUpdates').map((c) => JSON.stringify(c.payload))].join('\n');
    expect(rig.logs.length).toBeGreaterThan(3);
    for (const secret of ['sk_live_9f8e7d6c5b4a', 'key-0123456789', 'rotated_secret_value']) {
      expect(rig.logs.join('\n')).not.toContain(secret);
      // In chat, only the user's own command holds it (Telegram shows what they typed).
      expect(everything.replace(/"text":"\/(add|edit)[^"]*"/g, '')).not.toContain(secret);
    }
    expect(rig.logs.join('\n')).not.toContain(rig.telegram.token);
  });
});
