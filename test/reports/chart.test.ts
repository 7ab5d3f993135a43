import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { addCheck, emptySummary, encodeBucket, type StoredBucket, type TimelinePoint } from '../../src/domain/history.js';
import { chartSvg, renderPng } from '../../src/reports/chart.js';
import { PERIODS, periodStats } from '../../src/reports/period.js';
import { historyCaption } from '../../src/reports/texts.js';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const MIN = 60_000;
const FROM = NOW - PERIODS['24h'].ms;

/** A minute bucket per minute with latencies around `base`, except in `gaps`; failures in `failing`. */
function minutes(opts: { base?: number; gaps?: Array<[number, number]>; failing?: Array<[number, number]> } = {}): StoredBucket[] {
  const out: StoredBucket[] = [];
  for (let t = FROM; t < NOW; t += MIN) {
    if (opts.gaps?.some(([a, b]) => t >= a && t < b)) continue;
    const s = emptySummary();
    const failing = opts.failing?.some(([a, b]) => t >= a && t < b) ?? false;
    const wave = 40 * Math.sin((t - FROM) / 3_600_000);
    addCheck(s, failing ? { ok: false, latencyMs: 10_000, reason: 'timeout after 10s' } : { ok: true, latencyMs: (opts.base ?? 120) + wave });
    out.push(encodeBucket(t, s));
  }
  return out;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const pngSize = (png: Buffer): [number, number] => [png.readUInt32BE(16), png.readUInt32BE(20)];

describe('the /history chart', () => {
  it('draws p50 and p95 lines and shades DOWN and MAINTENANCE; the PNG is a real 960x480 image', () => {
    const downAt = NOW - 6 * 3_600_000;
    const timeline: TimelinePoint[] = [
      [FROM - 1_000, 'UP'],
      [downAt, 'DOWN'],
      [downAt + 30 * MIN, 'UP'],
      [NOW - 3 * 3_600_000, 'MAINTENANCE'],
      [NOW - 2 * 3_600_000, 'UP'],
    ];
    const stats = periodStats(minutes({ failing: [[downAt, downAt + 30 * MIN]] }), timeline, FROM, NOW, PERIODS['24h'].columnMs);
    const svg = chartSvg('api · latency, last 24h', '24h', stats);
    expect(svg.match(/class="down"/g)).toHaveLength(1);
    expect(svg.match(/class="maintenance"/g)).toHaveLength(1);
    expect(svg).toContain('class="p50"');
    expect(svg).toContain('class="p95"');
    const png = renderPng(svg);
    expect(png.subarray(0, 8)).toEqual(PNG_SIGNATURE);
    expect(pngSize(png)).toEqual([960, 480]);
    expect(png.length).toBeGreaterThan(10_000);
    if (process.env.LOOKOUT_CHART_OUT) writeFileSync(process.env.LOOKOUT_CHART_OUT, png);
  });

  it('breaks the lines at gaps in the data instead of drawing through them', () => {
    const gap: [number, number] = [NOW - 10 * 3_600_000, NOW - 8 * 3_600_000];
    const stats = periodStats(minutes({ gaps: [gap] }), [[FROM, 'UP']], FROM, NOW, PERIODS['24h'].columnMs);
    const svg = chartSvg('api', '24h', stats);
    expect(svg.match(/<polyline class="p50"/g)).toHaveLength(2);
    expect(stats.columns.filter((c) => c.checks === 0)).toHaveLength(8);
    expect(renderPng(svg).subarray(0, 8)).toEqual(PNG_SIGNATURE);
  });

  it('a target with no data gets an empty chart that says so, and a caption without percentiles', () => {
    const stats = periodStats([], [], FROM, NOW, PERIODS['24h'].columnMs);
    const svg = chartSvg('new', '24h', stats);
    expect(svg).toContain('No checks in this period yet');
    expect(svg).not.toContain('<polyline');
    const png = renderPng(svg);
    expect(pngSize(png)).toEqual([960, 480]);
    expect(historyCaption('new', '24h', stats)).toBe(
      ['📈 <b>new</b> · last 24h', 'Uptime — · downtime 0s · 0 incidents', 'No checks in this period yet.', 'Checks 0 (0 failed)'].join('\n'),
    );
  });

  it('escapes names in the SVG', () => {
    const svg = chartSvg('<b>&"x"', '7d', periodStats([], [], FROM, NOW, PERIODS['7d'].columnMs));
    expect(svg).toContain('&lt;b&gt;&amp;&quot;x&quot;');
  });

  it('a single column of data is drawn as points, not as a line of one', () => {
    const s = emptySummary();
    addCheck(s, { ok: true, latencyMs: 80 });
    const stats = periodStats([encodeBucket(NOW - 5 * MIN, s)], [[NOW - 5 * MIN, 'UP']], FROM, NOW, PERIODS['24h'].columnMs);
    const svg = chartSvg('one', '24h', stats);
    expect(svg.match(/<circle class="p50"/g)).toHaveLength(1);
    expect(svg).not.toContain('<polyline');
    expect(svg).not.toContain('NaN');
    expect(renderPng(svg).subarray(0, 8)).toEqual(PNG_SIGNATURE);
  });
});

describe('the /history chart of a target checked from several places', () => {
  it('draws one latency line per place, named in the legend, with the verdict\'s outages shaded', () => {
    const downAt = NOW - 6 * 3_600_000;
    const verdict = periodStats([], [[FROM - 1_000, 'UP'], [downAt, 'DOWN'], [downAt + 30 * MIN, 'UP']], FROM, NOW, PERIODS['24h'].columnMs);
    const place = (base: number) => periodStats(minutes({ base }), [[FROM - 1_000, 'UP']], FROM, NOW, PERIODS['24h'].columnMs);
    const svg = chartSvg('api', '24h', verdict, [
      { label: 'fra', stats: place(40) },
      { label: 'nyc', stats: place(120) },
    ]);
    expect(svg.match(/<polyline class="place p50 place-fra"/g)).toHaveLength(1);
    expect(svg.match(/<polyline class="place p50 place-nyc"/g)).toHaveLength(1);
    expect(svg).not.toContain('class="p95"');
    expect(svg).toMatch(/>fra<\/text>/);
    expect(svg).toMatch(/>nyc<\/text>/);
    expect(svg.match(/<rect class="down"/g)).toHaveLength(1);
    expect(pngSize(renderPng(svg))).toEqual([960, 480]);
  });
});
