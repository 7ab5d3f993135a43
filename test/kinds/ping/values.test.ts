import { describe, expect, it } from 'vitest';
import { formatLoss, formatPingHost, parseCount, parseLoss, parsePingHost, PING_LIMITS } from '../../../src/kinds/ping/values.js';

describe('parsePingHost', () => {
  it.each([
    ['example.com', 'example.com'],
    ['API.Example.COM', 'api.example.com'],
    ['db-1.internal.', 'db-1.internal.'],
    ['localhost', 'localhost'],
    ['192.0.2.10', '192.0.2.10'],
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['[2001:DB8::1]', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['[::ffff:192.0.2.1]', '::ffff:192.0.2.1'],
  ])('accepts %s as %s', (text, host) => {
    expect(parsePingHost(text)).toEqual({ ok: true, value: host });
  });

  it.each(['', 'http://example.com', 'example.com:80', '[example.com]', '[192.0.2.1]', '-c', '--help', 'a b', 'exa_mple.com', '1::2::3', '[::1', 'fe80::1%eth0', 'host;rm -rf /', '$(id)'])(
    'refuses %j with one short error naming what is wanted',
    (text) => {
      const result = parsePingHost(text);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.errors).toHaveLength(1);
      expect(result.errors[0]).toMatch(/^ping target must be a host name or an IP address like example\.com, 192\.0\.2\.10 or \[2001:db8::1\], got "/);
    },
  );

  it('quotes a long value clipped and control characters escaped', () => {
    const result = parsePingHost(`${'a'.repeat(300)}\n`);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors[0]).toContain('…"');
    expect(result.errors[0]).not.toContain('\n');
  });

  it.each([
    ['169.254.169.254', '169.254.169.254 is a cloud metadata address'],
    ['169.254.1.1', '169.254.1.1 is a link-local address'],
    ['[fd00:ec2::254]', 'fd00:ec2::254 is a cloud metadata address'],
    ['[::ffff:169.254.169.254]', 'is a cloud metadata address'],
    ['metadata.google.internal', 'metadata.google.internal is the name of a cloud metadata service'],
    ['2852039166', '169.254.169.254 is a cloud metadata address'],
  ])('refuses the metadata address %s', (text, words) => {
    const result = parsePingHost(text);
    expect(result).toEqual({ ok: false, errors: [expect.stringContaining(words)] });
    if (!result.ok) expect(result.errors[0]).toContain('ALLOW_METADATA_TARGETS=true');
  });

  it('accepts a metadata address when the deployment allows it', () => {
    expect(parsePingHost('169.254.169.254', true)).toEqual({ ok: true, value: '169.254.169.254' });
    expect(parsePingHost('metadata.google.internal', true)).toEqual({ ok: true, value: 'metadata.google.internal' });
  });

  it('shows IPv6 in brackets', () => {
    expect(formatPingHost('::1')).toBe('[::1]');
    expect(formatPingHost('example.com')).toBe('example.com');
  });
});

describe('parseCount', () => {
  it('takes 1 to 20 echo requests; 3 by default', () => {
    expect(PING_LIMITS.countDefault).toBe(3);
    expect(parseCount('1')).toEqual({ ok: true, value: 1 });
    expect(parseCount('20')).toEqual({ ok: true, value: 20 });
  });

  it.each(['0', '21', '-1', '2.5', 'three', ''])('refuses %j', (text) => {
    expect(parseCount(text)).toEqual({ ok: false, errors: [`count must be a whole number between 1 and 20, got "${text}"`] });
  });
});

describe('parseLoss', () => {
  it('takes a percentage with or without %, 100% by default (DOWN only when every echo is lost)', () => {
    expect(PING_LIMITS.lossDefaultPct).toBe(100);
    expect(parseLoss('20%')).toEqual({ ok: true, value: 20 });
    expect(parseLoss('20')).toEqual({ ok: true, value: 20 });
    expect(parseLoss('1%')).toEqual({ ok: true, value: 1 });
    expect(parseLoss('100%')).toEqual({ ok: true, value: 100 });
    expect(formatLoss(20)).toBe('20%');
  });

  it.each(['0', '0%', '101%', '-5%', '12.5%', '%', 'half', '20%%', ''])('refuses %j', (text) => {
    expect(parseLoss(text)).toEqual({
      ok: false,
      errors: [`loss must be a packet loss from 1% to 100% at which the target is DOWN, like loss=20%, got "${text}"`],
    });
  });
});
