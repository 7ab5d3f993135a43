import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/domain/duration.js';

describe('parseDuration', () => {
  it.each([
    ['30s', 30_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['0s', 0],
    ['90s', 90_000],
    ['1m1ms', 60_001],
    ['1d2h3m4s5ms', 93_784_005],
    ['999999999ms', 999_999_999],
    ['  45S  ', 45_000],
    ['1H30M', 5_400_000],
  ])('parses %j as %i ms', (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, value: ms });
  });

  it.each(['', '   ', '30', 's', 'ms', '1.5h', '-5s', '5 s', '1h 30m', '5w', '5sec', 'abc', '1000000000s', 'h1', '30s!'])(
    'refuses %j',
    (text) => {
      expect(parseDuration(text)).toEqual({
        ok: false,
        errors: [`duration must be a duration like 30s, 5m, 2h, 1d or 1h30m, got "${text}"`],
      });
    },
  );

  it('names the value with the label and quotes the text as typed', () => {
    expect(parseDuration(' 5 S', 'interval')).toEqual({
      ok: false,
      errors: ['interval must be a duration like 30s, 5m, 2h, 1d or 1h30m, got " 5 S"'],
    });
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [-5, '0s'],
    [0.4, '0s'],
    [1, '1ms'],
    [250, '250ms'],
    [999, '999ms'],
    [999.6, '1s'],
    [1_000, '1s'],
    [1_499, '1s'],
    [1_500, '2s'],
    [45_000, '45s'],
    [59_999, '1m'],
    [60_000, '1m'],
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [3_601_000, '1h1s'],
    [5_400_000, '1h30m'],
    [86_400_000, '1d'],
    [90_061_000, '1d1h1m1s'],
    [93_784_000, '1d2h3m4s'],
    [172_800_000, '2d'],
  ])('formats %d ms as %j', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([250, 1_000, 45_000, 90_000, 5_400_000, 86_400_000, 93_784_000])('round-trips %d ms through parseDuration', (ms) => {
    expect(parseDuration(formatDuration(ms))).toEqual({ ok: true, value: ms });
  });
});
