import { describe, expect, it } from 'vitest';
import type { TargetState } from '../../src/domain/state.js';
import { formatPct, uptimeLevel, type DayCell, type PageTarget, type StatusPageModel } from '../../src/statuspage/model.js';
import { formatDuration, overallStatus, renderStatusPage, type OverallStatus } from '../../src/statuspage/render.js';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const MIN = 60_000;
const DAY = 86_400_000;
const HOSTILE = '<script>alert("x")</script>&';
const SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text class="ours">&lt;ok&gt;</text></svg>';

/** 90 clean days, oldest first, with `cells` (days ago → cell) laid over them. */
function days(cells: Record<number, Partial<DayCell>> = {}): DayCell[] {
  return Array.from({ length: 90 }, (_, i) => {
    const ago = 89 - i;
    return { day: new Date(NOW - ago * DAY).toISOString().slice(0, 10), uptimePct: 100, downMs: 0, ...cells[ago] };
  });
}

const target = (over: Partial<PageTarget> = {}): PageTarget => ({ name: 'api', state: 'UP', since: NOW - 65 * MIN, days: days(), uptimePct: 99.95, ...over });
const model = (over: Partial<StatusPageModel> = {}): StatusPageModel => ({
  title: 'Acme status',
  generatedAt: NOW,
  refreshSeconds: 30,
  targets: [target()],
  openIncidents: [],
  recentIncidents: [],
  ...over,
});

/** The `<li>` cells of the first bar. */
const cellsOf = (html: string): string[] => [.../<ol class="bar"[^>]*>(.*?)<\/ol>/s.exec(html)![1]!.matchAll(/<li [^>]*><\/li>/g)].map((m) => m[0]);

describe('renderStatusPage: the document', () => {
  it('is a complete HTML5 document: lang, charset, viewport, refresh, title, one inline style, skip link, footer', () => {
    const html = renderStatusPage(model());
    expect(html.startsWith('<!doctype html>\n<html lang="en">')).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('<meta http-equiv="refresh" content="30">');
    expect(html).toContain('<title>Acme status</title>');
    expect(html.match(/<style>/g)).toHaveLength(1);
    expect(html).toContain('@media (prefers-color-scheme:dark)');
    expect(html).toContain('<a class="skip" href="#main">Skip to main content</a>');
    expect(html).toContain('<main id="main" tabindex="-1">');
    expect(html).toMatch(/<footer><p>Updated <time datetime="2026-12-01T12:00:00.000Z">2026-12-01 12:00:00 UTC<\/time>; this page reloads itself every 30s\. Powered by Lookout<\/p><\/footer>/);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
  });

  it('refreshSeconds 0 leaves the meta refresh out', () => {
    const html = renderStatusPage(model({ refreshSeconds: 0 }));
    expect(html).not.toContain('http-equiv="refresh"');
    expect(html).not.toContain('reloads itself');
  });

  it('loads nothing from anywhere: no script, link, img, @import or url(); every href is a fragment; http only in the SVG namespace', () => {
    const html = renderStatusPage(model({ targets: [target({ latencySvg: SVG }), target({ name: 'web', state: 'DOWN' })] }));
    expect(html).not.toMatch(/<(script|link|img|iframe|object|embed|base)\b/i);
    expect(html).not.toMatch(/@import|url\(/i);
    // The skip link, and the same page without reloading (the reader's control over the refresh).
    expect([...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1])).toEqual(['#main', '?refresh=off']);
    expect(html.replaceAll('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/https?:\/\//);
  });

  it('escapes every user text (title, name, address, reason, incident target) and inlines the latency SVG as is', () => {
    const html = renderStatusPage(
      model({
        title: HOSTILE,
        targets: [target({ name: HOSTILE, address: `https://h/?a=1&b="${HOSTILE}`, latencySvg: SVG })],
        openIncidents: [{ target: HOSTILE, from: NOW - MIN, reason: HOSTILE }],
        recentIncidents: [{ target: HOSTILE, from: NOW - DAY, to: NOW - DAY + MIN, reason: HOSTILE }],
      }),
    );
    expect(html).not.toContain('<script');
    expect(html).not.toContain('"x"');
    expect(html).toContain('<title>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;</title>');
    expect(html.split('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;').length - 1).toBeGreaterThanOrEqual(9);
    expect(html).toContain('https://h/?a=1&amp;b=&quot;&lt;script&gt;');
    expect(html).toContain(SVG);
  });
});

describe('renderStatusPage: a target', () => {
  it('name, state in words with an icon, since (and for how long), the 90-day uptime, the chart in a figure', () => {
    const html = renderStatusPage(model({ targets: [target({ latencySvg: SVG })] }));
    expect(html).toContain('<h3 id="t1">api</h3>');
    expect(html).toMatch(/<span class="pill k-up"><svg viewBox="0 0 16 16" aria-hidden="true" focusable="false" fill="currentColor">.*?<\/svg>Up<\/span>/);
    expect(html).toContain('since <time datetime="2026-12-01T10:55:00.000Z">2026-12-01 10:55 UTC</time> (1h 5m)');
    expect(html).toContain('<strong>99.95% uptime</strong>');
    expect(html).toContain(`<figure class="chart"><div class="chart-img" role="img" aria-labelledby="t1-cap">${SVG}</div><figcaption id="t1-cap">Response time of api</figcaption></figure>`);
  });

  it.each<[TargetState, string]>([
    ['UP', 'Up'],
    ['DEGRADED', 'Degraded'],
    ['DOWN', 'Down'],
    ['MAINTENANCE', 'Maintenance'],
    ['PAUSED', 'Paused'],
    ['UNKNOWN', 'Unknown'],
  ])('%s reads "%s" next to its own icon', (state, words) => {
    const html = renderStatusPage(model({ targets: [target({ state })] }));
    expect(html).toMatch(new RegExp(`<span class="pill k-${state.toLowerCase()}"><svg [^>]*>.+?</svg>${words}</span>`));
  });

  it('without an address, a since, a chart or an uptime, none is shown', () => {
    const html = renderStatusPage(model({ targets: [target({ since: undefined, uptimePct: undefined })] }));
    expect(html).not.toContain('class="addr"');
    expect(html).not.toContain('class="meta"');
    expect(html).not.toContain('<figure');
    expect(html).toContain('<strong>no data yet</strong>');
  });

  it('the address is shown when the model has one', () => {
    expect(renderStatusPage(model({ targets: [target({ address: 'https://api.example.com/health' })] }))).toContain('<span class="addr">https://api.example.com/health</span>');
  });

  it('the bar has one cell per day, oldest first, each with the same title and accessible name', () => {
    const cells = cellsOf(renderStatusPage(model({ targets: [target({ days: days({ 89: { uptimePct: 99.5, downMs: 7 * MIN } }) })] })));
    expect(cells).toHaveLength(90);
    expect(cells[0]).toBe('<li class="fair" title="2026-09-03: 99.5% up, down 7m" aria-label="2026-09-03: 99.5% up, down 7m"></li>');
    expect(cells[89]).toBe('<li class="good" title="2026-12-01: 100% up" aria-label="2026-12-01: 100% up"></li>');
  });

  it.each<[number | undefined, string, string]>([
    [100, 'good', '100% up'],
    [99.95, 'good', '99.95% up'],
    [99.9, 'good', '99.9% up'],
    [99.89, 'fair', '99.89% up'],
    [99, 'fair', '99% up'],
    [98.999, 'poor', '98.99% up'],
    [95, 'poor', '95% up'],
    [94.99, 'bad', '94.99% up'],
    [0, 'bad', '0% up'],
    [undefined, 'none', 'no data'],
  ])('a day at %s%% is a %s cell: "%s"', (pct, cls, words) => {
    const cell = { uptimePct: pct, downMs: 0 };
    const [first] = cellsOf(renderStatusPage(model({ targets: [target({ days: days({ 89: cell }) })] })));
    expect(first).toBe(`<li class="${cls}" title="2026-09-03: ${words}" aria-label="2026-09-03: ${words}"></li>`);
  });

  it('a keyboard user gets the days as a table in a <details>: one stop per target, newest day first', () => {
    const html = renderStatusPage(model({ targets: [target({ days: days({ 0: { uptimePct: 99.95, downMs: 43_000 }, 1: { uptimePct: undefined } }) })] }));
    expect(html.match(/<summary>/g)).toHaveLength(1);
    expect(html).toContain('<summary>Daily uptime<span class="sr"> of api</span></summary>');
    const rows = [...html.matchAll(/<tr><th scope="row">.*?<\/tr>/g)].map((m) => m[0]);
    expect(rows).toHaveLength(90);
    expect(rows[0]).toBe('<tr><th scope="row">2026-12-01</th><td>99.95%</td><td>43s</td></tr>');
    expect(rows[1]).toBe('<tr><th scope="row">2026-11-30</th><td>no data</td><td>–</td></tr>');
    expect(rows[2]).toBe('<tr><th scope="row">2026-11-29</th><td>100%</td><td>none</td></tr>');
  });
});

describe('renderStatusPage: incidents', () => {
  it('ongoing ones come first with since, for how long and why; past ones with start, duration and why', () => {
    const html = renderStatusPage(
      model({
        openIncidents: [{ target: 'api', from: NOW - 12 * MIN, reason: 'not answering in time' }],
        recentIncidents: [
          { target: 'web', from: NOW - DAY, to: NOW - DAY + 65 * MIN, reason: 'refusing connections' },
          { target: 'db-replica', from: NOW - 2 * DAY, to: NOW - 2 * DAY + 30_000 },
        ],
      }),
    );
    expect(html.indexOf('Ongoing incidents')).toBeLessThan(html.indexOf('Services'));
    expect(html).toContain(
      '<li class="card inc open"><p class="inc-head"><strong>api</strong> <span class="muted">since <time datetime="2026-12-01T11:48:00.000Z">2026-12-01 11:48 UTC</time> (for 12m)</span></p><p class="reason">not answering in time</p></li>',
    );
    expect(html).toContain('<strong>web</strong> <span class="muted">started <time datetime="2026-11-30T12:00:00.000Z">2026-11-30 12:00 UTC</time>, lasted 1h 5m</span></p><p class="reason">refusing connections</p>');
    expect(html).toContain('<strong>db-replica</strong> <span class="muted">started <time datetime="2026-11-29T12:00:00.000Z">2026-11-29 12:00 UTC</time>, lasted 30s</span></p></li>');
    expect(html).not.toContain('No incidents');
  });

  it.each<[string, Partial<StatusPageModel>, string]>([
    ['none at all', {}, 'No incidents in the last 90 days.'],
    ['only an open one', { openIncidents: [{ target: 'api', from: NOW - MIN }] }, 'No resolved incidents in the last 90 days.'],
  ])('%s: "%s"', (_name, over, text) => {
    const html = renderStatusPage(model(over));
    expect(html).toContain(`<h2 id="past">Past incidents</h2><p>${text}</p>`);
    expect(html.includes('Ongoing incidents')).toBe(over.openIncidents !== undefined);
  });
});

describe('the overall banner', () => {
  it.each<[TargetState[], OverallStatus, string]>([
    [['UP', 'UP'], 'operational', 'All systems operational'],
    [['UP', 'PAUSED', 'UNKNOWN'], 'operational', 'All systems operational'],
    [['UP', 'DEGRADED'], 'degraded', 'Degraded performance'],
    [['UP', 'DOWN'], 'partial', 'Partial outage'],
    [['UP', 'DEGRADED', 'DOWN'], 'partial', 'Partial outage'],
    [['UP', 'DOWN', 'MAINTENANCE'], 'partial', 'Partial outage'],
    [['DOWN'], 'major', 'Major outage'],
    [['UP', 'DOWN', 'DOWN'], 'major', 'Major outage'],
    [['UP', 'MAINTENANCE'], 'maintenance', 'Maintenance in progress'],
    [['MAINTENANCE', 'PAUSED'], 'maintenance', 'Maintenance in progress'],
    [['UNKNOWN', 'PAUSED'], 'unknown', 'Status not known yet'],
    [[], 'unknown', 'Status not known yet'],
  ])('%j → %s: "%s"', (states, status, words) => {
    expect(overallStatus(states)).toBe(status);
    const html = renderStatusPage(model({ targets: states.map((state, i) => target({ name: `t${i}`, state })) }));
    expect(html).toMatch(new RegExp(`<p class="overall o-${status}"><svg [^>]*>.+?</svg><span>${words}</span></p>`));
  });
});

describe('formatDuration, formatPct, uptimeLevel', () => {
  it.each<[number, string]>([
    [0, '0s'],
    [-5, '0s'],
    [45_000, '45s'],
    [59_999, '59s'],
    [60_000, '1m'],
    [12 * MIN, '12m'],
    [60 * MIN, '1h'],
    [65 * MIN, '1h 5m'],
    [26 * 60 * MIN, '1d 2h'],
    [2 * DAY + 59 * MIN, '2d'],
  ])('formatDuration(%d) = %s', (ms, words) => expect(formatDuration(ms)).toBe(words));

  it.each<[number, string]>([
    [100, '100%'],
    [99.999, '99.99%'],
    [99.95, '99.95%'],
    [99.9, '99.9%'],
    [95, '95%'],
    [0, '0%'],
  ])('formatPct(%d) = %s', (pct, text) => expect(formatPct(pct)).toBe(text));

  it.each<[number | undefined, string]>([
    [99.9, 'good'],
    [99.899, 'fair'],
    [99, 'fair'],
    [95, 'poor'],
    [94.999, 'bad'],
    [undefined, 'none'],
    [Number.NaN, 'none'],
  ])('uptimeLevel(%s) = %s', (pct, level) => expect(uptimeLevel(pct)).toBe(level));
});
