/**
 * Cloud metadata and link-local addresses, which targets may not point at unless the deployment allows it
 * (`ALLOW_METADATA_TARGETS`): a check that reaches an instance metadata service can read credentials.
 */

/** What a refused address is: a known metadata service, or elsewhere in a link-local range. */
export type MetadataAddressKind = 'cloud metadata' | 'link-local';

/** A refused address: its kind, and the IPv4 address an IPv6 one carries when that is what matched. */
export interface MetadataAddressMatch {
  kind: MetadataAddressKind;
  /** `169.254.169.254` for `::ffff:a9fe:a9fe`, `64:ff9b::a9fe:a9fe` and the like. */
  ipv4?: string;
}

/** 169.254.169.254 (AWS, Azure, GCP, OCI…), 169.254.170.2 (ECS task credentials), 169.254.170.23 (EKS Pod Identity), 100.100.100.200 (Alibaba). */
const METADATA_IPV4 = new Set([0xa9fea9fe, 0xa9feaa02, 0xa9feaa17, 0x646464c8]);
/** fd00:ec2::254 (AWS IMDS over IPv6), fd00:ec2::23 (EKS Pod Identity), fd20:ce::254 (GCP on IPv6-only machines). */
const METADATA_IPV6 = new Set(['fd00:0ec2:0000:0000:0000:0000:0000:0254', 'fd00:0ec2:0000:0000:0000:0000:0000:0023', 'fd20:00ce:0000:0000:0000:0000:0000:0254']);
/** Names that mean the metadata service on the clouds that define them (AWS, GCP). */
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata', 'instance-data']);

/**
 * An IPv4 address as the system resolver reads one (inet_aton): 1 to 4 parts, each decimal, octal
 * (leading 0) or hex (0x), the last part filling the remaining bytes, so `2852039166`, `0xa9fea9fe` and
 * `0251.0376.0251.0376` are all 169.254.169.254. Undefined when it is not one.
 */
export function parseIpv4(text: string): number | undefined {
  const parts = (text.endsWith('.') ? text.slice(0, -1) : text).split('.');
  if (parts.length > 4) return undefined;
  const numbers: number[] = [];
  for (const part of parts) {
    const n = /^0x[0-9a-f]*$/i.test(part)
      ? part.length === 2 ? 0 : parseInt(part.slice(2), 16)
      : /^0[0-7]*$/.test(part)
        ? parseInt(part, 8)
        : /^[1-9][0-9]*$/.test(part)
          ? Number(part)
          : Number.NaN;
    if (!Number.isFinite(n)) return undefined;
    numbers.push(n);
  }
  const last = numbers.pop() ?? Number.NaN;
  if (numbers.some((n) => n > 255) || last >= 256 ** (4 - numbers.length)) return undefined;
  return numbers.reduce((sum, n, i) => sum + n * 256 ** (3 - i), 0) + last;
}

/** The 16 bytes of an IPv6 address (brackets and a `%zone` allowed, an IPv4 tail too); undefined when it is not one. */
export function parseIpv6(text: string): Uint8Array | undefined {
  let s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const words: number[] = [];
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = halves.map((half) => (half === '' ? [] : half.split(':')));
  for (const group of groups) {
    for (let i = 0; i < group.length; i++) {
      const g = group[i] ?? '';
      const isLast = group === groups[groups.length - 1] && i === group.length - 1;
      if (isLast && g.includes('.')) {
        if (!/^\d{1,3}(?:\.\d{1,3}){3}$/.test(g)) return undefined;
        const v4 = g.split('.').map(Number);
        if (v4.some((n) => n > 255)) return undefined;
        const [a = 0, b = 0, c = 0, d = 0] = v4;
        group.splice(i, 1, ((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
        break;
      }
      if (!/^[0-9a-f]{1,4}$/i.test(g)) return undefined;
    }
  }
  const [head = [], tail] = groups;
  const count = head.length + (tail?.length ?? 0);
  if (tail === undefined ? count !== 8 : count > 7) return undefined;
  words.push(...head.map((g) => parseInt(g, 16)));
  if (tail !== undefined) {
    for (let i = count; i < 8; i++) words.push(0);
    words.push(...tail.map((g) => parseInt(g, 16)));
  }
  const bytes = new Uint8Array(16);
  for (const [i, w] of words.entries()) {
    bytes[2 * i] = w >> 8;
    bytes[2 * i + 1] = w & 0xff;
  }
  return bytes;
}

const formatIpv4 = (v: number): string => [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff].join('.');

function ipv4Kind(v: number): MetadataAddressKind | undefined {
  if (METADATA_IPV4.has(v)) return 'cloud metadata';
  // 169.254.0.0/16, all of it: the metadata services live there, and nothing a check should reach does.
  if (v >>> 16 === 0xa9fe) return 'link-local';
  return undefined;
}

const zeros = (bytes: Uint8Array, from: number, to: number): boolean => bytes.subarray(from, to).every((b) => b === 0);

/**
 * The IPv4 address an IPv6 address carries and that a packet to it may end up at: IPv4-mapped
 * (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`), NAT64's
 * well-known prefix (`64:ff9b::/96`) and 6to4 (`2002:AABB:CCDD::/48`).
 */
function embeddedIpv4(b: Uint8Array): number | undefined {
  const last = (((b[12] ?? 0) << 24) | ((b[13] ?? 0) << 16) | ((b[14] ?? 0) << 8) | (b[15] ?? 0)) >>> 0;
  if (zeros(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return last;
  if (zeros(b, 0, 12)) return last;
  if (zeros(b, 0, 8) && b[8] === 0xff && b[9] === 0xff && zeros(b, 10, 12)) return last;
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(b, 4, 12)) return last;
  if (b[0] === 0x20 && b[1] === 0x02) return (((b[2] ?? 0) << 24) | ((b[3] ?? 0) << 16) | ((b[4] ?? 0) << 8) | (b[5] ?? 0)) >>> 0;
  return undefined;
}

const hexWords = (b: Uint8Array): string =>
  Array.from({ length: 8 }, (_, i) => (((b[2 * i] ?? 0) << 8) | (b[2 * i + 1] ?? 0)).toString(16).padStart(4, '0')).join(':');

/**
 * Whether an IP address (IPv4 in any spelling the resolver accepts, IPv6 in any form, bracketed or not)
 * is a cloud metadata or link-local address: 169.254.0.0/16 (169.254.169.254, ECS's 169.254.170.2…),
 * 100.100.100.200, fe80::/10, fd00:ec2::254 and the other known metadata addresses, and any IPv6 address
 * that carries one of those IPv4 addresses. Undefined for every other address and for what is not an address.
 */
export function matchMetadataAddress(address: string): MetadataAddressMatch | undefined {
  if (!address.includes(':')) {
    const v4 = parseIpv4(address);
    const kind = v4 === undefined ? undefined : ipv4Kind(v4);
    return kind === undefined ? undefined : { kind };
  }
  const bytes = parseIpv6(address);
  if (bytes === undefined) return undefined;
  if (METADATA_IPV6.has(hexWords(bytes))) return { kind: 'cloud metadata' };
  if (bytes[0] === 0xfe && ((bytes[1] ?? 0) & 0xc0) === 0x80) return { kind: 'link-local' };
  const v4 = embeddedIpv4(bytes);
  const kind = v4 === undefined ? undefined : ipv4Kind(v4);
  return kind === undefined || v4 === undefined ? undefined : { kind, ipv4: formatIpv4(v4) };
}

/** Whether `name` is a host name that means the metadata service (`metadata.google.internal`, `metadata`, `instance-data`), in any case, with or without a trailing dot. */
export function isMetadataHostName(name: string): boolean {
  const lower = name.toLowerCase();
  return METADATA_NAMES.has(lower.endsWith('.') ? lower.slice(0, -1) : lower);
}

/** `169.254.169.254`, or `::a9fe:a9fe (169.254.169.254)` when an IPv6 address matched for the IPv4 one it carries: how errors show a match. */
export const showMetadataAddress = (address: string, match: MetadataAddressMatch): string =>
  match.ipv4 !== undefined ? `${address} (${match.ipv4})` : address;

// The resolver accepts `2852039166`, `0xa9fea9fe`, `169.254.169.254.` and uncompressed IPv6 too,
// so the address is shown in the form the URL parser gives it, not as typed.
function canonicalHost(host: string): string {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  try {
    return new URL(`http://${bare.includes(':') ? `[${bare}]` : bare}/`).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return bare;
  }
}

/**
 * Why a target's host (a name or an IP literal, as typed) is refused as a cloud metadata or link-local
 * address, or undefined when it is not one or `allowMetadata` is set. Only the literal is judged here;
 * the probes judge the addresses a name resolves to when they connect.
 */
export function metadataError(host: string, allowMetadata: boolean): string | undefined {
  if (allowMetadata) return undefined;
  const bare = canonicalHost(host);
  const suffix = 'Lookout refuses it unless ALLOW_METADATA_TARGETS=true';
  if (isMetadataHostName(bare)) return `${bare} is the name of a cloud metadata service; ${suffix}`;
  const match = matchMetadataAddress(bare);
  return match ? `${showMetadataAddress(bare, match)} is a ${match.kind} address; ${suffix}` : undefined;
}
