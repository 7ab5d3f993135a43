import { describe, expect, it } from 'vitest';
import {
  ALERT_ACTIONS,
  alertLogFields,
  escapeHtml,
  formatAlert,
  formatAlertLine,
  formatAlertMessage,
  formatLatency,
  formatReminder,
  formatResolution,
  formatResolutionGroup,
  formatResult,
  formatTime,
  formatWindowEnded,
  formatWindowStarted,
  GROUP_MESSAGE_MAX,
  type Button,
} from '../../src/alerts/format.js';
import { MESSAGE_LIMIT } from '../../src/alerts/split.js';
import type { CheckResult } from '../../src/domain/check.js';
import { shortId, type Incident } from '../../src/domain/incident.js';
import type { StateChange } from '../../src/domain/state.js';
import type { Window } from '../../src/domain/window.js';
import { httpTarget, tcpTarget } from '../support/target-server.js';

const AT = Date.UTC(2026, 10, 23, 18, 0, 5);
const CHAT = -1001234567890;
const LONG_NAME = 'a'.repeat(32);

const target = httpTarget({
  id: `${CHAT}/payments-api`,
  chatId: CHAT,
  name: 'payments-api',
  url: 'https://api.example.com/health?a=1&b=<x>',
  note: '<b>call</b> & "Bob"',
});

const failed: CheckResult = {
  ok: false,
  at: AT - 250,
  latencyMs: 250,
  status: 503,
  failure: 'status',
  reason: 'HTTP 503, expected 200-299',
};

const down = (over: Partial<StateChange> = {}): StateChange => ({
  targetId: target.id,
  from: 'UP',
  to: 'DOWN',
  at: AT,
  fromSince: AT - 3_600_000,
  result: failed,
  failures: 2,
  ...over,
});

const source = { label: 'fra-1', address: '203.0.113.7' };

const KEY = shortId(AT, 0);

const incident = (over: Partial<Incident> = {}): Incident => ({
  id: shortId(AT, 1),
  targetId: `${CHAT}/${LONG_NAME}`,
  chatId: CHAT,
  name: LONG_NAME,
  openedAt: AT,
  reason: 'HTTP 503, expected 200-299',
  alertText: formatAlert(target, down(), source),
  line: formatAlertLine(target, down()),
  alertKey: KEY,
  ...over,
});

/** An incident of target `name` in a grouped message. */
const member = (name: string, over: Partial<Incident> = {}): Incident => {
  const t = httpTarget({ id: `${CHAT}/${name}`, chatId: CHAT, name, url: `https://${name}.example.com/health` });
  return incident({ id: `i-${name}`, targetId: t.id, name, alertText: formatAlert(t, down(), source), line: formatAlertLine(t, down()), ...over });
};

const labels = (rows: Button[][] | undefined): string[] | undefined => rows?.flat().map((b) => b.text);

describe('escapeHtml', () => {
  it.each([
    ['plain text', 'plain text'],
    ['<b>call</b> & "Bob"', '&lt;b&gt;call&lt;/b&gt; &amp; &quot;Bob&quot;'],
    ['already &amp; escaped', 'already &amp;amp; escaped'],
    ['a<b>c', 'a&lt;b&gt;c'],
    ['', ''],
  ])('%j → %j', (input, expected) => {
    expect(escapeHtml(input)).toBe(expected);
  });
});

describe('formatAlert', () => {
  it('has the exact lines of a DOWN alert, every user value escaped', () => {
    expect(formatAlert(target, down(), source).split('\n')).toEqual([
      '🔴 <b>payments-api</b> is DOWN',
      'https://api.example.com/health?a=1&amp;b=&lt;x&gt;',
      'Reason: HTTP 503, expected 200-299',
      'Latency: 250 ms',
      'When: 2026-11-23 18:00:05 UTC',
      'Failed checks: 2',
      'From: fra-1 (203.0.113.7)',
      'Note: &lt;b&gt;call&lt;/b&gt; &amp; &quot;Bob&quot;',
    ]);
  });

  it('escapes the reason, the keyword in it and the source', () => {
    const keywordMiss = down({ result: { ...failed, status: 200, failure: 'keyword', reason: 'keyword "<ok> & done" not found' } });
    const text = formatAlert(target, keywordMiss, { label: 'lab <1>', address: '10.0.0.1 & co' });
    expect(text).toContain('Reason: keyword &quot;&lt;ok&gt; &amp; done&quot; not found');
    expect(text).toContain('From: lab &lt;1&gt; (10.0.0.1 &amp; co)');
    expect(text).not.toContain('<ok>');
  });

  it('never lets a raw user value through', () => {
    const text = formatAlert(target, down(), source);
    expect(text).not.toContain('<x>');
    expect(text).not.toContain('<b>call</b>');
    // The only tags are the ones the alert itself adds.
    expect(text.match(/<[^>]*>/g)).toEqual(['<b>', '</b>']);
  });

  it('without a result, note or source address: unknown reason, no latency or note line', () => {
    const plain = tcpTarget({ id: '1/db', name: 'db', host: '::1', port: 5432 });
    const lines = formatAlert(plain, down({ targetId: plain.id, failures: 3, result: undefined }), { label: 'home' }).split('\n');
    expect(lines).toEqual([
      '🔴 <b>db</b> is DOWN',
      '[::1]:5432',
      'Reason: unknown',
      'When: 2026-11-23 18:00:05 UTC',
      'Failed checks: 3',
      'From: home',
    ]);
  });
});

describe('formatAlertMessage: one incident', () => {
  it('an open incident shows the alert text and the four buttons; Ack names the alert message', () => {
    const open = incident();
    const rendered = formatAlertMessage(KEY, [open]);
    expect(rendered.text).toBe(open.alertText);
    expect(rendered.buttons).toEqual([
      [
        { text: 'Recheck', data: `${ALERT_ACTIONS.recheck}:${open.targetId}` },
        { text: 'Mute 1h', data: `${ALERT_ACTIONS.mute}:${open.targetId}` },
        { text: 'Trace', data: `${ALERT_ACTIONS.trace}:${open.targetId}` },
        { text: 'Ack', data: `${ALERT_ACTIONS.ack}:${KEY}` },
      ],
    ]);
  });

  it('keeps callback data within 64 bytes for the longest target id and message key', () => {
    const key = shortId(Date.UTC(2100, 0, 1), 46_655);
    const open = incident({ id: shortId(Date.UTC(2100, 0, 1), 46_654), alertKey: key });
    expect(open.targetId).toBe('-1001234567890/' + LONG_NAME);
    const data = formatAlertMessage(key, [open]).buttons!.flat().map((b) => b.data);
    expect(data).toHaveLength(4);
    expect(data.at(-1)).toBe(`ak:${key}`);
    for (const d of data) expect(Buffer.byteLength(d, 'utf8')).toBeLessThanOrEqual(64);
  });

  it('an acknowledged incident adds who and when, and drops the Ack button', () => {
    const rendered = formatAlertMessage(KEY, [incident({ ack: { userId: 7, name: 'Ann <ops>', at: AT + 60_000 } })]);
    expect(rendered.text.split('\n').slice(-2)).toEqual(['', '👀 Acknowledged by Ann &lt;ops&gt; at 2026-11-23 18:01:05 UTC']);
    expect(labels(rendered.buttons)).toEqual(['Recheck', 'Mute 1h', 'Trace']);
  });

  it('a resolved incident says so with the downtime and has no buttons', () => {
    const rendered = formatAlertMessage(KEY, [incident({ resolvedAt: AT + 300_000, resolution: 'recovered' })]);
    expect(rendered.text.startsWith(incident().alertText)).toBe(true);
    expect(rendered.text.split('\n').slice(-2)).toEqual(['', '✅ <b>Resolved</b> at 2026-11-23 18:05:05 UTC after 5m']);
    expect(rendered.buttons).toBeUndefined();
  });

  it('a resolved, acknowledged incident keeps both lines', () => {
    const rendered = formatAlertMessage(KEY, [
      incident({ ack: { userId: 7, name: 'Ann', at: AT + 60_000 }, resolvedAt: AT + 300_000, resolution: 'recovered' }),
    ]);
    expect(rendered.text).toContain('👀 Acknowledged by Ann at 2026-11-23 18:01:05 UTC');
    expect(rendered.text).toContain('✅ <b>Resolved</b> at 2026-11-23 18:05:05 UTC after 5m');
    expect(rendered.buttons).toBeUndefined();
  });

  it.each([
    ['paused', '✅ <b>Closed: checks paused</b> at 2026-11-23 18:00:35 UTC after 30s'],
    ['removed', '✅ <b>Closed: target removed</b> at 2026-11-23 18:00:35 UTC after 30s'],
  ] as const)('an incident closed because the target was %s says so', (resolution, line) => {
    const rendered = formatAlertMessage(KEY, [incident({ resolvedAt: AT + 30_000, resolution })]);
    expect(rendered.text.split('\n').at(-1)).toBe(line);
    expect(rendered.text).not.toContain('Resolved');
    expect(rendered.buttons).toBeUndefined();
  });
});

describe('formatAlertMessage: several incidents', () => {
  it('groups at most 25 incidents in one message', () => {
    expect(GROUP_MESSAGE_MAX).toBe(25);
  });

  const three = (): Incident[] => [member('api'), member('web', { openedAt: AT - 2_000 }), member('db', { openedAt: AT + 3_000 })];

  it('has a header, one line per incident, the earliest start and one Ack all button', () => {
    const rendered = formatAlertMessage(KEY, three());
    expect(rendered.text.split('\n')).toEqual([
      '🔴 <b>3 of 3 targets are DOWN</b>',
      '🔴 <b>api</b> · HTTP 503, expected 200-299 · https://api.example.com/health',
      '🔴 <b>web</b> · HTTP 503, expected 200-299 · https://web.example.com/health',
      '🔴 <b>db</b> · HTTP 503, expected 200-299 · https://db.example.com/health',
      'Since: 2026-11-23 18:00:03 UTC',
    ]);
    expect(rendered.buttons).toEqual([[{ text: 'Ack all', data: `${ALERT_ACTIONS.ack}:${KEY}` }]]);
  });

  it('shows each line with its status: resolved with downtime, acknowledged with who', () => {
    const [api, web, db] = three();
    const rendered = formatAlertMessage(KEY, [
      { ...api!, resolvedAt: AT + 120_000, resolution: 'recovered' },
      { ...web!, ack: { userId: 7, name: 'Ann <ops>', at: AT } },
      db!,
    ]);
    const lines = rendered.text.split('\n');
    expect(lines[0]).toBe('🔴 <b>2 of 3 targets are DOWN</b>');
    expect(lines[1]).toBe('✅ <b>api</b> · HTTP 503, expected 200-299 · https://api.example.com/health · resolved after 2m');
    expect(lines[2]).toBe('🔴 <b>web</b> · HTTP 503, expected 200-299 · https://web.example.com/health · 👀 Ann &lt;ops&gt;');
    expect(lines[3]).toBe('🔴 <b>db</b> · HTTP 503, expected 200-299 · https://db.example.com/health');
    expect(labels(rendered.buttons)).toEqual(['Ack all']);
  });

  it('keeps Ack all while any open incident is unacknowledged, and drops it once all open ones are', () => {
    const [api, web, db] = three();
    const ack = { userId: 7, name: 'Ann', at: AT };
    const resolved = { resolvedAt: AT + 60_000, resolution: 'recovered' as const };
    expect(labels(formatAlertMessage(KEY, [{ ...api!, ack }, web!, { ...db!, ack }]).buttons)).toEqual(['Ack all']);
    expect(formatAlertMessage(KEY, [{ ...api!, ack }, { ...web!, ack }, { ...db!, ...resolved }]).buttons).toBeUndefined();
    // A resolved, unacknowledged incident does not keep the button.
    expect(formatAlertMessage(KEY, [{ ...api!, ack }, { ...web!, ...resolved }]).buttons).toBeUndefined();
  });

  it('once every incident is resolved the header says so and there are no buttons', () => {
    const rendered = formatAlertMessage(
      KEY,
      three().map((i) => ({ ...i, resolvedAt: AT + 60_000, resolution: 'recovered' as const })),
    );
    expect(rendered.text.split('\n')[0]).toBe('✅ <b>3 targets were DOWN</b>, all resolved');
    expect(rendered.text.split('\n').slice(1, 4).every((l) => l.startsWith('✅ '))).toBe(true);
    expect(rendered.buttons).toBeUndefined();
  });

  it.each([
    ['plain', `https://${'h'.repeat(40)}.example.com/v1/health`, 'keyword status ok not found in the response of the service', 'A'.repeat(64)],
    ['escaped', `https://${'h'.repeat(40)}.example.com/${'p&'.repeat(500)}`, `keyword "${'<&>'.repeat(300)}" not found`, '<&>'.repeat(43)],
  ])(`${GROUP_MESSAGE_MAX} incidents with the longest %s reasons, addresses and names still fit one message`, (_, url, reason, ackName) => {
    const names = Array.from({ length: GROUP_MESSAGE_MAX }, (_, n) => `${String(n).padStart(2, '0')}${'n'.repeat(30)}`);
    const many = names.map((name, n) => {
      const t = httpTarget({ id: `${CHAT}/${name}`, chatId: CHAT, name, url });
      const line = formatAlertLine(t, down({ result: { ...failed, reason } }));
      return incident({ id: `i${n}`, targetId: t.id, name, line, ack: { userId: n, name: ackName, at: AT } });
    });
    many[0] = { ...many[0]!, ack: undefined, resolvedAt: AT + 3 * 86_400_000 + 3_661_000, resolution: 'recovered' };
    const { text, buttons } = formatAlertMessage(KEY, many);
    const lines = text.split('\n');
    expect(text.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
    expect(lines).toHaveLength(GROUP_MESSAGE_MAX + 2);
    expect(lines[0]).toBe(`🔴 <b>${GROUP_MESSAGE_MAX - 1} of ${GROUP_MESSAGE_MAX} targets are DOWN</b>`);
    // Every target is still named, with its status.
    expect(lines[1]).toBe(`✅ <b>${names[0]}</b> · resolved after 3d1h1m1s`);
    names.slice(1).forEach((name, n) => expect(lines[n + 2]).toBe(`🔴 <b>${name}</b> · 👀`));
    expect(buttons).toBeUndefined();
  });

  it('keeps the details when the group fits', () => {
    const many = Array.from({ length: GROUP_MESSAGE_MAX }, (_, n) => member(`t${n}`, { ack: { userId: n, name: '@ann', at: AT } }));
    const { text } = formatAlertMessage(KEY, many);
    expect(text.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
    expect(text.split('\n')[1]).toBe('🔴 <b>t0</b> · HTTP 503, expected 200-299 · https://t0.example.com/health · 👀 @ann');
  });
});

describe('formatAlertLine', () => {
  it('is the name, reason and address, every user value escaped', () => {
    expect(formatAlertLine(target, down())).toBe(
      '<b>payments-api</b> · HTTP 503, expected 200-299 · https://api.example.com/health?a=1&amp;b=&lt;x&gt;',
    );
  });

  it('says unknown without a result, and shows a tcp address', () => {
    const plain = tcpTarget({ id: '1/db', name: 'db', host: '::1', port: 5432 });
    expect(formatAlertLine(plain, down({ result: undefined }))).toBe('<b>db</b> · unknown · [::1]:5432');
  });

  it('clips a long reason and address to 60 characters each before escaping', () => {
    const longTarget = httpTarget({ name: 'x', url: `https://example.com/${'a'.repeat(100)}` });
    const line = formatAlertLine(longTarget, down({ result: { ...failed, reason: `${'<'.repeat(100)}` } }));
    const [, reason, address] = line.split(' · ');
    expect(reason).toBe(`${'&lt;'.repeat(59)}…`);
    expect(address).toBe(`https://example.com/${'a'.repeat(39)}…`);
    expect(line).not.toContain('<<');
  });
});

describe('formatResolution', () => {
  const up: CheckResult = { ok: true, at: AT + 5_405_000, latencyMs: 120, status: 200 };

  it('has the downtime, the current result and who acknowledged', () => {
    const resolved = incident({ resolvedAt: AT + 5_405_000, resolution: 'recovered', ack: { userId: 7, name: 'Ann & <Bob>', at: AT + 1_000 } });
    expect(formatResolution(target, resolved, up).split('\n')).toEqual([
      '🟢 <b>payments-api</b> is UP again',
      'Down for 1h30m5s (since 2026-11-23 18:00:05 UTC)',
      'Now: HTTP 200 in 120 ms',
      'Acknowledged by Ann &amp; &lt;Bob&gt;',
    ]);
  });

  it('leaves out the result when there is none or it failed, and the ack line when nobody acknowledged', () => {
    const resolved = incident({ resolvedAt: AT + 60_000, resolution: 'recovered' });
    expect(formatResolution(target, resolved, undefined).split('\n')).toEqual([
      '🟢 <b>payments-api</b> is UP again',
      'Down for 1m (since 2026-11-23 18:00:05 UTC)',
    ]);
    expect(formatResolution(target, resolved, failed)).not.toContain('Now:');
  });

  it('a tcp result reads "connected"', () => {
    const resolved = incident({ resolvedAt: AT + 60_000 });
    expect(formatResolution(target, resolved, { ok: true, at: AT, latencyMs: 1_250 })).toContain('Now: connected in 1.25 s');
  });
});

describe('formatResolutionGroup', () => {
  it('counts the targets and lists each with its downtime, names escaped', () => {
    const text = formatResolutionGroup([
      member('api', { resolvedAt: AT + 90_000 }),
      member('web', { name: 'web<1>', resolvedAt: AT + 3_600_000 }),
    ]);
    expect(text.split('\n')).toEqual([
      '🟢 <b>2 targets are UP again</b>',
      '• <b>api</b> · down for 1m30s',
      '• <b>web&lt;1&gt;</b> · down for 1h',
    ]);
  });
});

describe('formatReminder', () => {
  it('one incident: its name, how long, and the reason, escaped', () => {
    const text = formatReminder([incident({ name: 'api', reason: 'keyword "<ok>" not found' })], AT + 3_600_000);
    expect(text).toBe('⏰ <b>api</b> is still DOWN (for 1h) and not acknowledged: keyword &quot;&lt;ok&gt;&quot; not found');
  });

  it('several: a count and one line each with how long', () => {
    const text = formatReminder([member('api'), member('web', { openedAt: AT + 1_800_000 })], AT + 7_200_000);
    expect(text.split('\n')).toEqual([
      '⏰ <b>2 targets are still DOWN</b> and not acknowledged',
      '• <b>api</b> · for 2h',
      '• <b>web</b> · for 1h30m',
    ]);
  });
});

describe('window messages', () => {
  const window = (over: Partial<Window> = {}): Window => ({
    id: 'w1',
    chatId: CHAT,
    kind: 'maintenance',
    start: AT,
    durationMs: 7_200_000,
    tz: 'Europe/Berlin',
    createdAt: AT,
    ...over,
  });

  it('a started maintenance names the scope, the end in its time zone and the reason, escaped', () => {
    expect(formatWindowStarted(window({ reason: 'db <upgrade>' }), 'api & co', AT + 7_200_000)).toBe(
      '🔧 Maintenance started for <b>api &amp; co</b> until 2026-11-23 21:00 Europe/Berlin: db &lt;upgrade&gt;. Checks go on; alerts wait.',
    );
    expect(formatWindowStarted(window({ tz: 'UTC' }), 'all targets', AT + 7_200_000)).toBe(
      '🔧 Maintenance started for <b>all targets</b> until 2026-11-23 20:00 UTC. Checks go on; alerts wait.',
    );
  });

  it.each([
    ['maintenance', '🔧 Maintenance ended for <b>api&lt;1&gt;</b>. Alerts are back on.'],
    ['mute', '🔔 <b>api&lt;1&gt;</b> is no longer muted.'],
  ] as const)('an ended %s says so, scope escaped', (kind, text) => {
    expect(formatWindowEnded(window({ kind }), 'api<1>')).toBe(text);
  });
});

describe('formatLatency', () => {
  it.each([
    [0, '0 ms'],
    [0.4, '0 ms'],
    [123, '123 ms'],
    [123.6, '124 ms'],
    [999.4, '999 ms'],
    [999.6, '1.00 s'],
    [1_000, '1.00 s'],
    [1_250, '1.25 s'],
    [10_000, '10.00 s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatLatency(ms)).toBe(text);
  });
});

describe('formatTime', () => {
  it.each([
    [0, '1970-01-01 00:00:00 UTC'],
    [AT, '2026-11-23 18:00:05 UTC'],
    [AT + 999, '2026-11-23 18:00:05 UTC'],
    [Date.UTC(2026, 0, 1, 0, 0, 0) - 1, '2025-12-31 23:59:59 UTC'],
  ])('%d → %s', (ms, text) => {
    expect(formatTime(ms)).toBe(text);
  });
});

describe('formatResult', () => {
  it.each<[CheckResult, string]>([
    [{ ok: true, at: AT, latencyMs: 87, status: 204 }, 'HTTP 204 in 87 ms'],
    [{ ok: true, at: AT, latencyMs: 2_500 }, 'connected in 2.50 s'],
    [{ ok: false, at: AT, latencyMs: 10_000, failure: 'timeout', reason: 'timeout after 10s' }, 'timeout after 10s'],
    [{ ok: false, at: AT, latencyMs: 3 }, 'failed'],
  ])('%j → %s', (result, text) => {
    expect(formatResult(result)).toBe(text);
  });
});

describe('alertLogFields', () => {
  it('is one flat record with target, chat and the change', () => {
    expect(alertLogFields(target, down())).toEqual({
      target: target.id,
      chat: CHAT,
      name: 'payments-api',
      address: target.url,
      from: 'UP',
      to: 'DOWN',
      reason: 'HTTP 503, expected 200-299',
      at: '2026-11-23T18:00:05.000Z',
    });
  });
});
