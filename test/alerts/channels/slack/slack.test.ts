import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { classifySlack, SlackApiError, slackChannel, type SlackSettings } from '../../../../src/alerts/channels/slack/spec.js';
import type { SlackMessage } from '../../../../src/alerts/channels/slack/render.js';
import { createOutbox, type DeliveryEvent, type Outbox } from '../../../../src/alerts/outbox.js';
import type { Notification } from '../../../../src/domain/notification.js';
import { openStore, type KeyvStore } from '../../../../src/store/keyv.js';
import { GROUP, startAppRig, type AppRig } from '../../../support/app-rig.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { textOf } from '../../../support/fake-telegram.js';
import { down, NOTE_CHAT, up } from '../../../support/notifications.js';
import { startReceiver, type Receiver } from '../../../support/receiver.js';

const TOKEN = 'xoxb-1234567890-abcdefghij';
const DEST = `slack:${NOTE_CHAT}:ops`;

describe('slack settings', () => {
  const parse = (address: string, env: Record<string, string> = {}) => slackChannel.parse(address, new Map(), env);
  it('takes an incoming webhook, or a channel id when there is a bot token', () => {
    expect(parse('https://hooks.slack.com/services/T0/B0/xyz')).toEqual({ ok: true, value: { mode: 'webhook', url: 'https://hooks.slack.com/services/T0/B0/xyz' } });
    expect(parse('C0123ABCD', { SLACK_BOT_TOKEN: TOKEN })).toEqual({ ok: true, value: { mode: 'bot', channel: 'C0123ABCD' } });
  });
  it.each([
    ['C0123ABCD', 'a channel id needs SLACK_BOT_TOKEN'],
    ['https://example.com/services/x', 'https://hooks.slack.com/services/'],
    ['http://hooks.slack.com/services/x', 'must be https://'],
    ['#ops', 'give an incoming-webhook URL'],
  ])('refuses %s', (address, error) => {
    const result = parse(address);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join(' ')).toContain(error);
  });
  it('masks the webhook (its path is the token)', () => {
    expect(slackChannel.describe({ mode: 'webhook', url: 'https://hooks.slack.com/services/T0/B0/xyzsecret' })).toBe('hooks.slack.com/services/T0••••');
    expect(slackChannel.secrets({ mode: 'webhook', url: 'https://hooks.slack.com/services/T0/B0/xyzsecret' })).toEqual(['https://hooks.slack.com/services/T0/B0/xyzsecret']);
  });
  it("classifies Slack's answers", () => {
    expect(classifySlack(new SlackApiError('channel_not_found'))).toMatchObject({ action: 'drop', gone: true });
    expect(classifySlack(new SlackApiError('ratelimited'))).toEqual({ action: 'retry' });
    expect(classifySlack(new SlackApiError('msg_too_long'))).toMatchObject({ action: 'drop' });
  });
});

describe('slack deliveries', () => {
  let clock: FakeClock;
  let store: KeyvStore;
  let receiver: Receiver;
  let outbox: Outbox;
  let events: DeliveryEvent[];
  let settings: SlackSettings;
  let ts = 0;

  const start = async (mode: 'webhook' | 'bot'): Promise<void> => {
    settings = mode === 'webhook' ? { mode, url: `${receiver.url}/services/T0/B0/x` } : { mode, channel: 'C0123ABCD' };
    const channel = slackChannel.create({ clock, store, env: { SLACK_BOT_TOKEN: TOKEN, SLACK_API_URL: `${receiver.url}/api` }, settings: () => settings, allowMetadata: false });
    outbox = createOutbox({ store, channels: new Map([['slack', channel]]), clock, baseBackoffMs: 1_000, maxBackoffMs: 30_000, probeEveryMs: 3_600_000 });
    outbox.onDelivery((e) => events.push(e));
    await outbox.start();
  };
  const tell = async (...list: Notification[]): Promise<void> => {
    for (const n of list) await outbox.enqueue(n, [DEST]);
  };
  const passTime = async (ms: number): Promise<void> => {
    for (let t = 0; t < ms; t += 1_000) {
      await clock.advance(1_000);
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  beforeEach(async () => {
    clock = new FakeClock();
    store = await openStore({ kind: 'memory' });
    receiver = await startReceiver(clock.now);
    receiver.answer((r) => (r.path.startsWith('/api/') ? { status: 200, body: JSON.stringify({ ok: true, channel: 'C0123ABCD', ts: `1700000000.00${++ts}` }) } : { status: 200, body: 'ok' }));
    events = [];
  });
  afterEach(async () => {
    await outbox.stop(1_000);
    await receiver.close();
    await store.close();
  });

  it('webhook: the alert with its colour and facts, then a storm as one message naming every target', async () => {
    await start('webhook');
    await tell(down('api'));
    const [alert] = await receiver.waitFor(1);
    const message = JSON.parse(alert!.body) as SlackMessage;
    expect(message.text).toBe('api is DOWN: HTTP 503, expected 200-299');
    expect(message.attachments[0]!.color).toBe('#d83c3e');
    const shown = JSON.stringify(message.attachments[0]!.blocks);
    for (const fact of ['*api* is DOWN', 'HTTP 503, expected 200-299', '*Latency:* 42 ms', '*Since:* 2026-11-23 12:00:00 UTC', '*Failed checks:* 2', 'From fra-1']) expect(shown).toContain(fact);
    await tell(...Array.from({ length: 30 }, (_, i) => down(`t${i}`)), up('api'));
    await passTime(6_000);
    const [, storm] = await receiver.waitFor(2);
    const body = JSON.parse(storm!.body) as SlackMessage;
    expect(body.text).toBe('30 targets are DOWN');
    const all = JSON.stringify(body.attachments);
    for (let i = 0; i < 30; i++) expect(all).toContain(`*t${i}*`);
    expect(all).toContain('*api* is UP again after 22s');
    expect(body.attachments.map((a) => a.color)).toEqual(['#d83c3e', '#2eb67d']);
  });

  it('bot: chat.postMessage for the alert, the resolution in its thread, and chat.update to show it resolved', async () => {
    await start('bot');
    await tell(down('api'));
    const [post] = await receiver.waitFor(1);
    expect(post!.path).toBe('/api/chat.postMessage');
    expect(post!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(JSON.parse(post!.body)).toMatchObject({ channel: 'C0123ABCD', text: 'api is DOWN: HTTP 503, expected 200-299' });
    await passTime(10_000);
    await tell(up('api'));
    const [, reply, update] = await receiver.waitFor(3);
    expect(reply!.path).toBe('/api/chat.postMessage');
    expect(JSON.parse(reply!.body)).toMatchObject({ channel: 'C0123ABCD', thread_ts: '1700000000.001' });
    expect(update!.path).toBe('/api/chat.update');
    expect(JSON.parse(update!.body)).toMatchObject({ channel: 'C0123ABCD', ts: '1700000000.001', text: 'resolved' });
    expect(update!.body).toContain('resolved at');
  });

  it('bot: a channel the bot is not in pauses the destination', async () => {
    await start('bot');
    receiver.answerNext({ status: 200, body: JSON.stringify({ ok: false, error: 'not_in_channel' }) });
    await tell(down('api'));
    await receiver.waitFor(1);
    await passTime(2_000);
    expect(events.map((e) => [e.outcome, e.why])).toEqual([['paused', 'Slack answered not_in_channel']]);
  });

  it('webhook: 500 for two minutes, then every notification once, in order', async () => {
    await start('webhook');
    let failing = true;
    receiver.answer(() => (failing ? { status: 500 } : { status: 200, body: 'ok' }));
    await tell(down('a'));
    await passTime(120_000);
    await tell(up('a'));
    failing = false;
    await passTime(40_000);
    await outbox.idle();
    expect(events.filter((e) => e.outcome === 'delivered').map((e) => e.item.notification.id)).toEqual(['i-a:down', 'i-a:end']);
  });
});

describe('slack through the app', () => {
  let rig: AppRig | undefined;
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await rig?.close();
    await receiver?.close();
  });

  it('an outage reaches the Slack webhook; its URL is never shown or logged', async () => {
    receiver = await startReceiver();
    rig = await startAppRig();
    const url = `${receiver.url}/services/T0/B0/slacksecret123`;
    await rig.say(`/notify add slack ops ${url}`, 'Added');
    await rig.telegram.waitFor('sendMessage', (c) => textOf(c).includes('I deleted your message'));
    await rig.say(`/add ${rig.server.url}/health name=api confirm=1 every=1d`, 'Added');
    await rig.telegram.waitFor('editMessageText', (c) => textOf(c).includes('First check'));
    rig.server.setStatus(503);
    await rig.app.engine.checkNow(`${GROUP}/api`);
    const [alert] = await receiver.waitFor(1);
    expect((JSON.parse(alert!.body) as SlackMessage).text).toBe('api is DOWN: HTTP 503, expected 200-299');
    expect(rig.telegram.calls.some((c) => JSON.stringify(c.payload).includes('slacksecret123') && c.method !== 'getUpdates')).toBe(false);
    expect(rig.logs.join('\n')).not.toContain('slacksecret123');
  });
});
