import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { closedPort } from './target-server.js';

/** A running moto server: an AWS-compatible EC2 API on 127.0.0.1 for the ec2 probe tests. */
export interface MotoServer {
  /** `http://127.0.0.1:PORT` */
  readonly endpoint: string;
  /** Ends the server process (SIGTERM, then SIGKILL after 2 s). */
  stop(): Promise<void>;
}

const START_LIMIT_MS = 15_000;

let motoPresent: boolean | undefined;

/** Whether python3 can import moto and its server (checked once per test file; takes about a second). */
export function hasMoto(): boolean {
  motoPresent ??= spawnSync('python3', ['-c', 'import moto, moto.server'], { stdio: 'ignore', timeout: 30_000 }).status === 0;
  return motoPresent;
}

/**
 * Decides whether the moto tests run: true when moto is here. Without it a developer's run skips them
 * with a loud warning, but CI (`CI` set) must not pass silently, so there it throws and the file fails.
 */
export function motoTestsEnabled(env: NodeJS.ProcessEnv): boolean {
  if (hasMoto()) return true;
  const how = 'install it with: pip install "moto[server]" (the tests run python3 -m moto.server)';
  if (env.CI) throw new Error(`moto is required in CI: python3 -c "import moto, moto.server" failed; ${how}`);
  console.warn(`\n⚠️⚠️⚠️  SKIPPING the ec2 probe tests against moto: python3 or moto is missing; ${how}\n`);
  return false;
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts `python3 -m moto.server` on a free port of 127.0.0.1 and resolves once it answers HTTP. */
export async function startMoto(): Promise<MotoServer> {
  const port = await closedPort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Never let moto itself reach out: it is only a local peer.
    env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true', PYTHONUNBUFFERED: '1' },
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4_000);
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = exited(child);
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 2_000);
    await gone;
    clearTimeout(killer);
  };

  const agent = new Agent({ connect: { timeout: 1_000 } });
  const started = performance.now();
  try {
    while (performance.now() - started < START_LIMIT_MS) {
      if (child.exitCode !== null) throw new Error(`moto server exited with ${child.exitCode} before answering:\n${output}`);
      try {
        const res = await request(`${endpoint}/`, { dispatcher: agent, signal: AbortSignal.timeout(2_000) });
        await res.body.dump();
        return { endpoint, stop };
      } catch {
        await sleep(100);
      }
    }
    throw new Error(`moto server did not answer on ${endpoint} within ${START_LIMIT_MS / 1_000}s:\n${output}`);
  } catch (err) {
    await stop();
    throw err;
  } finally {
    await agent.close();
  }
}
