import { describe, expect, it } from 'vitest';
import { periodStats, PERIODS, type PeriodStats } from '../../src/reports/period.js';
import { formatPct, formatTrend, reportMessages, type ReportRow } from '../../src/reports/texts.js';

const NOW = Date.UTC(2026, 11, 1);
const empty = (): PeriodStats => periodStats([], [[NOW - 30 * 86_400_000, 'UP']], NOW - PERIODS['7d'].ms, NOW, PERIODS['7d'].columnMs);

describe('report wording', () => {
  it.each([
    [100, '100.00%'],
    [99.9, '99.90%'],
    [99.995, '99.995%'],
    [99.9991, '99.999%'],
    [undefined, '—'],
  ])('formatPct(%s) = %s', (pct, text) => {
    expect(formatPct(pct)).toBe(text);
  });

  it.each([
    [99.9, 99.5, '▲0.40'],
    [99.0, 99.5, '▼0.50'],
    [99.5, 99.501, '='],
    [99.5, undefined, 'new'],
    [undefined, 99, ''],
  ])('formatTrend(%s, %s) = %j', (now, before, text) => {
    expect(formatTrend(now, before)).toBe(text);
  });

  it('splits a long report into messages under 4096 characters, each table part in its own <pre>', () => {
    const rows: ReportRow[] = Array.from({ length: 300 }, (_, i) => ({ name: `target-with-a-long-name-${String(i).padStart(3, '0')}`, stats: empty(), previous: empty(), slaPct: 99.9 }));
    const messages = reportMessages('7d', NOW - PERIODS['7d'].ms, NOW, rows);
    expect(messages.length).toBeGreaterThan(3);
    for (const m of messages) {
      expect(m.length).toBeLessThanOrEqual(4096);
      expect(m.match(/<pre>/g)).toHaveLength(1);
      expect(m.match(/<\/pre>/g)).toHaveLength(1);
      expect(m).toContain('target  ');
    }
    expect(messages[0]).toContain('SLA report');
    expect(messages.at(-1)).toContain('Every target with an SLA met it');
    const names = messages.join('\n').match(/target-with-a-long-name-\d{3}/g);
    expect(new Set(names).size).toBe(300);
  });

  it('escapes target names (they are plain a-z0-9, but the table never trusts that)', () => {
    const [message] = reportMessages('7d', 0, 1, [{ name: 'a<b', stats: empty(), previous: empty() }]);
    expect(message).toContain('a&lt;b');
  });

  it('a long list of targets under their SLA is capped and never pushes a message past 4096 characters', () => {
    const down = (): PeriodStats =>
      periodStats([], [[NOW - 8 * 86_400_000, 'UP'], [NOW - 86_400_000, 'DOWN']], NOW - PERIODS['7d'].ms, NOW, PERIODS['7d'].columnMs);
    const rows: ReportRow[] = Array.from({ length: 200 }, (_, i) => ({ name: `service-number-${String(i).padStart(3, '0')}-eu-central`, stats: down(), previous: down(), slaPct: 99.9 }));
    const messages = reportMessages('7d', NOW - PERIODS['7d'].ms, NOW, rows);
    for (const m of messages) expect(m.length).toBeLessThanOrEqual(4096);
    const footer = messages.at(-1)!;
    expect(footer).toContain('⚠️ Under SLA (200): <b>service-number-000-eu-central</b> (85.71% &lt; 99.9%)');
    expect(footer).toContain('and 180 more marked ⚠ above');
    expect(messages.join('\n').match(/ ⚠\n|⚠<\/pre>/g)?.length).toBeGreaterThan(0);
  });

  it('formatPct never rounds up to a better figure', () => {
    expect(formatPct(99.9996)).toBe('99.999%');
    expect(formatPct(99.899)).toBe('99.89%');
  });
});
