import { describe, expect, it } from 'vitest';
import { fieldOf } from '../../src/api/problem.js';
import { createRateLimiter } from '../../src/api/rate-limit.js';
import { authenticate, parseApiTokens, tokenSecrets, tokenSees } from '../../src/api/tokens.js';

const A = 'aaaaaaaaaaaaaaaaaaaa';
const B = 'bbbbbbbbbbbbbbbbbbbb';

describe('API_TOKENS', () => {
  it('reads name:token:scope[:chat]', () => {
    const parsed = parseApiTokens(`ci:${A}:write:-100123, ro:${B}:read`);
    expect(parsed.ok && parsed.value.map(({ name, scope, chatId }) => ({ name, scope, chatId }))).toEqual([
      { name: 'ci', scope: 'write', chatId: -100123 },
      { name: 'ro', scope: 'read', chatId: undefined },
    ]);
    expect(parseApiTokens(undefined)).toEqual({ ok: true, value: [] });
  });

  it.each([
    [`ci:${A}`, 'the scope must be read or write'],
    [`ci:short:write`, 'the token must be 16-256 printable characters'],
    [`c i:${A}:write`, 'the name must be 1-32 letters'],
    [`ci:${A}:admin`, 'the scope must be read or write'],
    [`ci:${A}:read:chat`, 'the chat must be a chat id or *'],
    [`ci:${A}:read,ci:${B}:read`, 'the name ci is given twice'],
    [`a:${A}:read,b:${A}:read`, 'the same token is given twice'],
    [`ci:${A}:read:1:2`, 'no more ":"'],
  ])('%s is refused: %s, without the token in the text', (text, error) => {
    const parsed = parseApiTokens(text);
    expect(parsed.ok).toBe(false);
    const errors = parsed.ok ? [] : parsed.errors;
    expect(errors.join('\n')).toContain(error);
    expect(errors.join('\n')).not.toContain(A);
  });

  it('authenticates by the bearer header only, every token compared', () => {
    const tokens = parseApiTokens(`ci:${A}:write:-1,ro:${B}:read`);
    if (!tokens.ok) throw new Error('bad');
    expect(authenticate(`Bearer ${A}`, tokens.value)?.name).toBe('ci');
    expect(authenticate(`Bearer ${B}`, tokens.value)?.name).toBe('ro');
    expect(authenticate(`Bearer ${A}x`, tokens.value)).toBeUndefined();
    expect(authenticate(`bearer ${A}`, tokens.value)?.name).toBe('ci');
    expect(authenticate(A, tokens.value)).toBeUndefined();
    expect(authenticate(undefined, tokens.value)).toBeUndefined();
    expect(authenticate('Basic Zm9vOmJhcg==', tokens.value)).toBeUndefined();
    expect(tokenSees(tokens.value[0]!, -1)).toBe(true);
    expect(tokenSees(tokens.value[0]!, -2)).toBe(false);
    expect(tokenSees(tokens.value[1]!, -2)).toBe(true);
    expect(tokenSecrets(`ci:${A}:write,ro:${B}:read`)).toEqual([A, B]);
  });
});

describe('rate limit', () => {
  it('a burst of perMinute, then one per 60/perMinute s, with the wait in seconds', () => {
    let now = 0;
    const limiter = createRateLimiter(60, () => now);
    for (let i = 0; i < 60; i++) expect(limiter.take('ci')).toBeUndefined();
    expect(limiter.take('ci')).toBe(1);
    expect(limiter.take('other')).toBeUndefined();
    now += 1_000;
    expect(limiter.take('ci')).toBeUndefined();
    expect(limiter.take('ci')).toBe(1);
  });
});

describe('problem fields', () => {
  it.each([
    ['every must be a duration between 10s and 1d, got "5s"', 'every'],
    ['headers.x-token: expected text', 'headers'],
    ['timeout: expected text or a number', 'timeout'],
    ['give the address as url:', undefined],
    ['everything is wrong', undefined],
  ])('%s → %s', (text, field) => {
    expect(fieldOf(text, new Set(['every', 'timeout', 'headers', 'url']))).toBe(field);
  });
});
