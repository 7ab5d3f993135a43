import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { CheckResult } from '../../domain/check.js';
import type { TcpTarget } from './index.js';
import { guardedLookup, literalRefusal, type AddressGuardOptions } from '../../probes/address-guard.js';
import { describeNetworkError } from '../../probes/network-error.js';
import type { Probe, ProbeContext } from '../../probes/probe.js';

/** How the tcp probe resolves names and which addresses it refuses. */
export type TcpProbeOptions = AddressGuardOptions & {
  /** `SOURCE_ADDRESS`: connections leave from this local address. */
  sourceAddress?: string;
};

/**
 * The tcp check: UP when a connection to host:port opens; it is closed at once. A cloud metadata or
 * link-local address (the literal, or any address the name resolves to) is DOWN without a connection.
 */
export function createTcpProbe(options: TcpProbeOptions = {}): Probe<TcpTarget> {
  const lookup = guardedLookup(options);
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
        const refused = literalRefusal(target.host, options);
        if (refused) {
          resolve({ ok: false, at, latencyMs: performance.now() - started, ...describeNetworkError(refused, target.timeoutMs, false) });
          return;
        }
        const socket = connect({ host: target.host, port: target.port, autoSelectFamily: true, lookup, ...(options.sourceAddress !== undefined ? { localAddress: options.sourceAddress } : {}) });
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
