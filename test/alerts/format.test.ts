import { describe, expect, it } from 'vitest';
import {
  ALERT_ACTIONS,
  alertLogFields,
  escapeHtml,
  formatAlert,
  formatIncidentAlert,
  formatLatency,
  formatResolution,
  formatResult,
  formatTime,
  type Button,
} from '../../src/alerts/format.js';
import type { CheckResult } from '../../src/domain/check.js';
import { incidentId, type Incident } from '../../src/domain/incident.js';
import type { StateChange } from '../../src/domain/state.js';
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

const incident = (over: Partial<Incident> = {}): Incident => ({
  id: incidentId(AT, 0),
  targetId: `${CHAT}/${LONG_NAME}`,
  chatId: CHAT,
  name: LONG_NAME,
  openedAt: AT,
  reason: 'HTTP 503, expected 200-299',
  alertText: formatAlert(target, down(), source),
  alertMessageId: 42,
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

describe('formatIncidentAlert', () => {
  it('an open incident shows the alert text and the four buttons', () => {
    const open = incident();
    const rendered = formatIncidentAlert(open);
    expect(rendered.text).toBe(open.alertText);
    expect(rendered.buttons).toEqual([
      [
        { text: 'Recheck', data: `${ALERT_ACTIONS.recheck}:${open.targetId}` },
        { text: 'Mute 1h', data: `${ALERT_ACTIONS.mute}:${open.targetId}` },
        { text: 'Trace', data: `${ALERT_ACTIONS.trace}:${open.targetId}` },
        { text: 'Ack', data: `${ALERT_ACTIONS.ack}:${open.id}` },
      ],
    ]);
  });

  it('keeps callback data within 64 bytes for the longest target id', () => {
    const open = incident({ id: incidentId(Date.UTC(2100, 0, 1), 46_655) });
    expect(open.targetId).toBe('-1001234567890/' + LONG_NAME);
    const data = formatIncidentAlert(open).buttons!.flat().map((b) => b.data);
    expect(data).toHaveLength(4);
    for (const d of data) expect(Buffer.byteLength(d, 'utf8')).toBeLessThanOrEqual(64);
  });

  it('an acknowledged incident adds who and when, and drops the Ack button', () => {
    const rendered = formatIncidentAlert(incident({ ack: { userId: 7, name: 'Ann <ops>', at: AT + 60_000 } }));
    expect(rendered.text.split('\n').slice(-2)).toEqual(['', '👀 Acknowledged by Ann &lt;ops&gt; at 2026-11-23 18:01:05 UTC']);
    expect(labels(rendered.buttons)).toEqual(['Recheck', 'Mute 1h', 'Trace']);
  });

  it('a resolved incident says so with the downtime and has no buttons', () => {
    const rendered = formatIncidentAlert(incident({ resolvedAt: AT + 300_000, resolution: 'recovered' }));
    expect(rendered.text.startsWith(incident().alertText)).toBe(true);
    expect(rendered.text.split('\n').slice(-2)).toEqual(['', '✅ <b>Resolved</b> at 2026-11-23 18:05:05 UTC after 5m']);
    expect(rendered.buttons).toBeUndefined();
  });

  it('a resolved, acknowledged incident keeps both lines', () => {
    const rendered = formatIncidentAlert(
      incident({ ack: { userId: 7, name: 'Ann', at: AT + 60_000 }, resolvedAt: AT + 300_000, resolution: 'recovered' }),
    );
    expect(rendered.text).toContain('👀 Acknowledged by Ann at 2026-11-23 18:01:05 UTC');
    expect(rendered.text).toContain('✅ <b>Resolved</b> at 2026-11-23 18:05:05 UTC after 5m');
    expect(rendered.buttons).toBeUndefined();
  });

  it.each([
    ['paused', '✅ <b>Closed: checks paused</b> at 2026-11-23 18:00:35 UTC after 30s'],
    ['removed', '✅ <b>Closed: target removed</b> at 2026-11-23 18:00:35 UTC after 30s'],
  ] as const)('an incident closed because the target was %s says so', (resolution, line) => {
    const rendered = formatIncidentAlert(incident({ resolvedAt: AT + 30_000, resolution }));
    expect(rendered.text.split('\n').at(-1)).toBe(line);
    expect(rendered.text).not.toContain('Resolved');
    expect(rendered.buttons).toBeUndefined();
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
