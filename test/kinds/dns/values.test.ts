import { describe, expect, it } from 'vitest';
import {
  DNS_TYPES,
  formatDnsServer,
  normalizeIpv6,
  parseDnsExpect,
  parseDnsName,
  parseDnsServer,
  parseDnsType,
  type DnsType,
} from '../../../src/kinds/dns/values.js';

const errorsOf = <T>(parsed: { ok: true; value: T } | { ok: false; errors: string[] }): string[] => (parsed.ok ? [] : parsed.errors);

describe('parseDnsName', () => {
  it.each([
    ['example.com', 'example.com'],
    ['Example.COM', 'example.com'],
    ['example.com.', 'example.com'],
    ['localhost', 'localhost'],
    ['_dmarc.example.com', '_dmarc.example.com'],
    ['_sip._tcp.example.com', '_sip._tcp.example.com'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    [`${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`],
    // 253 characters, the most a name has (a trailing dot does not count).
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`, `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}.`, `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`],
  ])('takes %j as %j', (text, name) => {
    expect(parseDnsName(text)).toEqual({ ok: true, value: name });
  });

  it.each([
    [''],
    ['.'],
    ['example..com'],
    ['.example.com'],
    ['example.com..'],
    ['exa mple.com'],
    ['exämple.com'],
    ['example.com/path'],
    ['*.example.com'],
    [`${'a'.repeat(64)}.com`],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`],
  ])('refuses %j', (text) => {
    const errors = errorsOf(parseDnsName(text));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^name must be a DNS name of at most 253 characters/);
  });

  it('never repeats a long name whole', () => {
    const [error] = errorsOf(parseDnsName(`${'a'.repeat(300)}`));
    expect(error).toContain(`"${'a'.repeat(40)}…"`);
    expect(error).not.toContain('a'.repeat(41));
  });
});

describe('parseDnsType', () => {
  it.each(DNS_TYPES.flatMap((t) => [[t, t], [t.toLowerCase(), t]]))('takes %j as %s', (text, type) => {
    expect(parseDnsType(text)).toEqual({ ok: true, value: type });
  });

  it.each([['SRV'], [''], ['ANY'], ['a '], ['PTR']])('refuses %j', (text) => {
    expect(errorsOf(parseDnsType(text))).toEqual([`type must be one of A, AAAA, CNAME, MX, TXT, NS, got "${text}"`]);
  });
});

describe('parseDnsServer', () => {
  it.each([
    ['1.1.1.1', { host: '1.1.1.1', port: 53 }],
    ['1.1.1.1:5353', { host: '1.1.1.1', port: 5353 }],
    ['127.0.0.1:53', { host: '127.0.0.1', port: 53 }],
    ['::1', { host: '::1', port: 53 }],
    ['[::1]', { host: '::1', port: 53 }],
    ['[::1]:5353', { host: '::1', port: 5353 }],
    ['2606:4700:4700::1111', { host: '2606:4700:4700::1111', port: 53 }],
    ['[2606:4700:4700:0:0:0:0:1111]:853', { host: '2606:4700:4700::1111', port: 853 }],
    ['2001:DB8::1', { host: '2001:db8::1', port: 53 }],
    ['[::1]:65535', { host: '::1', port: 65535 }],
  ])('takes %j', (text, server) => {
    expect(parseDnsServer(text, false)).toEqual({ ok: true, value: server });
  });

  it.each([
    ['dns.google', /^server must be an IP address, not a name \(finding the DNS server would need DNS\), got "dns\.google"$/],
    ['dns.google:53', /not a name/],
    ['localhost', /not a name/],
    ['1.1.1', /^server must be an IP address with an optional port/],
    ['1.1.1.1:', /^server must be an IP address with an optional port/],
    ['1.1.1.1:0', /^server port must be between 1 and 65535, got "1\.1\.1\.1:0"$/],
    ['1.1.1.1:65536', /^server port must be between 1 and 65535/],
    ['1.1.1.1:123456', /^server must be an IP address with an optional port/],
    ['[1.1.1.1]:53', /^server must be an IP address with an optional port/],
    ['[::1', /^server must be an IP address with an optional port/],
    ['::1:zz', /^server must be an IP address with an optional port/],
    ['01.1.1.1', /^server must be an IP address with an optional port/],
    ['0x01010101', /^server must be an IP address with an optional port/],
    ['fe80::1%eth0', /^server must be an IP address with an optional port/],
    ['', /^server must be an IP address with an optional port/],
    ['0.0.0.0', /^server must be the address of a DNS server, got "0\.0\.0\.0"$/],
    ['[::]:53', /^server must be the address of a DNS server/],
    ['169.254.169.254', /^169\.254\.169\.254 is a cloud metadata address; Lookout refuses it unless ALLOW_METADATA_TARGETS=true$/],
    ['169.254.1.1:5353', /^169\.254\.1\.1 is a link-local address/],
    ['[fe80::1]:53', /^fe80::1 is a link-local address/],
    ['fd00:ec2::254', /^fd00:ec2::254 is a cloud metadata address/],
    ['::ffff:169.254.169.254', /is a cloud metadata address/],
  ])('refuses %j', (text, message) => {
    const errors = errorsOf(parseDnsServer(text, false));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(message);
  });

  it('takes a metadata address when the deployment allows it', () => {
    expect(parseDnsServer('169.254.169.254', true)).toEqual({ ok: true, value: { host: '169.254.169.254', port: 53 } });
    expect(parseDnsServer('[fe80::1]:5353', true)).toEqual({ ok: true, value: { host: 'fe80::1', port: 5353 } });
  });

  it('never repeats a long value whole', () => {
    const [error] = errorsOf(parseDnsServer(`1.1.1.1:${'9'.repeat(200)}`, false));
    expect(error).toContain('…"');
    expect(error!.length).toBeLessThan(200);
  });

  it.each([
    [{ host: '1.1.1.1', port: 53 }, '1.1.1.1'],
    [{ host: '1.1.1.1', port: 5353 }, '1.1.1.1:5353'],
    [{ host: '::1', port: 53 }, '::1'],
    [{ host: '::1', port: 5353 }, '[::1]:5353'],
  ])('formats %j as %j, which parses back', (server, text) => {
    expect(formatDnsServer(server)).toBe(text);
    expect(parseDnsServer(text, false)).toEqual({ ok: true, value: server });
  });
});

describe('normalizeIpv6', () => {
  it.each([
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['::1', '::1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['1.2.3.4', undefined],
    ['fe80::1%eth0', undefined],
  ])('makes %j %j', (text, normalized) => {
    expect(normalizeIpv6(text)).toBe(normalized);
  });
});

describe('parseDnsExpect', () => {
  it.each<[DnsType, string, string[]]>([
    ['A', '192.0.2.1', ['192.0.2.1']],
    ['A', '192.0.2.1,192.0.2.3', ['192.0.2.1', '192.0.2.3']],
    ['A', ' 192.0.2.1 , 192.0.2.3 ', ['192.0.2.1', '192.0.2.3']],
    ['A', '192.0.2.1,192.0.2.1', ['192.0.2.1']],
    ['AAAA', '2001:DB8:0::1', ['2001:db8::1']],
    ['AAAA', '[2001:db8::1],::1', ['2001:db8::1', '::1']],
    ['CNAME', 'Target.Example.com.', ['target.example.com']],
    ['NS', 'ns1.example.com,NS2.example.com.', ['ns1.example.com', 'ns2.example.com']],
    ['MX', 'mail.example.com', ['mail.example.com']],
    ['MX', '10 Mail.Example.com.', ['10 mail.example.com']],
    ['MX', '10  mail.example.com,20 backup.example.com', ['10 mail.example.com', '20 backup.example.com']],
    ['MX', '0 mail.example.com', ['0 mail.example.com']],
    ['TXT', 'v=spf1 -all', ['v=spf1 -all']],
    ['TXT', 'google-site-verification=abc,Case Matters', ['google-site-verification=abc', 'Case Matters']],
    ['TXT', 'x'.repeat(255), ['x'.repeat(255)]],
  ])('takes %s %j', (type, text, values) => {
    expect(parseDnsExpect(text, type)).toEqual({ ok: true, value: values });
  });

  it('takes 20 values', () => {
    const text = Array.from({ length: 20 }, (_, i) => `192.0.2.${i + 1}`).join(',');
    expect(parseDnsExpect(text, 'A')).toMatchObject({ ok: true });
  });

  it.each<[DnsType, string, string]>([
    ['A', '192.0.2', 'expect for A must be IPv4 addresses like 192.0.2.1, got "192.0.2"'],
    ['A', '2001:db8::1', 'expect for A must be IPv4 addresses like 192.0.2.1, got "2001:db8::1"'],
    ['A', 'example.com', 'expect for A must be IPv4 addresses like 192.0.2.1, got "example.com"'],
    ['A', '192.0.2.1,,192.0.2.2', 'expect must be IPv4 addresses like 192.0.2.1, comma-separated, got an empty value in "192.0.2.1,,192.0.2.2"'],
    ['A', '', 'expect must be IPv4 addresses like 192.0.2.1, comma-separated, got an empty value in ""'],
    ['AAAA', '192.0.2.1', 'expect for AAAA must be IPv6 addresses like 2001:db8::1, got "192.0.2.1"'],
    ['AAAA', 'fe80::1%eth0', 'expect for AAAA must be IPv6 addresses like 2001:db8::1, got "fe80::1%eth0"'],
    ['CNAME', 'not a name', 'expect for CNAME must be DNS names like target.example.com, got "not a name"'],
    ['NS', '192.0.2.1:53', 'expect for NS must be DNS names like ns1.example.com, got "192.0.2.1:53"'],
    ['MX', '65536 mail.example.com', 'expect for MX must be mail exchanges like mail.example.com or "10 mail.example.com", got "65536 mail.example.com"'],
    ['MX', '10 mail.example.com extra', 'expect for MX must be mail exchanges like mail.example.com or "10 mail.example.com", got "10 mail.example.com extra"'],
    ['MX', 'ten mail.example.com', 'expect for MX must be mail exchanges like mail.example.com or "10 mail.example.com", got "ten mail.example.com"'],
    ['TXT', 'x'.repeat(256), `expect for TXT must be texts of at most 255 characters, got "${'x'.repeat(40)}…"`],
  ])('refuses %s %j', (type, text, message) => {
    expect(errorsOf(parseDnsExpect(text, type))).toEqual([message]);
  });

  it('refuses more than 20 values', () => {
    const text = Array.from({ length: 21 }, (_, i) => `192.0.2.${i + 1}`).join(',');
    expect(errorsOf(parseDnsExpect(text, 'A'))).toEqual(['expect takes at most 20 values, got 21']);
  });
});
