import { EventEmitter, once } from 'node:events';
import { readFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { vi, type Mock } from 'vitest';
import type { Spawn } from '../../src/diagnostics/mtr.js';

/** A stand-in for mtr's child process: stdout/stderr streams, `kill`, and helpers to end it. */
export class FakeChild extends EventEmitter {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  alive = true;
  /** The signal `kill` was called with, if any. */
  killedWith: NodeJS.Signals | number | undefined;
  readonly kill: Mock<(signal?: NodeJS.Signals | number) => boolean> = vi.fn((signal?: NodeJS.Signals | number) => {
    this.killedWith = signal ?? 'SIGTERM';
    setImmediate(() => this.close(null, typeof signal === 'string' ? signal : 'SIGTERM'));
    return true;
  });

  constructor(readonly onExit: (child: FakeChild) => void = () => {}) {
    super();
  }

  /** Writes the output (in chunks, as a pipe may deliver it) and exits with `code` once the streams are drained. */
  async exit(code: number, stdout = '', stderr = ''): Promise<void> {
    const half = Math.ceil(stdout.length / 2);
    this.stdout.write(stdout.slice(0, half));
    this.stdout.end(stdout.slice(half));
    this.stderr.end(stderr);
    await Promise.all([once(this.stdout, 'end'), once(this.stderr, 'end')]);
    this.close(code, null);
  }

  /** Fails the way node reports a spawn error: an `error` event, then `close`. */
  failToStart(code: string): void {
    setImmediate(() => {
      this.emit('error', Object.assign(new Error(`spawn mtr ${code}`), { code, errno: -2, syscall: 'spawn mtr' }));
      this.close(-2, null);
    });
  }

  private close(code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.alive) return;
    this.alive = false;
    this.onExit(this);
    this.emit('exit', code, signal);
    this.emit('close', code, signal);
  }
}

/** One recorded `spawn` call. */
export interface SpawnCall {
  command: string;
  args: string[];
  options: Record<string, unknown>;
}

/** A fake `spawn`: `behave` decides what each started child does; calls and children are recorded. */
export function fakeSpawn(behave: (child: FakeChild, args: string[], call: number) => void) {
  const calls: SpawnCall[] = [];
  const children: FakeChild[] = [];
  let alive = 0;
  let maxAlive = 0;
  const fn = vi.fn((command: string, args: readonly string[], options: Record<string, unknown>) => {
    calls.push({ command, args: [...args], options });
    const child = new FakeChild(() => alive--);
    children.push(child);
    alive++;
    maxAlive = Math.max(maxAlive, alive);
    behave(child, [...args], calls.length - 1);
    return child;
  });
  return {
    spawn: fn as unknown as Spawn,
    fn,
    calls,
    children,
    get alive() {
      return alive;
    },
    get maxAlive() {
      return maxAlive;
    },
  };
}

/** A child that prints `stdout` (and `stderr`) and exits with `code` on the next turn of the event loop. */
export const replies =
  (stdout: string, stderr = '', code = 0) =>
  (child: FakeChild): void => {
    setImmediate(() => void child.exit(code, stdout, stderr));
  };

/** The recorded or hand-written `mtr --json` outputs in test/diagnostics/fixtures. */
export type MtrFixture = 'loopback-ipv4' | 'loopback-ipv6' | 'internet-path' | 'icmp-dropped' | 'ipv6-path';

/** Reads one mtr fixture as the text mtr printed. */
export function mtrFixture(name: MtrFixture): string {
  return readFileSync(new URL(`../diagnostics/fixtures/${name}.json`, import.meta.url), 'utf8');
}
