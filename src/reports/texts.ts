import { escapeHtml } from '../lib/html.js';
import { formatDuration } from '../domain/duration.js';
import { topReasons } from '../domain/history.js';
import { formatLatency } from './chart.js';
import type { PeriodName, PeriodStats } from './period.js';

// Wording of /history captions and /report tables (HTML; every name escaped).

/** Telegram's limits: a photo caption and a message. */
export const CAPTION_MAX = 1024;
export const MESSAGE_MAX = 4096;

/** `99.95%` with as many decimals as an SLA needs to be told apart. */
export function formatPct(pct: number | undefined): string {
  if (pct === undefined) return '—';
  // Rounded down: 99.9996% must not read as 100% (nor pass for it next to an SLA).
  const digits = pct >= 99.995 && pct < 100 ? 3 : 2;
  const scale = 10 ** digits;
  return `${(Math.floor(pct * scale + 1e-9) / scale).toFixed(digits)}%`;
}

const plural = (n: number, word: string): string => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/** The /history caption: uptime, latency percentiles, checks, incidents, top failure reasons. */
export function historyCaption(name: string, period: PeriodName, stats: PeriodStats): string {
  const a = stats.availability;
  const lines = [
    `📈 <b>${escapeHtml(name)}</b> · last ${period}`,
    `Uptime ${formatPct(a.uptimePct)} · downtime ${formatDuration(a.downMs)} · ${plural(a.incidents, 'incident')}${a.maintenanceMs > 0 ? ` · maintenance ${formatDuration(a.maintenanceMs)}` : ''}`,
    stats.p50 === undefined
      ? 'No checks in this period yet.'
      : `Latency p50 ${formatLatency(stats.p50)} · p95 ${formatLatency(stats.p95!)} · p99 ${formatLatency(stats.p99!)}`,
    `Checks ${stats.summary.checks.toLocaleString('en-US')} (${stats.summary.failures.toLocaleString('en-US')} failed)`,
  ];
  const reasons = topReasons(stats.summary, 3);
  if (reasons.length > 0) lines.push(`Top failures: ${reasons.map(([r, n]) => `${escapeHtml(r)} ×${n}`).join(' · ')}`);
  // A very long reason must not push the caption past Telegram's limit: its line goes first.
  while (lines.join('\n').length > CAPTION_MAX && lines.length > 4) lines.pop();
  return lines.join('\n');
}

/** One target's line of the /report table. */
export interface ReportRow {
  name: string;
  stats: PeriodStats;
  previous: PeriodStats;
  slaPct?: number;
}

const pad = (text: string, width: number, right = false): string => (right ? text.padStart(width) : text.padEnd(width));

/** Uptime change against the previous period in percentage points: `▲0.02`, `▼1.50`, `=`, or `new`. */
export function formatTrend(now: number | undefined, before: number | undefined): string {
  if (now === undefined) return '';
  if (before === undefined) return 'new';
  const delta = now - before;
  if (Math.abs(delta) < 0.005) return '=';
  return `${delta > 0 ? '▲' : '▼'}${Math.abs(delta).toFixed(2)}`;
}

/** Whether a row is under its SLA. */
export const underSla = (row: ReportRow): boolean =>
  row.slaPct !== undefined && row.stats.availability.uptimePct !== undefined && row.stats.availability.uptimePct < row.slaPct;

/**
 * The /report reply: a header, a `<pre>` table (uptime, incidents, downtime, p95, trend) and the
 * targets under their SLA; split into messages of at most 4096 characters, each table part in its own `<pre>`.
 */
export function reportMessages(period: PeriodName, from: number, to: number, rows: readonly ReportRow[]): string[] {
  const when = (ms: number): string => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
  const header = `📋 <b>SLA report</b> · last ${period} (${when(from)} → ${when(to)} UTC)`;
  if (rows.length === 0) return [`${header}\nNo targets in this chat yet: /add one.`];
  const nameWidth = Math.min(32, Math.max(6, ...rows.map((r) => r.name.length)));
  const head = `${pad('target', nameWidth)}  ${pad('uptime', 8, true)}  ${pad('inc', 4, true)}  ${pad('down', 8, true)}  ${pad('p95', 8, true)}  trend`;
  const lines = rows.map((r) => {
    const a = r.stats.availability;
    const flag = underSla(r) ? ' ⚠' : '';
    return `${pad(r.name, nameWidth)}  ${pad(formatPct(a.uptimePct), 8, true)}  ${pad(String(a.incidents), 4, true)}  ${pad(formatDuration(a.downMs), 8, true)}  ${pad(r.stats.p95 === undefined ? '—' : formatLatency(r.stats.p95), 8, true)}  ${formatTrend(a.uptimePct, r.previous.availability.uptimePct)}${flag}`;
  });
  const under = rows.filter(underSla);
  const UNDER_LISTED = 20;
  const listed = under.slice(0, UNDER_LISTED).map((r) => `<b>${escapeHtml(r.name)}</b> (${formatPct(r.stats.availability.uptimePct)} &lt; ${r.slaPct}%)`);
  const footer =
    under.length === 0
      ? rows.some((r) => r.slaPct !== undefined)
        ? '✅ Every target with an SLA met it.'
        : 'Set sla=99.9 on a target (/edit NAME sla=99.9) to have it checked here.'
      : `⚠️ Under SLA (${under.length}): ${listed.join(', ')}${under.length > UNDER_LISTED ? `, and ${under.length - UNDER_LISTED} more marked ⚠ above` : ''}`;

  const messages: string[] = [];
  let block: string[] = [escapeHtml(head)];
  let prefix = `${header}\n`;
  const wrap = (body: string[]): string => `${prefix}<pre>${body.join('\n')}</pre>`;
  for (const line of lines.map(escapeHtml)) {
    if (wrap([...block, line]).length > MESSAGE_MAX) {
      messages.push(wrap(block));
      prefix = '';
      block = [escapeHtml(head)];
    }
    block.push(line);
  }
  const last = wrap(block);
  // The footer joins the last table part when both fit, else it is a message of its own.
  if (last.length + 1 + footer.length <= MESSAGE_MAX) messages.push(`${last}\n${footer}`);
  else messages.push(last, footer);
  return messages;
}
