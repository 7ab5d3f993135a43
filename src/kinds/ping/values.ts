// The values of a ping target as a user types them: `/add ping HOST [count=3] [loss=50%]`. Pure.

import { quoteValue } from '../../domain/errors.js';
import { metadataError, parseIpv6 } from '../../domain/metadata-address.js';
import { invalid, valid, type Parsed } from '../../domain/result.js';
import { HOSTNAME_RE, parseWhole } from '../../domain/target.js';

/**
 * Limits and defaults of a ping target.
 *
 * `loss` is a threshold: the target is UP when the share of echoes lost is **below** it, DOWN when it is
 * at or above it. The default, 100%, makes a ping DOWN only when every echo is lost; `loss=20%` makes
 * 1 lost echo of 5 (20%) DOWN and 0 of 5 UP; `loss=1%` makes any loss DOWN. 0% would never be UP, so
 * the threshold runs from 1% to 100%.
 */
export const PING_LIMITS = {
  countMin: 1,
  countMax: 20,
  countDefault: 3,
  lossMinPct: 1,
  lossMaxPct: 100,
  lossDefaultPct: 100,
} as const;

const IPV4_RE = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
// IPv6 as hex groups, colons and an optional IPv4 tail; no `%zone` (link-local addresses are refused anyway).
const IPV6_CHARS_RE = /^[0-9a-f:.]+$/i;

const isIpv6 = (text: string): boolean => text.includes(':') && IPV6_CHARS_RE.test(text) && parseIpv6(text) !== undefined;

/**
 * The host of a ping target: a host name, an IPv4 address (dotted quad) or an IPv6 address, with or
 * without `[...]` around it; lower-cased, brackets removed. A cloud metadata or link-local address, or
 * a metadata service's name, is refused unless `allowMetadata` (`ALLOW_METADATA_TARGETS`); the addresses
 * a name resolves to are judged again each time the check runs.
 */
export function parsePingHost(text: string, allowMetadata = false): Parsed<string> {
  const error = `ping target must be a host name or an IP address like example.com, 192.0.2.10 or [2001:db8::1], got ${quoteValue(text, 80)}`;
  const trimmed = text.trim();
  const bracketed = /^\[([^\]]*)\]$/.exec(trimmed);
  const host = (bracketed ? (bracketed[1] ?? '') : trimmed).toLowerCase();
  const ok = bracketed ? isIpv6(host) : isIpv6(host) || IPV4_RE.test(host) || (!host.includes(':') && HOSTNAME_RE.test(host));
  if (!ok) return invalid(error);
  const metadata = metadataError(host, allowMetadata);
  if (metadata) return invalid(metadata);
  return valid(host);
}

/** The host as users see it: IPv6 in brackets (`[::1]`), anything else as it is. */
export const formatPingHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);

/** `count=`: how many echo requests one check sends, 1 to 20 (default 3). */
export const parseCount = (text: string): Parsed<number> => parseWhole('count', text, PING_LIMITS.countMin, PING_LIMITS.countMax);

/**
 * `loss=`: the packet loss (percent, `20%` or `20`, whole numbers from 1 to 100) at which the target is
 * DOWN; it is UP while less than that is lost. Default 100%: DOWN only when no echo comes back.
 */
export function parseLoss(text: string): Parsed<number> {
  const m = /^\s*(\d{1,3})\s*%?\s*$/.exec(text);
  const pct = m ? Number(m[1]) : NaN;
  if (!(pct >= PING_LIMITS.lossMinPct && pct <= PING_LIMITS.lossMaxPct)) {
    return invalid(`loss must be a packet loss from 1% to 100% at which the target is DOWN, like loss=20%, got ${quoteValue(text)}`);
  }
  return valid(pct);
}

/** `20%`: a loss threshold as users type it, the inverse of {@link parseLoss}. */
export const formatLoss = (pct: number): string => `${pct}%`;
