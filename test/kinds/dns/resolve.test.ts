import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../../src/domain/check.js';
import { checkDns, describeAnswer, type DnsQuery } from '../../../src/kinds/dns/resolve.js';
import { closedPort } from '../../support/target-server.js';
import { DNS_RECORDS as R, dnsmasqTestsEnabled, silentDnsServer, startDnsmasq, type Dnsmasq } from '../../support/dnsmasq.js';
import { abortedProbeContext, probeContext, TEST_NOW } from '../../support/probe-context.js';

describe('describeAnswer', () => {
  it('lists records in a stable order', () => {
    expect(describeAnswer({ type: 'A', records: ['10.0.0.10', '10.0.0.2', '10.0.0.1'] })).toBe('10.0.0.1, 10.0.0.2, 10.0.0.10');
    expect(describeAnswer({ type: 'AAAA', records: ['2001:db8::2', '2001:db8::1'] })).toBe('2001:db8::1, 2001:db8::2');
    expect(describeAnswer({ type: 'CNAME', records: ['Target.Example.com.'] })).toBe('target.example.com');
    expect(describeAnswer({ type: 'NS', records: ['ns2.example.com', 'ns1.example.com'] })).toBe('ns1.example.com, ns2.example.com');
    expect(
      describeAnswer({
        type: 'MX',
        records: [
          { priority: 20, exchange: 'b.example.com' },
          { priority: 10, exchange: 'a.example.com' },
        ],
      }),
    ).toBe('10 a.example.com, 20 b.example.com');
    expect(describeAnswer({ type: 'TXT', records: [['v=spf1 ', '-all'], ['abc']] })).toBe('"abc", "v=spf1 -all"');
    expect(describeAnswer({ type: 'A', records: [] })).toBe('no records');
  });

  it('keeps a long answer short', () => {
    const many = Array.from({ length: 8 }, (_, i) => `192.0.2.${i + 1}`);
    expect(describeAnswer({ type: 'A', records: many })).toBe('192.0.2.1, 192.0.2.2, 192.0.2.3, 192.0.2.4, 192.0.2.5 and 3 more');
    const text = describeAnswer({ type: 'TXT', records: [['x'.repeat(255), 'y'.repeat(255)]] });
    expect(text).toBe(`"${'x'.repeat(64)}…"`);
    const line = describeAnswer({ type: 'TXT', records: [['a\nb']] });
    expect(line).toBe('"a\\nb"');
  });
});

describe('checkDns timeouts and aborts (no DNS server needed)', () => {
  it('is a timeout when the server never answers, at the check timeout', async () => {
    const silent = await silentDnsServer();
    const ctx = probeContext(10_000);
    try {
      const result = await checkDns({ name: 'a.lookout.test', type: 'A', server: silent.server, expect: [], timeoutMs: 500 }, ctx);
      expect(result).toMatchObject({ ok: false, at: TEST_NOW, failure: 'timeout', reason: 'timeout after 500ms' });
      expect(result.latencyMs).toBeGreaterThanOrEqual(490);
      expect(result.latencyMs).toBeLessThan(2_000);
      expect(silent.received()).toBeGreaterThanOrEqual(1);
    } finally {
      ctx.dispose();
      await silent.close();
    }
  });

  it('stops when the signal fires, as a timeout', async () => {
    const silent = await silentDnsServer();
    const controller = new AbortController();
    try {
      const pending = checkDns(
        { name: 'a.lookout.test', type: 'A', server: silent.server, expect: [], timeoutMs: 5_000 },
        { signal: controller.signal, now: () => TEST_NOW },
      );
      // Abort once the query is on the wire, not before: the check must cancel a query in flight.
      await new Promise<void>((resolve) => {
        const poll = (): void => (silent.received() > 0 ? resolve() : void setImmediate(poll));
        poll();
      });
      controller.abort();
      const result = await pending;
      expect(result).toMatchObject({ ok: false, at: TEST_NOW, failure: 'timeout', reason: 'timeout after 5s' });
      expect(result.latencyMs).toBeLessThan(4_000);
    } finally {
      await silent.close();
    }
  });

  it('does not ask at all when the signal has already fired', async () => {
    const silent = await silentDnsServer();
    try {
      const result = await checkDns({ name: 'a.lookout.test', type: 'A', server: silent.server, expect: [], timeoutMs: 5_000 }, abortedProbeContext());
      expect(result).toEqual({ ok: false, at: TEST_NOW, latencyMs: 0, failure: 'timeout', reason: 'timeout after 5s' });
      expect(silent.received()).toBe(0);
    } finally {
      await silent.close();
    }
  });

  it('is refused when nothing listens on the server port', async () => {
    const port = await closedPort();
    const ctx = probeContext(2_000);
    const result = await checkDns({ name: 'a.lookout.test', type: 'A', server: { host: '127.0.0.1', port }, expect: [], timeoutMs: 2_000 }, ctx);
    ctx.dispose();
    expect(result).toMatchObject({ ok: false, failure: 'refused', reason: `no DNS server answers at 127.0.0.1:${port} (connection refused)` });
  });
});

describe.runIf(dnsmasqTestsEnabled(process.env))('checkDns against dnsmasq', () => {
  let dns: Dnsmasq;

  beforeAll(async () => {
    dns = await startDnsmasq();
  });

  afterAll(async () => {
    await dns?.stop();
  });

  async function check(query: Partial<DnsQuery> & Pick<DnsQuery, 'name' | 'type'>): Promise<CheckResult> {
    const ctx = probeContext(5_000);
    try {
      return await checkDns({ server: dns.server, expect: [], timeoutMs: 5_000, ...query }, ctx);
    } finally {
      ctx.dispose();
    }
  }

  it.each<[string, DnsQuery['type'], string[]]>([
    ['A', 'A', [R.hostV4]],
    ['AAAA', 'AAAA', ['2001:DB8:0:0:0:0:0:1']],
    ['CNAME', 'CNAME', [R.host]],
    ['MX', 'MX', [R.mx[0].exchange, `${R.mx[1].priority} ${R.mx[1].exchange}`]],
    ['TXT', 'TXT', [R.txt]],
    ['NS', 'NS', [...R.ns]],
  ])('is up for %s records, and with the expected values', async (_label, type, expected) => {
    const name = type === 'A' || type === 'AAAA' ? R.host : type === 'CNAME' ? R.alias : R.apex;
    const any = await check({ name, type });
    expect(any).toMatchObject({ ok: true, at: TEST_NOW });
    expect(any.failure).toBeUndefined();
    expect(any.latencyMs).toBeGreaterThan(0);
    expect(any.latencyMs).toBeLessThan(5_000);
    expect(await check({ name, type, expect: expected })).toMatchObject({ ok: true });
  });

  it('asks a name the way it is written, in any case and with a trailing dot', async () => {
    expect(await check({ name: `A.LOOKOUT.test.`, type: 'A', expect: [R.hostV4] })).toMatchObject({ ok: true });
  });

  it('is up when the answer holds every expected value among others', async () => {
    expect(await check({ name: R.multi, type: 'A', expect: ['192.0.2.3'] })).toMatchObject({ ok: true });
    expect(await check({ name: R.multi, type: 'A', expect: ['192.0.2.1', '192.0.2.3'] })).toMatchObject({ ok: true });
  });

  it('joins the character-strings of a TXT record before comparing', async () => {
    expect(await check({ name: R.chunked, type: 'TXT', expect: [R.chunkedText] })).toMatchObject({ ok: true });
    expect(await check({ name: R.chunked, type: 'TXT', expect: ['part one; '] })).toMatchObject({
      ok: false,
      failure: 'keyword',
      reason: 'answer "part one; part two" is not the expected "part one; "',
    });
  });

  it('is down when the one answer is not the expected one', async () => {
    const result = await check({ name: R.host, type: 'A', expect: ['192.0.2.2'] });
    expect(result).toMatchObject({ ok: false, at: TEST_NOW, failure: 'keyword', reason: 'answer 192.0.2.1 is not the expected 192.0.2.2' });
    expect(result.latencyMs).toBeGreaterThan(0);
  });

  it('is down when several answers lack an expected one', async () => {
    expect(await check({ name: R.multi, type: 'A', expect: ['192.0.2.1', '192.0.2.2'] })).toMatchObject({
      ok: false,
      failure: 'keyword',
      reason: 'answer 192.0.2.1, 192.0.2.3 lacks the expected 192.0.2.2',
    });
    expect(await check({ name: R.multi, type: 'A', expect: ['192.0.2.2', '192.0.2.4'] })).toMatchObject({
      reason: 'answer 192.0.2.1, 192.0.2.3 lacks the expected 192.0.2.2, 192.0.2.4',
    });
  });

  it('compares an MX priority only when one is expected', async () => {
    expect(await check({ name: R.apex, type: 'MX', expect: [`10 ${R.mx[0].exchange}`] })).toMatchObject({ ok: true });
    expect(await check({ name: R.apex, type: 'MX', expect: [`20 ${R.mx[0].exchange}`] })).toMatchObject({
      ok: false,
      failure: 'keyword',
      reason: `answer 10 mail.lookout.test, 20 backup.lookout.test lacks the expected 20 mail.lookout.test`,
    });
  });

  it('is down for a CNAME pointing elsewhere and a missing name server', async () => {
    expect(await check({ name: R.alias, type: 'CNAME', expect: ['other.lookout.test'] })).toMatchObject({
      reason: `answer ${R.host} is not the expected other.lookout.test`,
    });
    expect(await check({ name: R.apex, type: 'NS', expect: ['ns3.lookout.test'] })).toMatchObject({
      reason: 'answer ns1.lookout.test, ns2.lookout.test lacks the expected ns3.lookout.test',
    });
  });

  it('is NXDOMAIN for a name the zone does not have', async () => {
    const result = await check({ name: R.missing, type: 'A' });
    expect(result).toMatchObject({ ok: false, at: TEST_NOW, failure: 'protocol', reason: `${R.missing}: NXDOMAIN (no such name)` });
    expect(result.latencyMs).toBeGreaterThan(0);
  });

  it('says there are no records when the name has none of the type', async () => {
    expect(await check({ name: R.host, type: 'MX' })).toMatchObject({ ok: false, failure: 'protocol', reason: `${R.host}: no MX records` });
    expect(await check({ name: R.apex, type: 'A' })).toMatchObject({ ok: false, failure: 'protocol', reason: `${R.apex}: no A records` });
  });

  it('is REFUSED for a name the server does not serve', async () => {
    expect(await check({ name: R.outside, type: 'A' })).toMatchObject({
      ok: false,
      failure: 'protocol',
      reason: `${R.outside}: REFUSED (the server will not answer this query)`,
    });
  });

  it('is SERVFAIL when the server cannot answer', async () => {
    expect(await check({ name: R.host, type: 'A', server: dns.servfail })).toMatchObject({
      ok: false,
      failure: 'protocol',
      reason: `${R.host}: SERVFAIL (the server could not answer)`,
    });
  });
});
