import type { Observations } from '../domain/check.js';

/** A rate limit as an API's response headers report it. */
export type RateLimit = NonNullable<Observations['rateLimit']>;

/** Response headers as node and undici give them: lower-case names, repeated fields as arrays. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

const DAY_MS = 86_400_000;

// Three base64url parts; the signature may be empty (an unsecured JWT is still well-formed).
const BEARER_JWT = /^bearer[ \t]+([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)[ \t]*$/i;

// A header count: digits only, few enough to stay an exact integer.
const COUNT = /^\d{1,15}$/;

/** Decodes one base64url JWT part to a JSON object; undefined for bad base64 or anything but an object. */
function decodeJsonPart(part: string): Record<string, unknown> | undefined {
  // A length of 4n+1 cannot come from any byte string; Buffer would decode it anyway, dropping the last char.
  if (part.length % 4 === 1) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    // The token is never part of an error: a part that is not JSON is simply not a JWT.
    return undefined;
  }
}

/** When the JWT in an `Authorization: Bearer <jwt>` value expires (epoch ms); undefined for anything else. */
export function parseJwtExpiry(authorization: string): number | undefined {
  const match = BEARER_JWT.exec(authorization);
  const header = match?.[1];
  const payload = match?.[2];
  if (header === undefined || payload === undefined || decodeJsonPart(header) === undefined) return undefined;
  const exp = decodeJsonPart(payload)?.['exp'];
  return typeof exp === 'number' && Number.isFinite(exp) ? Math.round(exp * 1000) : undefined;
}

/** Whole days from `now` until `expiresAt`, rounded down (negative once it has passed). */
export function daysLeft(expiresAt: number, now: number): number {
  return Math.floor((expiresAt - now) / DAY_MS);
}

/** A field's value as one string: repeated field lines join with commas, as HTTP defines. */
function joined(value: string | string[]): string {
  return typeof value === 'string' ? value : value.join(',');
}

/** Splits a comma-separated field into its members, leaving commas inside quoted strings alone. */
function splitMembers(value: string): string[] {
  const members: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x22 /* " */ && value.charCodeAt(i - 1) !== 0x5c /* \ */) quoted = !quoted;
    else if (c === 0x2c /* , */ && !quoted) {
      members.push(value.slice(start, i).trim());
      start = i + 1;
    }
  }
  members.push(value.slice(start).trim());
  return members;
}

/** A non-negative integer from a header, or undefined for anything else. */
function parseCount(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  return COUNT.test(trimmed) ? Number(trimmed) : undefined;
}

/** A member's value before its `;parameters`: `100;w=60` is 100. */
function bareItem(member: string): string {
  const semicolon = member.indexOf(';');
  return semicolon === -1 ? member : member.slice(0, semicolon);
}

/** The member's `;name=value` parameters, names lower-cased. */
function parameters(member: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const param of member.split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq > 0) params.set(param.slice(0, eq).trim().toLowerCase(), param.slice(eq + 1).trim());
  }
  return params;
}

/** A limit when both counts are valid and the limit is above zero (a ratio needs it). */
function rateLimitOf(remaining: number | undefined, limit: number | undefined): RateLimit | undefined {
  return remaining !== undefined && limit !== undefined && limit > 0 ? { remaining, limit } : undefined;
}

/** The more constrained of two limits: the lower share remaining, then the fewer requests remaining. */
function tighter(a: RateLimit | undefined, b: RateLimit | undefined): RateLimit | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  // remaining/limit compared without division: both limits are above zero.
  const diff = a.remaining * b.limit - b.remaining * a.limit;
  if (diff !== 0) return diff < 0 ? a : b;
  return a.remaining <= b.remaining ? a : b;
}

/**
 * Separate remaining and limit fields (`X-RateLimit-*`, draft `RateLimit-*`): the n-th remaining goes with
 * the n-th limit, so a list such as `RateLimit-Limit: 10, 10;w=1, 50;w=60` pairs its first (current) limit.
 */
function fromSeparateFields(remainingField: string | string[] | undefined, limitField: string | string[] | undefined): RateLimit | undefined {
  if (remainingField === undefined || limitField === undefined) return undefined;
  const remaining = splitMembers(joined(remainingField));
  const limits = splitMembers(joined(limitField));
  let best: RateLimit | undefined;
  for (let i = 0; i < remaining.length && i < limits.length; i++) {
    best = tighter(best, rateLimitOf(parseCount(bareItem(remaining[i] ?? '')), parseCount(bareItem(limits[i] ?? ''))));
  }
  return best;
}

/**
 * The structured `RateLimit` field, in either draft form: a dictionary `limit=100, remaining=50, reset=30`
 * (a repeated key starts another limit), or a list of named policies `"default";r=50;t=30` whose quota is
 * the `q` of the same name in `RateLimit-Policy: "default";q=100;w=60`.
 */
function fromStructuredField(field: string | string[], policyField: string | string[] | undefined): RateLimit | undefined {
  let best: RateLimit | undefined;
  let remaining: number | undefined;
  let limit: number | undefined;
  const seen = new Set<string>();
  const named: { name: string; remaining: number | undefined; limit: number | undefined }[] = [];
  for (const member of splitMembers(joined(field))) {
    const item = bareItem(member);
    const eq = item.indexOf('=');
    // A quoted item is a policy name, whatever it contains.
    if (eq > 0 && !item.startsWith('"')) {
      const key = item.slice(0, eq).trim().toLowerCase();
      if (seen.has(key)) {
        best = tighter(best, rateLimitOf(remaining, limit));
        remaining = undefined;
        limit = undefined;
        seen.clear();
      }
      seen.add(key);
      if (key === 'remaining') remaining = parseCount(item.slice(eq + 1));
      else if (key === 'limit') limit = parseCount(item.slice(eq + 1));
    } else if (item !== '') {
      const params = parameters(member);
      named.push({ name: policyName(item), remaining: parseCount(params.get('r')), limit: parseCount(params.get('q')) });
    }
  }
  best = tighter(best, rateLimitOf(remaining, limit));
  if (named.length === 0) return best;
  const quotas = policyQuotas(policyField);
  for (const policy of named) best = tighter(best, rateLimitOf(policy.remaining, policy.limit ?? quotas.get(policy.name)));
  return best;
}

/** A policy name as written, without the quotes of a structured string. */
function policyName(item: string): string {
  const name = item.trim();
  return name.length >= 2 && name.startsWith('"') && name.endsWith('"') ? name.slice(1, -1) : name;
}

/** The quota (`q`) of each named policy in a `RateLimit-Policy` field. */
function policyQuotas(field: string | string[] | undefined): Map<string, number> {
  const quotas = new Map<string, number>();
  if (field === undefined) return quotas;
  for (const member of splitMembers(joined(field))) {
    const quota = parseCount(parameters(member).get('q'));
    if (quota !== undefined) quotas.set(policyName(bareItem(member)), quota);
  }
  return quotas;
}

/**
 * The rate limit in response headers (`X-RateLimit-*`, `RateLimit-*`, structured `RateLimit`); the most
 * constrained one when several are listed; undefined when none is there or none makes sense.
 */
export function parseRateLimit(headers: ResponseHeaders): RateLimit | undefined {
  const xRemaining = headers['x-ratelimit-remaining'];
  const draftRemaining = headers['ratelimit-remaining'];
  const structured = headers['ratelimit'];
  // Most responses carry none of these: answer before any allocation.
  if (xRemaining === undefined && draftRemaining === undefined && structured === undefined) return undefined;
  let best = fromSeparateFields(xRemaining, headers['x-ratelimit-limit']);
  best = tighter(best, fromSeparateFields(draftRemaining, headers['ratelimit-limit']));
  if (structured !== undefined) best = tighter(best, fromStructuredField(structured, headers['ratelimit-policy']));
  return best;
}
