import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifySns, snsChannel, type SnsSettings } from '../../../../src/alerts/channels/sns/spec.js';
import { createOutbox } from '../../../../src/alerts/outbox.js';
import { openStore } from '../../../../src/store/keyv.js';
import { GROUP, startAppRig } from '../../../support/app-rig.js';
import { FakeClock } from '../../../support/fake-clock.js';
import { textOf } from '../../../support/fake-telegram.js';
import { motoTestsEnabled, startMoto, type MotoServer } from '../../../support/moto.js';
import { down, NOTE_CHAT } from '../../../support/notifications.js';
import { startReceiver, type Receiver } from '../../../support/receiver.js';

const ARN = 'arn:aws:sns:us-east-1:123456789012:alerts';
const KEY = 'AKIAIOSFODNN7EXAMPLE';
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

describe('sns settings', () => {
  const parse = (address: string, options: Record<string, string> = {}) => snsChannel.parse(address, new Map(Object.entries(options)), {});
  it('takes a topic ARN (its region from it), an endpoint and keys; shows them masked', () => {
    const parsed = parse(ARN, { endpoint: 'https://sns.example.com/', key: KEY, secret: SECRET });
    expect(parsed).toEqual({ ok: true, value: { topicArn: ARN, region: 'us-east-1', endpoint: 'https://sns.example.com', credentials: { accessKeyId: KEY, secretAccessKey: SECRET } } });
    if (parsed.ok) {
      expect(snsChannel.describe(parsed.value)).toBe(`${ARN} at sns.example.com, key AKIA••••, secret ••••`);
      expect(snsChannel.secrets(parsed.value)).toEqual([SECRET]);
    }
  });
  it.each([
    ['alerts', {}, 'give the topic as its ARN'],
    [ARN, { key: KEY }, 'give key= and secret= together'],
    [ARN, { endpoint: 'http://169.254.169.254/' }, 'must be https://'],
    [ARN, { endpoint: 'https://169.254.169.254/' }, 'cloud metadata address'],
  ])('refuses %s %j', (address, options, error) => {
    const result = parse(address, options);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.join(' ')).toContain(error);
      expect(result.errors.join(' ')).not.toContain(SECRET);
    }
  });
  it('classifies SNS errors', () => {
    expect(classifySns({ name: 'NotFoundException' })).toMatchObject({ action: 'drop', gone: true });
    expect(classifySns({ name: 'AuthorizationErrorException' })).toMatchObject({ action: 'drop', gone: true });
    expect(classifySns({ name: 'InvalidParameterException' })).toMatchObject({ action: 'drop' });
    expect(classifySns({ name: 'ThrottlingException' })).toEqual({ action: 'retry' });
    expect(classifySns(new Error('socket hang up'))).toEqual({ action: 'retry' });
  });
});

describe.runIf(motoTestsEnabled(process.env))('sns against moto', () => {
  let moto: MotoServer;
  let receiver: Receiver;
  let topicArn: string;

  beforeAll(async () => {
    moto = await startMoto();
    receiver = await startReceiver();
    const client = new SNSClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: KEY, secretAccessKey: SECRET } });
    topicArn = (await client.send(new CreateTopicCommand({ Name: 'alerts' }))).TopicArn!;
    // moto delivers what is published to the topic's HTTP subscribers: the receiver is one.
    await client.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'http', Endpoint: `${receiver.url}/sns` }));
    client.destroy();
  }, 60_000);
  afterAll(async () => {
    await receiver?.close();
    await moto?.stop();
  });

  const messages = (): Array<{ Subject?: string; Message: string }> =>
    receiver.requests.map((r) => JSON.parse(r.body) as { Type: string; Subject?: string; Message: string }).filter((m) => (m as { Type?: string }).Type === 'Notification');

  it('publishes a notification to the topic: a subject of at most 100 characters and a text body', async () => {
    const clock = new FakeClock();
    const store = await openStore({ kind: 'memory' });
    const settings: SnsSettings = { topicArn, region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: KEY, secretAccessKey: SECRET } };
    const channel = snsChannel.create({ clock, store, env: {}, settings: () => settings, allowMetadata: false });
    const outbox = createOutbox({ store, channels: new Map([['sns', channel]]), clock });
    await outbox.start();
    const before = messages().length;
    await outbox.enqueue(down('api'), [`sns:${NOTE_CHAT}:ops`]);
    await outbox.idle();
    for (let i = 0; i < 100 && messages().length === before; i++) await new Promise((r) => setTimeout(r, 50));
    const [message] = messages().slice(before);
    expect(message!.Subject).toBe('[Lookout] DOWN: api');
    expect(message!.Message).toContain('api is DOWN (https://api.example.com/health): reason: HTTP 503, expected 200-299');
    await outbox.stop();
    await store.close();
  });

  it('through the app: /notify add sns with keys (the message is deleted); an outage reaches the topic', async () => {
    const rig = await startAppRig();
    try {
      const added = await rig.say(`/notify add sns ops ${topicArn} endpoint=${moto.endpoint} key=${KEY} secret=${SECRET}`, 'Added');
      expect(textOf(added)).not.toContain(SECRET);
      await rig.telegram.waitFor('sendMessage', (c) => textOf(c).includes('I deleted your message'));
      await rig.say(`/add ${rig.server.url}/health name=web confirm=1 every=1d`, 'Added');
      await rig.telegram.waitFor('editMessageText', (c) => textOf(c).includes('First check'));
      const before = messages().length;
      rig.server.setStatus(503);
      await rig.app.engine.checkNow(`${GROUP}/web`);
      for (let i = 0; i < 200 && messages().length === before; i++) await new Promise((r) => setTimeout(r, 50));
      expect(messages().slice(before)[0]!.Subject).toBe('[Lookout] DOWN: web');
      expect(rig.logs.join('\n')).not.toContain(SECRET);
    } finally {
      await rig.close();
    }
  }, 30_000);
});
