import { createLimiter } from '../engine/limiter.js';
import type { Logger } from '../lib/logger.js';
import { runMtr, type Spawn, type TraceMode, type TraceResult, type TraceSettings } from './mtr.js';

/** Runs traces: the configured mode, a global limit on concurrent mtr processes, one per chat. */
export interface Tracer {
  /** Traces `host` (already validated); `port` lets auto mode fall back to TCP when ICMP is dropped. */
  trace(host: string, port?: number): Promise<TraceResult>;
  /** Reserves the chat's one trace slot; false when a trace is already running there. */
  begin(chatId: number): boolean;
  end(chatId: number): void;
  /** Kills running traces and ends queued ones (shutdown); later traces fail at once. */
  stop(): void;
}

/** What the tracer needs. */
export interface TracerDeps {
  settings: TraceSettings & { mode: 'icmp' | 'tcp' | 'auto' };
  spawn?: Spawn;
  logger?: Logger;
  /** At most this many mtr processes at once (default 2). */
  concurrency?: number;
}

/** Creates the tracer. */
export function createTracer(deps: TracerDeps): Tracer {
  const limiter = createLimiter(deps.concurrency ?? 2);
  const busy = new Set<number>();
  const stop = new AbortController();
  const run = (host: string, mode: TraceMode): Promise<TraceResult> =>
    limiter.run(() => runMtr(host, mode, deps.settings, deps.spawn, stop.signal));
  return {
    async trace(host, port) {
      const { mode } = deps.settings;
      if (mode === 'tcp') return run(host, { kind: 'tcp', port: port ?? 443 });
      const icmp = await run(host, { kind: 'icmp' });
      // Auto: a path whose last hop never answers ICMP is retried with TCP SYNs to the service's port.
      const dropped = icmp.ok && (icmp.hops.at(-1)?.lossPct ?? 100) >= 100;
      if (mode === 'auto' && dropped && port !== undefined) {
        deps.logger?.debug({ event: 'trace_tcp_fallback', host, port }, 'ICMP unanswered; tracing with TCP');
        return run(host, { kind: 'tcp', port });
      }
      return icmp;
    },
    begin(chatId) {
      if (busy.has(chatId)) return false;
      busy.add(chatId);
      return true;
    },
    end(chatId) {
      busy.delete(chatId);
    },
    stop() {
      stop.abort();
    },
  };
}
