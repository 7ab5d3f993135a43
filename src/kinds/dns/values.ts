// The values of a dns check as users type them: the name asked for, the record type, the server asked
// and the answers expected. Pure: no network, no clock.
import { isIP } from 'node:net';
import { quoteValue } from '../../domain/errors.js';
import { metadataError } from '../../domain/metadata-address.js';
import { invalid, valid, type Parsed } from '../../domain/result.js';

/** The record types a dns check can ask for. */
export const DNS_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS'] as const;
/** One of {@link DNS_TYPES}. */
export type DnsType = (typeof DNS_TYPES)[number];

/** The DNS server a check asks instead of the system's: an IP literal (IPv6 without brackets) and a port. */
export interface DnsServer {
  host: string;
  port: number;
}

/** The port DNS servers listen on. */
export const DNS_PORT = 53;
/** The most values `expect=` takes. */
export const DNS_EXPECT_MAX = 20;
/** The longest TXT value `expect=` takes (one character-string of a TXT record). */
export const DNS_TXT_MAX_CHARS = 255;

const NAME_MAX_CHARS = 253;
const LABEL_RE = /^[a-z0-9_-]{1,63}$/;

/** `name` lower-cased and without its trailing dot when it is a DNS name, else undefined. */
function dnsName(text: string): string | undefined {
  const name = (text.endsWith('.') ? text.slice(0, -1) : text).toLowerCase();
  if (name.length < 1 || name.length > NAME_MAX_CHARS) return undefined;
  return name.split('.').every((label) => LABEL_RE.test(label)) ? name : undefined;
}

/**
 * A DNS name: 1-253 characters, dot-separated labels of 1-63 letters, digits, `-` or `_` (so `_dmarc.example.com`
 * is one), an optional trailing dot. The value is lower-cased and without the trailing dot.
 */
export function parseDnsName(text: string): Parsed<string> {
  const name = dnsName(text);
  return name !== undefined
    ? valid(name)
    : invalid(
        `name must be a DNS name of at most ${NAME_MAX_CHARS} characters, labels of 1-63 letters, digits, "-" or "_", like example.com, got ${quoteValue(text)}`,
      );
}

/** A record type of {@link DNS_TYPES}, in any case. */
export function parseDnsType(text: string): Parsed<DnsType> {
  const upper = text.toUpperCase();
  const type = DNS_TYPES.find((t) => t === upper);
  return type !== undefined ? valid(type) : invalid(`type must be one of ${DNS_TYPES.join(', ')}, got ${quoteValue(text)}`);
}

/** An IPv6 address in its canonical form (lower case, zeros compressed); undefined when `text` is not one. */
export function normalizeIpv6(text: string): string | undefined {
  if (isIP(text) !== 6 || text.includes('%')) return undefined;
  try {
    return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/**
 * A DNS server as `IP` or `IP:port`: `1.1.1.1`, `1.1.1.1:5353`, `::1`, `[::1]` or `[::1]:5353` (port 53 when
 * none). Only IP literals: a name would need DNS to find the DNS server. Cloud metadata and link-local
 * addresses are refused unless `allowMetadata` is set.
 */
export function parseDnsServer(text: string, allowMetadata = false): Parsed<DnsServer> {
  const error = `server must be an IP address with an optional port, like 1.1.1.1, 1.1.1.1:5353 or [2606:4700::1111]:53, got ${quoteValue(text)}`;
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(\d{1,5}))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
    if (isIP(host) !== 6) return invalid(error);
  } else if (isIP(text) === 6) {
    host = text;
  } else {
    const m = /^([^:]*)(?::(\d{1,5}))?$/.exec(text);
    if (!m) return invalid(error);
    host = m[1] ?? '';
    portText = m[2];
    if (isIP(host) !== 4) {
      // A name has a letter somewhere that is not an inet_aton hex part (`0x01010101` means an address).
      return dnsName(host) !== undefined && /[g-wyz_-]|(?:^|\.)[a-f]/i.test(host)
        ? invalid(`server must be an IP address, not a name (finding the DNS server would need DNS), got ${quoteValue(text)}`)
        : invalid(error);
    }
  }
  const port = portText === undefined ? DNS_PORT : Number(portText);
  if (port < 1 || port > 65535) return invalid(`server port must be between 1 and 65535, got ${quoteValue(text)}`);
  const normalized = isIP(host) === 6 ? normalizeIpv6(host) : host;
  if (normalized === undefined) return invalid(error);
  if (normalized === '0.0.0.0' || normalized === '::') return invalid(`server must be the address of a DNS server, got ${quoteValue(text)}`);
  const metadata = metadataError(normalized, allowMetadata);
  if (metadata) return invalid(metadata);
  return valid({ host: normalized, port });
}

/** `1.1.1.1`, `1.1.1.1:5353`, `::1`, `[::1]:5353`: the inverse of {@link parseDnsServer}. */
export function formatDnsServer(server: DnsServer): string {
  if (server.port === DNS_PORT) return server.host;
  return isIP(server.host) === 6 ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

/** What one expected value of each type looks like, for error messages. */
const EXPECT_WORDING: Record<DnsType, string> = {
  A: 'IPv4 addresses like 192.0.2.1',
  AAAA: 'IPv6 addresses like 2001:db8::1',
  CNAME: 'DNS names like target.example.com',
  NS: 'DNS names like ns1.example.com',
  MX: 'mail exchanges like mail.example.com or "10 mail.example.com"',
  TXT: `texts of at most ${DNS_TXT_MAX_CHARS} characters`,
};

/** One expected value in its normalised form, or undefined when it is not one of `type`. */
function expectValue(part: string, type: DnsType): string | undefined {
  switch (type) {
    case 'A':
      return isIP(part) === 4 ? part : undefined;
    case 'AAAA':
      return normalizeIpv6(part.startsWith('[') && part.endsWith(']') ? part.slice(1, -1) : part);
    case 'CNAME':
    case 'NS':
      return dnsName(part);
    case 'MX': {
      const m = /^(?:(\d{1,5})\s+)?(\S+)$/.exec(part);
      if (!m) return undefined;
      const exchange = dnsName(m[2] ?? '');
      if (exchange === undefined) return undefined;
      if (m[1] === undefined) return exchange;
      const priority = Number(m[1]);
      return priority <= 65535 ? `${priority} ${exchange}` : undefined;
    }
    case 'TXT':
      return [...part].length <= DNS_TXT_MAX_CHARS ? part : undefined;
  }
}

/**
 * The answers a dns check expects, comma-separated, each checked for `type` and normalised: A an IPv4
 * address, AAAA an IPv6 address (canonical form), CNAME and NS a name (lower case, no trailing dot), MX
 * `exchange` or `priority exchange`, TXT any text of at most 255 characters. At most 20; repeats count once.
 */
export function parseDnsExpect(text: string, type: DnsType): Parsed<string[]> {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.length > DNS_EXPECT_MAX) return invalid(`expect takes at most ${DNS_EXPECT_MAX} values, got ${parts.length}`);
  const values: string[] = [];
  for (const part of parts) {
    if (part === '') return invalid(`expect must be ${EXPECT_WORDING[type]}, comma-separated, got an empty value in ${quoteValue(text)}`);
    const value = expectValue(part, type);
    if (value === undefined) return invalid(`expect for ${type} must be ${EXPECT_WORDING[type]}, got ${quoteValue(part)}`);
    if (!values.includes(value)) values.push(value);
  }
  return valid(values);
}
