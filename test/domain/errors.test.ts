import { describe, expect, it } from 'vitest';
import { clipText, quoteValue, QUOTE_MAX_CHARS } from '../../src/domain/errors.js';
import { parseDuration } from '../../src/domain/duration.js';
import { parseHostPort, parseTargetUrl, nameError, parseExpect } from '../../src/domain/target.js';
import { parseCron, parseStart, parseTimeZone, parseWindowDuration } from '../../src/domain/window.js';
import { parsePeriod } from '../../src/reports/period.js';

describe('clipText and quoteValue', () => {
  it.each([
    ['', ''],
    ['5s', '5s'],
    ['x'.repeat(40), 'x'.repeat(40)],
    ['x'.repeat(41), `${'x'.repeat(40)}…`],
    ['x'.repeat(5_000), `${'x'.repeat(40)}…`],
    ['a\nb', 'a\\nb'],
    ['a\rb\tc', 'a\\rb\\tc'],
    ['a\0b\u007f\u0085', 'a\\u0000b\\u007f\\u0085'],
    ['🔥'.repeat(41), `${'🔥'.repeat(40)}…`],
  ])('clips %j to %j', (value, shown) => {
    expect(clipText(value)).toBe(shown);
    expect(quoteValue(value)).toBe(`"${shown}"`);
  });

  it('counts whole code points, never cutting a surrogate pair', () => {
    const clipped = clipText(`a${'🔥'.repeat(10)}`, 3);
    expect(clipped).toBe('a🔥🔥…');
    expect(clipped).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  it('takes another length when asked', () => {
    expect(quoteValue('x'.repeat(100), 80)).toBe(`"${'x'.repeat(80)}…"`);
  });
});

const LONG = 'y'.repeat(5_000);
const errorOf = (parsed: { ok: boolean; errors?: string[] }): string => (parsed.ok ? '' : parsed.errors!.join('\n'));

describe('every parser repeats a long value clipped', () => {
  it.each([
    ['a duration', () => parseDuration(LONG, 'interval')],
    ['a target name', () => ({ ok: false, errors: [nameError(LONG)!] })],
    ['an expected status', () => parseExpect(LONG)],
    ['a host:port', () => parseHostPort(`${LONG}:80`)],
    ['a URL that is not http', () => parseTargetUrl(`ftp://a.example/${LONG.slice(0, 2_000)}`)],
    ['a time zone', () => parseTimeZone(LONG)],
    ['a window start', () => parseStart(LONG, 'UTC', 0)],
    ['a cron expression', () => parseCron(LONG, 'UTC')],
    ['a window duration', () => parseWindowDuration(LONG)],
    ['a report period', () => parsePeriod(LONG, ['7d', '30d'], '7d')],
  ])('%s', (_, parse) => {
    const error = errorOf(parse());
    expect(error).not.toBe('');
    expect(error).toContain(`${'y'.repeat(QUOTE_MAX_CHARS)}…`);
    expect(error).not.toContain('y'.repeat(QUOTE_MAX_CHARS * 2 + 1));
    expect(error.length).toBeLessThan(300);
  });
});
