import { describe, expect, it } from 'vitest';
import type { TargetRequest } from '../../bench/flip-server.js';
import { readChat, readMentions, stillOpen, type Mention } from '../../bench/storm-chat.js';
import { replayOutages, scoreStorm, type Blackout } from '../../bench/storm-oracle.js';
import type { RecordedCall } from '../support/fake-telegram.js';

const CHAT = -100;
const RULES = { confirm: 2, recover: 1 };

describe('readMentions: what a message says about which target', () => {
  const cases: Array<[string, string, Mention[]]> = [
    ['single alert', '🔴 <b>t001</b> is DOWN\nhttp://x/t1\nReason: HTTP 503, expected 200-299', [{ name: 't001', says: 'down' }]],
    ['single alert once resolved', '🔴 <b>t001</b> is DOWN\nReason: HTTP 503\n\n✅ <b>Resolved</b> at 2026-12-02 08:20:42 UTC after 19s', [{ name: 't001', says: 'resolved' }]],
    [
      'grouped alert',
      '🔴 <b>1 of 2 targets are DOWN</b>\n🔴 <b>t001</b> · HTTP 503 · http://x/t1\n✅ <b>t002</b> · HTTP 503 · http://x/t2 · resolved after 10s\nSince: 2026-12-02 08:20:24 UTC',
      [
        { name: 't001', says: 'down' },
        { name: 't002', says: 'resolved' },
      ],
    ],
    [
      'storm alert by reason',
      '🔴 <b>2 of 3 targets are DOWN</b>\n🔴 <i>HTTP 503, expected 200-299</i> (2): t001, t002👀\n✅ resolved (1): t003\nSince: …',
      [
        { name: 't001', says: 'down' },
        { name: 't002', says: 'down' },
        { name: 't003', says: 'resolved' },
      ],
    ],
    ['single resolution', '🟢 <b>t001</b> is UP again\nDown for 10s (since …)', [{ name: 't001', says: 'up' }]],
    [
      'grouped resolution',
      '🟢 <b>2 targets are UP again</b>\n• <b>t001</b> · down for 19s\n• <b>t002</b> · down for 1m 2s',
      [
        { name: 't001', says: 'up' },
        { name: 't002', says: 'up' },
      ],
    ],
    ['a continued grouped resolution (split message)', '• <b>t101</b> · down for 19s', [{ name: 't101', says: 'up' }]],
    ['blip', '⚡ <b>t001</b> was DOWN for 22s: HTTP 503', [{ name: 't001', says: 'blip' }]],
    ['reminder', '⏰ <b>t001</b> is still DOWN (for 1h) and not acknowledged: HTTP 503', []],
    ['grouped reminder', '⏰ <b>2 targets are still DOWN</b> and not acknowledged\n• <b>t001</b> · for 1h', []],
    ['end of DEGRADED', '🟢 <b>t001</b> is back to normal (was DEGRADED for 5m)', []],
    ['all resolved header', '✅ <b>3 targets were DOWN</b>, all resolved', []],
  ];
  it.each(cases)('%s', (_, html, expected) => {
    expect(readMentions(html)).toEqual(expected);
  });

  it('tells an alert still open by its Ack button or a 🔴 line', () => {
    expect(stillOpen('🔴 <b>t001</b> is DOWN\nReason: x', ['Recheck', 'Ack'])).toEqual({ open: true, names: ['t001'] });
    expect(stillOpen('🔴 <b>t001</b> is DOWN\n\n✅ <b>Resolved</b> at …', [])).toEqual({ open: false, names: [] });
    expect(stillOpen('🔴 <b>2 of 2 targets are DOWN</b>\n🔴 <i>HTTP 503</i> (2): a1, a2', []).open).toBe(true);
    expect(stillOpen('✅ <b>2 targets were DOWN</b>, all resolved\n✅ <b>a1</b> · x\n✅ <b>a2</b> · x', [])).toEqual({ open: false, names: [] });
  });
});

/** Requests from a compact script: `F` a 503, `S` a 200, at the given seconds. */
const requests = (script: Array<[number, 'F' | 'S']>): TargetRequest[] => script.map(([s, r]) => ({ at: s * 1_000, ok: r === 'S' }));

describe('replayOutages: Lookout\'s rules over what a target saw', () => {
  const cases: Array<[string, Array<[number, 'F' | 'S']>, Blackout[], Array<[number, number, number | undefined]>]> = [
    ['two failures make an outage, a success ends it', [[0, 'S'], [10, 'F'], [15, 'F'], [25, 'S']], [], [[10, 15, 25]]],
    ['one failure is no outage', [[0, 'F'], [5, 'S'], [15, 'F'], [20, 'F'], [30, 'F'], [40, 'S']], [], [[15, 20, 40]]],
    ['a first check that fails twice is an outage too', [[0, 'F'], [5, 'F']], [], [[0, 5, undefined]]],
    // The process died between the two failures: it forgot the first, and the outage ended before a second.
    ['lenient: a kill between the failures forgets the first', [[10, 'F'], [15, 'F'], [25, 'S']], [{ from: 12_000, to: 13_000 }], []],
    // The answer that confirmed the outage came just before the kill, and the outage was still on after it.
    ['lenient: an answer just before a kill is unseen', [[10, 'F'], [15, 'F'], [22, 'F'], [27, 'F'], [35, 'S']], [{ from: 14_500, to: 16_000 }], [[22, 27, 35]]],
  ];
  it.each(cases)('%s', (_, script, blackouts, expected) => {
    expect(replayOutages(requests(script), RULES, blackouts).map((e) => [e.firstFailAt / 1_000, e.downAt / 1_000, e.upAt === undefined ? undefined : e.upAt / 1_000])).toEqual(expected);
  });
});

describe('scoreStorm: the chat against the server', () => {
  let id = 0;
  const send = (s: number, text: string): RecordedCall => ({ method: 'sendMessage', payload: { chat_id: CHAT, text }, at: s * 1_000, bodyBytes: 0, result: { message_id: ++id } });
  const down = (s: number): RecordedCall => send(s, `🔴 <b>t000</b> is DOWN\nWhen: ${s}`);
  const up = (s: number): RecordedCall => send(s, `🟢 <b>t000</b> is UP again\nsince ${s}`);
  // Two outages: 10-25 s (confirmed at 15) and 50-65 s (confirmed at 55).
  const seen = requests([[0, 'S'], [10, 'F'], [15, 'F'], [25, 'S'], [35, 'S'], [50, 'F'], [55, 'F'], [65, 'S']]);
  const score = (calls: RecordedCall[]) =>
    scoreStorm({ names: ['t000'], requests: [seen], story: readChat(calls, CHAT), rules: RULES, blackouts: [], finalMessages: [], t0: 0 });

  it('counts nothing wrong when each outage is told once, in order', () => {
    expect(score([down(16), up(26), down(56), up(66)])).toMatchObject({
      expected_outages: 2, told_down: 2, told_up: 2, lost_outages: 0, lost_ups: 0, out_of_order_events: 0, duplicate_downs: 0, lost_final_resolutions: 0,
    });
  });

  it('calls DOWN, DOWN with a recovery between and no UP ever a lost UP, out of order', () => {
    expect(score([down(16), down(56), up(66)])).toMatchObject({ lost_ups: 1, down_after_down: 1, down_after_down_up_lost: 1, out_of_order_targets: 1, duplicate_downs: 0 });
  });

  it('calls DOWN, DOWN, UP, UP a late UP: out of order, nothing lost', () => {
    expect(score([down(16), down(56), up(57), up(66)])).toMatchObject({
      lost_ups: 0, lost_outages: 0, down_after_down: 1, down_after_down_up_late: 1, up_without_down: 1, out_of_order_events: 2, duplicate_ups: 0, spurious_ups: 0,
    });
  });

  it('calls DOWN, DOWN within one outage a duplicate, and the repeated text too', () => {
    expect(score([down(16), down(16), up(26), down(56), up(66)])).toMatchObject({ duplicate_downs: 1, duplicate_texts: 1, down_after_down: 1, down_after_down_same_outage: 1 });
  });

  it('calls an UP before any recovery spurious', () => {
    expect(score([up(5), down(16), up(26), down(56), up(66)])).toMatchObject({ spurious_ups: 1, duplicate_ups: 0, up_without_down: 1 });
  });

  it('counts an outage never told and an UP with no DOWN before it', () => {
    expect(score([down(16), up(26), up(66)])).toMatchObject({ lost_outages: 1, lost_outages_beyond_fuzz: 1, up_without_down: 1, missing_by_count: 1 });
    expect(score([down(16), up(26)])).toMatchObject({ lost_outages: 1, lost_ups: 0 });
  });

  it('counts a target whose last word is DOWN as a lost resolution', () => {
    expect(score([down(16), up(26), down(56)])).toMatchObject({ lost_final_resolutions: 1, lost_ups: 1 });
  });

  it('reads an alert sent when already over as DOWN and UP, and its resolution message as the same UP', () => {
    const alert = send(30, '🔴 <b>0 of 1 targets are DOWN</b>\n✅ <b>t000</b> · HTTP 503 · resolved after 10s');
    const story = readChat([alert, send(31, '🟢 <b>t000</b> is UP again'), down(56), up(66)], CHAT);
    expect(story.events.get('t000')?.map((e) => `${e.kind}${e.soft ? '~' : ''}`)).toEqual(['DOWN', 'UP~', 'DOWN', 'UP']);
  });

  it('reads an edit only for targets its message did not name before', () => {
    const first = send(16, '🔴 <b>1 of 1 targets are DOWN</b>\n🔴 <b>t000</b> · x');
    const grown: RecordedCall = { method: 'editMessageText', payload: { chat_id: CHAT, message_id: 1_000, text: '🔴 <b>2 of 2 targets are DOWN</b>\n🔴 <b>t000</b> · x\n🔴 <b>t001</b> · x' }, at: 20_000, bodyBytes: 0 };
    first.result = { message_id: 1_000 };
    const resolved: RecordedCall = { ...grown, payload: { ...grown.payload, text: '✅ <b>2 targets were DOWN</b>, all resolved\n✅ <b>t000</b> · x\n✅ <b>t001</b> · x' }, at: 30_000 };
    const story = readChat([first, grown, resolved], CHAT);
    expect([...story.events].map(([name, events]) => `${name}:${events.map((e) => `${e.kind}/${e.via}`).join(',')}`)).toEqual(['t000:DOWN/send', 't001:DOWN/edit']);
    expect(story).toMatchObject({ sent: 1, edits: 2 });
  });
});
