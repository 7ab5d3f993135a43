import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { webhookChannel, type WebhookSettings } from '../../../../src/alerts/channels/webhook/spec.js';
import { signBody, verifySignature } from '../../../../src/alerts/channels/webhook/signature.js';
import { WEBHOOK_TYPE } from '../../../../src/alerts/channels/webhook/body.js';
import { createOutbox, type DeliveryEvent, type Outbox } from '../../../../src/alerts/outbox.js';
import { openStore, type KeyvStore } from '../../../../src/store/keyv.js';
import { ADMIN, GROUP, startAppRig, type AppRig } from '../../../support/app-rig.js';
import { FakeClock, flushPromises } from '../../../support/fake-clock.js';
import { textOf } from '../../../support/fake-telegram.js';
import { down, NOTE_CHAT, up } from '../../../support/notifications.js';
import { startReceiver, type Receiver } from '../../../support/receiver.js';

const SECRET = 'whsec_0123456789abcdef';
const DEST = `webhook:${NOTE_CHAT}:ops`;

describe('webhook settings', () => {
  const parse = (address: string, options: Record<string, string> = {}) => webhookChannel.parse(address, new Map(Object.entries(options)), {});
  it.each([
    ['http://example.com/hook', 'must be https://'],
    ['not a url', 'give the webhook as an https:// URL'],
    ['https://user:pw@example.com/hook', 'must not carry a user name or password'],
    ['https://169.254.169.254/latest', 'cloud metadata address'],
    ['https://metadata.google.internal/x', 'name of a cloud metadata service'],
    ['https://example.com/' + 'a'.repeat(3_000), 'longer than 2048 characters'],
  ])('refuses a bad address (%#)', (address, error) => {
    const result = parse(address);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.join(' ')).toContain(error);
      expect(result.errors.join(' ')).not.toContain('a'.repeat(100));
    }
  });

  it('takes https, and http to loopback; a short secret is refused without being echoed', () => {
    expect(parse('https://hooks.example.com/lookout?token=abc')).toEqual({ ok: true, value: { url: 'https://hooks.example.com/lookout?token=abc' } });
    expect(parse('http://127.0.0.1:9999/x').ok).toBe(true);
    const short = parse('https://hooks.example.com/x', { secret: 'tiny' });
    expect(short.ok).toBe(false);
    if (!short.ok) expect(short.errors.join(' ')).not.toContain('tiny');
  });

  it('shows the URL masked and lists its secrets', () => {
    const s: WebhookSettings = { url: 'https://hooks.example.com/services/T123/B456?token=abc', secret: SECRET };
    expect(webhookChannel.describe(s)).toBe('hooks.example.com/services/T1••••?••••, signed (••••)');
    expect(webhookChannel.secrets(s)).toEqual([s.url, SECRET]);
    expect(webhookChannel.format(s)).toEqual({ address: s.url, options: { secret: SECRET } });
  });
});

describe('signatures', () => {
  it('verify, and refuse another body, another secret or a replay older than the tolerance', () => {
    const body = '{"a":1}';
    const now = Date.UTC(2026, 11, 2, 12, 0, 0);
    const ts = String(now / 1_000);
    const sig = signBody(SECRET, ts, body);
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature(SECRET, ts, body, sig, now)).toBe(true);
    expect(verifySignature(SECRET, ts, '{"a":2}', sig, now)).toBe(false);
    expect(verifySignature('other-secret-123', ts, body, sig, now)).toBe(false);
    expect(verifySignature(SECRET, ts, body, sig, now + 301_000)).toBe(false);
  });
});

describe('webhook deliveries', () => {
  let clock: FakeClock;
  let store: KeyvStore;
  let receiver: Receiver;
  let outbox: Outbox;
  let events: DeliveryEvent[];

  beforeEach(async () => {
    clock = new FakeClock();
    store = await openStore({ kind: 'memory' });
    receiver = await startReceiver(clock.now);
    const settings: WebhookSettings = { url: `${receiver.url}/hook`, secret: SECRET };
    const channel = webhookChannel.create({ clock, store, env: {}, settings: (id) => (id === DEST ? settings : undefined), allowMetadata: false });
    outbox = createOutbox({ store, channels: new Map([['webhook', channel]]), clock, baseBackoffMs: 1_000, maxBackoffMs: 30_000, probeEveryMs: 3_600_000 });
    events = [];
    outbox.onDelivery((e) => events.push(e));
    await outbox.start();
  });

  afterEach(async () => {
    await outbox.stop(1_000);
    await receiver.close();
    await store.close();
  });

  /** Lets real HTTP round trips happen while fake time goes by. */
  const run = async (ms: number, step = 1_000): Promise<void> => {
    for (let t = 0; t < ms; t += step) {
      await clock.advance(step);
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  it('posts the documented body, signed, one notification a request', async () => {
    await outbox.enqueue(down('api'), [DEST]);
    await outbox.enqueue(up('api'), [DEST]);
    const [alert, resolution] = await receiver.waitFor(2);
    for (const r of [alert!, resolution!]) {
      expect(r.method).toBe('POST');
      expect(r.headers['content-type']).toBe('application/json');
      expect(verifySignature(SECRET, String(r.headers['x-lookout-timestamp']), r.body, String(r.headers['x-lookout-signature']), clock.now())).toBe(true);
    }
    expect(JSON.parse(alert!.body)).toEqual({
      type: WEBHOOK_TYPE,
      id: 'i-api:down',
      event: 'down',
      at: '2026-11-23T12:00:00.000Z',
      chat: NOTE_CHAT,
      target: { id: `${NOTE_CHAT}/api`, name: 'api', address: 'https://api.example.com/health' },
      state: 'DOWN',
      reason: 'HTTP 503, expected 200-299',
      latencyMs: 42,
      incident: { id: 'i-api', openedAt: '2026-11-23T12:00:00.000Z', failedChecks: 2 },
      source: { label: 'fra-1', address: '203.0.113.7' },
    });
    expect(alert!.headers['x-lookout-delivery']).toBe('i-api:down');
    expect(JSON.parse(resolution!.body)).toMatchObject({ event: 'up', state: 'UP', previousState: 'DOWN', incident: { id: 'i-api', downtimeMs: 22_000 } });
  });

  it('a receiver answering 500 for two minutes gets every notification once afterwards, in order', async () => {
    let failing = true;
    receiver.answer(() => (failing ? { status: 500, body: 'down' } : { status: 200 }));
    for (const name of ['a', 'b', 'c']) await outbox.enqueue(down(name), [DEST]);
    await run(120_000);
    failing = false;
    await run(40_000);
    await outbox.idle();
    const ok = receiver.requests.filter((_, i) => i >= receiver.requests.length - 3).map((r) => (JSON.parse(r.body) as { id: string }).id);
    expect(ok).toEqual(['i-a:down', 'i-b:down', 'i-c:down']);
    expect(events.filter((e) => e.outcome === 'delivered').map((e) => e.item.notification.id)).toEqual(['i-a:down', 'i-b:down', 'i-c:down']);
  });

  it('honours Retry-After on a 429', async () => {
    receiver.answerNext({ status: 429, headers: { 'retry-after': '30' } });
    await outbox.enqueue(down('api'), [DEST]);
    await receiver.waitFor(1);
    await flushPromises();
    await run(29_000);
    expect(receiver.requests).toHaveLength(1);
    await run(2_000);
    await receiver.waitFor(2);
  });

  it('a destination that answers 410 Gone is paused, its queue kept', async () => {
    receiver.answerNext({ status: 410, body: 'no_service' });
    await outbox.enqueue(down('api'), [DEST]);
    await outbox.enqueue(up('api'), [DEST]);
    await receiver.waitFor(1);
    await flushPromises();
    await run(5_000);
    expect(events.map((e) => e.outcome)).toEqual(['paused']);
    expect(events[0]!.why).toContain('HTTP 410');
    expect(receiver.requests).toHaveLength(1);
    outbox.resume(DEST);
    await receiver.waitFor(3);
    await outbox.idle();
  });
});

describe('webhook through the app', () => {
  let rig: AppRig | undefined;
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await rig?.close();
    await receiver?.close();
    rig = undefined;
  });

  it('/notify add webhook, an outage and its recovery reach the receiver; the secret is never shown', async () => {
    receiver = await startReceiver();
    rig = await startAppRig();
    const added = await rig.say(`/notify add webhook ops ${receiver.url}/hook secret=${SECRET}`, 'Added');
    expect(textOf(added)).not.toContain(SECRET);
    await rig.telegram.waitFor('sendMessage', (c) => textOf(c).includes('I deleted your message'));
    const list = await rig.say('/notify', 'Destinations');
    expect(textOf(list)).toContain('<b>ops</b> · webhook');
    expect(textOf(list)).not.toContain(SECRET);
    await rig.say(`/add ${rig.server.url}/health name=api confirm=1 every=1d`, 'Added');
    await rig.telegram.waitFor('editMessageText', (c) => textOf(c).includes('First check'));
    rig.server.setStatus(503);
    await rig.app.engine.checkNow(`${GROUP}/api`);
    const [alert] = await receiver.waitFor(1);
    expect(JSON.parse(alert!.body)).toMatchObject({ event: 'down', target: { name: 'api' }, state: 'DOWN' });
    rig.server.setStatus(200);
    await rig.app.engine.checkNow(`${GROUP}/api`);
    const [, resolution] = await receiver.waitFor(2);
    expect(JSON.parse(resolution!.body)).toMatchObject({ event: 'up', state: 'UP' });
    const test = await rig.say('/notify test ops', 'ops');
    expect(textOf(test)).toContain('delivered ✅');
    expect(rig.logs.join('\n')).not.toContain(SECRET);
    void ADMIN;
  });
});
