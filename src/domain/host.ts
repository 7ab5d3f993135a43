import { isIP } from 'node:net';
import { quoteValue } from './errors.js';
import { parseIpv4 } from './metadata-address.js';
import { invalid, valid, type Parsed } from './result.js';

const LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/**
 * Validates what `/trace` may hand to mtr: an RFC 1123 host name, an IPv4 address or an IPv6 address
 * (bare or in brackets). Nothing that could be read as an option (`-x`), no spaces, no shell
 * metacharacters, no URLs: the value reaches mtr as one argument after `--`, and only if it passes here.
 */
export function parseTraceHost(text: string): Parsed<string> {
  const error = `give a host name like api.example.com, an IPv4 or IPv6 address, or a target name; got ${quoteValue(text, 80)}`;
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // IPv6 in its canonical form (zeros compressed, lower case), so mtr and the report show one spelling.
  if (isIP(bare) === 6 && !bare.includes('%')) return valid(new URL(`http://[${bare}]/`).hostname.slice(1, -1));
  // IPv4 in any spelling the resolver reads (`0x7f000001`, `2130706433`, `127.1`, `0177.0.0.1`) becomes dotted.
  const v4 = parseIpv4(text);
  if (v4 !== undefined) return valid([24, 16, 8, 0].map((shift) => (v4 >>> shift) & 255).join('.'));
  const name = text.endsWith('.') ? text.slice(0, -1) : text;
  if (name.length === 0 || name.length > 253) return invalid(error);
  const labels = name.split('.');
  if (!labels.every((l) => LABEL_RE.test(l))) return invalid(error);
  // A name of digits and dots only would be read as a (partial) IPv4 address.
  if (/^[0-9.]+$/.test(name)) return invalid(error);
  return valid(name.toLowerCase());
}
