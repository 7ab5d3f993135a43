import { createHmac, timingSafeEqual } from 'node:crypto';

/** `sha256=<hex HMAC-SHA256 of "timestamp.body">`: what `X-Lookout-Signature` carries. */
export function signBody(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * What a receiver checks: the signature matches (compared in constant time) and the timestamp
 * (`X-Lookout-Timestamp`, Unix seconds) is within `toleranceMs` of now, so an old delivery replayed is refused.
 */
export function verifySignature(secret: string, timestamp: string, body: string, header: string, now = Date.now(), toleranceMs = 300_000): boolean {
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(now - Number(timestamp) * 1_000) > toleranceMs) return false;
  const expected = Buffer.from(signBody(secret, timestamp, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
