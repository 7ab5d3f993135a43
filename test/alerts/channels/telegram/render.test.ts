import { describe, expect, it } from 'vitest';
import {
  ALERT_ACTIONS,
  COMPACT_MESSAGE_MAX,
  formatAlert,
  formatAlertLine,
  formatAlertMessage,
  formatBlip,
  formatEscalation,
  formatNotice,
  formatRecoveredWindowEnded,
  formatReminder,
  formatResolution,
  formatResolutionGroup,
  formatSource,
  formatStoreFailing,
  formatStoreRecovered,
  formatTrace,
  formatWarning,
  formatWindowEnded,
  formatWindowStarted,
  GROUP_MESSAGE_MAX,
  mentionOf,
  traceFits,
  type Button,
  type ShownIncident,
} from '../../../../src/alerts/channels/telegram/render.js';
import { escapeHtml, formatLatency, formatResult, formatTime } from '../../../../src/alerts/format.js';
import { MESSAGE_LIMIT } from '../../../../src/alerts/split.js';
import type { CheckResult } from '../../../../src/domain/check.js';
import { shortId } from '../../../../src/domain/incident.js';
import type { IncidentFacts, Notification, NotificationKind, TargetFacts, TraceFacts } from '../../../../src/domain/notification.js';
import type { StateChange } from '../../../../src/domain/state.js';
import { targetAddress } from '../../../../src/kinds/index.js';
import { httpTarget, tcpTarget } from '../../../support/target-server.js';

const AT = Date.UTC(2026, 10, 23, 18, 0, 5);
const CHAT = -1001234567890;
const LONG_NAME = 'a'.repeat(32);
const KEY = shortId(AT, 0);
const source = { label: 'fra-1', address: '203.0.113.7' };

/** The facts of payments-api's alert: every user value needs escaping. */
const payments: IncidentFacts = {
  id: shortId(AT, 1),
  target: { id: `${CHAT}/payments-api`, name: 'payments-api', address: 'https://api.example.com/health?a=1&b=<x>', note: '<b>call</b> & "Bob"' },
  reason: 'HTTP 503, expected 200-299',
  failure: 'status',
  openedAt: AT,
  failedChecks: 2,
  latencyMs: 250,
  source,
  host: 'api.example.com',
  port: 443,
};

/** The facts of target `name`'s incident (no note), with overrides. */
const factsOf = (name: string, over: Partial<IncidentFacts> = {}): IncidentFacts => ({
  id: `i-${name}`,
  target: { id: `${CHAT}/${name}`, name, address: `https://${name}.example.com/health` },
  reason: 'HTTP 503, expected 200-299',
  failure: 'status',
  openedAt: AT,
  failedChecks: 2,
  latencyMs: 250,
  source,
  ...over,
});

/** Target `name`'s incident as an alert message shows it. */
const member = (name: string, over: Partial<ShownIncident> = {}, facts: Partial<IncidentFacts> = {}): ShownIncident => ({ facts: factsOf(name, facts), ...over });

type Up = Extract<Notification, { kind: 'up' }>;
const upOf = (facts: IncidentFacts, afterMs: number, over: Partial<Up> = {}): Up => ({
  kind: 'up',
  id: `${facts.id}:end`,
  at: AT + afterMs,
  chatId: CHAT,
  targetId: facts.target.id,
  incident: facts,
  resolvedAt: AT + afterMs,
  ...over,
});

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

describe('formatSource', () => {
  it.each([
    [{ label: 'fra-1', address: '203.0.113.7' }, 'fra-1 (203.0.113.7)'],
    [{ label: 'home' }, 'home'],
    [{ label: 'lab <1>', address: '10.0.0.1 & co' }, 'lab &lt;1&gt; (10.0.0.1 &amp; co)'],
  ])('%j → %s', (s, text) => {
    expect(formatSource(s)).toBe(text);
  });
});

describe('formatAlert', () => {
  it('has the exact lines of a DOWN alert, every user value escaped', () => {
    expect(formatAlert(payments).split('\n')).toEqual([
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
    const text = formatAlert({ ...payments, reason: 'keyword "<ok> & done" not found', failure: 'keyword', source: { label: 'lab <1>', address: '10.0.0.1 & co' } });
    expect(text).toContain('Reason: keyword &quot;&lt;ok&gt; &amp; done&quot; not found');
    expect(text).toContain('From: lab &lt;1&gt; (10.0.0.1 &amp; co)');
    expect(text).not.toContain('<ok>');
  });

  it('never lets a raw user value through', () => {
    const text = formatAlert(payments);
    expect(text).not.toContain('<x>');
    expect(text).not.toContain('<b>call</b>');
    // The only tags are the ones the alert itself adds.
    expect(text.match(/<[^>]*>/g)).toEqual(['<b>', '</b>']);
  });

  it('without a latency, note or source address: no latency or note line, the label alone', () => {
    const plain = tcpTarget({ id: '1/db', name: 'db', host: '::1', port: 5432 });
    const facts: IncidentFacts = { id: 'i', target: { id: plain.id, name: plain.name, address: targetAddress(plain) }, reason: 'unknown', openedAt: AT, failedChecks: 3, source: { label: 'home' } };
    expect(formatAlert(facts).split('\n')).toEqual(['🔴 <b>db</b> is DOWN', '[::1]:5432', 'Reason: unknown', 'When: 2026-11-23 18:00:05 UTC', 'Failed checks: 3', 'From: home']);
  });

  it('clips a very long address to 300 characters before escaping', () => {
    const text = formatAlert({ ...payments, target: { ...payments.target, address: `https://example.com/${'&'.repeat(400)}` } });
    const address = text.split('\n')[1]!;
    expect(address).toBe(`https://example.com/${'&amp;'.repeat(279)}…`);
  });
});

describe('formatAlertMessage: one incident', () => {
  it('an open incident shows the alert text and the four buttons; Ack names the alert message', () => {
    const rendered = formatAlertMessage(KEY, [{ facts: payments }]);
    expect(rendered.text).toBe(formatAlert(payments));
    expect(rendered.buttons).toEqual([
      [
        { text: 'Recheck', data: `${ALERT_ACTIONS.recheck}:${payments.target.id}` },
        { text: 'Mute 1h', data: `${ALERT_ACTIONS.mute}:${payments.target.id}` },
        { text: 'Trace', data: `${ALERT_ACTIONS.trace}:${payments.target.id}` },
        { text: 'Ack', data: `${ALERT_ACTIONS.ack}:${KEY}` },
      ],
    ]);
  });

  it('keeps callback data within 64 bytes for the longest target id and message key', () => {
    const key = shortId(Date.UTC(2100, 0, 1), 46_655);
    const facts = factsOf(LONG_NAME, { id: shortId(Date.UTC(2100, 0, 1), 46_654) });
    expect(facts.target.id).toBe('-1001234567890/' + LONG_NAME);
    const data = formatAlertMessage(key, [{ facts }]).buttons!.flat().map((b) => b.data);
    expect(data).toHaveLength(4);
    expect(data.at(-1)).toBe(`ak:${key}`);
    for (const d of data) expect(Buffer.byteLength(d, 'utf8')).toBeLessThanOrEqual(64);
  });

  it('an acknowledged incident adds who and when, and drops the Ack button', () => {
    const rendered = formatAlertMessage(KEY, [{ facts: payments, ack: { name: 'Ann <ops>', at: AT + 60_000 } }]);
    expect(rendered.text.split('\n').slice(-2)).toEqual(['', '👀 Acknowledged by Ann &lt;ops&gt; at 2026-11-23 18:01:05 UTC']);
    expect(labels(rendered.buttons)).toEqual(['Recheck', 'Mute 1h', 'Trace']);
  });

  it('a resolved incident says so with the downtime and has no buttons', () => {
    const rendered = formatAlertMessage(KEY, [{ facts: payments, resolvedAt: AT + 300_000, resolution: 'recovered' }]);
    expect(rendered.text.startsWith(formatAlert(payments))).toBe(true);
    expect(rendered.text.split('\n').slice(-2)).toEqual(['', '✅ <b>Resolved</b> at 2026-11-23 18:05:05 UTC after 5m']);
    expect(rendered.buttons).toBeUndefined();
  });

  it('a resolved incident without a resolution reads Resolved', () => {
    expect(formatAlertMessage(KEY, [{ facts: payments, resolvedAt: AT + 60_000 }]).text.split('\n').at(-1)).toBe('✅ <b>Resolved</b> at 2026-11-23 18:01:05 UTC after 1m');
  });

  it('a resolved, acknowledged incident keeps both lines', () => {
    const rendered = formatAlertMessage(KEY, [{ facts: payments, ack: { name: 'Ann', at: AT + 60_000 }, resolvedAt: AT + 300_000, resolution: 'recovered' }]);
    expect(rendered.text).toContain('👀 Acknowledged by Ann at 2026-11-23 18:01:05 UTC');
    expect(rendered.text).toContain('✅ <b>Resolved</b> at 2026-11-23 18:05:05 UTC after 5m');
    expect(rendered.buttons).toBeUndefined();
  });

  it.each([
    ['paused', '✅ <b>Closed: checks paused</b> at 2026-11-23 18:00:35 UTC after 30s'],
    ['removed', '✅ <b>Closed: target removed</b> at 2026-11-23 18:00:35 UTC after 30s'],
    ['maintenance', '✅ <b>Closed: planned maintenance</b> at 2026-11-23 18:00:35 UTC after 30s'],
  ] as const)('an incident closed because of %s says so', (resolution, line) => {
    const rendered = formatAlertMessage(KEY, [{ facts: payments, resolvedAt: AT + 30_000, resolution }]);
    expect(rendered.text.split('\n').at(-1)).toBe(line);
    expect(rendered.text).not.toContain('Resolved');
    expect(rendered.buttons).toBeUndefined();
  });
});

describe('formatTrace and the alert that carries it', () => {
  const trace: TraceFacts = {
    ok: true,
    host: 'api.example.com',
    summary: 'reached 203.0.113.10 in 3 hops',
    mode: 'TCP port 443',
    table: 'HOST <1>   Loss%\n1. 10.0.0.1  0.0%',
    source,
  };

  it('a finished trace: a title line and the table in <pre>, escaped', () => {
    expect(formatTrace(trace).split('\n')).toEqual([
      '🛰 Trace to <b>api.example.com</b> from fra-1 (203.0.113.7) (TCP port 443): reached 203.0.113.10 in 3 hops',
      '<pre>HOST &lt;1&gt;   Loss%',
      '1. 10.0.0.1  0.0%</pre>',
    ]);
  });

  it('a failed trace: one line with why', () => {
    expect(formatTrace({ ok: false, host: 'a<b>', summary: 'mtr not installed & no <fallback>', mode: 'ICMP', source })).toBe(
      '🛰 Trace to <b>a&lt;b&gt;</b> failed: mtr not installed &amp; no &lt;fallback&gt;',
    );
  });

  it('goes below the alert while the whole stays within the message limit, and is left out beyond', () => {
    expect(traceFits(payments, trace)).toBe(true);
    expect(formatAlertMessage(KEY, [{ facts: payments }], trace).text).toBe(`${formatAlert(payments)}\n\n${formatTrace(trace)}`);
    const huge = { ...trace, table: 'x'.repeat(MESSAGE_LIMIT) };
    expect(traceFits(payments, huge)).toBe(false);
    expect(formatAlertMessage(KEY, [{ facts: payments }], huge).text).toBe(formatAlert(payments));
  });
});

describe('formatAlertMessage: several incidents', () => {
  it('groups at most 25 incidents with details, and lists at most 100 by name beyond', () => {
    expect(GROUP_MESSAGE_MAX).toBe(25);
    expect(COMPACT_MESSAGE_MAX).toBe(100);
  });

  const three = (): ShownIncident[] => [member('api'), member('web', {}, { openedAt: AT - 2_000 }), member('db', {}, { openedAt: AT + 3_000 })];

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
      { ...web!, ack: { name: 'Ann <ops>', at: AT } },
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
    const ack = { name: 'Ann', at: AT };
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
  ])(`${GROUP_MESSAGE_MAX} incidents with the longest %s reasons, addresses and names still fit one message`, (_, address, reason, ackName) => {
    const names = Array.from({ length: GROUP_MESSAGE_MAX }, (_, n) => `${String(n).padStart(2, '0')}${'n'.repeat(30)}`);
    const many: ShownIncident[] = names.map((name, n) => ({
      facts: factsOf(name, { id: `i${n}`, reason, target: { id: `${CHAT}/${name}`, name, address } }),
      ack: { name: ackName, at: AT },
    }));
    many[0] = { facts: many[0]!.facts, resolvedAt: AT + 3 * 86_400_000 + 3_661_000, resolution: 'recovered' };
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
    const many = Array.from({ length: GROUP_MESSAGE_MAX }, (_, n) => member(`t${n}`, { ack: { name: '@ann', at: AT } }));
    const { text } = formatAlertMessage(KEY, many);
    expect(text.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
    expect(text.split('\n')[1]).toBe('🔴 <b>t0</b> · HTTP 503, expected 200-299 · https://t0.example.com/health · 👀 @ann');
  });

  it(`beyond ${GROUP_MESSAGE_MAX}: open names grouped by reason, escaped, then the resolved ones`, () => {
    const many: ShownIncident[] = [
      ...Array.from({ length: 20 }, (_, n) => member(`a${n}`, n === 1 ? { ack: { name: 'Ann', at: AT } } : {})),
      ...Array.from({ length: 5 }, (_, n) => member(`t<${n}>`, {}, { reason: 'timeout after 10s & <more>' })),
      member('done', { resolvedAt: AT + 60_000, resolution: 'recovered' }),
    ];
    const { text, buttons } = formatAlertMessage(KEY, many);
    const a = Array.from({ length: 20 }, (_, n) => `a${n}${n === 1 ? '👀' : ''}`).join(', ');
    const t = Array.from({ length: 5 }, (_, n) => `t&lt;${n}&gt;`).join(', ');
    expect(text.split('\n')).toEqual([
      '🔴 <b>25 of 26 targets are DOWN</b>',
      `🔴 <i>HTTP 503, expected 200-299</i> (20): ${a}`,
      `🔴 <i>timeout after 10s &amp; &lt;more&gt;</i> (5): ${t}`,
      '✅ resolved (1): done',
      'Since: 2026-11-23 18:00:05 UTC',
    ]);
    expect(labels(buttons)).toEqual(['Ack all']);
  });

  it(`${COMPACT_MESSAGE_MAX} acknowledged targets with 32-character names fit one compact message`, () => {
    const many = Array.from({ length: COMPACT_MESSAGE_MAX }, (_, n) =>
      member(`${String(n).padStart(3, '0')}${'n'.repeat(29)}`, { ack: { name: 'Ann', at: AT } }, { reason: n % 2 ? 'HTTP 503' : 'timeout after 10s' }),
    );
    const { text, buttons } = formatAlertMessage(KEY, many);
    expect(text.length).toBeLessThanOrEqual(MESSAGE_LIMIT);
    expect(text.split('\n')).toHaveLength(4);
    for (const i of many) expect(text).toContain(`${i.facts.target.name}👀`);
    expect(buttons).toBeUndefined();
  });
});

describe('formatAlertLine', () => {
  it('is the name, reason and address, every user value escaped', () => {
    expect(formatAlertLine(payments)).toBe('<b>payments-api</b> · HTTP 503, expected 200-299 · https://api.example.com/health?a=1&amp;b=&lt;x&gt;');
  });

  it('says the reason it is given (unknown without a result), and shows a tcp address', () => {
    const plain = tcpTarget({ id: '1/db', name: 'db', host: '::1', port: 5432 });
    expect(formatAlertLine(factsOf('db', { reason: 'unknown', target: { id: plain.id, name: 'db', address: targetAddress(plain) } }))).toBe('<b>db</b> · unknown · [::1]:5432');
  });

  it('clips a long reason and address to 60 characters each before escaping', () => {
    const line = formatAlertLine(factsOf('x', { reason: '<'.repeat(100), target: { id: '1/x', name: 'x', address: `https://example.com/${'a'.repeat(100)}` } }));
    const [, reason, address] = line.split(' · ');
    expect(reason).toBe(`${'&lt;'.repeat(59)}…`);
    expect(address).toBe(`https://example.com/${'a'.repeat(39)}…`);
    expect(line).not.toContain('<<');
  });
});

describe('formatResolution', () => {
  it('has the downtime, the recovering check and who acknowledged', () => {
    expect(formatResolution(upOf(payments, 5_405_000, { now: 'HTTP 200 in 120 ms', ackBy: 'Ann & <Bob>' })).split('\n')).toEqual([
      '🟢 <b>payments-api</b> is UP again',
      'Down for 1h30m5s (since 2026-11-23 18:00:05 UTC)',
      'Now: HTTP 200 in 120 ms',
      'Acknowledged by Ann &amp; &lt;Bob&gt;',
    ]);
  });

  it('leaves out the check when there is none, and the ack line when nobody acknowledged', () => {
    expect(formatResolution(upOf(payments, 60_000)).split('\n')).toEqual(['🟢 <b>payments-api</b> is UP again', 'Down for 1m (since 2026-11-23 18:00:05 UTC)']);
  });

  it('escapes the name and the check', () => {
    const text = formatResolution(upOf(factsOf('web<1>'), 1_000, { now: 'connected <fast>' }));
    expect(text).toContain('<b>web&lt;1&gt;</b>');
    expect(text).toContain('Now: connected &lt;fast&gt;');
  });
});

describe('formatResolutionGroup', () => {
  it('counts the targets and lists each with its downtime, names escaped', () => {
    const text = formatResolutionGroup([upOf(factsOf('api'), 90_000), upOf(factsOf('web<1>'), 3_600_000)]);
    expect(text.split('\n')).toEqual(['🟢 <b>2 targets are UP again</b>', '• <b>api</b> · down for 1m30s', '• <b>web&lt;1&gt;</b> · down for 1h']);
  });
});

describe('formatBlip', () => {
  it('an outage over before its alert went out: one line with its length and reason', () => {
    expect(formatBlip(factsOf('api', { reason: 'HTTP 503' }), AT + 22_000)).toBe('⚡ <b>api</b> was DOWN for 22s: HTTP 503');
  });

  it('escapes the name and the reason, and clips the reason to 80 characters', () => {
    expect(formatBlip(factsOf('a<b>', { reason: 'keyword "<ok>" & more' }), AT + 1_000)).toBe('⚡ <b>a&lt;b&gt;</b> was DOWN for 1s: keyword &quot;&lt;ok&gt;&quot; &amp; more');
    const clipped = formatBlip(factsOf('api', { reason: 'r'.repeat(100) }), AT + 1_000);
    expect(clipped).toBe(`⚡ <b>api</b> was DOWN for 1s: ${'r'.repeat(79)}…`);
  });

  it.each([
    ['paused', ' (then paused)'],
    ['removed', ' (then removed)'],
    ['maintenance', ' (then planned maintenance)'],
  ] as const)('an outage that ended because of %s says so', (why, end) => {
    expect(formatBlip(factsOf('api', { reason: 'HTTP 503' }), AT + 22_000, why)).toBe(`⚡ <b>api</b> was DOWN for 22s: HTTP 503${end}`);
  });

  it('an end before the start (clocks) reads 0s', () => {
    expect(formatBlip(factsOf('api', { reason: 'HTTP 503' }), AT - 5_000)).toBe('⚡ <b>api</b> was DOWN for 0s: HTTP 503');
  });
});

describe('formatReminder', () => {
  it('one incident: its name, how long, and the reason, escaped', () => {
    const text = formatReminder([factsOf('api', { reason: 'keyword "<ok>" not found' })], AT + 3_600_000);
    expect(text).toBe('⏰ <b>api</b> is still DOWN (for 1h) and not acknowledged: keyword &quot;&lt;ok&gt;&quot; not found');
  });

  it('several: a count and one line each with how long', () => {
    const text = formatReminder([factsOf('api'), factsOf('web', { openedAt: AT + 1_800_000 })], AT + 7_200_000);
    expect(text.split('\n')).toEqual(['⏰ <b>2 targets are still DOWN</b> and not acknowledged', '• <b>api</b> · for 2h', '• <b>web</b> · for 1h30m']);
  });
});

describe('escalation', () => {
  it.each([
    [{ username: 'alice_sre', name: 'Alice', id: 1 }, '@alice_sre'],
    [{ id: 4242, name: 'Bob <b>' }, '<a href="tg://user?id=4242">Bob &lt;b&gt;</a>'],
    [{ name: 'Carol & co' }, 'Carol &amp; co'],
  ])('mentionOf(%j) is %s', (person, text) => {
    expect(mentionOf(person)).toBe(text);
  });

  it('names the person, the target and how long nobody acknowledged it', () => {
    expect(formatEscalation(factsOf('api<1>'), { username: 'alice_sre', name: 'Alice' }, AT + 15 * 60_000)).toBe(
      '🚨 @alice_sre: <b>api&lt;1&gt;</b> has been DOWN for 15m and nobody acknowledged it. Please take a look (Ack on the alert stops this).',
    );
  });

  it.each([
    [1, '<b>api</b> and 1 more target have been DOWN for 30m'],
    [3, '<b>api</b> and 3 more targets have been DOWN for 30m'],
  ])('a grouped alert with %d more', (others, words) => {
    expect(formatEscalation(factsOf('api'), { id: 7, name: 'Bob' }, AT + 30 * 60_000, others)).toContain(`: ${words} and nobody`);
  });
});

describe('formatWarning', () => {
  const t: TargetFacts = { id: '1/api', name: 'api<1>', address: 'x' };
  it.each([
    [{ what: 'cert', expiresAt: AT + 5 * 86_400_000, daysLeft: 5 }, '⚠️ The TLS certificate of <b>api&lt;1&gt;</b> expires in 5 days (2026-11-28 18:00:05 UTC).'],
    [{ what: 'cert', expiresAt: AT + 86_400_000, daysLeft: 1 }, '⚠️ The TLS certificate of <b>api&lt;1&gt;</b> expires in 1 day (2026-11-24 18:00:05 UTC).'],
    [{ what: 'token', expiresAt: AT - 1_000, daysLeft: 0 }, '⚠️ The API token (JWT in the Authorization header) of <b>api&lt;1&gt;</b> expired on 2026-11-23 18:00:04 UTC.'],
    [{ what: 'rate', remaining: 3, limit: 100 }, '⚠️ <b>api&lt;1&gt;</b> is close to its rate limit: 3 of 100 requests left.'],
  ] as const)('%j', (w, text) => {
    expect(formatWarning(t, w)).toBe(text);
  });
});

describe('window messages', () => {
  it('a started maintenance names the scope, the end and the reason, escaped', () => {
    expect(formatWindowStarted('api & co', '2026-11-23 21:00 Europe/Berlin', 'db <upgrade>')).toBe(
      '🔧 Maintenance started for <b>api &amp; co</b> until 2026-11-23 21:00 Europe/Berlin: db &lt;upgrade&gt;. Checks go on; alerts wait.',
    );
    expect(formatWindowStarted('all targets', '2026-11-23 20:00 UTC')).toBe('🔧 Maintenance started for <b>all targets</b> until 2026-11-23 20:00 UTC. Checks go on; alerts wait.');
  });

  it.each([
    ['maintenance', '🔧 Maintenance ended for <b>api&lt;1&gt;</b>. Alerts are back on.'],
    ['mute', '🔔 <b>api&lt;1&gt;</b> is no longer muted.'],
  ] as const)('an ended %s says so, scope escaped', (kind, text) => {
    expect(formatWindowEnded('api<1>', kind)).toBe(text);
  });

  it('an until-up window ended by the recovery says so', () => {
    expect(formatRecoveredWindowEnded('api<1>')).toBe('🔧 Maintenance of <b>api&lt;1&gt;</b> ended: it is UP again. Alerts are back on.');
  });
});

describe('store notices', () => {
  it('failing: since when and why, escaped and clipped to 200 characters, and what it means', () => {
    expect(formatStoreFailing('SQLITE_FULL: <disk> & full', AT)).toBe(
      '💾 Lookout cannot save to its database since 2026-11-23 18:00:05 UTC: SQLITE_FULL: &lt;disk&gt; &amp; full. Checks and alerts go on from memory; saving is retried until it works. Whatever is not saved would be lost if Lookout stopped now.',
    );
    expect(formatStoreFailing('e'.repeat(300), AT)).toContain(`: ${'e'.repeat(199)}…. Checks`);
  });

  it.each([
    [1, '💾 Lookout saves again (it could not since 2026-11-23 18:00:05 UTC; 1 write caught up).'],
    [3, '💾 Lookout saves again (it could not since 2026-11-23 18:00:05 UTC; 3 writes caught up).'],
    [0, '💾 Lookout saves again (it could not since 2026-11-23 18:00:05 UTC; 0 writes caught up).'],
  ])('recovered after %d writes', (retried, text) => {
    expect(formatStoreRecovered(AT, retried)).toBe(text);
  });
});

describe('formatNotice', () => {
  const target: TargetFacts = { id: `${CHAT}/api`, name: 'api<1>', address: 'https://api.example.com/' };
  const base = { at: AT, chatId: CHAT };
  // One of every kind: a kind added to Notification and left out here is a compile error.
  const every: { [K in NotificationKind]: Extract<Notification, { kind: K }> } = {
    down: { kind: 'down', id: 'i:down', ...base, incident: payments },
    up: { ...upOf(payments, 60_000), ...base },
    closed: { kind: 'closed', id: 'i:end', ...base, incident: payments, resolvedAt: AT + 1_000, why: 'paused' },
    acknowledged: { kind: 'acknowledged', id: 'i:ack', ...base, incidentIds: ['i'], by: { userId: 1, name: 'Ann' } },
    reminder: { kind: 'reminder', id: 'i:remind:1', ...base, incident: payments },
    escalation: { kind: 'escalation', id: 'i:esc:1', ...base, incident: payments, person: { name: 'Bob' }, step: 1 },
    trace: { kind: 'trace', id: 'i:trace', ...base, incidentId: 'i', trace: { ok: false, host: 'h', summary: 's', mode: 'ICMP', source } },
    degraded: { kind: 'degraded', id: 'd', ...base, target, detail: 'latency 900 ms over 800 ms' },
    normal: { kind: 'normal', id: 'n', ...base, target, durationMs: 125_000 },
    maintenance: { kind: 'maintenance', id: 'm', ...base, target, detail: 'status page says <b>maint</b>' },
    'maintenance-over': { kind: 'maintenance-over', id: 'mo', ...base, target, durationMs: 3_600_000 },
    warning: { kind: 'warning', id: 'w', ...base, target, warning: { what: 'rate', remaining: 3, limit: 100 } },
    'window-started': { kind: 'window-started', id: 'ws', ...base, scope: 'api & co', until: '2026-11-23 20:00 UTC', reason: 'db' },
    test: { kind: 'test', id: 't', ...base, destination: 'ops', by: 'Ann <a>' },
    'destination-paused': { kind: 'destination-paused', id: 'dp', ...base, destination: 'ops', channel: 'slack', why: 'HTTP 404 <no_service>' },
    'window-ended': { kind: 'window-ended', id: 'we', ...base, scope: 'all targets', window: 'mute' },
    'window-ended-up': { kind: 'window-ended-up', id: 'wu', ...base, scope: 'api<1>' },
    'store-failing': { kind: 'store-failing', id: 'sf', ...base, cause: 'SQLITE_BUSY', since: AT },
    'store-recovered': { kind: 'store-recovered', id: 'sr', ...base, since: AT, retried: 2 },
    location: { kind: 'location', id: 'loc', ...base, location: 'nyc', lost: true, remaining: ['fra', 'sgp'], targets: 3 },
    change: { kind: 'change', id: 'ch', ...base, change: { action: 'added', subject: 'api<1>', by: 'ci-deploy', detail: 'https://a.example/ every 30s' } },
  };

  const plain: Array<[NotificationKind, string]> = [
    ['degraded', '🟡 <b>api&lt;1&gt;</b> is DEGRADED: latency 900 ms over 800 ms'],
    ['normal', '🟢 <b>api&lt;1&gt;</b> is back to normal (was DEGRADED for 2m5s)'],
    ['maintenance', '🔧 <b>api&lt;1&gt;</b> reports maintenance: status page says &lt;b&gt;maint&lt;/b&gt;. Checks go on; no alert while it lasts.'],
    ['maintenance-over', '🔧 <b>api&lt;1&gt;</b> is out of maintenance after 1h'],
    ['warning', '⚠️ <b>api&lt;1&gt;</b> is close to its rate limit: 3 of 100 requests left.'],
    ['window-started', '🔧 Maintenance started for <b>api &amp; co</b> until 2026-11-23 20:00 UTC: db. Checks go on; alerts wait.'],
    ['window-ended', '🔔 <b>all targets</b> is no longer muted.'],
    ['window-ended-up', '🔧 Maintenance of <b>api&lt;1&gt;</b> ended: it is UP again. Alerts are back on.'],
    ['store-failing', formatStoreFailing('SQLITE_BUSY', AT)],
    ['store-recovered', formatStoreRecovered(AT, 2)],
    ['test', '🧪 A test notification from Lookout (asked for by Ann &lt;a&gt;).'],
    ['location', '📍 Location <b>nyc</b> stopped reporting (its instances are gone): 3 targets here are judged from fra, sgp until it is back.'],
    ['change', '➕ <b>api&lt;1&gt;</b> added by token ci-deploy: https://a.example/ every 30s'],
    ['destination-paused', '⏸ Alerts to <b>ops</b> (slack) are paused: it answered HTTP 404 &lt;no_service&gt;. Fix it, then /notify resume ops.'],
  ];

  it.each(plain)('%s is a plain message: %s', (kind, text) => {
    expect(formatNotice(every[kind])).toBe(text);
  });

  it.each(['down', 'up', 'closed', 'acknowledged', 'reminder', 'escalation', 'trace'] as const)('%s is not a plain message: undefined', (kind) => {
    expect(formatNotice(every[kind])).toBeUndefined();
  });

  it('every kind is either a plain message or an alert kind', () => {
    const alertKinds = ['down', 'up', 'closed', 'acknowledged', 'reminder', 'escalation', 'trace'];
    expect(new Set([...plain.map(([k]) => k), ...alertKinds])).toEqual(new Set(Object.keys(every)));
  });

  it('leaves out the detail when there is none', () => {
    expect(formatNotice({ kind: 'degraded', id: 'd', ...base, target })).toBe('🟡 <b>api&lt;1&gt;</b> is DEGRADED');
    expect(formatNotice({ kind: 'maintenance', id: 'm', ...base, target })).toBe('🔧 <b>api&lt;1&gt;</b> reports maintenance. Checks go on; no alert while it lasts.');
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
    [{ ok: true, at: AT, latencyMs: 1_250, reason: 'TLS handshake' }, 'TLS handshake in 1.25 s'],
    [{ ok: false, at: AT, latencyMs: 10_000, failure: 'timeout', reason: 'timeout after 10s' }, 'timeout after 10s'],
    [{ ok: false, at: AT, latencyMs: 3 }, 'failed'],
  ])('%j → %s', (result, text) => {
    expect(formatResult(result)).toBe(text);
  });
});
