import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discordChannel } from '../../../../src/alerts/channels/discord/spec.js';
import { createOutbox, type DeliveryEvent, type Outbox } from '../../../../src/alerts/outbox.js';
import { openStore, type KeyvStore } from '../../../../src/store/keyv.js';
import { GROUP, startAppRig, type AppRig } from '../../../support/app-rig.js';
import { FakeClock, flushPromises } from '../../../support/fake-clock.js';
import { down, NOTE_CHAT, up } from '../../../support/notifications.js';
import { startReceiver, type Receiver } from '../../../support/receiver.js';

const DEST = `discord:${NOTE_CHAT}:ops`;
type Message = { username: string; embeds: Array<{ title: string; description?: string; color: number }> };

describe('discord settings', () => {
  it('takes a Discord webhook URL (and loopback for tests); refuses other hosts with where to find it', () => {
    expect(discordChannel.parse('https://discord.com/api/webhooks/123/abcTOKEN', new Map(), {}).ok).toBe(true);
    expect(discordChannel.parse('http://127.0.0.1:1/api/webhooks/1/x', new Map(), {}).ok).toBe(true);
    const other = discordChannel.parse('https://example.com/api/webhooks/1/x', new Map(), {});
    expect(other.ok).toBe(false);
    if (!other.ok) expect(other.errors[0]).toContain('Channel settings → Integrations → Webhooks');
    expect(discordChannel.describe({ url: 'https://discord.com/api/webhooks/123/abcTOKEN' })).toBe('discord.com/api/webhook••••');
  });
});

describe('discord deliveries', () => {
  let clock: FakeClock;
  let store: KeyvStore;
  let receiver: Receiver;
  let outbox: Outbox;
  let events: DeliveryEvent[];

  beforeEach(async () => {
    clock = new FakeClock();
    store = await openStore({ kind: 'memory' });
    receiver = await startReceiver(clock.now);
    const channel = discordChannel.create({ clock, store, env: {}, settings: () => ({ url: `${receiver.url}/api/webhooks/1/tok` }), allowMetadata: false });
    outbox = createOutbox({ store, channels: new Map([['discord', channel]]), clock, baseBackoffMs: 1_000, maxBackoffMs: 30_000, probeEveryMs: 3_600_000 });
    events = [];
    outbox.onDelivery((e) => events.push(e));
    await outbox.start();
  });
  afterEach(async () => {
    await outbox.stop(1_000);
    await receiver.close();
    await store.close();
  });

  it('the first alert at once as an embed; a storm after it is one message listing every target', async () => {
    await outbox.enqueue(down('first'), [DEST]);
    const [first] = await receiver.waitFor(1);
    const message = JSON.parse(first!.body) as Message;
    expect(first!.path).toBe('/api/webhooks/1/tok?wait=true');
    expect(message.username).toBe('Lookout');
    expect(message.embeds[0]).toMatchObject({ title: '🔴 first is DOWN', description: 'HTTP 503, expected 200\\-299', color: 0xd83c3e });
    for (let i = 0; i < 40; i++) await outbox.enqueue(down(`t${i}`), [DEST]);
    await outbox.enqueue(up('t3'), [DEST]);
    for (let s = 0; s < 6 && receiver.requests.length < 2; s++) {
      await clock.advance(1_000);
      await new Promise((r) => setTimeout(r, 10));
    }
    const [, storm] = await receiver.waitFor(2);
    const embeds = (JSON.parse(storm!.body) as Message).embeds;
    expect(embeds.map((e) => e.title)).toEqual(['🔴 39 targets are DOWN', '⚡ An outage already over']);
    for (let i = 0; i < 40; i++) if (i !== 3) expect(embeds[0]!.description).toContain(`**t${i}**`);
    expect(embeds[1]!.description).toContain('**t3** was DOWN for 22s');
  });

  it('404 Unknown Webhook pauses the destination', async () => {
    receiver.answerNext({ status: 404, body: '{"message": "Unknown Webhook", "code": 10015}' });
    await outbox.enqueue(down('api'), [DEST]);
    await receiver.waitFor(1);
    for (let i = 0; i < 5 && events.length === 0; i++) await flushPromises();
    expect(events.map((e) => e.outcome)).toEqual(['paused']);
    expect(events[0]!.why).toContain('Unknown Webhook');
  });
});

describe('discord through the app', () => {
  let rig: AppRig | undefined;
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await rig?.close();
    await receiver?.close();
  });

  it('/notify add discord; an outage reaches the channel', async () => {
    receiver = await startReceiver();
    rig = await startAppRig();
    await rig.say(`/notify add discord ops ${receiver.url}/api/webhooks/1/tok`, 'Added');
    await rig.say(`/add ${rig.server.url}/health name=api confirm=1 every=1d`, 'Added');
    await rig.telegram.waitFor('editMessageText', (c) => String(c.payload.text).includes('First check'));
    rig.server.setStatus(503);
    await rig.app.engine.checkNow(`${GROUP}/api`);
    const [alert] = await receiver.waitFor(1);
    expect((JSON.parse(alert!.body) as Message).embeds[0]!.title).toBe('🔴 api is DOWN');
  });
});
