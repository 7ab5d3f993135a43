// The cluster benchmark's side of its targets: the targets file that points at them, and the counting
// server (bench/count-server.ts, in its own process) followed over IPC.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The local targets: their origin, the running request count (sampled every 100 ms) and each path's count. */
export interface CountingTargets {
  /** `http://127.0.0.1:PORT`; target i is `${origin}/t${i}`. */
  origin: string;
  /** The running total of requests, one sample every 100 ms. */
  samples: ReadonlyArray<{ at: number; total: number }>;
  /** The total at `at` (the last sample not after it). */
  totalAt(at: number): number;
  /** When the last sample was taken. */
  latestAt(): number;
  /** Requests to paths that are no target (should stay 0). */
  strays(): number;
  /** Each target's request count so far. */
  counts(): Promise<number[]>;
  /** Each target's last request (ms; 0 = none yet). */
  lastArrivals(): Promise<number[]>;
  /** Starts recording every request's arrival time. */
  record(): Promise<void>;
  /** Stops recording: each target's arrival times (ms, ascending) since `record()`. */
  recorded(): Promise<number[][]>;
  close(): void;
}

/** The targets file: `n` http targets at `everyS` seconds on `origin`, headless (no chat). */
export function targetsYaml(origin: string, n: number, everyS: number): string {
  const width = String(n - 1).length;
  const lines = ['version: 1', 'targets:'];
  for (let i = 0; i < n; i++) lines.push(`  - { name: t${String(i).padStart(width, '0')}, url: "${origin}/t${i}", every: ${everyS}s }`);
  return `${lines.join('\n')}\n`;
}

/** Starts bench/count-server.js for `n` targets and follows its counts. */
export async function startCountingTargets(n: number): Promise<CountingTargets> {
  const child = fork(fileURLToPath(new URL('./count-server.js', import.meta.url)), [String(n)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const samples: Array<{ at: number; total: number }> = [];
  let strays = 0;
  const waiting = new Map<string, (value: unknown) => void>();
  const port = await new Promise<number>((resolve, reject) => {
    child.on('message', (m) => {
      const msg = m as { port?: number; at?: number; total?: number; strays?: number; reply?: string; value?: unknown };
      if (msg.port !== undefined) resolve(msg.port);
      else if (msg.reply !== undefined) {
        waiting.get(msg.reply)?.(msg.value);
        waiting.delete(msg.reply);
      } else if (msg.at !== undefined && msg.total !== undefined) {
        samples.push({ at: msg.at, total: msg.total });
        strays = msg.strays ?? strays;
      }
    });
    child.once('exit', (code) => reject(new Error(`the target server exited with ${code}`)));
  });
  const ask = <T>(question: string): Promise<T> =>
    new Promise((resolve) => {
      waiting.set(question, (value) => resolve(value as T));
      child.send(question);
    });
  return {
    origin: `http://127.0.0.1:${port}`,
    samples,
    totalAt(at) {
      for (let i = samples.length - 1; i >= 0; i--) if (samples[i]!.at <= at) return samples[i]!.total;
      return 0;
    },
    latestAt: () => samples.at(-1)?.at ?? Date.now(),
    strays: () => strays,
    counts: () => ask('counts'),
    lastArrivals: () => ask('last'),
    record: () => ask('record'),
    recorded: () => ask('recorded'),
    close: () => void child.kill(),
  };
}
