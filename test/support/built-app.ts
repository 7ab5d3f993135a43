import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The app compiled into a folder of the project (so that it finds node_modules and "type": "module");
 * with `only` (paths under src/), just those modules and what they import.
 */
export async function buildApp(only?: readonly string[]): Promise<{ dist: string; remove(): Promise<void> }> {
  await mkdir(join(process.cwd(), '.cache'), { recursive: true });
  const dist = await mkdtemp(join(process.cwd(), '.cache', 'test-dist-'));
  let project = 'tsconfig.build.json';
  if (only !== undefined) {
    // tsc takes no file list with -p: a config of its own, extending the build's, names the files.
    project = join(dist, 'tsconfig.json');
    const files = only.map((f) => join(process.cwd(), f));
    await writeFile(project, JSON.stringify({ extends: join(process.cwd(), 'tsconfig.build.json'), compilerOptions: { outDir: dist }, include: [], files }));
  }
  const tsc = spawn(process.execPath, ['node_modules/typescript/bin/tsc', '-p', project, '--outDir', dist], { stdio: 'inherit' });
  const code = await new Promise((r) => tsc.once('exit', r));
  if (code !== 0) throw new Error(`tsc exited with ${String(code)}`);
  return { dist, remove: () => rm(dist, { recursive: true, force: true }) };
}

/** A running built process: its output so far, and how it ended. */
export interface RunningApp {
  child: ChildProcess;
  out(): string;
  /** Parsed JSON log lines so far. */
  lines(): Array<Record<string, unknown>>;
  exit: Promise<number | null>;
  /** The signal that ended it, once it has ended. */
  signal(): NodeJS.Signals | null;
}

/** Starts `dist/main.js` with only PATH and `env` in its environment. */
export function runApp(dist: string, env: Record<string, string>): RunningApp {
  let out = '';
  let signal: NodeJS.Signals | null = null;
  const child = spawn(process.execPath, ['--max-old-space-size=256', '--max-semi-space-size=8', join(dist, 'main.js')], { env: { PATH: process.env.PATH ?? '', ...env }, cwd: dist });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<number | null>((r) =>
    child.once('exit', (code, sig) => {
      signal = sig;
      r(code);
    }),
  );
  return {
    child,
    out: () => out,
    lines: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => {
          try {
            return JSON.parse(l) as Record<string, unknown>;
          } catch {
            return {};
          }
        }),
    exit,
    signal: () => signal,
  };
}

/** Polls until `predicate` holds (real time; for processes and servers, not for fake clocks). */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
