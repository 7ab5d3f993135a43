import { spawn as nodeSpawn } from 'node:child_process';
import { isIP } from 'node:net';

/** How traces are run (`TRACE_*` settings). */
export interface TraceSettings {
  /** The mtr binary (`MTR_PATH`, default `mtr`). */
  binary: string;
  /** Probes per hop (`TRACE_CYCLES`, default 5). */
  cycles: number;
  /** Seconds between probes (`TRACE_INTERVAL`; below 1 s mtr allows only root). */
  intervalS: number;
  /** Seconds mtr waits for the last replies. */
  gracePeriodS: number;
  maxHops: number;
  /** The whole trace is killed after this long. */
  timeoutMs: number;
  /** `SOURCE_ADDRESS`: the probes leave from this local address (mtr `-a`). */
  sourceAddress?: string;
}

/** Defaults that work for a non-root user (mtr refuses intervals under 1 s for them). */
export const DEFAULT_TRACE_SETTINGS: TraceSettings = { binary: 'mtr', cycles: 5, intervalS: 1, gracePeriodS: 1, maxHops: 30, timeoutMs: 60_000 };

/** ICMP probes, or TCP SYNs to a port (for networks that drop ICMP). */
export type TraceMode = { kind: 'icmp' } | { kind: 'tcp'; port: number };

/** One hop of a trace. */
export interface Hop {
  index: number;
  /** Address of the hop, or `???` when it did not answer. */
  host: string;
  lossPct: number;
  sent: number;
  lastMs: number;
  avgMs: number;
  bestMs: number;
  worstMs: number;
  stdevMs: number;
}

/** A finished trace, or why there is none. */
export type TraceResult =
  | { ok: true; host: string; mode: TraceMode; hops: Hop[]; durationMs: number }
  | { ok: false; host: string; mode: TraceMode; error: 'missing' | 'timeout' | 'failed'; message: string };

/** The process starter, injectable so tests can prove mtr is never started for bad input. */
export type Spawn = typeof nodeSpawn;

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** Parses `mtr --json` output into hops; throws on output that is not an mtr report. */
export function parseMtrJson(text: string): Hop[] {
  const data = JSON.parse(text) as { report?: { hubs?: Array<Record<string, unknown>> } };
  const hubs = data.report?.hubs;
  if (!Array.isArray(hubs)) throw new Error('not an mtr JSON report');
  return hubs.map((h, i) => ({
    index: typeof h.count === 'number' ? h.count : i + 1,
    host: typeof h.host === 'string' && h.host !== '' ? h.host : '???',
    lossPct: num(h['Loss%']),
    sent: num(h.Snt),
    lastMs: num(h.Last),
    avgMs: num(h.Avg),
    bestMs: num(h.Best),
    worstMs: num(h.Wrst),
    stdevMs: num(h.StDev),
  }));
}

/** The argument list for mtr: options first, then `--` and the (validated) host as one argument. */
export function mtrArgs(host: string, mode: TraceMode, settings: TraceSettings): string[] {
  const args = [
    '--json',
    '--no-dns',
    '-c',
    String(settings.cycles),
    '-i',
    String(settings.intervalS),
    '-G',
    String(settings.gracePeriodS),
    '-m',
    String(settings.maxHops),
  ];
  if (isIP(host) === 6) args.push('-6');
  if (settings.sourceAddress !== undefined) args.push('-a', settings.sourceAddress);
  if (mode.kind === 'tcp') args.push('--tcp', '--port', String(mode.port));
  args.push('--', host);
  return args;
}

/** The install hint shown when mtr is missing. */
export const MTR_MISSING = 'mtr is not installed on the monitor: install it with apt-get install mtr-tiny (Debian/Ubuntu), apk add mtr (Alpine) or brew install mtr (macOS)';

/**
 * Runs mtr against an already validated host, without a shell, bounded by `settings.timeoutMs`.
 * Never throws: a missing binary, a timeout or a failure is a result.
 */
export function runMtr(host: string, mode: TraceMode, settings: TraceSettings, spawn: Spawn = nodeSpawn, signal?: AbortSignal): Promise<TraceResult> {
  const started = performance.now();
  return new Promise<TraceResult>((resolve) => {
    let stdout = '';
    let stderr = '';
    let settled = false;
    const stopped: TraceResult = { ok: false, host, mode, error: 'failed', message: 'the trace was stopped (Lookout is shutting down)' };
    if (signal?.aborted) {
      resolve(stopped);
      return;
    }
    const finish = (result: TraceResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const onAbort = (): void => {
      child.kill('SIGKILL');
      finish(stopped);
    };
    const startFailure = (err: NodeJS.ErrnoException): TraceResult =>
      err.code === 'ENOENT'
        ? { ok: false, host, mode, error: 'missing', message: MTR_MISSING }
        : { ok: false, host, mode, error: 'failed', message: `mtr could not start (${err.code ?? err.message})` };
    let child: ReturnType<Spawn>;
    try {
      child = spawn(settings.binary, mtrArgs(host, mode, settings), { shell: false, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (err) {
      // Node throws some start errors instead of emitting them (ENOTDIR for MTR_PATH=/etc/passwd/mtr).
      resolve(startFailure(err as NodeJS.ErrnoException));
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish({ ok: false, host, mode, error: 'timeout', message: `the trace took longer than ${Math.round(settings.timeoutMs / 1000)}s and was stopped` });
    }, settings.timeoutMs);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d.length + stdout.length > 1_000_000 ? '' : d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += stderr.length > 10_000 ? '' : d));
    child.once('error', (err: NodeJS.ErrnoException) => finish(startFailure(err)));
    child.once('close', (code) => {
      try {
        const hops = parseMtrJson(stdout);
        finish({ ok: true, host, mode, hops, durationMs: performance.now() - started });
      } catch {
        // mtr exits 0 even when it cannot resolve the host: its first stderr line says why.
        const why = stderr.split('\n').find((l) => l.trim() !== '')?.replace(/^mtr:\s*/, '').slice(0, 200);
        finish({ ok: false, host, mode, error: 'failed', message: why ? `mtr failed: ${why}` : `mtr failed (exit code ${code ?? 'none'})` });
      }
    });
  });
}
