import { describe, expect, it } from 'vitest';
import { daysLeft, parseJwtExpiry, parseRateLimit, type RateLimit, type ResponseHeaders } from '../../src/probes/observations.js';

const DAY_MS = 86_400_000;

/** base64url of a JSON value or of raw text. */
function b64url(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** A JWT-shaped token with the given payload (the signature is not checked, so any will do). */
function jwt(payload: unknown, header: unknown = { alg: 'HS256', typ: 'JWT' }): string {
  return `${b64url(header)}.${b64url(payload)}.c2lnbmF0dXJl`;
}

describe('parseJwtExpiry', () => {
  const cases: { name: string; authorization: string; expected: number | undefined }[] = [
    { name: 'a Bearer JWT with a numeric exp', authorization: `Bearer ${jwt({ sub: 'u1', exp: 1_900_000_000 })}`, expected: 1_900_000_000_000 },
    { name: 'a lower-case bearer scheme', authorization: `bearer ${jwt({ exp: 1_800_000_000 })}`, expected: 1_800_000_000_000 },
    { name: 'an upper-case BEARER scheme and extra spaces', authorization: `BEARER   ${jwt({ exp: 1_800_000_000 })} `, expected: 1_800_000_000_000 },
    { name: 'a fractional exp (rounded to ms)', authorization: `Bearer ${jwt({ exp: 1_800_000_000.5 })}`, expected: 1_800_000_000_500 },
    { name: 'an empty signature (unsecured JWT)', authorization: `Bearer ${b64url({ alg: 'none' })}.${b64url({ exp: 1 })}.`, expected: 1_000 },
    { name: 'no exp', authorization: `Bearer ${jwt({ sub: 'u1' })}`, expected: undefined },
    { name: 'a string exp', authorization: `Bearer ${jwt({ exp: '1900000000' })}`, expected: undefined },
    { name: 'a null exp', authorization: `Bearer ${jwt({ exp: null })}`, expected: undefined },
    { name: 'a payload that is an array', authorization: `Bearer ${jwt([1, 2])}`, expected: undefined },
    { name: 'a payload that is not JSON', authorization: `Bearer ${b64url({ alg: 'HS256' })}.${b64url('not json')}.sig`, expected: undefined },
    { name: 'a header that is not JSON', authorization: `Bearer ${b64url('nope')}.${b64url({ exp: 1 })}.sig`, expected: undefined },
    { name: 'two parts', authorization: `Bearer ${b64url({ alg: 'HS256' })}.${b64url({ exp: 1 })}`, expected: undefined },
    { name: 'four parts', authorization: `Bearer ${jwt({ exp: 1 })}.more`, expected: undefined },
    { name: 'an opaque token', authorization: 'Bearer s3cret', expected: undefined },
    { name: 'standard base64 characters (+ and /)', authorization: `Bearer ${b64url({ alg: 'HS256' })}.eyJleHAiOjF9+/.sig`, expected: undefined },
    { name: 'a payload length no base64 can have', authorization: `Bearer ${b64url({ alg: 'HS256' })}.${b64url({ exp: 1 })}A.sig`, expected: undefined },
    { name: 'Basic credentials', authorization: `Basic ${Buffer.from('user:pass').toString('base64')}`, expected: undefined },
    { name: 'a JWT under the Basic scheme', authorization: `Basic ${jwt({ exp: 1 })}`, expected: undefined },
    { name: 'a JWT with no scheme', authorization: jwt({ exp: 1 }), expected: undefined },
    { name: 'an empty value', authorization: '', expected: undefined },
  ];

  it.each(cases)('$name', ({ authorization, expected }) => {
    expect(parseJwtExpiry(authorization)).toBe(expected);
  });
});

describe('parseRateLimit', () => {
  const cases: { name: string; headers: ResponseHeaders; expected: RateLimit | undefined }[] = [
    { name: 'no rate-limit headers', headers: { 'content-type': 'text/plain' }, expected: undefined },
    { name: 'X-RateLimit-*', headers: { 'x-ratelimit-remaining': '5', 'x-ratelimit-limit': '100' }, expected: { remaining: 5, limit: 100 } },
    { name: 'draft RateLimit-*', headers: { 'ratelimit-remaining': '42', 'ratelimit-limit': '60' }, expected: { remaining: 42, limit: 60 } },
    { name: 'values with spaces', headers: { 'x-ratelimit-remaining': ' 7 ', 'x-ratelimit-limit': ' 10' }, expected: { remaining: 7, limit: 10 } },
    { name: 'remaining without a limit', headers: { 'x-ratelimit-remaining': '5' }, expected: undefined },
    { name: 'a limit without remaining', headers: { 'x-ratelimit-limit': '100' }, expected: undefined },
    { name: 'garbage remaining', headers: { 'x-ratelimit-remaining': 'lots', 'x-ratelimit-limit': '100' }, expected: undefined },
    { name: 'a negative remaining', headers: { 'x-ratelimit-remaining': '-1', 'x-ratelimit-limit': '100' }, expected: undefined },
    { name: 'a fractional remaining', headers: { 'x-ratelimit-remaining': '1.5', 'x-ratelimit-limit': '100' }, expected: undefined },
    { name: 'a zero limit', headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-limit': '0' }, expected: undefined },
    { name: 'zero remaining', headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-limit': '100' }, expected: { remaining: 0, limit: 100 } },
    {
      name: 'several limits, pairwise: the lowest share remaining wins',
      headers: { 'x-ratelimit-remaining': '90, 5', 'x-ratelimit-limit': '100, 10' },
      expected: { remaining: 5, limit: 10 },
    },
    {
      name: 'draft-03 limit list with windows: the first (current) limit goes with remaining',
      headers: { 'ratelimit-remaining': '9', 'ratelimit-limit': '10, 10;w=1, 50;w=60' },
      expected: { remaining: 9, limit: 10 },
    },
    {
      name: 'garbage entries in a list are skipped',
      headers: { 'x-ratelimit-remaining': 'x, 3', 'x-ratelimit-limit': '100, 30' },
      expected: { remaining: 3, limit: 30 },
    },
    {
      name: 'repeated header lines as an array',
      headers: { 'x-ratelimit-remaining': ['50', '1'], 'x-ratelimit-limit': ['100', '10'] },
      expected: { remaining: 1, limit: 10 },
    },
    {
      name: 'both families: the more constrained wins',
      headers: { 'x-ratelimit-remaining': '50', 'x-ratelimit-limit': '100', 'ratelimit-remaining': '2', 'ratelimit-limit': '60' },
      expected: { remaining: 2, limit: 60 },
    },
    { name: 'structured dictionary', headers: { ratelimit: 'limit=100, remaining=50, reset=30' }, expected: { remaining: 50, limit: 100 } },
    { name: 'structured dictionary in another order', headers: { ratelimit: 'reset=30,remaining=3,limit=10' }, expected: { remaining: 3, limit: 10 } },
    {
      name: 'structured dictionary listing two limits',
      headers: { ratelimit: 'limit=100, remaining=90, reset=30, limit=1000, remaining=20, reset=3600' },
      expected: { remaining: 20, limit: 1000 },
    },
    { name: 'structured dictionary with a garbage remaining', headers: { ratelimit: 'limit=100, remaining=many' }, expected: undefined },
    { name: 'structured dictionary without a limit', headers: { ratelimit: 'remaining=5, reset=1' }, expected: undefined },
    {
      name: 'structured policy list with RateLimit-Policy quotas',
      headers: { ratelimit: '"default";r=50;t=30', 'ratelimit-policy': '"default";q=100;w=60' },
      expected: { remaining: 50, limit: 100 },
    },
    {
      name: 'structured policy list: the most constrained policy wins',
      headers: { ratelimit: '"burst";r=8;t=1, "daily";r=100;t=3600', 'ratelimit-policy': '"burst";q=10;w=1, "daily";q=10000;w=86400' },
      expected: { remaining: 100, limit: 10_000 },
    },
    { name: 'structured policy list without RateLimit-Policy', headers: { ratelimit: '"default";r=50;t=30' }, expected: undefined },
    {
      name: 'structured policy list with an unknown policy name',
      headers: { ratelimit: '"other";r=5', 'ratelimit-policy': '"default";q=100' },
      expected: undefined,
    },
    { name: 'a structured field that is garbage', headers: { ratelimit: ',,;;==' }, expected: undefined },
  ];

  it.each(cases)('$name', ({ headers, expected }) => {
    expect(parseRateLimit(headers)).toEqual(expected);
  });
});

describe('daysLeft', () => {
  const now = 1_700_000_000_000;
  const cases: { name: string; expiresAt: number; expected: number }[] = [
    { name: 'exactly 30 days', expiresAt: now + 30 * DAY_MS, expected: 30 },
    { name: 'just under 2 days', expiresAt: now + 2 * DAY_MS - 1, expected: 1 },
    { name: 'less than a day', expiresAt: now + 1, expected: 0 },
    { name: 'now', expiresAt: now, expected: 0 },
    { name: 'a moment ago', expiresAt: now - 1, expected: -1 },
    { name: 'three days ago', expiresAt: now - 3 * DAY_MS, expected: -3 },
  ];

  it.each(cases)('$name', ({ expiresAt, expected }) => {
    expect(daysLeft(expiresAt, now)).toBe(expected);
  });
});
