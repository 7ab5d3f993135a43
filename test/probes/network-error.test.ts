import { describe, expect, it } from 'vitest';
import { describeNetworkError, type FailureDescription } from '../../src/probes/network-error.js';

/** An Error with a Node-style `code`, optionally wrapping a `cause`. */
function codeError(code: string, message = code, cause?: unknown): Error {
  return Object.assign(new Error(message, cause === undefined ? undefined : { cause }), { code });
}

const cases: { name: string; err: unknown; expected: FailureDescription }[] = [
  { name: 'ECONNREFUSED', err: codeError('ECONNREFUSED'), expected: { failure: 'refused', reason: 'connection refused' } },
  { name: 'ECONNRESET', err: codeError('ECONNRESET'), expected: { failure: 'reset', reason: 'connection reset' } },
  { name: 'EPIPE', err: codeError('EPIPE'), expected: { failure: 'reset', reason: 'connection reset' } },
  { name: 'ENOTFOUND', err: codeError('ENOTFOUND'), expected: { failure: 'dns', reason: 'DNS lookup failed' } },
  { name: 'EAI_AGAIN', err: codeError('EAI_AGAIN'), expected: { failure: 'dns', reason: 'DNS lookup failed (temporary)' } },
  { name: 'EHOSTUNREACH', err: codeError('EHOSTUNREACH'), expected: { failure: 'unreachable', reason: 'host unreachable' } },
  { name: 'ETIMEDOUT', err: codeError('ETIMEDOUT'), expected: { failure: 'timeout', reason: 'connection timed out' } },
  { name: 'CERT_HAS_EXPIRED', err: codeError('CERT_HAS_EXPIRED'), expected: { failure: 'tls', reason: 'TLS certificate expired' } },
  {
    name: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    err: codeError('DEPTH_ZERO_SELF_SIGNED_CERT'),
    expected: { failure: 'tls', reason: 'TLS certificate is self-signed' },
  },
  {
    name: 'ERR_TLS_CERT_ALTNAME_INVALID',
    err: codeError('ERR_TLS_CERT_ALTNAME_INVALID'),
    expected: { failure: 'tls', reason: 'TLS certificate does not match the host name' },
  },
  {
    name: 'ERR_SSL_WRONG_VERSION_NUMBER (any ERR_SSL_ code)',
    err: codeError('ERR_SSL_WRONG_VERSION_NUMBER'),
    expected: { failure: 'tls', reason: 'TLS handshake failed' },
  },
  { name: 'an HPE_ parser code', err: codeError('HPE_INVALID_HEADER_TOKEN'), expected: { failure: 'protocol', reason: 'invalid HTTP response' } },
  {
    name: 'a code nested in cause (undici TypeError: fetch failed)',
    err: new TypeError('fetch failed', { cause: codeError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1') }),
    expected: { failure: 'refused', reason: 'connection refused' },
  },
  {
    name: 'a code two levels deep in cause',
    err: new Error('outer', { cause: new Error('middle', { cause: codeError('ENOTFOUND') }) }),
    expected: { failure: 'dns', reason: 'DNS lookup failed' },
  },
  {
    name: 'a code inside AggregateError.errors (happy eyeballs)',
    err: new AggregateError([codeError('ECONNREFUSED'), codeError('ECONNREFUSED')], 'all attempts failed'),
    expected: { failure: 'refused', reason: 'connection refused' },
  },
  {
    name: 'an AggregateError in cause',
    err: new TypeError('fetch failed', { cause: new AggregateError([codeError('EHOSTUNREACH')]) }),
    expected: { failure: 'unreachable', reason: 'host unreachable' },
  },
  {
    name: 'an unknown outer code before a known inner one',
    err: codeError('UND_ERR_SOME_WRAPPER', 'wrapped', codeError('ECONNRESET')),
    expected: { failure: 'reset', reason: 'connection reset' },
  },
  {
    name: '"other side closed" without a code',
    err: new Error('other side closed'),
    expected: { failure: 'reset', reason: 'connection closed by the server' },
  },
  { name: 'an unknown code', err: codeError('EWHATEVER'), expected: { failure: 'error', reason: 'network error EWHATEVER' } },
  { name: 'headers too large (undici)', err: codeError('UND_ERR_HEADERS_OVERFLOW'), expected: { failure: 'protocol', reason: 'response headers too large' } },
  { name: 'a body that stalls (undici)', err: codeError('UND_ERR_BODY_TIMEOUT'), expected: { failure: 'timeout', reason: 'the response body stalled' } },
  { name: 'a bad request argument (undici)', err: codeError('UND_ERR_INVALID_ARG'), expected: { failure: 'error', reason: "the request could not be built (check the target's headers and URL)" } },
  { name: 'an undici code of no known meaning', err: codeError('UND_ERR_SOMETHING_NEW'), expected: { failure: 'error', reason: 'the HTTP client failed' } },
  { name: 'an error without a code', err: new Error('boom'), expected: { failure: 'error', reason: 'network error' } },
  { name: 'a thrown string', err: 'boom', expected: { failure: 'error', reason: 'network error' } },
  { name: 'undefined', err: undefined, expected: { failure: 'error', reason: 'network error' } },
];

describe('describeNetworkError', () => {
  it.each(cases)('describes $name', ({ err, expected }) => {
    expect(describeNetworkError(err, 10_000, false)).toEqual(expected);
  });

  it.each([
    { timeoutMs: 10_000, reason: 'timeout after 10s' },
    { timeoutMs: 1_000, reason: 'timeout after 1s' },
    { timeoutMs: 90_000, reason: 'timeout after 1m30s' },
  ])('calls an aborted check a timeout after $timeoutMs ms whatever the error', ({ timeoutMs, reason }) => {
    const abortError = Object.assign(new Error('This operation was aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
    expect(describeNetworkError(abortError, timeoutMs, true)).toEqual({ failure: 'timeout', reason });
    expect(describeNetworkError(codeError('ECONNRESET'), timeoutMs, true)).toEqual({ failure: 'timeout', reason });
  });

  it('does not loop forever on a cause cycle', () => {
    const a = codeError('EFIRST') as Error & { cause?: unknown };
    const b = codeError('ESECOND', 'b', a);
    a.cause = b;
    expect(describeNetworkError(a, 10_000, false)).toEqual({ failure: 'error', reason: 'network error EFIRST' });
  });
});
