import { connect, type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { CheckResult } from '../domain/check.js';
import type { TcpTarget } from '../domain/target.js';
import { describeNetworkError } from './network-error.js';
import type { Probe, ProbeContext } from './probe.js';

/** The tcp check: UP when a connection to host:port opens; it is closed at once. */
export function createTcpProbe(options: { lookup?: LookupFunction } = {}): Probe<TcpTarget> {
  return {
    kind: 'tcp',
    run(target: TcpTarget, ctx: ProbeContext): Promise<CheckResult> {
      const at = ctx.now();
      const started = performance.now();
      return new Promise<CheckResult>((resolve) => {
        if (ctx.signal.aborted) {
          resolve({ ok: false, at, latencyMs: 0, ...describeNetworkError(undefined, target.timeoutMs, true) });
          return;
        }
        const socket = connect({ host: target.host, port: target.port, autoSelectFamily: true, ...(options.lookup ? { lookup: options.lookup } : {}) });
        const finish = (result: CheckResult): void => {
          ctx.signal.removeEventListener('abort', onAbort);
          socket.destroy();
          resolve(result);
        };
        const onAbort = (): void =>
          finish({ ok: false, at, latencyMs: performance.now() - started, ...describeNetworkError(undefined, target.timeoutMs, true) });
        ctx.signal.addEventListener('abort', onAbort, { once: true });
        socket.once('connect', () => finish({ ok: true, at, latencyMs: performance.now() - started }));
        socket.once('error', (err) =>
          finish({ ok: false, at, latencyMs: performance.now() - started, ...describeNetworkError(err, target.timeoutMs, false) }),
        );
      });
    },
  };
}
