import { spawn as nodeSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { CheckResult } from '../../../src/domain/check.js';
import {
  parsePingOutput,
  pingArgs,
  pingOutcome,
  pingTiming,
  PING_MISSING,
  runPing,
  type PingInput,
  type PingOptions,
  type Spawn,
} from '../../../src/kinds/ping/run.js';
import { scriptedLookup } from '../../support/fake-lookup.js';
import { abortedProbeContext, probeContext, TEST_NOW } from '../../support/probe-context.js';

// Only 127.0.0.0/8 and ::1 are pinged, some of it inside network namespaces of their own: nothing
// leaves the machine. Names resolve through scripted lookups, never through DNS.

// Captured here (iputils 20221126, LC_ALL=C) with the arguments runPing uses.
const OUT_OK = `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.043 ms
64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=0.032 ms
64 bytes from 127.0.0.1: icmp_seq=3 ttl=64 time=0.022 ms

--- 127.0.0.1 ping statistics ---
3 packets transmitted, 3 received, 0% packet loss, time 408ms
rtt min/avg/max/mdev = 0.022/0.032/0.043/0.008 ms
`;
const OUT_OK6 = `PING ::1(::1) 56 data bytes
64 bytes from ::1: icmp_seq=1 ttl=64 time=0.030 ms
64 bytes from ::1: icmp_seq=2 ttl=64 time=0.081 ms

--- ::1 ping statistics ---
2 packets transmitted, 2 received, 0% packet loss, time 202ms
rtt min/avg/max/mdev = 0.030/0.055/0.081/0.025 ms
`;
// Partial loss, fabricated in a namespace by setting net.ipv4.icmp_echo_ignore_all=1 half way through.
// iputils exits 0 here: only the statistics tell that echoes were lost.
const OUT_PARTIAL = `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.
64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.205 ms
64 bytes from 127.0.0.1: icmp_seq=2 ttl=64 time=0.043 ms
64 bytes from 127.0.0.1: icmp_seq=3 ttl=64 time=0.047 ms

--- 127.0.0.1 ping statistics ---
5 packets transmitted, 3 received, 40% packet loss, time 815ms
rtt min/avg/max/mdev = 0.043/0.098/0.205/0.075 ms
`;
// Every echo dropped (icmp_echo_ignore_all=1 in a namespace); exit code 1.
const OUT_ALL_LOST = `PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.

--- 127.0.0.1 ping statistics ---
2 packets transmitted, 0 received, 100% packet loss, time 203ms

`;
// stderr of a namespace whose lo is down (exit code 2, nothing on stdout but nothing useful either).
const ERR_NET_UNREACHABLE = 'ping: connect: Network is unreachable\n';
const ERR_NO_ROUTE = 'ping: connect: No route to host\n';
const ERR_NO_ADDRESS = 'ping: connect: Cannot assign requested address\n';
const ERR_FAMILY = 'ping: ::1: Address family for hostname not supported\n';
// Not captured (the ARP failure that makes it needs a LAN): the form iputils prints an ICMP error in.
const OUT_HOST_UNREACHABLE = `PING 192.0.2.7 (192.0.2.7) 56(84) bytes of data.
From 192.0.2.1 icmp_seq=1 Destination Host Unreachable
From 192.0.2.1 icmp_seq=2 Destination Host Unreachable
From 192.0.2.1 icmp_seq=3 Destination Host Unreachable

--- 192.0.2.7 ping statistics ---
3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2030ms
pipe 3
`;

const isRoot = process.getuid?.() === 0;
const hasIpv6Loopback = Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === '::1'));

/** A namespace whose lo is up and whose kernel ignores every ICMP echo request. A shell only here, in the test's command. */
const DROP_ECHO = ['unshare', '-n', '--', 'sh', '-c', 'ip link set lo up && sysctl -qw net.ipv4.icmp_echo_ignore_all=1 && exec ping "$@"', 'ping'];
/** A namespace whose lo stays down: there is no route anywhere. */
const LO_DOWN = ['unshare', '-n', '--', 'ping'];

interface Started {
  program: string;
  args: readonly string[];
  options: SpawnOptions;
  child: ChildProcess;
}

/** The real spawn, recording what it starts. */
function recordingSpawn(onStart?: (s: Started) => void): { spawn: Spawn; started: Started[] } {
  const started: Started[] = [];
  const spawn = ((program: string, args: readonly string[], options: SpawnOptions) => {
    const child = nodeSpawn(program, args, options);
    const s = { program, args, options, child };
    started.push(s);
    onStart?.(s);
    return child;
  }) as unknown as Spawn;
  return { spawn, started };
}

const input = (over: Partial<PingInput> = {}): PingInput => ({ host: '127.0.0.1', count: 3, lossPct: 100, timeoutMs: 5_000, ...over });

/** One check the way the engine runs it: a signal that fires at the timeout. */
async function check(over: Partial<PingInput>, options: PingOptions = {}): Promise<CheckResult> {
  const i = input(over);
  const ctx = probeContext(i.timeoutMs);
  try {
    return await runPing(i, ctx, options);
  } finally {
    ctx.dispose();
  }
}

describe('parsePingOutput', () => {
  it('reads the statistics and round trips of a run where every echo came back', () => {
    expect(parsePingOutput(OUT_OK)).toEqual({
      transmitted: 3,
      received: 3,
      lossPct: 0,
      errors: 0,
      rtt: { minMs: 0.022, avgMs: 0.032, maxMs: 0.043, mdevMs: 0.008 },
    });
    expect(parsePingOutput(OUT_OK6)).toMatchObject({ transmitted: 2, received: 2, lossPct: 0, rtt: { avgMs: 0.055 } });
  });

  it('reads partial loss, total loss and ICMP errors', () => {
    expect(parsePingOutput(OUT_PARTIAL)).toMatchObject({ transmitted: 5, received: 3, lossPct: 40, rtt: { avgMs: 0.098 } });
    expect(parsePingOutput(OUT_ALL_LOST)).toEqual({ transmitted: 2, received: 0, lossPct: 100, errors: 0 });
    expect(parsePingOutput(OUT_HOST_UNREACHABLE)).toEqual({
      transmitted: 3,
      received: 0,
      lossPct: 100,
      errors: 3,
      icmpError: 'Destination Host Unreachable',
    });
  });

  it('computes the loss unrounded from the counts', () => {
    const out = '3 packets transmitted, 2 received, 33.3333% packet loss, time 402ms\nrtt min/avg/max/mdev = 0.1/0.2/0.3/0.05 ms\n';
    expect(parsePingOutput(out)?.lossPct).toBeCloseTo(100 / 3);
  });

  it('is undefined when ping printed no statistics', () => {
    expect(parsePingOutput('')).toBeUndefined();
    expect(parsePingOutput('PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.\n')).toBeUndefined();
  });
});

describe('pingOutcome', () => {
  const exit = (stdout: string, stderr = '', code: number | null = 0) => ({ stdout, stderr, code, signal: null });

  it('is up with the average round trip as latency', () => {
    expect(pingOutcome(exit(OUT_OK), 100)).toEqual({ ok: true, latencyMs: 0.032, replies: '3 of 3 replies' });
  });

  it('is up with partial loss below the limit, down at or above it (exit code 0 or not)', () => {
    expect(pingOutcome(exit(OUT_PARTIAL), 100)).toEqual({ ok: true, latencyMs: 0.098, replies: '3 of 5 replies' });
    expect(pingOutcome(exit(OUT_PARTIAL), 41)).toEqual({ ok: true, latencyMs: 0.098, replies: '3 of 5 replies' });
    expect(pingOutcome(exit(OUT_PARTIAL), 40)).toEqual({ ok: false, failure: 'timeout', reason: '40% packet loss (3 of 5 replies), limit 40%' });
    expect(pingOutcome(exit(OUT_PARTIAL), 20)).toEqual({ ok: false, failure: 'timeout', reason: '40% packet loss (3 of 5 replies), limit 20%' });
  });

  it('is a timeout when every echo is lost', () => {
    expect(pingOutcome(exit(OUT_ALL_LOST, '', 1), 100)).toEqual({ ok: false, failure: 'timeout', reason: '100% packet loss (0 of 2 replies)' });
  });

  it('is unreachable when ICMP errors came back instead of replies', () => {
    expect(pingOutcome(exit(OUT_HOST_UNREACHABLE, '', 1), 100)).toEqual({
      ok: false,
      failure: 'unreachable',
      reason: '100% packet loss (0 of 3 replies): Destination Host Unreachable',
    });
  });

  it('is unreachable when the kernel refuses to send', () => {
    expect(pingOutcome(exit('', ERR_NET_UNREACHABLE, 2), 100)).toEqual({ ok: false, failure: 'unreachable', reason: 'network unreachable' });
    expect(pingOutcome(exit('', ERR_NO_ROUTE, 2), 100)).toEqual({ ok: false, failure: 'unreachable', reason: 'no route to host' });
    expect(pingOutcome(exit('', ERR_NO_ADDRESS, 2), 100)).toEqual({ ok: false, failure: 'unreachable', reason: 'address not available' });
  });

  it('is an error with the advice when ping may not open its socket', () => {
    const outcome = pingOutcome(exit('', 'ping: socket: Operation not permitted\n', 2), 100);
    expect(outcome).toEqual({
      ok: false,
      failure: 'error',
      reason: 'ping may not send ICMP here (socket: Operation not permitted): give it cap_net_raw or widen net.ipv4.ping_group_range',
    });
  });

  it('is an error quoting the first line of stderr, clipped, for anything else', () => {
    expect(pingOutcome(exit('', ERR_FAMILY, 2), 100)).toEqual({ ok: false, failure: 'error', reason: 'ping failed: ::1: Address family for hostname not supported' });
    const long = pingOutcome(exit('', `ping: ${'x'.repeat(500)}\u0007\n`, 2), 100);
    expect(long.ok === false && long.reason.length).toBeLessThan(200);
    expect(pingOutcome(exit('', '', 2), 100)).toEqual({ ok: false, failure: 'error', reason: 'ping failed (exit code 2)' });
    expect(pingOutcome({ stdout: '', stderr: '', code: null, signal: 'SIGTERM' }, 100)).toEqual({ ok: false, failure: 'error', reason: 'ping was stopped (SIGTERM)' });
  });
});

describe('pingArgs', () => {
  it('sends COUNT requests 0.2s apart and waits the rest of the budget, with the IP literal last after --', () => {
    expect(pingArgs('127.0.0.1', 3, 4_000)).toEqual(['-4', '-n', '-c', '3', '-i', '0.2', '-W', '3.6', '--', '127.0.0.1']);
    expect(pingArgs('::1', 2, 1_600)).toEqual(['-6', '-n', '-c', '2', '-i', '0.2', '-W', '1.4', '--', '::1']);
  });

  it('has no -w deadline (which would make iputils send past COUNT while replies are missing)', () => {
    expect(pingArgs('127.0.0.1', 20, 60_000)).not.toContain('-w');
  });

  it('fits COUNT requests into a short timeout and waits at most 10s', () => {
    for (const [count, budget] of [[20, 800], [20, 1_600], [10, 4_000], [1, 800], [3, 240_000]] as const) {
      const { intervalMs, waitMs } = pingTiming(count, budget);
      expect((count - 1) * intervalMs + waitMs).toBeLessThanOrEqual(budget);
      expect(waitMs).toBeLessThanOrEqual(10_000);
    }
  });
});

describe('runPing against loopback', () => {
  it('is UP for 127.0.0.1 with the average round trip as latency, pinging it without a shell and with LC_ALL=C', async () => {
    const { spawn, started } = recordingSpawn();
    const result = await check({}, { spawn });
    expect(result).toEqual({ ok: true, at: TEST_NOW, latencyMs: expect.any(Number), reason: expect.stringMatching(/^\d+ of \d+ replies$/) });
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(started).toHaveLength(1);
    const [s] = started;
    expect(s?.program).toBe('ping');
    expect(s?.args.slice(-2)).toEqual(['--', '127.0.0.1']);
    expect(s?.args).toContain('-4');
    expect(s?.options.shell).toBe(false);
    expect(s?.options.env?.LC_ALL).toBe('C');
  });

  it.skipIf(!hasIpv6Loopback)('is UP for ::1 (and [::1]) with -6', async () => {
    const { spawn, started } = recordingSpawn();
    const result = await check({ host: '[::1]', count: 2 }, { spawn });
    expect(result).toMatchObject({ ok: true });
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(started[0]?.args).toContain('-6');
    expect(started[0]?.args.at(-1)).toBe('::1');
  });

  it('pings the address a name resolved to, not the name', async () => {
    const { lookup, asked } = scriptedLookup({ 'box.test': ['127.0.0.1'] });
    const { spawn, started } = recordingSpawn();
    const result = await check({ host: 'box.test', count: 1 }, { spawn, lookup });
    expect(result.ok).toBe(true);
    expect(asked).toEqual(['box.test']);
    expect(started[0]?.args.at(-1)).toBe('127.0.0.1');
    expect(started[0]?.args).not.toContain('box.test');
  });
});

describe('runPing refuses without starting ping', () => {
  it('a name that resolves to a metadata address, even among good ones', async () => {
    const { lookup } = scriptedLookup({ 'imds.test': ['169.254.169.254'], 'mixed.test': ['127.0.0.1', '169.254.169.254'] });
    const { spawn, started } = recordingSpawn();
    expect(await check({ host: 'imds.test' }, { spawn, lookup })).toEqual({
      ok: false,
      at: TEST_NOW,
      latencyMs: expect.any(Number),
      failure: 'error',
      reason: 'refused: imds.test resolves to 169.254.169.254, a cloud metadata address',
    });
    expect(await check({ host: 'mixed.test' }, { spawn, lookup })).toMatchObject({ ok: false, failure: 'error', reason: expect.stringMatching(/^refused: mixed\.test resolves to 169\.254\.169\.254/) });
    expect(started).toHaveLength(0);
  });

  it('a metadata or link-local literal, in any spelling', async () => {
    const { spawn, started } = recordingSpawn();
    expect(await check({ host: '169.254.169.254' }, { spawn })).toMatchObject({ ok: false, failure: 'error', reason: 'refused: 169.254.169.254 is a cloud metadata address' });
    expect(await check({ host: '[::ffff:169.254.169.254]' }, { spawn })).toMatchObject({ ok: false, failure: 'error', reason: expect.stringContaining('(169.254.169.254) is a cloud metadata address') });
    expect(await check({ host: 'fe80::1' }, { spawn })).toMatchObject({ ok: false, failure: 'error', reason: 'refused: fe80::1 is a link-local address' });
    expect(started).toHaveLength(0);
  });

  it('a name that does not resolve: a DNS failure in words', async () => {
    const { lookup } = scriptedLookup({});
    const { spawn, started } = recordingSpawn();
    expect(await check({ host: 'nothing.invalid' }, { spawn, lookup })).toMatchObject({ ok: false, failure: 'dns', reason: 'nothing.invalid not found in DNS' });
    expect(started).toHaveLength(0);
  });

  it('a check whose time is up before it starts, or runs out during the lookup', async () => {
    const { spawn, started } = recordingSpawn();
    expect(await runPing(input(), abortedProbeContext(), { spawn })).toMatchObject({ ok: false, failure: 'timeout', reason: 'timeout after 5s' });
    const controller = new AbortController();
    // A resolver that never answers; the check's signal fires while it is asked.
    const lookup = (() => controller.abort()) as unknown as NonNullable<PingOptions['lookup']>;
    const ctx = { signal: controller.signal, now: () => TEST_NOW };
    expect(await runPing(input({ host: 'slow.test' }), ctx, { spawn, lookup })).toMatchObject({ ok: false, failure: 'timeout' });
    expect(started).toHaveLength(0);
  });
});

describe('runPing stops ping', () => {
  it('kills it (SIGKILL) as soon as the check is aborted', async () => {
    const controller = new AbortController();
    // 20 echoes 0.2s apart would take about 4s; the abort comes as soon as ping has started.
    const { spawn, started } = recordingSpawn((s) => s.child.once('spawn', () => controller.abort()));
    const result = await runPing(input({ count: 20, timeoutMs: 60_000 }), { signal: controller.signal, now: () => TEST_NOW }, { spawn });
    expect(result).toMatchObject({ ok: false, failure: 'timeout', reason: 'timeout after 1m' });
    const child = started[0]!.child;
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    expect(child.signalCode).toBe('SIGKILL');
  });

  it('kills it a margin after the timeout when no signal fires', async () => {
    // A stand-in that ignores ping's arguments and would run for 30s (a shell only in the test's command).
    const { spawn, started } = recordingSpawn();
    const never = new AbortController().signal;
    const result = await runPing(input({ timeoutMs: 1_000 }), { signal: never, now: () => TEST_NOW }, { spawn, command: ['sh', '-c', 'exec sleep 30', 'ping'] });
    expect(result).toMatchObject({ ok: false, failure: 'timeout', reason: 'timeout after 1s' });
    const child = started[0]!.child;
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
    expect(child.signalCode).toBe('SIGKILL');
  });

  it('reports a missing binary with the install hint, and what ping says when it may not open a socket', async () => {
    expect(await check({}, { command: ['/nonexistent/lookout-ping'] })).toMatchObject({ ok: false, failure: 'error', reason: PING_MISSING });
    // Node throws this one instead of emitting it.
    expect(await check({}, { command: ['/etc/passwd/ping'] })).toMatchObject({ ok: false, failure: 'error', reason: 'ping could not start (ENOTDIR)' });
    const denied = ['sh', '-c', 'echo "ping: socket: Operation not permitted" >&2; exit 2', 'ping'];
    expect(await check({}, { command: denied })).toMatchObject({ ok: false, failure: 'error', reason: expect.stringContaining('ping may not send ICMP here') });
  });
});

// Root may make network namespaces; elsewhere (CI runners as a plain user) these are skipped, never faked.
// In CI the namespace tests must run (CI is root): only a developer's non-root run skips them.
describe.skipIf(!isRoot && !process.env.CI)('runPing in a network namespace of its own', () => {
  it('is DOWN with 100% loss when the kernel drops every echo request', async () => {
    const result = await check({ count: 2, timeoutMs: 2_000 }, { command: DROP_ECHO });
    console.log('namespace, echo ignored:', JSON.stringify(result));
    expect(result).toMatchObject({ ok: false, failure: 'timeout', reason: '100% packet loss (0 of 2 replies)' });
  });

  it('is DOWN with loss above the limit in words', async () => {
    const result = await check({ count: 2, lossPct: 50, timeoutMs: 2_000 }, { command: DROP_ECHO });
    expect(result).toMatchObject({ ok: false, failure: 'timeout', reason: '100% packet loss (0 of 2 replies), limit 50%' });
  });

  it('is network unreachable when lo is down', async () => {
    const result = await check({ count: 2, timeoutMs: 2_000 }, { command: LO_DOWN });
    console.log('namespace, lo down:', JSON.stringify(result));
    expect(result).toMatchObject({ ok: false, failure: 'unreachable', reason: 'network unreachable' });
  });

  it.skipIf(!hasIpv6Loopback)('is unreachable for ::1 when lo is down', async () => {
    const result = await check({ host: '::1', count: 2, timeoutMs: 2_000 }, { command: LO_DOWN });
    console.log('namespace, lo down, ::1:', JSON.stringify(result));
    expect(result).toMatchObject({ ok: false, failure: 'unreachable', reason: 'address not available' });
  });
});
