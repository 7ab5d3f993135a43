import { createRequire } from 'node:module';

// The rasteriser (a native addon, ~7 MB of RSS) is loaded on the first PNG, not with the module: status
// pages and a headless process use chartSvg/formatLatency only. createRequire keeps renderPng synchronous.
const require = createRequire(import.meta.url);
let resvg: typeof import('@resvg/resvg-js') | undefined;
import type { PeriodName } from './period.js';
import { PERIODS, type PeriodStats } from './period.js';

// The /history chart: drawn as SVG text here and rasterised to PNG by resvg (no browser, no service).

const WIDTH = 960;
const HEIGHT = 480;
const PAD = { left: 72, right: 20, top: 48, bottom: 44 };
const COLORS = { p50: '#1e88e5', p95: '#fb8c00', down: '#e53935', maintenance: '#5c6bc0', grid: '#e0e0e0', text: '#424242' };
const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';

const escapeXml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/** `850 ms`, `1.2 s`: axis and caption latency. */
export function formatLatency(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1_000) return `${Math.round(ms)} ms`;
  return `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

/** A round axis maximum at or above `value` (1, 2 or 5 times a power of ten). */
function niceCeiling(value: number): number {
  if (value <= 0) return 100;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

const pad2 = (n: number): string => String(n).padStart(2, '0');
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Where the time axis is labelled, and how (UTC). */
function timeTicks(period: PeriodName, from: number, to: number): Array<{ t: number; label: string }> {
  const step = period === '24h' ? 3 * 3_600_000 : period === '7d' ? 86_400_000 : 5 * 86_400_000;
  const ticks: Array<{ t: number; label: string }> = [];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
    const d = new Date(t);
    const label =
      period === '24h' ? `${pad2(d.getUTCHours())}:00` : period === '7d' ? `${DAYS[d.getUTCDay()]} ${d.getUTCDate()}` : `${MONTHS[d.getUTCMonth()]} ${d.getUTCDate()}`;
    ticks.push({ t, label });
  }
  return ticks;
}

/** Pure: the chart as SVG text. */
/** A place's own series on a chart of a target checked from several places. */
export interface PlaceSeries {
  label: string;
  stats: PeriodStats;
}

const PLACE_COLORS = ['#1e88e5', '#fb8c00', '#43a047', '#8e24aa', '#00acc1', '#6d4c41', '#d81b60', '#7cb342'];

/**
 * The latency chart: p50 and p95 lines over the period, DOWN and maintenance shaded from the timeline.
 * With `places` (a target checked from several places), one p50 line per place instead, and the shading
 * from the verdict's timeline.
 */
export function chartSvg(title: string, period: PeriodName, stats: PeriodStats, places: readonly PlaceSeries[] = []): string {
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const x = (t: number): number => PAD.left + ((t - stats.from) / (stats.to - stats.from)) * plotW;
  const lines: Array<{ cls: string; color: string; label: string; key: 'p50' | 'p95'; columns: PeriodStats['columns'] }> =
    places.length > 0
      ? places.map((p, i) => ({ cls: `place p50 place-${p.label.replace(/[^a-z0-9-]/g, '')}`, color: PLACE_COLORS[i % PLACE_COLORS.length]!, label: p.label, key: 'p50' as const, columns: p.stats.columns }))
      : (['p50', 'p95'] as const).map((key) => ({ cls: key, color: COLORS[key], label: key, key, columns: stats.columns }));
  const withData = (places.length > 0 ? places.flatMap((p) => p.stats.columns) : stats.columns).filter((c) => c.p95 !== undefined);
  // The scale follows the usual latency, not the worst column: a few 10 s timeouts would flatten
  // everything else. Columns above it are drawn at the top edge (the shading says why).
  const p95s = withData.map((c) => c.p95!).sort((a, b) => a - b);
  const typical = p95s.length === 0 ? 0 : p95s[Math.min(p95s.length - 1, Math.floor(p95s.length * 0.9))]!;
  // At least 10 ms: sub-millisecond scales would print the same rounded label twice.
  const yMax = niceCeiling(Math.max(10, typical * 1.5));
  const y = (ms: number): number => PAD.top + plotH - (Math.min(ms, yMax) / yMax) * plotH;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="${FONT}">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${PAD.left}" y="28" font-size="18" font-weight="bold" fill="${COLORS.text}">${escapeXml(title)}</text>`,
  ];
  // Shading first, so that the lines stay on top.
  for (const span of stats.spans) {
    if (span.state !== 'DOWN' && span.state !== 'MAINTENANCE') continue;
    const x0 = x(span.start);
    const w = Math.max(1.5, x(span.end) - x0);
    const color = span.state === 'DOWN' ? COLORS.down : COLORS.maintenance;
    parts.push(`<rect class="${span.state.toLowerCase()}" x="${x0.toFixed(1)}" y="${PAD.top}" width="${w.toFixed(1)}" height="${plotH}" fill="${color}" fill-opacity="0.22"/>`);
  }
  // 2.5 and 5 times a power of ten divide into fifths, 1 and 2 times into quarters: round labels.
  const lead = yMax / 10 ** Math.floor(Math.log10(yMax));
  const steps = lead === 2.5 || lead === 5 ? 5 : 4;
  for (let i = 0; i <= steps; i++) {
    const ms = (yMax / steps) * i;
    const gy = y(ms).toFixed(1);
    parts.push(`<line x1="${PAD.left}" x2="${WIDTH - PAD.right}" y1="${gy}" y2="${gy}" stroke="${COLORS.grid}"/>`);
    parts.push(`<text x="${PAD.left - 8}" y="${gy}" dy="4" font-size="12" text-anchor="end" fill="${COLORS.text}">${escapeXml(formatLatency(ms))}</text>`);
  }
  for (const tick of timeTicks(period, stats.from, stats.to)) {
    const tx = x(tick.t).toFixed(1);
    parts.push(`<line x1="${tx}" x2="${tx}" y1="${PAD.top}" y2="${PAD.top + plotH}" stroke="${COLORS.grid}"/>`);
    parts.push(`<text x="${tx}" y="${HEIGHT - PAD.bottom + 18}" font-size="12" text-anchor="middle" fill="${COLORS.text}">${escapeXml(tick.label)}</text>`);
  }
  // A line per percentile, broken where a column has no checks (a gap in the data is not a dip).
  for (const line of lines) {
    const key = line.key;
    const segments: string[][] = [];
    let current: string[] = [];
    for (const c of line.columns) {
      const value = c[key];
      if (value === undefined) {
        if (current.length > 0) segments.push(current);
        current = [];
        continue;
      }
      current.push(`${x(c.t + PERIODS[period].columnMs / 2).toFixed(1)},${y(value).toFixed(1)}`);
    }
    if (current.length > 0) segments.push(current);
    for (const points of segments) {
      if (points.length === 1) {
        const [cx, cy] = points[0]!.split(',');
        parts.push(`<circle class="${line.cls}" cx="${cx}" cy="${cy}" r="2.5" fill="${line.color}"/>`);
      } else {
        parts.push(`<polyline class="${line.cls}" points="${points.join(' ')}" fill="none" stroke="${line.color}" stroke-width="2" stroke-linejoin="round"/>`);
      }
    }
  }
  parts.push(`<rect x="${PAD.left}" y="${PAD.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#9e9e9e"/>`);
  const legend: ReadonlyArray<readonly [string, string, 'line' | 'box']> = [
    ...lines.map((l) => [escapeXml(l.label), l.color, 'line'] as const),
    ['DOWN', COLORS.down, 'box'],
    ['maintenance', COLORS.maintenance, 'box'],
  ] as const;
  let lx = WIDTH - PAD.right - 420 - Math.max(0, lines.length - 2) * 60;
  for (const [label, color, kind] of legend) {
    parts.push(
      kind === 'line'
        ? `<line x1="${lx}" x2="${lx + 22}" y1="24" y2="24" stroke="${color}" stroke-width="3"/>`
        : `<rect x="${lx}" y="17" width="22" height="14" fill="${color}" fill-opacity="0.35"/>`,
    );
    parts.push(`<text x="${lx + 28}" y="29" font-size="13" fill="${COLORS.text}">${label}</text>`);
    lx += label.length * 8 + 50;
  }
  if (withData.length === 0) {
    parts.push(`<text x="${PAD.left + plotW / 2}" y="${PAD.top + plotH / 2}" font-size="20" text-anchor="middle" fill="#9e9e9e">No checks in this period yet</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** Rasterises an SVG to PNG with the system's fonts (DejaVu in the Docker image). */
export function renderPng(svg: string): Buffer {
  resvg ??= require('@resvg/resvg-js') as typeof import('@resvg/resvg-js');
  const image = new resvg.Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, fitTo: { mode: 'original' } });
  return image.render().asPng();
}
