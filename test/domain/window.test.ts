import { describe, expect, it } from 'vitest';
import type { CommandArgs } from '../../src/domain/options.js';
import {
  activeWindowsFor,
  formatWindowTime,
  isExpired,
  isValidTimeZone,
  isWindowActive,
  nextBoundary,
  nextOccurrence,
  occurrenceAt,
  parseCron,
  parseMuteSpec,
  parseStart,
  parseTimeZone,
  parseWindowDuration,
  parseWindowSpec,
  windowCovers,
  windowId,
  type Window,
} from '../../src/domain/window.js';

const CHAT = -1001234567890;
const OTHER_CHAT = -1009876543210;
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** An instant written as a UTC ISO string, so every expected value in this file reads as a clock time. */
const at = (iso: string): number => {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new Error(`bad test instant ${iso}`);
  return ms;
};

const oneOff = (start: number, durationMs: number, extra: Partial<Window> = {}): Window => ({
  id: 'w1',
  chatId: CHAT,
  kind: 'maintenance',
  start,
  durationMs,
  tz: 'UTC',
  createdAt: 0,
  ...extra,
});

const recurring = (cron: string, tz: string, durationMs: number, extra: Partial<Window> = {}): Window => ({
  id: 'w2',
  chatId: CHAT,
  kind: 'maintenance',
  cron,
  tz,
  durationMs,
  createdAt: 0,
  ...extra,
});

describe('one-off windows and mutes', () => {
  const w = oneOff(at('2026-06-15T10:00:00Z'), 2 * HOUR);
  const mute = oneOff(at('2026-06-15T10:00:00Z'), 30 * MIN, { kind: 'mute' });

  it.each([
    ['before the start', w, '2026-06-15T09:59:59.999Z', false],
    ['at the start', w, '2026-06-15T10:00:00Z', true],
    ['inside', w, '2026-06-15T11:00:00Z', true],
    ['just before the end', w, '2026-06-15T11:59:59.999Z', true],
    ['at the end', w, '2026-06-15T12:00:00Z', false],
    ['after the end', w, '2026-06-15T13:00:00Z', false],
    ['mute inside', mute, '2026-06-15T10:29:00Z', true],
    ['mute at its end', mute, '2026-06-15T10:30:00Z', false],
  ])('%s: active=%s', (_label, window, now, active) => {
    expect(isWindowActive(window, at(now))).toBe(active);
  });

  it('occurrenceAt gives the stretch containing now, nextOccurrence only a later start', () => {
    const occurrence = { start: at('2026-06-15T10:00:00Z'), end: at('2026-06-15T12:00:00Z') };
    expect(occurrenceAt(w, at('2026-06-15T11:00:00Z'))).toEqual(occurrence);
    expect(occurrenceAt(w, at('2026-06-15T09:00:00Z'))).toBeUndefined();
    expect(nextOccurrence(w, at('2026-06-15T09:00:00Z'))).toEqual(occurrence);
    // Strictly after: a window starting exactly at `after` is not next, it is current.
    expect(nextOccurrence(w, at('2026-06-15T10:00:00Z'))).toBeUndefined();
    expect(nextOccurrence(w, at('2026-06-15T11:00:00Z'))).toBeUndefined();
  });

  it.each([
    ['before the start', w, '2026-06-15T09:00:00Z', false],
    ['while active', w, '2026-06-15T11:00:00Z', false],
    ['at the end', w, '2026-06-15T12:00:00Z', true],
    ['after the end', w, '2026-06-16T00:00:00Z', true],
    ['mute after its end', mute, '2026-06-15T10:30:00Z', true],
    ['recurring, long after', recurring('0 2 * * SUN', 'UTC', 2 * HOUR), '2030-01-01T00:00:00Z', false],
  ])('isExpired %s: %s', (_label, window, now, expired) => {
    expect(isExpired(window, at(now))).toBe(expired);
  });

  it('carries untilUp without acting on it', () => {
    expect(isWindowActive(oneOff(at('2026-06-15T10:00:00Z'), HOUR, { untilUp: true }), at('2026-06-15T10:30:00Z'))).toBe(true);
  });
});

describe('recurring windows across DST changes', () => {
  // "0 2 * * SUN" 2h in Europe/Berlin. Berlin is CET (UTC+1) in winter, CEST (UTC+2) in summer.
  const berlin = recurring('0 2 * * SUN', 'Europe/Berlin', 2 * HOUR);

  // Spring forward, Sunday 2026-03-29: at 01:00Z clocks jump from 02:00 CET to 03:00 CEST, so 02:00 does
  // not exist that day. croner treats "0 2 * * SUN" as a fixed-time job and runs it at the first valid
  // time after the gap, the same day: 03:00 CEST = 01:00Z. The window still lasts 2 real hours from
  // there: 01:00Z-03:00Z (03:00-05:00 CEST on the wall clock).
  const spring = { start: at('2026-03-29T01:00:00Z'), end: at('2026-03-29T03:00:00Z') };
  // Fall back, Sunday 2026-10-25: at 01:00Z clocks go from 03:00 CEST back to 02:00 CET, so 02:00 occurs
  // twice: 02:00 CEST = 00:00Z and 02:00 CET = 01:00Z. croner runs a fixed-time job once, at the first
  // occurrence: 00:00Z. The window is 00:00Z-02:00Z (02:00 CEST to 03:00 CET: 2 real hours, 3 on the
  // wall clock); nothing starts at 01:00Z.
  const fall = { start: at('2026-10-25T00:00:00Z'), end: at('2026-10-25T02:00:00Z') };

  it.each([
    // Spring forward.
    ['the Sunday before, 02:00 CET = 01:00Z', '2026-03-22T01:30:00Z', { start: at('2026-03-22T01:00:00Z'), end: at('2026-03-22T03:00:00Z') }],
    ['just before the gap', '2026-03-29T00:59:59.999Z', undefined],
    ['at 03:00 CEST, the end of the gap', '2026-03-29T01:00:00Z', spring],
    ['at 04:59 CEST', '2026-03-29T02:59:59.999Z', spring],
    ['at 05:00 CEST, 2 hours later', '2026-03-29T03:00:00Z', undefined],
    ['the Sunday after, 02:00 CEST = 00:00Z', '2026-04-05T00:00:00Z', { start: at('2026-04-05T00:00:00Z'), end: at('2026-04-05T02:00:00Z') }],
    // Fall back.
    ['the first 02:00 (CEST)', '2026-10-25T00:00:00Z', fall],
    ['the second 02:00 (CET), still in the first occurrence', '2026-10-25T01:00:00Z', fall],
    ['the second 02:30 (CET)', '2026-10-25T01:30:00Z', fall],
    ['03:00 CET, 2 real hours after the first 02:00', '2026-10-25T02:00:00Z', undefined],
    ['the Sunday after, 02:00 CET = 01:00Z', '2026-11-01T01:00:00Z', { start: at('2026-11-01T01:00:00Z'), end: at('2026-11-01T03:00:00Z') }],
  ])('Europe/Berlin %s', (_label, now, occurrence) => {
    expect(occurrenceAt(berlin, at(now))).toEqual(occurrence);
    expect(isWindowActive(berlin, at(now))).toBe(occurrence !== undefined);
  });

  it.each([
    ['the spring-forward occurrence', '2026-03-28T00:00:00Z', spring],
    ['after it: the next Sunday, in CEST', '2026-03-29T01:00:00Z', { start: at('2026-04-05T00:00:00Z'), end: at('2026-04-05T02:00:00Z') }],
    ['the fall-back occurrence', '2026-10-24T00:00:00Z', fall],
    // A single occurrence: from the first 02:00 the next start is a week later, not the second 02:00.
    ['after it: a week later, not the repeated 02:00', '2026-10-25T00:00:00Z', { start: at('2026-11-01T01:00:00Z'), end: at('2026-11-01T03:00:00Z') }],
    ['from inside the repeated hour', '2026-10-25T01:00:00Z', { start: at('2026-11-01T01:00:00Z'), end: at('2026-11-01T03:00:00Z') }],
  ])('Europe/Berlin nextOccurrence: %s', (_label, after, occurrence) => {
    expect(nextOccurrence(berlin, at(after))).toEqual(occurrence);
  });

  // "30 1 * * *" 1h in America/New_York: EST is UTC-5, EDT is UTC-4.
  const newYork = recurring('30 1 * * *', 'America/New_York', HOUR);

  it.each([
    // Spring forward, 2026-03-08: clocks jump at 02:00 EST (07:00Z) to 03:00 EDT. 01:30 is before the gap,
    // so it exists: 01:30 EST = 06:30Z. The window ends 1 real hour later, 07:30Z (03:30 EDT).
    ['03-07 01:30 EST', '2026-03-07T06:30:00Z', { start: at('2026-03-07T06:30:00Z'), end: at('2026-03-07T07:30:00Z') }],
    ['03-08 01:30 EST', '2026-03-08T06:30:00Z', { start: at('2026-03-08T06:30:00Z'), end: at('2026-03-08T07:30:00Z') }],
    ['03-08 03:29 EDT', '2026-03-08T07:29:59.999Z', { start: at('2026-03-08T06:30:00Z'), end: at('2026-03-08T07:30:00Z') }],
    ['03-08 03:30 EDT', '2026-03-08T07:30:00Z', undefined],
    ['03-09 01:30 EDT = 05:30Z', '2026-03-09T05:45:00Z', { start: at('2026-03-09T05:30:00Z'), end: at('2026-03-09T06:30:00Z') }],
    ['03-09 01:30 EST would be 06:30Z: not a start', '2026-03-09T06:30:00Z', undefined],
    // Fall back, 2026-11-01: clocks go from 02:00 EDT (06:00Z) back to 01:00 EST, so 01:30 occurs at 05:30Z
    // (EDT) and 06:30Z (EST). croner starts once, at the first: 05:30Z-06:30Z. The second 01:30 is exactly
    // where that window ends, and nothing starts there.
    ['11-01 first 01:30 (EDT)', '2026-11-01T05:30:00Z', { start: at('2026-11-01T05:30:00Z'), end: at('2026-11-01T06:30:00Z') }],
    ['11-01 01:00 EST (repeated hour)', '2026-11-01T06:00:00Z', { start: at('2026-11-01T05:30:00Z'), end: at('2026-11-01T06:30:00Z') }],
    ['11-01 second 01:30 (EST)', '2026-11-01T06:30:00Z', undefined],
    ['11-01 second 01:45 (EST)', '2026-11-01T06:45:00Z', undefined],
    ['11-02 01:30 EST = 06:30Z', '2026-11-02T06:30:00Z', { start: at('2026-11-02T06:30:00Z'), end: at('2026-11-02T07:30:00Z') }],
  ])('America/New_York %s', (_label, now, occurrence) => {
    expect(occurrenceAt(newYork, at(now))).toEqual(occurrence);
  });

  it('America/New_York nextOccurrence skips the repeated 01:30', () => {
    expect(nextOccurrence(newYork, at('2026-11-01T05:30:00Z'))?.start).toBe(at('2026-11-02T06:30:00Z'));
    expect(nextOccurrence(newYork, at('2026-03-08T00:00:00Z'))?.start).toBe(at('2026-03-08T06:30:00Z'));
  });

  it('a recurring window carrying a stray start follows its cron', () => {
    const w = recurring('0 2 * * SUN', 'Europe/Berlin', 2 * HOUR, { start: at('2026-06-01T00:00:00Z') });
    expect(occurrenceAt(w, at('2026-06-01T00:30:00Z'))).toBeUndefined();
  });

  it('a stored window with a broken pattern or zone has no occurrences instead of throwing', () => {
    for (const w of [recurring('not a cron', 'UTC', HOUR), recurring('0 2 * * *', 'Mars/Base', HOUR)]) {
      expect(occurrenceAt(w, at('2026-06-01T02:30:00Z'))).toBeUndefined();
      expect(nextOccurrence(w, at('2026-06-01T00:00:00Z'))).toBeUndefined();
      expect(nextBoundary([w], at('2026-06-01T00:00:00Z'))).toBeUndefined();
    }
  });
});

describe('windows crossing midnight', () => {
  const night = oneOff(at('2026-06-15T23:00:00Z'), 2 * HOUR);
  const nightly = recurring('0 23 * * *', 'UTC', 3 * HOUR);

  it.each([
    ['one-off 22:59', night, '2026-06-15T22:59:00Z', false],
    ['one-off 23:00', night, '2026-06-15T23:00:00Z', true],
    ['one-off 00:30 next day', night, '2026-06-16T00:30:00Z', true],
    ['one-off 01:00 next day', night, '2026-06-16T01:00:00Z', false],
    ['recurring 22:59', nightly, '2026-06-15T22:59:00Z', false],
    ['recurring 23:00', nightly, '2026-06-15T23:00:00Z', true],
    ['recurring 01:30 next day', nightly, '2026-06-16T01:30:00Z', true],
    ['recurring 02:00 next day', nightly, '2026-06-16T02:00:00Z', false],
    ['recurring 02:01 next day', nightly, '2026-06-16T02:01:00Z', false],
  ])('%s: active=%s', (_label, w, now, active) => {
    expect(isWindowActive(w, at(now))).toBe(active);
  });

  it('the recurring occurrence after midnight started the evening before', () => {
    expect(occurrenceAt(nightly, at('2026-06-16T01:30:00Z'))).toEqual({
      start: at('2026-06-15T23:00:00Z'),
      end: at('2026-06-16T02:00:00Z'),
    });
  });
});

describe('overlapping windows', () => {
  const long = oneOff(at('2026-06-15T10:00:00Z'), 2 * HOUR, { id: 'long' });
  const short = oneOff(at('2026-06-15T11:00:00Z'), 30 * MIN, { id: 'short', targetId: `${CHAT}/api` });
  const hourly = recurring('45 * * * *', 'UTC', 5 * MIN, { id: 'hourly' });
  const windows = [long, short, hourly];

  it.each([
    ['before everything: the first start', '2026-06-15T09:00:00Z', '2026-06-15T09:45:00Z'],
    ['inside long: the start of hourly', '2026-06-15T10:30:00Z', '2026-06-15T10:45:00Z'],
    ['inside long and hourly: the end of hourly', '2026-06-15T10:46:00Z', '2026-06-15T10:50:00Z'],
    ['exactly at a boundary: the next one, not now', '2026-06-15T10:50:00Z', '2026-06-15T11:00:00Z'],
    ['inside long and short: the end of short', '2026-06-15T11:15:00Z', '2026-06-15T11:30:00Z'],
    ['after the one-offs: hourly only', '2026-06-15T12:00:00Z', '2026-06-15T12:45:00Z'],
  ])('nextBoundary %s', (_label, now, boundary) => {
    expect(nextBoundary(windows, at(now))).toBe(at(boundary));
  });

  it('nextBoundary of no windows, or only expired ones, is undefined', () => {
    expect(nextBoundary([], at('2026-06-15T10:00:00Z'))).toBeUndefined();
    expect(nextBoundary([long, short], at('2026-06-15T12:00:00Z'))).toBeUndefined();
  });

  it('activeWindowsFor returns every active window covering the target', () => {
    const now = at('2026-06-15T11:15:00Z');
    expect(activeWindowsFor(windows, CHAT, `${CHAT}/api`, now).map((w) => w.id)).toEqual(['long', 'short']);
    expect(activeWindowsFor(windows, CHAT, `${CHAT}/db`, now).map((w) => w.id)).toEqual(['long']);
    expect(activeWindowsFor(windows, OTHER_CHAT, `${OTHER_CHAT}/api`, now)).toEqual([]);
    expect(activeWindowsFor(windows, CHAT, `${CHAT}/api`, at('2026-06-15T10:47:00Z')).map((w) => w.id)).toEqual(['long', 'hourly']);
  });
});

describe('windowCovers', () => {
  const all = oneOff(0, HOUR);
  const api = oneOff(0, HOUR, { targetId: `${CHAT}/api` });

  it.each([
    ['all, same chat', all, CHAT, `${CHAT}/api`, true],
    ['all, same chat, another target', all, CHAT, `${CHAT}/db`, true],
    ['all, other chat', all, OTHER_CHAT, `${OTHER_CHAT}/api`, false],
    ['one target, that target', api, CHAT, `${CHAT}/api`, true],
    ['one target, other target', api, CHAT, `${CHAT}/db`, false],
    ['one target, other chat', api, OTHER_CHAT, `${CHAT}/api`, false],
  ])('%s: %s', (_label, w, chatId, targetId, covers) => {
    expect(windowCovers(w, chatId, targetId)).toBe(covers);
  });
});

describe('parseStart', () => {
  // 12:00 CEST in Berlin.
  const NOW = at('2026-06-15T10:00:00Z');
  const startError = (text: string): string => `start must be now, HH:MM or a date like 2026-12-01T02:00Z, got "${text}"`;

  it.each([
    ['the word now', 'now', NOW, NOW],
    ['the word now in capitals', 'NOW', NOW, NOW],
    ['later today: 14:00 CEST = 12:00Z', '14:00', NOW, at('2026-06-15T12:00:00Z')],
    ['already passed: tomorrow 11:00 CEST', '11:00', NOW, at('2026-06-16T09:00:00Z')],
    ['this very minute: today', '12:00', NOW, NOW],
    ['passed within the minute of tolerance: today', '11:59', NOW, at('2026-06-15T09:59:00Z')],
    ['passed by more than a minute: tomorrow', '11:58', NOW, at('2026-06-16T09:58:00Z')],
    ['one-digit hour', '9:05', NOW, at('2026-06-16T07:05:00Z')],
    ['midnight: the coming one, 00:00 CEST = 22:00Z', '00:00', NOW, at('2026-06-15T22:00:00Z')],
    // Tomorrow by the calendar: Sunday 2026-03-29 is 23 hours long in Berlin, so 12:00 tomorrow is 22h away.
    ['tomorrow across spring forward: 12:00 CEST', '12:00', at('2026-03-28T12:00:00Z'), at('2026-03-29T10:00:00Z')],
    // 02:30 does not exist on 2026-03-29 in Berlin: moved forward by the 1-hour gap to 03:30 CEST = 01:30Z.
    ['a time in the spring-forward gap', '02:30', at('2026-03-28T22:00:00Z'), at('2026-03-29T01:30:00Z')],
    // 02:30 occurs twice on 2026-10-25 in Berlin: the first, 02:30 CEST = 00:30Z.
    ['a time that occurs twice', '02:30', at('2026-10-24T22:30:00Z'), at('2026-10-25T00:30:00Z')],
  ])('in Berlin, %s', (_label, text, now, start) => {
    expect(parseStart(text, 'Europe/Berlin', now)).toEqual({ ok: true, value: start });
  });

  it.each([
    ['2026-12-01T02:00Z', 'Europe/Berlin', at('2026-12-01T02:00:00Z')],
    ['2026-12-01t02:00z', 'Europe/Berlin', at('2026-12-01T02:00:00Z')],
    ['2026-12-01T02:00:30.5Z', 'UTC', at('2026-12-01T02:00:30.500Z')],
    ['2026-12-01T02:00:00+01:00', 'America/New_York', at('2026-12-01T01:00:00Z')],
    ['2026-12-01T02:00+0100', 'UTC', at('2026-12-01T01:00:00Z')],
    ['2026-12-01T02:00-05:30', 'UTC', at('2026-12-01T07:30:00Z')],
    ['2026-12-01T02:00+01', 'UTC', at('2026-12-01T01:00:00Z')],
    // Without a zone: the wall clock in tz. 02:00 EST (UTC-5) = 07:00Z; 02:00 EDT (UTC-4) = 06:00Z.
    ['2026-12-01T02:00', 'America/New_York', at('2026-12-01T07:00:00Z')],
    ['2026-07-01T02:00', 'America/New_York', at('2026-07-01T06:00:00Z')],
    ['2026-12-01T02:00', 'Europe/Berlin', at('2026-12-01T01:00:00Z')],
    ['2026-12-01T02:00:00', 'UTC', at('2026-12-01T02:00:00Z')],
    // In the spring-forward gap (Sunday 2027-03-28, 01:00Z): 02:30 does not exist, moved to 03:30 CEST.
    ['2027-03-28T02:30', 'Europe/Berlin', at('2027-03-28T01:30:00Z')],
    // Twice on the wall clock (Sunday 2027-10-31, 01:00Z): the first, 02:30 CEST.
    ['2027-10-31T02:30', 'Europe/Berlin', at('2027-10-31T00:30:00Z')],
    // Exactly the tolerated minute before now.
    ['2026-06-15T09:59Z', 'UTC', at('2026-06-15T09:59:00Z')],
  ])('ISO %s in %s', (text, tz, start) => {
    expect(parseStart(text, tz, NOW)).toEqual({ ok: true, value: start });
  });

  it.each([
    ['2026-01-01T00:00Z', 'start 2026-01-01 00:00 UTC is in the past'],
    ['2026-06-15T09:58:59Z', 'start 2026-06-15 09:58 UTC is in the past'],
    // 11:30 CEST today is 09:30Z, in the past.
    ['2026-06-15T11:30', 'start 2026-06-15 09:30 UTC is in the past'],
  ])('refuses %s in the past', (text, message) => {
    expect(parseStart(text, 'Europe/Berlin', NOW)).toEqual({ ok: false, errors: [message] });
  });

  it.each([
    'tomorrow',
    '-1h',
    '1h',
    '25:00',
    '24:00',
    '12:60',
    '1200',
    '',
    '2026-12-01',
    '2026-02-30T02:00Z',
    '2026-13-01T02:00Z',
    '2026-12-01T24:00Z',
    '2026-12-01T02:00+25:00',
    '2026-12-01T02:00Europe/Berlin',
    '2026-12-01 02:00',
  ])('refuses %j', (text) => {
    expect(parseStart(text, 'Europe/Berlin', NOW)).toEqual({ ok: false, errors: [startError(text)] });
  });

  it('refuses an unknown zone instead of throwing', () => {
    expect(parseStart('14:00', 'Mars/Base', NOW)).toEqual({
      ok: false,
      errors: ['unknown time zone "Mars/Base"; use an IANA name like Europe/Berlin or UTC'],
    });
  });
});

describe('parseCron', () => {
  const cronError = (text: string): string =>
    `cron must be a cron expression like "0 2 * * SUN" (minute hour day month weekday), got "${text}"`;

  it.each([
    ['0 2 * * SUN', '0 2 * * SUN'],
    ['0 0 2 * * SUN', '0 0 2 * * SUN'],
    ['*/15 9-17 * * MON-FRI', '*/15 9-17 * * MON-FRI'],
    ['  30   1 * * *  ', '30 1 * * *'],
    ['0 0 29 2 *', '0 0 29 2 *'],
  ])('accepts %j', (text, pattern) => {
    expect(parseCron(text, 'Europe/Berlin')).toEqual({ ok: true, value: pattern });
  });

  it.each(['garbage', '60 * * * *', '0 24 * * *', '', '   ', '* * * *', '0 0 0 1 1 * 2027', '@daily', '2026-12-01T02:00', '5/5 * * * *'])(
    'refuses %j',
    (text) => {
      expect(parseCron(text, 'Europe/Berlin')).toEqual({ ok: false, errors: [cronError(text)] });
    },
  );

  it.each(['0 0 30 2 *', '0 0 31 4 *'])('refuses %j, which never fires', (text) => {
    expect(parseCron(text, 'UTC')).toEqual({ ok: false, errors: [`cron must match at least one real date, got "${text}"`] });
  });

  it('refuses an unknown zone', () => {
    expect(parseCron('0 2 * * *', 'Mars/Base')).toEqual({
      ok: false,
      errors: ['unknown time zone "Mars/Base"; use an IANA name like Europe/Berlin or UTC'],
    });
  });
});

describe('time zones', () => {
  it.each([
    ['UTC', 'UTC'],
    ['Etc/UTC', 'Etc/UTC'],
    ['utc', 'UTC'],
    ['Europe/Berlin', 'Europe/Berlin'],
    ['europe/berlin', 'Europe/Berlin'],
    ['America/New_York', 'America/New_York'],
    [' Asia/Tokyo ', 'Asia/Tokyo'],
  ])('accepts %j as %j', (text, tz) => {
    expect(isValidTimeZone(text.trim())).toBe(true);
    expect(parseTimeZone(text)).toEqual({ ok: true, value: tz });
  });

  it.each(['Mars/Base', '', 'Europe/Berln', '+01:00', 'Z', 'local', 'Europe/Berlin/'])('refuses %j', (text) => {
    expect(isValidTimeZone(text)).toBe(false);
    expect(parseTimeZone(text)).toEqual({
      ok: false,
      errors: [`unknown time zone "${text}"; use an IANA name like Europe/Berlin or UTC`],
    });
  });
});

describe('parseWindowDuration', () => {
  const formatError = (text: string): string => `duration must be a duration like 30s, 5m, 2h, 1d or 1h30m, got "${text}"`;
  const rangeError = (text: string): string => `duration must be between 1m and 30d, got "${text}"`;

  it.each([
    ['2h', 2 * HOUR],
    ['1h30m', 90 * MIN],
    ['1m', MIN],
    ['30d', 30 * DAY],
  ])('accepts %j', (text, ms) => {
    expect(parseWindowDuration(text)).toEqual({ ok: true, value: ms });
  });

  it.each([
    ['0s', rangeError('0s')],
    ['30s', rangeError('30s')],
    ['59s999ms', rangeError('59s999ms')],
    ['31d', rangeError('31d')],
    ['30d1ms', rangeError('30d1ms')],
    ['-5m', formatError('-5m')],
    ['forever', formatError('forever')],
    ['', formatError('')],
  ])('refuses %j', (text, message) => {
    expect(parseWindowDuration(text)).toEqual({ ok: false, errors: [message] });
  });
});

describe('parseWindowSpec', () => {
  const NOW = at('2026-06-15T10:00:00Z');
  const CTX = { tz: 'Europe/Berlin', now: NOW };
  const args = (positional: string[], options: Record<string, string> | Array<[string, string]> = {}): CommandArgs => ({
    positional,
    options: (Array.isArray(options) ? options : Object.entries(options)).map(([key, value]) => ({ key, value })),
  });
  const START_AND_DURATION = 'give a START and a DURATION, like now 2h or 14:00 30m';
  const DURATION_AFTER_CRON = 'give a DURATION after cron=..., like 2h';
  const BOTH = 'give either START or cron="...", not both';

  it.each([
    ['now with a reason', args(['now', '2h', 'db', 'upgrade']), { start: NOW, tz: 'Europe/Berlin', durationMs: 2 * HOUR, reason: 'db upgrade' }],
    ['HH:MM in the chat zone', args(['14:00', '30m']), { start: at('2026-06-15T12:00:00Z'), tz: 'Europe/Berlin', durationMs: 30 * MIN }],
    ['ISO with Z', args(['2026-12-01T02:00Z', '1h30m', 'kernel']), { start: at('2026-12-01T02:00:00Z'), tz: 'Europe/Berlin', durationMs: 90 * MIN, reason: 'kernel' }],
    // tz= applies to one-off windows too: 14:00 EDT = 18:00Z.
    ['HH:MM with tz=', args(['14:00', '1h'], { tz: 'America/New_York' }), { start: at('2026-06-15T18:00:00Z'), tz: 'America/New_York', durationMs: HOUR }],
    ['recurring in the chat zone', args(['2h'], { cron: '0 2 * * SUN' }), { cron: '0 2 * * SUN', tz: 'Europe/Berlin', durationMs: 2 * HOUR }],
    ['recurring with tz= and a reason', args(['1h', 'nightly', 'backup'], { cron: '30  1 * * *', tz: 'america/new_york' }), { cron: '30 1 * * *', tz: 'America/New_York', durationMs: HOUR, reason: 'nightly backup' }],
    ['recurring, options before', args(['90m'], [['tz', 'UTC'], ['cron', '0 0 2 * * SUN']]), { cron: '0 0 2 * * SUN', tz: 'UTC', durationMs: 90 * MIN }],
  ])('accepts %s', (_label, input, spec) => {
    expect(parseWindowSpec(input, CTX)).toEqual({ ok: true, value: spec });
  });

  it.each([
    ['nothing', args([]), [START_AND_DURATION]],
    ['a START alone', args(['now']), [START_AND_DURATION]],
    ['a DURATION alone', args(['2h']), [START_AND_DURATION]],
    ['a DURATION and a reason', args(['2h', 'db', 'upgrade']), [START_AND_DURATION]],
    ['a bad START', args(['soon', '2h']), ['start must be now, HH:MM or a date like 2026-12-01T02:00Z, got "soon"']],
    ['a START in the past', args(['2026-01-01T00:00Z', '2h']), ['start 2026-01-01 00:00 UTC is in the past']],
    ['a bad DURATION', args(['now', 'db']), ['duration must be a duration like 30s, 5m, 2h, 1d or 1h30m, got "db"']],
    ['a DURATION out of range', args(['now', '0s']), ['duration must be between 1m and 30d, got "0s"']],
    [
      'a bad START and a bad DURATION',
      args(['yesterday', '-5m']),
      [
        'start must be now, HH:MM or a date like 2026-12-01T02:00Z, got "yesterday"',
        'duration must be a duration like 30s, 5m, 2h, 1d or 1h30m, got "-5m"',
      ],
    ],
    ['an unknown option', args(['now', '2h'], { every: '1h' }), ['unknown option "every"; expected cron or tz']],
    ['an option twice', args(['2h'], [['cron', '0 2 * * *'], ['cron', '0 3 * * *']]), ['option "cron" is given twice']],
    ['a bad tz', args(['now', '2h'], { tz: 'Mars/Base' }), ['unknown time zone "Mars/Base"; use an IANA name like Europe/Berlin or UTC']],
    ['START with cron', args(['now', '2h'], { cron: '0 2 * * SUN' }), [BOTH]],
    ['HH:MM with cron', args(['14:00', '2h'], { cron: '0 2 * * SUN' }), [BOTH]],
    ['cron without a DURATION', args([], { cron: '0 2 * * SUN' }), [DURATION_AFTER_CRON]],
    ['cron with only a reason', args(['nightly', 'backup'], { cron: '0 2 * * SUN' }), [DURATION_AFTER_CRON]],
    ['cron with a misspelled DURATION', args(['2hours'], { cron: '0 2 * * SUN' }), ['duration must be a duration like 30s, 5m, 2h, 1d or 1h30m, got "2hours"']],
    ['cron with a DURATION out of range', args(['31d'], { cron: '0 2 * * SUN' }), ['duration must be between 1m and 30d, got "31d"']],
    ['a bad cron', args(['2h'], { cron: '0 2 * *' }), ['cron must be a cron expression like "0 2 * * SUN" (minute hour day month weekday), got "0 2 * *"']],
    ['a cron that never fires', args(['2h'], { cron: '0 0 30 2 *' }), ['cron must match at least one real date, got "0 0 30 2 *"']],
    ['a reason too long', args(['now', '2h', 'x'.repeat(201)]), ['reason must be at most 200 characters, got 201']],
    [
      'every problem at once',
      args(['-5m', 'x'.repeat(201)], [['cron', '61 * * * *'], ['tz', 'Europe/Berln'], ['note', 'x']]),
      [
        'unknown option "note"; expected cron or tz',
        'unknown time zone "Europe/Berln"; use an IANA name like Europe/Berlin or UTC',
        'cron must be a cron expression like "0 2 * * SUN" (minute hour day month weekday), got "61 * * * *"',
        'duration must be a duration like 30s, 5m, 2h, 1d or 1h30m, got "-5m"',
        'reason must be at most 200 characters, got 201',
      ],
    ],
  ])('refuses %s', (_label, input, errors) => {
    expect(parseWindowSpec(input, CTX)).toEqual({ ok: false, errors });
  });
});

describe('parseMuteSpec', () => {
  const NOW = at('2026-06-15T10:00:00Z');
  const CTX = { tz: 'Europe/Berlin', now: NOW };

  it.each([
    [['1h'], { start: NOW, tz: 'Europe/Berlin', durationMs: HOUR }],
    [['1h30m', 'deploy', 'in', 'progress'], { start: NOW, tz: 'Europe/Berlin', durationMs: 90 * MIN, reason: 'deploy in progress' }],
  ])('accepts %j', (positional, spec) => {
    expect(parseMuteSpec({ positional, options: [] }, CTX)).toEqual({ ok: true, value: spec });
  });

  it.each([
    ['nothing', { positional: [], options: [] }, ['give a DURATION, like 1h']],
    ['a bad DURATION', { positional: ['forever'], options: [] }, ['duration must be a duration like 30s, 5m, 2h, 1d or 1h30m, got "forever"']],
    ['a DURATION out of range', { positional: ['31d'], options: [] }, ['duration must be between 1m and 30d, got "31d"']],
    ['a START', { positional: ['now', '1h'], options: [] }, ['duration must be a duration like 30s, 5m, 2h, 1d or 1h30m, got "now"']],
    [
      'options',
      { positional: ['1h'], options: [{ key: 'tz', value: 'UTC' }, { key: 'cron', value: '* * * * *' }] },
      [
        'unknown option "tz"; a mute takes only a DURATION and an optional reason',
        'unknown option "cron"; a mute takes only a DURATION and an optional reason',
      ],
    ],
    [
      'options and no DURATION',
      { positional: [], options: [{ key: 'for', value: '1h' }] },
      ['unknown option "for"; a mute takes only a DURATION and an optional reason', 'give a DURATION, like 1h'],
    ],
  ])('refuses %s', (_label, input, errors) => {
    expect(parseMuteSpec(input, CTX)).toEqual({ ok: false, errors });
  });
});

describe('formatWindowTime', () => {
  it.each([
    ['2026-12-01T02:00:00Z', 'UTC', '2026-12-01 02:00 UTC'],
    ['2026-12-01T02:00:59.999Z', 'UTC', '2026-12-01 02:00 UTC'],
    ['2026-12-01T02:00:00Z', 'Europe/Berlin', '2026-12-01 03:00 Europe/Berlin'],
    ['2026-07-01T02:00:00Z', 'Europe/Berlin', '2026-07-01 04:00 Europe/Berlin'],
    ['2026-06-15T23:30:00Z', 'Europe/Berlin', '2026-06-16 01:30 Europe/Berlin'],
    ['2026-11-01T06:30:00Z', 'America/New_York', '2026-11-01 01:30 America/New_York'],
    ['2026-12-01T02:00:00Z', 'Mars/Base', '2026-12-01 02:00 UTC'],
  ])('%s in %s', (iso, tz, text) => {
    expect(formatWindowTime(at(iso), tz)).toBe(text);
  });
});

describe('windowId', () => {
  it('is short lower-case base36 and unique per second and sequence', () => {
    const ids = new Set<string>();
    const instants = [0, at('2026-06-15T10:00:00Z'), at('2026-06-15T10:00:01Z'), at('2090-12-31T23:59:59Z')];
    for (const now of instants) {
      for (let seq = 0; seq < 300; seq++) {
        const id = windowId(now, seq);
        expect(id).toMatch(/^[0-9a-z]{1,8}$/);
        ids.add(id);
      }
    }
    expect(ids.size).toBe(instants.length * 300);
    expect(windowId(at('2090-12-31T23:59:59Z'), 1295)).toHaveLength(8);
  });

  it('is the same for the same inputs', () => {
    expect(windowId(at('2026-06-15T10:00:00Z'), 7)).toBe(windowId(at('2026-06-15T10:00:00.999Z'), 7));
  });
});
