import { spawn as nodeSpawn } from 'node:child_process';
import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { CheckResult, FailureKind } from '../../domain/check.js';
import { clipText } from '../../domain/errors.js';
import { findRefusal, guardedLookup, literalRefusal, type AddressGuardOptions } from '../../probes/address-guard.js';
import { describeNetworkError } from '../../probes/network-error.js';

/** What one ping check needs of its target. */
export interface PingInput {
  /** A host name or an IP literal (brackets allowed), as `parsePingHost` gave it. */
  host: string;
  /** Echo requests to send (1-20). */
  count: number;
  /** DOWN when at least this share (percent) of the echoes is lost; UP below it. */
  lossPct: number;
  /** The whole check (name resolution and ping) ends within this. */
  timeoutMs: number;
}

/** The check's signal (fires at its timeout or at shutdown) and the wall clock for `CheckResult.at`. */
export interface PingContext {
  signal: AbortSignal;
  now: () => number;
}

/** The process starter, injectable so tests can see what is started (or that nothing is). */
export type Spawn = typeof nodeSpawn;

/** How ping is run and which addresses it may be sent to. */
export interface PingOptions extends AddressGuardOptions {
  /** `SOURCE_ADDRESS`: the echoes leave from this local address (`-I`). */
  sourceAddress?: string;
  /**
   * The program and the arguments that go before ping's own; `['ping']` by default. Tests put a prefix in
   * front (`['unshare', '-n', '--', 'ping']`) to run it in a network namespace of its own.
   */
  command?: readonly string[];
  /** `child_process.spawn` unless a test passes its own. */
  spawn?: Spawn;
}

/** The statistics ping prints at the end of a run. */
export interface PingStats {
  transmitted: number;
  received: number;
  /** Lost share of the transmitted echoes, in percent (unrounded: 1 of 3 is 33.33…). */
  lossPct: number;
  /** ICMP errors received instead of replies (`+3 errors`). */
  errors: number;
  /** Round-trip times of the replies in ms; absent when none came back. */
  rtt?: { minMs: number; avgMs: number; maxMs: number; mdevMs: number };
  /** The first ICMP error ping reported, like `Destination Host Unreachable`. */
  icmpError?: string;
}

/** How one ping process ended: what it printed and its exit code (or the signal that ended it). */
export interface PingExit {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The install hint shown when ping is missing. */
export const PING_MISSING = 'ping is not installed on the monitor: install it with apt-get install iputils-ping';

/** Longest wait for the last replies (ping's own default): a longer timeout does not make ping wait longer. */
const MAX_WAIT_MS = 10_000;
/** Time between echo requests, shortened when count requests would not fit into the timeout otherwise. */
const INTERVAL_MS = 200;
/** The shortest interval used; iputils allows 2 ms to users other than root. */
const MIN_INTERVAL_MS = 10;
/** The shortest wait for replies after the last request. */
const MIN_WAIT_MS = 100;
/** A ping that has not ended this long after the timeout is killed, whether or not the signal fired. */
const KILL_MARGIN_MS = 1_000;
const STDOUT_MAX = 100_000;
const STDERR_MAX = 10_000;

const STATS_RE = /^(\d+) packets transmitted, (\d+) (?:packets )?received(.*)$/m;
const RTT_RE = /^(?:rtt|round-trip) min\/avg\/max(?:\/(?:mdev|stddev))? = ([\d.]+)\/([\d.]+)\/([\d.]+)(?:\/([\d.]+))? ?ms/m;
// `From 10.0.0.1 icmp_seq=1 Destination Host Unreachable`, `From ::1 icmp_seq=1 Destination unreachable: No route`.
const ICMP_ERROR_RE = /^From \S+(?: \([^)]*\))?:? icmp_seq=\d+ (.+)$/m;

/** Parses iputils ping output (with `LC_ALL=C`); undefined when it has no statistics (ping failed before sending). */
export function parsePingOutput(stdout: string): PingStats | undefined {
  const stats = STATS_RE.exec(stdout);
  if (!stats) return undefined;
  const transmitted = Number(stats[1]);
  const received = Number(stats[2]);
  const rest = stats[3] ?? '';
  const errors = Number(/\+(\d+) errors?/.exec(rest)?.[1] ?? 0);
  const result: PingStats = {
    transmitted,
    received,
    lossPct: transmitted > 0 ? (Math.max(0, transmitted - received) / transmitted) * 100 : 100,
    errors,
  };
  const rtt = RTT_RE.exec(stdout);
  if (rtt && received > 0) {
    result.rtt = { minMs: Number(rtt[1]), avgMs: Number(rtt[2]), maxMs: Number(rtt[3]), mdevMs: Number(rtt[4] ?? 0) };
  }
  const icmp = ICMP_ERROR_RE.exec(stdout);
  if (icmp?.[1]) result.icmpError = icmp[1].trim();
  return result;
}

/** How long ping waits between requests and for the last replies, so that the run ends within `budgetMs`. */
export function pingTiming(count: number, budgetMs: number): { intervalMs: number; waitMs: number } {
  const gaps = Math.max(0, count - 1);
  // At most half the budget goes to sending, the rest to waiting for the replies.
  const intervalMs = gaps === 0 ? INTERVAL_MS : Math.max(MIN_INTERVAL_MS, Math.min(INTERVAL_MS, Math.floor(budgetMs / 2 / gaps)));
  const waitMs = Math.max(MIN_WAIT_MS, Math.min(MAX_WAIT_MS, Math.floor(budgetMs - gaps * intervalMs)));
  return { intervalMs, waitMs };
}

const seconds = (ms: number): string => String(Number((ms / 1000).toFixed(3)));

/**
 * The arguments for ping: numeric output, COUNT requests INTERVAL apart, then a wait for the last
 * replies, all within `budgetMs`; `--` and the IP literal last, as one argument. No `-w` deadline: with
 * one, iputils keeps sending past COUNT while replies are missing, so the loss would not be out of COUNT.
 */
export function pingArgs(ip: string, count: number, budgetMs: number, sourceAddress?: string): string[] {
  const { intervalMs, waitMs } = pingTiming(count, budgetMs);
  return [isIP(ip) === 6 ? '-6' : '-4', '-n', '-c', String(count), '-i', seconds(intervalMs), '-W', seconds(waitMs), ...(sourceAddress !== undefined ? ['-I', sourceAddress] : []), '--', ip];
}

const lossWords = (stats: PingStats, lossPct: number): string =>
  `${Math.round(stats.lossPct)}% packet loss (${stats.received} of ${stats.transmitted} replies)${lossPct < 100 ? `, limit ${lossPct}%` : ''}`;

/** Kernel refusals ping prints on stderr (`ping: connect: Network is unreachable`), in alert words. */
const STDERR_FAILURES: Array<[RegExp, FailureKind, string]> = [
  [/Network is unreachable/i, 'unreachable', 'network unreachable'],
  [/No route to host/i, 'unreachable', 'no route to host'],
  [/Cannot assign requested address/i, 'unreachable', 'address not available'],
  [/Host is down/i, 'unreachable', 'host down'],
];

const firstLine = (text: string): string | undefined =>
  text
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '');

/**
 * Up or down from how ping ended. Pure: the statistics decide when there are any (iputils exits 0 even
 * when some echoes were lost); without them stderr says why ping gave up.
 */
export function pingOutcome(exit: PingExit, lossPct: number): { ok: true; latencyMs: number; replies: string } | { ok: false; failure: FailureKind; reason: string } {
  const stats = parsePingOutput(exit.stdout);
  const refused = STDERR_FAILURES.find(([re]) => re.test(exit.stderr));
  if (stats && stats.transmitted > 0) {
    if (stats.lossPct < lossPct && stats.rtt) return { ok: true, latencyMs: stats.rtt.avgMs, replies: `${stats.received} of ${stats.transmitted} replies` };
    const words = lossWords(stats, lossPct);
    if (stats.icmpError) return { ok: false, failure: 'unreachable', reason: `${words}: ${clipText(stats.icmpError, 80)}` };
    if (refused && stats.received === 0) return { ok: false, failure: refused[1], reason: `${words}: ${refused[2]}` };
    return { ok: false, failure: 'timeout', reason: words };
  }
  if (refused) return { ok: false, failure: refused[1], reason: refused[2] };
  const line = firstLine(exit.stderr)?.replace(/^ping:\s*/, '');
  if (line && /socket: (?:Operation not permitted|Permission denied)/i.test(line)) {
    return {
      ok: false,
      failure: 'error',
      reason: `ping may not send ICMP here (${clipText(line, 60)}): give it cap_net_raw or widen net.ipv4.ping_group_range`,
    };
  }
  if (line) return { ok: false, failure: 'error', reason: `ping failed: ${clipText(line, 160)}` };
  if (exit.signal) return { ok: false, failure: 'error', reason: `ping was stopped (${exit.signal})` };
  return { ok: false, failure: 'error', reason: `ping failed (exit code ${exit.code ?? 'none'})` };
}

/** A resolver failure in words: `db.example not found in DNS`. */
function dnsFailure(host: string, err: NodeJS.ErrnoException): { failure: FailureKind; reason: string } {
  const name = clipText(host, 80);
  const code = typeof err.code === 'string' ? err.code : undefined;
  if (code === 'ENOTFOUND' || code === 'EAI_NONAME') return { failure: 'dns', reason: `${name} not found in DNS` };
  if (code === 'EAI_NODATA' || code === 'ENODATA') return { failure: 'dns', reason: `${name} has no address in DNS` };
  if (code === 'EAI_AGAIN') return { failure: 'dns', reason: `DNS lookup of ${name} failed (temporary)` };
  return { failure: 'dns', reason: `DNS lookup of ${name} failed${code ? ` (${code})` : ''}` };
}

type Resolved = { ok: true; ip: string } | { ok: false; failure: FailureKind; reason: string };

/** The IP literal to ping: the host itself, or the first address its name resolves to (all of them judged). */
function resolve(host: string, timeoutMs: number, options: PingOptions): Promise<Resolved> {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare) !== 0) {
    const refused = literalRefusal(bare, options);
    return Promise.resolve(refused ? { ok: false, ...describeNetworkError(refused, timeoutMs, false) } : { ok: true, ip: bare });
  }
  const lookup = guardedLookup(options);
  return new Promise<Resolved>((done) => {
    const answered = (err: NodeJS.ErrnoException | null, answer: string | LookupAddress[], family?: number): void => {
      if (err) {
        const refused = findRefusal(err);
        done({ ok: false, ...(refused ? describeNetworkError(refused, timeoutMs, false) : dnsFailure(bare, err)) });
        return;
      }
      const addresses: LookupAddress[] = typeof answer === 'string' ? [{ address: answer, family: family ?? isIP(answer) }] : answer;
      const first = addresses.find((a) => isIP(a.address) !== 0);
      if (first === undefined) done({ ok: false, failure: 'dns', reason: `${clipText(bare, 80)} has no address in DNS` });
      else done({ ok: true, ip: first.address });
    };
    try {
      lookup(bare, { all: true }, answered);
    } catch (err) {
      answered(err as NodeJS.ErrnoException, []);
    }
  });
}

/** The promise's value, or undefined as soon as `signal` fires (the promise is left to settle unheard). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  return new Promise<T | undefined>((done) => {
    if (signal.aborted) {
      done(undefined);
      return;
    }
    const onAbort = (): void => done(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        done(value);
      },
      () => {
        signal.removeEventListener('abort', onAbort);
        done(undefined);
      },
    );
  });
}

/**
 * The ping check: resolves the host (refusing cloud metadata and link-local addresses, like the tcp
 * probe), then runs the system ping (iputils) against the resolved IP literal, so a name that changes
 * its answer cannot move the pings elsewhere. No shell: the program gets an argument array. UP when
 * less than `lossPct` percent of `count` echoes is lost, with the average round trip as latency.
 * Ping ends by itself within `timeoutMs`; it is killed (SIGKILL) when `ctx.signal` fires and when it
 * runs past the timeout by {@link KILL_MARGIN_MS}. Never throws.
 */
export async function runPing(input: PingInput, ctx: PingContext, options: PingOptions = {}): Promise<CheckResult> {
  const at = ctx.now();
  const started = performance.now();
  const elapsed = (): number => performance.now() - started;
  const timedOut = (): CheckResult => ({ ok: false, at, latencyMs: elapsed(), ...describeNetworkError(undefined, input.timeoutMs, true) });
  if (ctx.signal.aborted) return timedOut();

  const resolved = await untilAborted(resolve(input.host, input.timeoutMs, options), ctx.signal);
  if (resolved === undefined || ctx.signal.aborted) return timedOut();
  if (!resolved.ok) return { ok: false, at, latencyMs: elapsed(), failure: resolved.failure, reason: resolved.reason };

  // Ping gets what is left of the timeout, less a reserve for starting it and reading its output, so it
  // ends with its statistics before the check's signal fires at the timeout.
  const reserveMs = Math.min(1_000, Math.max(200, input.timeoutMs * 0.2));
  const args = pingArgs(resolved.ip, input.count, input.timeoutMs - elapsed() - reserveMs, options.sourceAddress);
  const [program = 'ping', ...prefix] = options.command ?? ['ping'];
  const spawn = options.spawn ?? nodeSpawn;

  return new Promise<CheckResult>((done) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let child: ReturnType<Spawn> | undefined;
    const kill = (): void => {
      child?.kill('SIGKILL');
      finish(timedOut());
    };
    const onAbort = (): void => kill();
    const finish = (result: CheckResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      done(result);
    };
    const startFailure = (err: NodeJS.ErrnoException): CheckResult => ({
      ok: false,
      at,
      latencyMs: elapsed(),
      failure: 'error',
      reason: err.code === 'ENOENT' ? PING_MISSING : `ping could not start (${err.code ?? clipText(err.message, 80)})`,
    });
    try {
      child = spawn(program, [...prefix, ...args], {
        shell: false,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, LC_ALL: 'C' },
      });
    } catch (err) {
      // Node throws some start errors instead of emitting them (ENOTDIR for a path through a file).
      finish(startFailure(err as NodeJS.ErrnoException));
      return;
    }
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(kill, Math.max(0, input.timeoutMs + KILL_MARGIN_MS - elapsed()));
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (stdout.length < STDOUT_MAX) stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < STDERR_MAX) stderr += d;
    });
    child.once('error', (err: NodeJS.ErrnoException) => finish(startFailure(err)));
    child.once('close', (code, signal) => {
      const outcome = pingOutcome({ stdout, stderr, code, signal }, input.lossPct);
      finish(
        outcome.ok
          ? { ok: true, at, latencyMs: outcome.latencyMs, reason: outcome.replies }
          : { ok: false, at, latencyMs: elapsed(), failure: outcome.failure, reason: outcome.reason },
      );
    });
  });
}
