import type { TraceFacts } from '../domain/notification.js';
import { escapeHtml } from '../lib/html.js';
import type { Hop, TraceResult } from './mtr.js';

/** Where a trace ran from. */
export interface TraceSource {
  label: string;
  address?: string;
}

const fixed = (n: number, digits = 1): string => n.toFixed(digits);

/** The classic `mtr --report` table as plain text. */
export function formatHopTable(hops: readonly Hop[], source: string): string {
  // Wide enough for every host and for the `HOST: source` header, so the column titles stay aligned.
  const width = Math.max(20, source.length - 2, ...hops.map((h) => h.host.length + 1));
  const header = `HOST: ${source}`.padEnd(width + 9) + 'Loss%   Snt   Last    Avg   Best   Wrst  StDev';
  const rows = hops.map(
    (h) =>
      `${String(h.index).padStart(3)}.|-- ${h.host.padEnd(width)}` +
      `${`${fixed(h.lossPct)}%`.padStart(6)}${String(h.sent).padStart(6)}` +
      `${fixed(h.lastMs).padStart(7)}${fixed(h.avgMs).padStart(7)}${fixed(h.bestMs).padStart(7)}${fixed(h.worstMs).padStart(7)}${fixed(h.stdevMs).padStart(7)}`,
  );
  return [header, ...rows].join('\n');
}

/** One line that sums a trace up: where it stops answering, or that it reached the host. */
export function traceSummary(result: Extract<TraceResult, { ok: true }>): string {
  const last = result.hops.at(-1);
  if (!last) return 'no hops answered';
  if (last.lossPct >= 100) {
    const lastGood = [...result.hops].reverse().find((h) => h.lossPct < 100 && h.host !== '???');
    return lastGood ? `no answer after hop ${lastGood.index} (${lastGood.host})` : 'no hop answered';
  }
  return `reached ${last.host} in ${result.hops.length} hop${result.hops.length === 1 ? '' : 's'}, ${fixed(last.lossPct)}% loss, avg ${fixed(last.avgMs)} ms`;
}

/** A trace for the chat: a title line and the table in a `<pre>` block (HTML). */
export function formatTraceReport(result: TraceResult, source: TraceSource): string {
  const from = `${source.label}${source.address ? ` (${source.address})` : ''}`;
  const mode = result.mode.kind === 'tcp' ? `TCP port ${result.mode.port}` : 'ICMP';
  if (!result.ok) return `🛰 Trace to <b>${escapeHtml(result.host)}</b> failed: ${escapeHtml(result.message)}`;
  return [
    `🛰 Trace to <b>${escapeHtml(result.host)}</b> from ${escapeHtml(from)} (${mode}): ${escapeHtml(traceSummary(result))}`,
    `<pre>${escapeHtml(formatHopTable(result.hops, source.label))}</pre>`,
  ].join('\n');
}

/** A trace as a notification carries it: plain text, for any channel to show its own way. */
export function traceFacts(result: TraceResult, source: TraceSource): TraceFacts {
  const mode = result.mode.kind === 'tcp' ? `TCP port ${result.mode.port}` : 'ICMP';
  const from = { label: source.label, ...(source.address ? { address: source.address } : {}) };
  if (!result.ok) return { ok: false, host: result.host, summary: result.message, mode, source: from };
  return { ok: true, host: result.host, summary: traceSummary(result), mode, table: formatHopTable(result.hops, source.label), source: from };
}
