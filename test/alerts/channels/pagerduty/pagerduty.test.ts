import { afterEach, describe, expect, it } from 'vitest';
import { classifyPagerDuty, pagerDutyChannel, pagerDutyEvents, type PagerDutyEvent } from '../../../../src/alerts/channels/pagerduty/spec.js';
import { HttpDeliveryError } from '../../../../src/alerts/channels/http.js';
import { parseEnv } from '../../../../src/config/config.js';
import { ADMIN, GROUP, startAppRig, type AppRig } from '../../../support/app-rig.js';
import { buttonsOf, textOf } from '../../../support/fake-telegram.js';
import { closed, down, NOTE_CHAT, up } from '../../../support/notifications.js';
import { startReceiver, type Receiver } from '../../../support/receiver.js';

const KEY = 'R0123456789abcdef0123456789ABCDE';
const settings = { routingKey: KEY, severity: 'critical' as const };

describe('pagerduty settings', () => {
  it.each([
    ['short', {}, 'the routing key is the 32-character Integration Key'],
    [KEY, { severity: 'apocalyptic' }, 'severity must be one of critical, error, warning, info, got "apocalyptic"'],
  ])('refuses %s', (address, options, error) => {
    const result = pagerDutyChannel.parse(address, new Map(Object.entries(options)), {});
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join(' ')).toContain(error);
  });

  it('takes a key and a severity; shows the key masked', () => {
    const parsed = pagerDutyChannel.parse(KEY, new Map([['severity', 'Warning']]), {});
    expect(parsed).toEqual({ ok: true, value: { routingKey: KEY, severity: 'warning' } });
    expect(pagerDutyChannel.describe(settings)).toBe('routing key R0••••, critical');
    expect(pagerDutyChannel.secrets(settings)).toEqual([KEY]);
  });

  it('PAGERDUTY_EVENTS_URL is checked with the other settings', () => {
    const bad = parseEnv({ PAGERDUTY_EVENTS_URL: 'ftp://x' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors[0]).toMatch(/^PAGERDUTY_EVENTS_URL must be an https:\/\/ URL/);
    const good = parseEnv({ PAGERDUTY_EVENTS_URL: 'https://events.eu.pagerduty.com/v2/enqueue' });
    expect(good.ok && good.config.channelEnv.PAGERDUTY_EVENTS_URL).toBe('https://events.eu.pagerduty.com/v2/enqueue');
  });
});

describe('pagerduty events', () => {
  it('trigger with the incident as dedup key and the facts; resolve on recovery or closing; acknowledge per incident', () => {
    const [trigger] = pagerDutyEvents(down('api'), settings);
    expect(trigger).toEqual({
      routing_key: KEY,
      client: 'Lookout',
      event_action: 'trigger',
      dedup_key: 'i-api',
      payload: {
        summary: 'api is DOWN: HTTP 503, expected 200-299',
        source: 'https://api.example.com/health',
        severity: 'critical',
        timestamp: '2026-11-23T12:00:00.000Z',
        component: 'api',
        group: String(NOTE_CHAT),
        class: 'status',
        custom_details: { reason: 'HTTP 503, expected 200-299', latency_ms: 42, failed_checks: 2, from: 'fra-1' },
      },
    });
    expect(pagerDutyEvents(up('api'), settings)).toEqual([{ routing_key: KEY, client: 'Lookout', event_action: 'resolve', dedup_key: 'i-api' }]);
    expect(pagerDutyEvents(closed('api', 'removed'), settings)[0]!.event_action).toBe('resolve');
    const ack = { kind: 'acknowledged' as const, incidentIds: ['a', 'b'], by: { userId: 1, name: 'Ann' }, id: 'x', at: 0, chatId: NOTE_CHAT };
    expect(pagerDutyEvents(ack, settings).map((e) => [e.event_action, e.dedup_key])).toEqual([
      ['acknowledge', 'a'],
      ['acknowledge', 'b'],
    ]);
  });

  it('an invalid routing key is gone; other 400s are dropped; 429 and 5xx retried', () => {
    expect(classifyPagerDuty(new HttpDeliveryError(400, '{"status":"invalid event","message":"Event object is invalid","errors":["Invalid routing key"]}'))).toMatchObject({ action: 'drop', gone: true });
    expect(classifyPagerDuty(new HttpDeliveryError(400, '{"errors":["summary is missing"]}'))).toMatchObject({ action: 'drop' });
    expect(classifyPagerDuty(new HttpDeliveryError(400, '{"errors":["summary is missing"]}'))).not.toHaveProperty('gone');
    expect(classifyPagerDuty(new HttpDeliveryError(429, ''))).toEqual({ action: 'retry' });
    expect(classifyPagerDuty(new HttpDeliveryError(503, ''))).toEqual({ action: 'retry' });
  });
});

describe('pagerduty through the app', () => {
  let rig: AppRig | undefined;
  let receiver: Receiver | undefined;
  afterEach(async () => {
    await rig?.close();
    await receiver?.close();
  });

  it('DOWN triggers, Ack in the chat acknowledges, UP resolves: one incident, one dedup key', async () => {
    receiver = await startReceiver();
    receiver.answer({ status: 202, body: '{"status":"success","message":"Event processed","dedup_key":"x"}' });
    rig = await startAppRig({ PAGERDUTY_EVENTS_URL: `${receiver.url}/v2/enqueue` });
    const added = await rig.say(`/notify add pagerduty oncall ${KEY} severity=error`, 'Added');
    expect(textOf(added)).not.toContain(KEY);
    await rig.telegram.waitFor('sendMessage', (c) => textOf(c).includes('I deleted your message'));
    await rig.say(`/add ${rig.server.url}/health name=api confirm=1 every=1d`, 'Added');
    await rig.telegram.waitFor('editMessageText', (c) => textOf(c).includes('First check'));
    rig.server.setStatus(503);
    await rig.app.engine.checkNow(`${GROUP}/api`);
    const [trigger] = await receiver.waitFor(1);
    const t = JSON.parse(trigger!.body) as PagerDutyEvent;
    expect(trigger!.path).toBe('/v2/enqueue');
    expect(t).toMatchObject({ routing_key: KEY, event_action: 'trigger', payload: { severity: 'error', component: 'api' } });

    const alert = await rig.telegram.waitFor('sendMessage', (c) => textOf(c).includes('is DOWN'));
    const alertId = rig.telegram.messages(GROUP).find((m) => m.text?.includes('is DOWN'))!.message_id;
    rig.telegram.pressButton({ chatId: GROUP, userId: ADMIN, data: buttonsOf(alert).find((b) => b.text === 'Ack')!.callback_data, messageId: alertId });
    const [, ack] = await receiver.waitFor(2);
    expect(JSON.parse(ack!.body)).toMatchObject({ event_action: 'acknowledge', dedup_key: t.dedup_key });

    rig.server.setStatus(200);
    await rig.app.engine.checkNow(`${GROUP}/api`);
    const [, , resolve] = await receiver.waitFor(3);
    expect(JSON.parse(resolve!.body)).toMatchObject({ event_action: 'resolve', dedup_key: t.dedup_key });
    expect(rig.logs.join('\n')).not.toContain(KEY);
  });
});
