import { describe, expect, it } from 'vitest';
import { parseTraceHost } from '../../src/domain/host.js';

const refusal = (text: string): string =>
  `give a host name like api.example.com, an IPv4 or IPv6 address, or a target name; got "${text}"`;

describe('parseTraceHost', () => {
  it.each([
    ['api.example.com', 'api.example.com'],
    ['localhost', 'localhost'],
    ['a-b.c', 'a-b.c'],
    ['a', 'a'],
    ['1e100.net', '1e100.net'],
    ['xn--e1afmkfd.xn--p1ai', 'xn--e1afmkfd.xn--p1ai'],
    ['api.example.com.', 'api.example.com'],
    ['API.Example.COM', 'api.example.com'],
    ['127.0.0.1', '127.0.0.1'],
    ['203.0.113.10', '203.0.113.10'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['2001:DB8::A', '2001:db8::a'],
    ['::ffff:127.0.0.1', '::ffff:7f00:1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    // IPv4 in the spellings the resolver reads reaches mtr dotted.
    ['0x7f000001', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['127.1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['1.2.3', '1.2.0.3'],
    [`${'a'.repeat(63)}.example`, `${'a'.repeat(63)}.example`],
    [Array(4).fill('a'.repeat(63)).join('.').slice(0, 253), Array(4).fill('a'.repeat(63)).join('.').slice(0, 253)],
  ])('accepts %j as %j', (text, host) => {
    expect(parseTraceHost(text)).toEqual({ ok: true, value: host });
  });

  const longLabel = `${'a'.repeat(64)}.example`;
  const longName = `${Array(4).fill('a'.repeat(63)).join('.')}.b`;

  it.each([
    ['empty', ''],
    ['a space', ' '],
    ['a space inside', 'a b'],
    ['a leading space', ' api.example.com'],
    ['an option', '-rf'],
    ['a long option', '--tcp'],
    ['the IPv6 flag', '-6'],
    ['a trailing hyphen', 'a-.example'],
    ['a shell command', 'a;rm -rf /'],
    ['a command substitution', '$(id)'],
    ['backticks', '`id`'],
    ['a pipe', 'a|b'],
    ['an ampersand', 'a&b'],
    ['a redirect', 'a>b'],
    ['a single quote', "a'b"],
    ['a double quote', 'a"b'],
    ['a URL', 'http://x.example/'],
    ['a host with a port', 'x.example:443'],
    ['an empty label', 'x..example'],
    ['a lone dot', '.'],
    ['a leading dot', '.example.com'],
    ['two trailing dots', 'example.com..'],
    ['a 64-character label', longLabel],
    ['a name over 253 characters', longName],
    ['an underscore', 'ex_ample.com'],
    ['an IPv4 address out of range', '999.1.1.1'],
    ['an IPv6 address with a zone', 'fe80::1%eth0'],
    ['a bracketed zone', '[fe80::1%eth0]'],
    ['a bracketed IPv4 address', '[127.0.0.1]'],
    ['a half-bracketed address', '[::1'],
    ['a Cyrillic name', 'пример.рф'],
    ['an umlaut', 'bücher.de'],
    ['a newline inside', 'api.example.com\nevil.example'],
    ['a trailing newline', 'api.example.com\n'],
    ['a NUL byte', 'api.example.com\0'],
    ['a tab', 'a\tb'],
    ['a slash', 'a/b'],
    ['an at sign', 'user@host.example'],
  ])('refuses %s (%j)', (_, text) => {
    const result = parseTraceHost(text);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors).toHaveLength(1);
      expect(result.errors[0]).toMatch(/^give a host name like api\.example\.com, an IPv4 or IPv6 address, or a target name; got "/);
    }
  });

  it.each(['-rf', 'a;rm -rf /', 'x.example:443', ''])('quotes the refused text in the message: %j', (text) => {
    expect(parseTraceHost(text)).toEqual({ ok: false, errors: [refusal(text)] });
  });

  it('cuts a very long refused text to 80 characters in the message', () => {
    const text = `${'a'.repeat(100)}!`;
    expect(parseTraceHost(text)).toEqual({ ok: false, errors: [refusal(`${'a'.repeat(80)}…`)] });
  });

  it('never accepts anything that starts with "-"', () => {
    for (const text of ['-', '-1', '-a.example', '--', '--help', '-6.example', '-::1']) {
      expect(parseTraceHost(text).ok, text).toBe(false);
    }
  });
});
