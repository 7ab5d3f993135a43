import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Resolver } from 'node:dns/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where Debian's dnsmasq-base puts the binary. */
export const DNSMASQ_PATH = '/usr/sbin/dnsmasq';

/** The zone the test dnsmasq answers for: every name under it that is not below is NXDOMAIN. */
export const DNS_DOMAIN = 'lookout.test';

/** What the test dnsmasq holds (documentation addresses only: 192.0.2.0/24, 2001:db8::/32). */
export const DNS_RECORDS = {
  /** A 192.0.2.1 and AAAA 2001:db8::1; no MX, so an MX query is an empty answer (ENODATA). */
  host: `a.${DNS_DOMAIN}`,
  hostV4: '192.0.2.1',
  hostV6: '2001:db8::1',
  /** A 192.0.2.1 and 192.0.2.3. */
  multi: `multi.${DNS_DOMAIN}`,
  /** CNAME to `host`. */
  alias: `www.${DNS_DOMAIN}`,
  /** The zone's apex: MX 10 mail, MX 20 backup; TXT "v=spf1 -all"; NS ns1, ns2. */
  apex: DNS_DOMAIN,
  mx: [
    { priority: 10, exchange: `mail.${DNS_DOMAIN}` },
    { priority: 20, exchange: `backup.${DNS_DOMAIN}` },
  ],
  txt: 'v=spf1 -all',
  ns: [`ns1.${DNS_DOMAIN}`, `ns2.${DNS_DOMAIN}`],
  /** TXT in two character-strings: "part one; " and "part two". */
  chunked: `chunked.${DNS_DOMAIN}`,
  chunkedText: 'part one; part two',
  /** Not in the zone: NXDOMAIN. */
  missing: `nope.${DNS_DOMAIN}`,
  /** Outside the zone, and dnsmasq has no upstream: REFUSED. */
  outside: 'example.com',
} as const;

/** A DNS server address as the dns check takes it. */
export interface TestDnsServer {
  host: string;
  port: number;
}

/** The running test DNS servers on 127.0.0.1. */
export interface Dnsmasq {
  /** Answers {@link DNS_RECORDS}; REFUSED outside {@link DNS_DOMAIN}. */
  readonly server: TestDnsServer;
  /** A validating (DNSSEC) dnsmasq whose only upstream is `server`: it cannot validate anything, so every answer is SERVFAIL. */
  readonly servfail: TestDnsServer;
  /** The command lines the servers run with, for failure messages. */
  readonly commands: readonly string[];
  /** Ends both processes and removes their files. */
  stop(): Promise<void>;
}

let present: boolean | undefined;

/** Whether dnsmasq is installed here. */
export function hasDnsmasq(): boolean {
  if (present === undefined) {
    try {
      accessSync(DNSMASQ_PATH, constants.X_OK);
      present = true;
    } catch {
      present = false;
    }
  }
  return present;
}

/**
 * Decides whether the dnsmasq tests run: true when dnsmasq is here. Without it a developer's run skips
 * them with a loud warning, but CI (`CI` set) must not pass silently, so there it throws and the file fails.
 */
export function dnsmasqTestsEnabled(env: NodeJS.ProcessEnv): boolean {
  if (hasDnsmasq()) return true;
  const how = 'install it with: apt-get install dnsmasq-base (the tests run /usr/sbin/dnsmasq)';
  if (env.CI) throw new Error(`dnsmasq is required in CI: ${DNSMASQ_PATH} is missing; ${how}`);
  console.warn(`\n⚠️⚠️⚠️  SKIPPING the dns check tests against dnsmasq: ${DNSMASQ_PATH} is missing; ${how}\n`);
  return false;
}

/** A port of 127.0.0.1 that is free for both UDP and TCP right now (dnsmasq listens on both). */
async function freeDnsPort(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const udp = createSocket('udp4');
    const port = await new Promise<number>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => resolve(udp.address().port));
    });
    const tcp = createServer();
    const tcpFree = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (tcpFree) await new Promise<void>((resolve) => tcp.close(() => resolve()));
    if (tcpFree) return port;
  }
  throw new Error('no port of 127.0.0.1 is free for both UDP and TCP');
}

/** `"a","b"` with dnsmasq's quoting of a TXT record's character-strings. */
const txtStrings = (...strings: string[]): string => strings.map((s) => `"${s}"`).join(',');

/** A name in DNS wire format, in hex: what `dns-rr` takes for the data of an NS record. */
const wireName = (name: string): string =>
  Buffer.concat([...name.split('.').map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label, 'ascii')])), Buffer.from([0])]).toString('hex');

const ZONE_CONFIG = [
  'no-resolv',
  'no-hosts',
  // Unknown names under the zone are NXDOMAIN, not forwarded.
  `local=/${DNS_DOMAIN}/`,
  `host-record=${DNS_RECORDS.host},${DNS_RECORDS.hostV4},${DNS_RECORDS.hostV6}`,
  `host-record=${DNS_RECORDS.multi},192.0.2.1`,
  `host-record=${DNS_RECORDS.multi},192.0.2.3`,
  `cname=${DNS_RECORDS.alias},${DNS_RECORDS.host}`,
  ...DNS_RECORDS.mx.map((mx) => `mx-host=${DNS_RECORDS.apex},${mx.exchange},${mx.priority}`),
  `txt-record=${DNS_RECORDS.apex},${txtStrings(DNS_RECORDS.txt)}`,
  `txt-record=${DNS_RECORDS.chunked},${txtStrings('part one; ', 'part two')}`,
  // dnsmasq has no NS option outside its authoritative mode: a raw record of type 2 does it.
  ...DNS_RECORDS.ns.map((ns) => `dns-rr=${DNS_RECORDS.apex},2,${wireName(ns)}`),
];

// Any trust anchor will do (this is the root's KSK-2017): with it dnsmasq validates every answer, asks its
// upstream for the DS records on the way, is REFUSED, and answers SERVFAIL.
const servfailConfig = (upstreamPort: number): string[] => [
  'no-resolv',
  'no-hosts',
  'dnssec',
  'trust-anchor=.,20326,8,2,E06D44B80B8F1D39A95C0B0D7C65D08458E880409BBC683457104237C7F8EC8D',
  `server=127.0.0.1#${upstreamPort}`,
];

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = exited(child);
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await gone;
  clearTimeout(killer);
}

const START_LIMIT_MS = 10_000;

interface Started {
  child: ChildProcess;
  port: number;
  command: string;
}

/**
 * Runs dnsmasq in the foreground with `lines` as its whole configuration. `--no-daemon` (debug mode) keeps it
 * from forking, from writing a pid file and from changing user: run as root it stays root instead of becoming
 * nobody. Resolves once it answers an A query for `probeName` (any DNS answer, even an error, means it listens).
 */
async function runDnsmasq(dir: string, label: string, lines: string[], probeName: string): Promise<Started> {
  const confFile = join(dir, `${label}.conf`);
  await writeFile(confFile, `${lines.join('\n')}\n`);
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freeDnsPort();
    const args = [
      '--no-daemon',
      `--conf-file=${confFile}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      `--port=${port}`,
      `--pid-file=${join(dir, `${label}.pid`)}`,
      '--log-facility=-',
    ];
    const command = [DNSMASQ_PATH, ...args].join(' ');
    const child = spawn(DNSMASQ_PATH, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-4_000);
    });
    const failed = new Promise<'exit'>((resolve) => child.once('exit', () => resolve('exit')));
    child.once('error', (err) => {
      output += `\n${err.message}`;
    });
    const resolver = new Resolver({ timeout: 500, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
    const started = performance.now();
    try {
      while (performance.now() - started < START_LIMIT_MS) {
        const answered = await Promise.race([
          resolver.resolve4(probeName).then(
            () => true,
            (err: { code?: string }) => err.code !== 'ECONNREFUSED' && err.code !== 'ETIMEOUT' && err.code !== 'ECANCELLED',
          ),
          failed,
        ]);
        if (answered === true) return { child, port, command };
        if (answered === 'exit') break;
        await sleep(20);
      }
    } finally {
      resolver.cancel();
    }
    await stopChild(child);
    lastError = `${command}\n${output}`;
    // Someone took the port between our check and dnsmasq's bind: try another one.
    if (!/address already in use/i.test(output)) break;
  }
  throw new Error(`dnsmasq (${label}) did not start answering within ${START_LIMIT_MS / 1_000}s:\n${lastError}`);
}

/**
 * Starts the real dnsmasq on 127.0.0.1 twice: one serving {@link DNS_RECORDS} (NXDOMAIN below
 * {@link DNS_DOMAIN}, REFUSED elsewhere: it has no upstream), and one validating DNSSEC with the first as
 * its only upstream, which answers SERVFAIL to everything. Resolves once both answer.
 */
export async function startDnsmasq(): Promise<Dnsmasq> {
  const dir = await mkdtemp(join(tmpdir(), 'lookout-dnsmasq-'));
  const running: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(running.map(stopChild));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const zone = await runDnsmasq(dir, 'zone', ZONE_CONFIG, DNS_RECORDS.host);
    running.push(zone.child);
    const servfail = await runDnsmasq(dir, 'servfail', servfailConfig(zone.port), DNS_RECORDS.host);
    running.push(servfail.child);
    return {
      server: { host: '127.0.0.1', port: zone.port },
      servfail: { host: '127.0.0.1', port: servfail.port },
      commands: [zone.command, servfail.command],
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A UDP socket on 127.0.0.1 that takes DNS queries and never answers: the peer of the timeout tests. */
export interface SilentDnsServer {
  readonly server: TestDnsServer;
  /** How many queries arrived. */
  readonly received: () => number;
  close(): Promise<void>;
}

/** Binds a {@link SilentDnsServer} on a free port of 127.0.0.1. */
export async function silentDnsServer(): Promise<SilentDnsServer> {
  const socket: UdpSocket = createSocket('udp4');
  let count = 0;
  socket.on('message', () => count++);
  const port = await new Promise<number>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(socket.address().port));
  });
  return {
    server: { host: '127.0.0.1', port },
    received: () => count,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
