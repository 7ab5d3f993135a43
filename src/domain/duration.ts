import { invalid, valid, type Parsed } from './result.js';
import { quoteValue } from './errors.js';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;
const DURATION_RE = /^(?:\d{1,9}(?:ms|s|m|h|d))+$/;
const PART_RE = /(\d{1,9})(ms|s|m|h|d)/g;

/** Parses `30s`, `5m`, `2h`, `1d`, `1h30m` or `250ms` into milliseconds; `label` names the value in errors. */
export function parseDuration(text: string, label = 'duration'): Parsed<number> {
  const trimmed = text.trim().toLowerCase();
  if (!DURATION_RE.test(trimmed)) {
    return invalid(`${label} must be a duration like 30s, 5m, 2h, 1d or 1h30m, got ${quoteValue(text)}`);
  }
  let total = 0;
  for (const match of trimmed.matchAll(PART_RE)) {
    total += Number(match[1]) * UNIT_MS[match[2] as Unit];
  }
  return valid(total);
}

/** Formats milliseconds the way users type them: `1h30m`, `45s`, `250ms`, `0s`. */
export function formatDuration(ms: number): string {
  // Rounded first: a measured 999.6ms is `1s`, not `1000ms`.
  const whole = Math.round(ms);
  if (whole <= 0) return '0s';
  if (whole < 1_000) return `${whole}ms`;
  let rest = Math.round(ms / 1_000);
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join('');
}
