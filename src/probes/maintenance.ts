/** Words that maintenance pages use; a failed check whose body has one of them is planned, not an outage. */
export const DEFAULT_MAINTENANCE_PATTERNS: readonly RegExp[] = [
  /\bmaintenance\b/i,
  /\bscheduled downtime\b/i,
  /\bdown for maintenance\b/i,
  /\bwe(?:'|’)ll be back\b/i,
  /\bback (?:soon|shortly)\b/i,
];

/** What a failed answer looked like. */
export interface FailedAnswer {
  status: number;
  /** The Retry-After header, if any. */
  retryAfter?: string;
  /** The start of the body (the probe reads at most 64 KiB of a failed answer). */
  body?: string;
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), when it parses. */
export function retryAfterSeconds(value: string, now: number): number | undefined {
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.round((at - now) / 1_000));
}

/**
 * Whether a failed answer is planned maintenance: HTTP 503 with Retry-After, or a body that matches the
 * target's own pattern (text, case-insensitive) or the default patterns. Returns the reason in words.
 */
export function detectMaintenance(answer: FailedAnswer, now: number, extraPattern?: string): { reason: string; retryAfterS?: number } | undefined {
  const retryAfterS = answer.retryAfter !== undefined ? retryAfterSeconds(answer.retryAfter, now) : undefined;
  if (answer.status === 503 && retryAfterS !== undefined) {
    return { reason: `HTTP 503 with Retry-After ${retryAfterS}s`, retryAfterS };
  }
  const body = answer.body ?? '';
  if (body === '') return undefined;
  const extra = extraPattern !== undefined && extraPattern !== '' && body.toLowerCase().includes(extraPattern.toLowerCase());
  if (extra || DEFAULT_MAINTENANCE_PATTERNS.some((p) => p.test(body))) {
    return { reason: `HTTP ${answer.status} with a maintenance page`, ...(retryAfterS !== undefined ? { retryAfterS } : {}) };
  }
  return undefined;
}
