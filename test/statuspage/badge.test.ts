import { Resvg } from '@resvg/resvg-js';
import { describe, expect, it } from 'vitest';
import type { TargetState } from '../../src/domain/state.js';
import { BADGE_TEXT_MAX, badgeSvg, statusBadge, uptimeBadge } from '../../src/statuspage/badge.js';

const widthOf = (svg: string): number => Number(/^<svg [^>]*\bwidth="(\d+)"/.exec(svg)![1]);
/** The message side's colour: the second box of the badge. */
const messageColorOf = (svg: string): string => [...svg.matchAll(/<rect x="\d+" width="\d+" height="20" fill="([^"]+)"\/>/g)].at(-1)![1]!;
const titleOf = (svg: string): string => /<title>(.*?)<\/title>/.exec(svg)![1]!;
/** resvg parses the SVG as XML and draws it: it throws on anything malformed. */
const drawn = (svg: string): { width: number; height: number } => {
  const image = new Resvg(svg, { font: { loadSystemFonts: false } }).render();
  return { width: image.width, height: image.height };
};

describe('badgeSvg', () => {
  it('a two-part flat badge: grey label, coloured message, title and accessible name "label: message"', () => {
    const svg = badgeSvg('api', 'up', '#2e7d32');
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="20" viewBox="0 0 \d+ 20" role="img" aria-label="api: up">/);
    expect(titleOf(svg)).toBe('api: up');
    expect(svg).toContain('fill="#555"');
    expect(messageColorOf(svg)).toBe('#2e7d32');
    expect(svg).toContain('rx="3"');
    expect(svg.match(/>api<\/text>/g)).toHaveLength(2);
    expect(svg.match(/>up<\/text>/g)).toHaveLength(2);
    expect(drawn(svg)).toEqual({ width: widthOf(svg), height: 20 });
  });

  it('escapes label and message and drops control characters: the SVG stays well-formed', () => {
    const svg = badgeSvg('<script>alert(1)</script>', 'a & "b"\u0000\u001b', '#555');
    expect(svg).not.toContain('<script');
    expect(titleOf(svg)).toBe('&lt;script&gt;alert(1)&lt;/script&gt;: a &amp; &quot;b&quot;');
    expect(svg).not.toMatch(/[\u0000-\u0008\u001b]/);
    expect(() => drawn(svg)).not.toThrow();
  });

  it('widths grow with the text, and wide letters take more room than narrow ones', () => {
    const widths = ['a', 'api', 'api-gateway', 'api-gateway-eu-west-1'].map((label) => widthOf(badgeSvg(label, 'up', '#000')));
    expect([...widths].sort((a, b) => a - b)).toEqual(widths);
    expect(new Set(widths).size).toBe(widths.length);
    expect(widthOf(badgeSvg('x', 'up', '#000'))).toBeLessThan(widthOf(badgeSvg('x', 'maintenance', '#000')));
    expect(widthOf(badgeSvg('mmmm', 'up', '#000'))).toBeGreaterThan(widthOf(badgeSvg('iiii', 'up', '#000')) + 25);
  });

  it(`clips label and message to ${BADGE_TEXT_MAX} characters with …`, () => {
    const svg = badgeSvg('l'.repeat(100), 'm'.repeat(100), '#000');
    expect(titleOf(svg)).toBe(`${'l'.repeat(BADGE_TEXT_MAX - 1)}…: ${'m'.repeat(BADGE_TEXT_MAX - 1)}…`);
    expect(widthOf(svg)).toBeLessThan(700);
  });

  it('an empty label gives a message-only badge', () => {
    const svg = badgeSvg('', 'up', '#2e7d32');
    expect(titleOf(svg)).toBe('up');
    expect(svg).not.toContain('fill="#555"');
    expect(widthOf(svg)).toBeGreaterThan(20);
    expect(widthOf(svg)).toBeLessThan(widthOf(badgeSvg('api', 'up', '#2e7d32')) - 20);
  });
});

describe('statusBadge', () => {
  it.each<[TargetState, string, string]>([
    ['UP', 'up', '#2e7d32'],
    ['DOWN', 'down', '#c62828'],
    ['DEGRADED', 'degraded', '#b45309'],
    ['MAINTENANCE', 'maintenance', '#1565c0'],
    ['PAUSED', 'paused', '#616161'],
    ['UNKNOWN', 'unknown', '#757575'],
  ])('%s → "%s" on %s', (state, message, color) => {
    const svg = statusBadge('api', state);
    expect(titleOf(svg)).toBe(`api: ${message}`);
    expect(messageColorOf(svg)).toBe(color);
  });
});

describe('uptimeBadge', () => {
  it.each<[number | undefined, string, string]>([
    [100, '100%', '#2e7d32'],
    [99.95, '99.95%', '#2e7d32'],
    [99.9, '99.9%', '#2e7d32'],
    [99.5, '99.5%', '#4d7c0f'],
    [97.25, '97.25%', '#b45309'],
    [80, '80%', '#c62828'],
    [undefined, 'no data', '#757575'],
  ])('%s → "%s" on %s, labelled "<label> <period>"', (pct, message, color) => {
    const svg = uptimeBadge('api', pct, '30d');
    expect(titleOf(svg)).toBe(`api 30d: ${message}`);
    expect(messageColorOf(svg)).toBe(color);
  });

  it('an empty label leaves the period alone; hostile labels are escaped', () => {
    expect(titleOf(uptimeBadge('', 99, '24h'))).toBe('24h: 99%');
    expect(titleOf(uptimeBadge('<b>', 99, '7d'))).toBe('&lt;b&gt; 7d: 99%');
  });
});
