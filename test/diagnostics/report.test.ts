import { describe, expect, it } from 'vitest';
import { parseMtrJson, type Hop, type TraceMode, type TraceResult } from '../../src/diagnostics/mtr.js';
import { formatHopTable, formatTraceReport, traceSummary } from '../../src/diagnostics/report.js';
import { mtrFixture, type MtrFixture } from '../support/fake-mtr.js';

type Trace = Extract<TraceResult, { ok: true }>;

const ICMP: TraceMode = { kind: 'icmp' };
const trace = (fixture: MtrFixture, host: string, mode: TraceMode = ICMP): Trace => ({
  ok: true,
  host,
  mode,
  hops: parseMtrJson(mtrFixture(fixture)),
  durationMs: 1_234,
});
const withHops = (hops: Hop[]): Trace => ({ ok: true, host: 'api.example.com', mode: ICMP, hops, durationMs: 1 });
const silent = (index: number): Hop => ({ index, host: '???', lossPct: 100, sent: 5, lastMs: 0, avgMs: 0, bestMs: 0, worstMs: 0, stdevMs: 0 });

describe('formatHopTable', () => {
  it('prints the mtr --report table for a six-hop path', () => {
    expect(formatHopTable(trace('internet-path', '203.0.113.10').hops, 'vm')).toBe(
      [
        'HOST: vm                     Loss%   Snt   Last    Avg   Best   Wrst  StDev',
        '  1.|-- 10.0.0.1              0.0%     5    0.4    0.4    0.4    0.5    0.0',
        '  2.|-- 100.64.0.1            0.0%     5    3.1    3.3    3.0    3.9    0.4',
        '  3.|-- ???                 100.0%     5    0.0    0.0    0.0    0.0    0.0',
        '  4.|-- 198.51.100.17        20.0%     5   11.9   12.1   11.6   12.9    0.6',
        '  5.|-- 198.51.100.254        0.0%     5   14.3   14.0   13.8   14.3    0.2',
        '  6.|-- 203.0.113.10          0.0%     5   14.6   14.5   14.3   14.8    0.2',
      ].join('\n'),
    );
  });

  /** The column where each header title ends must be where each value of every row ends. */
  const assertAligned = (table: string): void => {
    const [header, ...rows] = table.split('\n');
    const ends = (line: string): number[] => [...line.matchAll(/\S+/g)].map((m) => m.index + m[0].length);
    const headerEnds = ends(header!).slice(-7);
    for (const row of rows) {
      expect(row).toHaveLength(header!.length);
      expect(ends(row).slice(-7)).toEqual(headerEnds);
    }
  };

  it.each<[MtrFixture, string]>([
    ['internet-path', 'vm'],
    ['icmp-dropped', 'monitor-1'],
    ['ipv6-path', 'vm'],
    ['loopback-ipv4', 'vm'],
    ['loopback-ipv6', 'vm'],
  ])('keeps every column of %s aligned under its title', (fixture, source) => {
    assertAligned(formatHopTable(trace(fixture, 'x').hops, source));
  });

  it('widens the host column for long hosts', () => {
    const host = '2001:db8:ffff:ffff:ffff:ffff:ffff:fffe';
    const table = formatHopTable([{ ...silent(1), host, lossPct: 0 }], 'vm');
    expect(table.split('\n')[1]).toContain(`  1.|-- ${host}   0.0%`);
    assertAligned(table);
  });

  it('keeps the columns aligned when the source label is longer than the host column', () => {
    const table = formatHopTable(trace('ipv6-path', 'x').hops, 'ip-172-31-22-107.eu-west-1.compute.internal');
    expect(table.split('\n')[0]).toMatch(/^HOST: ip-172-31-22-107\.eu-west-1\.compute\.internal +Loss%/);
    assertAligned(table);
  });

  it('is only the header for no hops', () => {
    expect(formatHopTable([], 'vm')).toBe('HOST: vm                     Loss%   Snt   Last    Avg   Best   Wrst  StDev');
  });
});

describe('traceSummary', () => {
  it('says the host was reached, in how many hops, with the last hop’s loss and average', () => {
    expect(traceSummary(trace('internet-path', '203.0.113.10'))).toBe('reached 203.0.113.10 in 6 hops, 0.0% loss, avg 14.5 ms');
  });

  it('says "1 hop" for loopback', () => {
    expect(traceSummary(trace('loopback-ipv4', '127.0.0.1'))).toBe('reached 127.0.0.1 in 1 hop, 0.0% loss, avg 0.1 ms');
  });

  it('names the IPv6 destination', () => {
    expect(traceSummary(trace('ipv6-path', '2001:db8:443::10'))).toBe('reached 2001:db8:443::10 in 4 hops, 0.0% loss, avg 13.0 ms');
  });

  it('says after which hop the path stops answering', () => {
    expect(traceSummary(trace('icmp-dropped', '192.0.2.80'))).toBe('no answer after hop 4 (192.0.2.1)');
  });

  it('skips silent hops in the middle when looking for the last answer', () => {
    const hops = trace('internet-path', 'x').hops.slice(0, 3);
    expect(traceSummary(withHops(hops))).toBe('no answer after hop 2 (100.64.0.1)');
  });

  it('says no hop answered when none did', () => {
    expect(traceSummary(withHops([silent(1), silent(2), silent(3)]))).toBe('no hop answered');
  });

  it('says no hops answered for an empty report', () => {
    expect(traceSummary(withHops([]))).toBe('no hops answered');
  });

  it('reports the loss of a last hop that answers only sometimes', () => {
    const hops = trace('internet-path', 'x').hops.slice(0, 4);
    expect(traceSummary(withHops(hops))).toBe('reached 198.51.100.17 in 4 hops, 20.0% loss, avg 12.1 ms');
  });
});

describe('formatTraceReport', () => {
  it('has a title line and the table in a <pre> block', () => {
    const result = trace('internet-path', '203.0.113.10');
    const report = formatTraceReport(result, { label: 'vm', address: '10.0.0.2' });
    expect(report).toBe(
      [
        '🛰 Trace to <b>203.0.113.10</b> from vm (10.0.0.2) (ICMP): reached 203.0.113.10 in 6 hops, 0.0% loss, avg 14.5 ms',
        `<pre>${formatHopTable(result.hops, 'vm')}</pre>`,
      ].join('\n'),
    );
  });

  it('leaves the address out when it is unknown', () => {
    expect(formatTraceReport(trace('loopback-ipv4', '127.0.0.1'), { label: 'vm' }).split('\n')[0]).toBe(
      '🛰 Trace to <b>127.0.0.1</b> from vm (ICMP): reached 127.0.0.1 in 1 hop, 0.0% loss, avg 0.1 ms',
    );
  });

  it('mentions TCP mode and its port', () => {
    const report = formatTraceReport(trace('internet-path', '203.0.113.10', { kind: 'tcp', port: 8443 }), { label: 'vm' });
    expect(report.split('\n')[0]).toBe('🛰 Trace to <b>203.0.113.10</b> from vm (TCP port 8443): reached 203.0.113.10 in 6 hops, 0.0% loss, avg 14.5 ms');
    expect(report).not.toContain('ICMP');
  });

  it('escapes the host, the source and the table', () => {
    const result = { ...trace('loopback-ipv4', '<b>x</b>&"y"'), hops: [{ ...silent(1), host: '<i>', lossPct: 0 }] };
    const report = formatTraceReport(result, { label: 'a<b>&c', address: '"q"' });
    expect(report).toContain('Trace to <b>&lt;b&gt;x&lt;/b&gt;&amp;&quot;y&quot;</b> from a&lt;b&gt;&amp;c (&quot;q&quot;)');
    expect(report).toContain('reached &lt;i&gt; in 1 hop');
    expect(report).toMatch(/<pre>HOST: a&lt;b&gt;&amp;c +Loss%/);
    expect(report).toContain('  1.|-- &lt;i&gt; ');
    expect(report).toMatch(/<pre>[^]*<\/pre>$/);
    // The only tags are the ones the report adds.
    expect(report.match(/<[^>]*>/g)).toEqual(['<b>', '</b>', '<pre>', '</pre>']);
  });

  it.each<[TraceResult, string]>([
    [
      { ok: false, host: 'nowhere.invalid', mode: ICMP, error: 'failed', message: 'mtr failed: Failed to resolve host: nowhere.invalid: Name or service not known' },
      '🛰 Trace to <b>nowhere.invalid</b> failed: mtr failed: Failed to resolve host: nowhere.invalid: Name or service not known',
    ],
    [
      { ok: false, host: '203.0.113.10', mode: { kind: 'tcp', port: 443 }, error: 'timeout', message: 'the trace took longer than 60s and was stopped' },
      '🛰 Trace to <b>203.0.113.10</b> failed: the trace took longer than 60s and was stopped',
    ],
    [
      { ok: false, host: '<h>', mode: ICMP, error: 'missing', message: 'install <mtr> & retry' },
      '🛰 Trace to <b>&lt;h&gt;</b> failed: install &lt;mtr&gt; &amp; retry',
    ],
  ])('says a failed trace "failed: <message>" without a table', (result, text) => {
    const report = formatTraceReport(result, { label: 'vm', address: '10.0.0.2' });
    expect(report).toBe(text);
    expect(report).not.toContain('<pre>');
  });
});
