import type { TargetCommon } from '../../domain/target.js';
import { defineKind, errorOf, withKey, type Draft, type OptionSpec } from '../kind.js';
import { checkDns } from './resolve.js';
import { DNS_PORT, formatDnsServer, parseDnsExpect, parseDnsName, parseDnsServer, parseDnsType, type DnsServer, type DnsType } from './values.js';

/** A DNS name resolved against a server (the system's when none is given), answers optionally checked. */
export interface DnsTarget extends TargetCommon {
  kind: 'dns';
  /** The name asked for, lower case, without a trailing dot. */
  query: string;
  recordType: DnsType;
  server?: DnsServer;
  /** Values the answer must contain (normalised for the type); absent: any answer is UP. */
  expect?: string[];
}

type DnsDraft = Draft<DnsTarget>;

const query: OptionSpec<DnsDraft> = { apply: (d, v, { key }) => errorOf(withKey(parseDnsName(v), 'name', key), (n) => (d.query = n)) };

/**
 * `expect=` is read against the record type, which may come later in the same command: the values are
 * kept as written here and checked (and normalised) once every option is in, in `finish` and `check`.
 */
const pendingExpect = new WeakMap<object, { text: string; key: string }>();

function expectOf(t: { recordType?: DnsType; expect?: string[] }, text: string | undefined) {
  if (text === undefined) return undefined;
  return parseDnsExpect(text, t.recordType ?? 'A');
}

/** The dns kind: UP when the name resolves (and the answer holds every `expect=` value). */
export const dnsKind = defineKind<DnsTarget>({
  kind: 'dns',
  usage: '/add dns NAME [type=A|AAAA|CNAME|MX|TXT|NS] [server=IP[:port]] [expect=VALUE,...]',
  summary: 'a DNS lookup: UP when the server answers, and the answer holds every expect= value',
  dialogue: '<code>dns example.com type=MX</code>',
  optionsExample: '<code>name=mx expect="10 mail.example.com" server=192.0.2.53</code>',
  address: { key: 'query', documentHint: 'query: (the name)', missing: 'a dns target needs the name to resolve, like /add dns example.com type=MX', apply: query.apply },
  options: {
    query,
    type: { apply: (d, v, { key }) => errorOf(withKey(parseDnsType(v), 'type', key), (t) => (d.recordType = t)) },
    server: {
      apply: (d, v, ctx) => {
        if (v === '') {
          d.server = undefined;
          return undefined;
        }
        return errorOf(withKey(parseDnsServer(v, ctx.allowMetadata), 'server', ctx.key), (s) => (d.server = s));
      },
    },
    expect: {
      apply: (d, v, { key }) => {
        if (v === '') {
          pendingExpect.delete(d);
          d.expect = undefined;
          return undefined;
        }
        pendingExpect.set(d, { text: v, key });
        // Kept as written until the type is known (finish); check() reports what does not fit it.
        d.expect = v.split(',').map((p) => p.trim());
        return undefined;
      },
    },
  },
  finish(d) {
    const pending = pendingExpect.get(d);
    const parsed = expectOf(d, pending?.text ?? d.expect?.join(','));
    const expect = parsed === undefined ? undefined : parsed.ok ? parsed.value : (d.expect ?? []);
    return {
      query: d.query as string,
      recordType: d.recordType ?? 'A',
      ...(d.server !== undefined ? { server: d.server } : {}),
      ...(expect !== undefined && expect.length > 0 ? { expect } : {}),
    };
  },
  check(t) {
    if (t.expect === undefined) return [];
    const parsed = parseDnsExpect(t.expect.join(','), t.recordType);
    return parsed.ok ? [] : parsed.errors;
  },
  nameHost: (d) => d.query as string,
  show: (t) => `dns ${t.recordType} ${t.query}${t.server ? ` @${formatDnsServer(t.server)}` : ''}`,
  describe: (t) =>
    `dns ${t.recordType} lookup${t.server ? ` at ${formatDnsServer(t.server)}` : ' with the system resolver'}${t.expect ? `, expecting ${t.expect.join(', ')}` : ''}`,
  entry(t) {
    const entry: Record<string, string | readonly string[]> = { query: t.query };
    if (t.recordType !== 'A') entry.type = t.recordType;
    if (t.server) entry.server = formatDnsServer(t.server);
    if (t.expect) entry.expect = t.expect.join(',');
    return entry;
  },
  // A trace goes to the server asked (its DNS port); the system's resolver has no one address to trace.
  trace: (t) => (t.server ? { host: t.server.host, port: t.server.port ?? DNS_PORT } : undefined),
  secrets: () => [],
  create: (runtime) => ({
    probe: {
      kind: 'dns',
      run: (t, ctx) =>
        checkDns(
          {
            name: t.query,
            type: t.recordType,
            ...(t.server ? { server: t.server } : {}),
            expect: t.expect ?? [],
            timeoutMs: t.timeoutMs,
            ...(runtime.sourceAddress !== undefined ? { sourceAddress: runtime.sourceAddress } : {}),
          },
          ctx,
        ),
    },
  }),
});
