import type { FailureKind } from '../domain/check.js';
import { formatDuration } from '../domain/duration.js';
import { findRefusal } from './address-guard.js';

/** A failure category and the words alerts show for it. */
export interface FailureDescription {
  failure: FailureKind;
  reason: string;
}

const TLS_REASONS: Record<string, string> = {
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  CERT_NOT_YET_VALID: 'TLS certificate is not yet valid',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate is self-signed',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS certificate chain is self-signed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate cannot be verified',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'TLS certificate issuer is unknown',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not match the host name',
  CERT_REVOKED: 'TLS certificate revoked',
};

const BY_CODE: Record<string, FailureDescription> = {
  ECONNREFUSED: { failure: 'refused', reason: 'connection refused' },
  ECONNRESET: { failure: 'reset', reason: 'connection reset' },
  EPIPE: { failure: 'reset', reason: 'connection reset' },
  UND_ERR_SOCKET: { failure: 'reset', reason: 'connection closed by the server' },
  ENOTFOUND: { failure: 'dns', reason: 'DNS lookup failed' },
  EAI_AGAIN: { failure: 'dns', reason: 'DNS lookup failed (temporary)' },
  EAI_NODATA: { failure: 'dns', reason: 'DNS lookup failed (no address)' },
  EHOSTUNREACH: { failure: 'unreachable', reason: 'host unreachable' },
  ENETUNREACH: { failure: 'unreachable', reason: 'network unreachable' },
  EHOSTDOWN: { failure: 'unreachable', reason: 'host down' },
  EADDRNOTAVAIL: { failure: 'unreachable', reason: 'address not available' },
  ETIMEDOUT: { failure: 'timeout', reason: 'connection timed out' },
  UND_ERR_CONNECT_TIMEOUT: { failure: 'timeout', reason: 'connection timed out' },
  HPE_INVALID_CONSTANT: { failure: 'protocol', reason: 'invalid HTTP response' },
  UND_ERR_INFO: { failure: 'protocol', reason: 'invalid HTTP response' },
  // undici's own codes, in words (the raw code goes to the log, not into the alert).
  UND_ERR_HEADERS_OVERFLOW: { failure: 'protocol', reason: 'response headers too large' },
  UND_ERR_HEADERS_TIMEOUT: { failure: 'timeout', reason: 'no response headers in time' },
  UND_ERR_BODY_TIMEOUT: { failure: 'timeout', reason: 'the response body stalled' },
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: { failure: 'protocol', reason: 'response shorter or longer than its Content-Length' },
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: { failure: 'error', reason: 'request body does not match its Content-Length' },
  UND_ERR_RES_EXCEEDED_MAX_SIZE: { failure: 'protocol', reason: 'response too large' },
  UND_ERR_RESPONSE_STATUS_CODE: { failure: 'protocol', reason: 'unexpected response status' },
  UND_ERR_INVALID_ARG: { failure: 'error', reason: 'the request could not be built (check the target\'s headers and URL)' },
  UND_ERR_INVALID_RETURN_VALUE: { failure: 'error', reason: 'the request could not be built' },
  UND_ERR_ABORTED: { failure: 'timeout', reason: 'the request was aborted' },
  UND_ERR_CLOSED: { failure: 'reset', reason: 'connection closed' },
  UND_ERR_DESTROYED: { failure: 'reset', reason: 'connection closed' },
  UND_ERR_NOT_SUPPORTED: { failure: 'protocol', reason: 'the server asked for something not supported' },
  UND_ERR_BPL_MISSING_UPSTREAM: { failure: 'error', reason: 'no upstream for the request' },
  UND_ERR_PRX_TLS: { failure: 'tls', reason: 'TLS through the proxy failed' },
  ECONNABORTED: { failure: 'reset', reason: 'connection aborted' },
  ERR_INVALID_URL: { failure: 'error', reason: 'invalid URL' },
};

function codesOf(err: unknown, depth = 0): string[] {
  if (depth > 5 || err === null || typeof err !== 'object') return [];
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  const codes = typeof e.code === 'string' ? [e.code] : [];
  if (Array.isArray(e.errors)) for (const inner of e.errors) codes.push(...codesOf(inner, depth + 1));
  codes.push(...codesOf(e.cause, depth + 1));
  return codes;
}

/**
 * Turns an error from a network call into a failure and its reason in words. `aborted` tells that the
 * check's own signal fired, which is a timeout whatever the library made of it.
 */
export function describeNetworkError(err: unknown, timeoutMs: number, aborted: boolean): FailureDescription {
  // A refused address is Lookout's own decision, not a network failure: "error" gets no trace (which
  // would send packets towards the very address that was refused).
  const refused = findRefusal(err);
  if (refused) return { failure: 'error', reason: refused.message };
  if (aborted) return { failure: 'timeout', reason: `timeout after ${formatDuration(timeoutMs)}` };
  const codes = codesOf(err);
  for (const code of codes) {
    const tls = TLS_REASONS[code];
    if (tls) return { failure: 'tls', reason: tls };
    const known = BY_CODE[code];
    if (known) return known;
    if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS')) return { failure: 'tls', reason: 'TLS handshake failed' };
    if (code.startsWith('HPE_')) return { failure: 'protocol', reason: 'invalid HTTP response' };
  }
  const message = err instanceof Error ? err.message : String(err);
  if (/other side closed|socket hang up/i.test(message)) return { failure: 'reset', reason: 'connection closed by the server' };
  // The HTTP client's own codes mean nothing to the people reading an alert; a system error's name
  // (EPROTO, ENOBUFS) is the standard one and helps whoever looks into it.
  const system = codes.find((c) => /^E[A-Z0-9]+$/.test(c));
  if (system) return { failure: 'error', reason: `network error ${system}` };
  return { failure: 'error', reason: codes.length > 0 ? 'the HTTP client failed' : 'network error' };
}
