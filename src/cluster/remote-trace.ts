// Traces taken from another place: the leader asks an instance (the one that checks the target there, or
// any instance of the place for `/trace HOST from=nyc`) to run mtr towards a host and gets the result back.
//
// The request is a bus message (`trace`: request id, instance, host, port); the instance runs its own
// tracer (argv, never a shell; the host is validated again there), saves the result in the store
// (namespace `cluster-traces`: a trace can be larger than a NOTIFY payload) and answers with `traced` and
// the request id. The asker reads the result and deletes it. No answer within the timeout (the instance
// died, the bus is down): undefined, and the caller says so.

import { randomUUID } from 'node:crypto';
import type { TraceResult } from '../diagnostics/mtr.js';
import type { SourceResolver } from '../diagnostics/source.js';
import type { Tracer } from '../diagnostics/tracer.js';
import type { Logger } from '../lib/logger.js';
import type { KeyvStore } from '../store/keyv.js';
import type { Bus } from './bus.js';

/** A trace taken elsewhere, with where it was taken. */
export interface RemoteTrace {
  result: TraceResult;
  /** The place and the instance's source label: `nyc (lookout-nyc-1)`. */
  label: string;
  address?: string;
}

export interface RemoteTracer {
  /** Runs a trace on instance `id`; undefined when it did not answer within the timeout. */
  traceOn(id: string, host: string, port?: number): Promise<RemoteTrace | undefined>;
  start(): void;
  stop(): void;
}

export interface RemoteTracerDeps {
  bus: Bus;
  store: KeyvStore;
  /** This instance's id and place. */
  self: string;
  location: string;
  tracer: Tracer;
  source: SourceResolver;
  /** Refuses a host this instance would not trace (the same rule as /trace); undefined when fine. */
  refuse(host: string): string | undefined;
  /** How long the asker waits for the answer (ms): the tracer's own limit and some. */
  timeoutMs: number;
  logger?: Logger;
}

const TOPIC = { ask: 'trace', answer: 'traced' } as const;

export function createRemoteTracer(deps: RemoteTracerDeps): RemoteTracer {
  const results = deps.store.namespace<RemoteTrace>('cluster-traces');
  const waiting = new Map<string, () => void>();
  const offs: Array<() => void> = [];
  let running = false;

  const run = async (req: string, host: string, port: number | undefined): Promise<void> => {
    const refused = deps.refuse(host);
    if (refused !== undefined) {
      deps.logger?.warn({ event: 'remote_trace_refused', why: refused }, 'a trace asked for by another instance was refused');
      // Answered without a result: the asker does not wait out its timeout.
      await deps.bus.publish(TOPIC.answer, { req });
      return;
    }
    const result = await deps.tracer.trace(host, port);
    const address = await deps.source.addressFor(host);
    await results.set(req, { result, label: `${deps.location} (${deps.source.label})`, ...(address ? { address } : {}) }, 10 * 60_000);
    await deps.bus.publish(TOPIC.answer, { req });
    deps.logger?.info({ event: 'remote_trace', host, ok: result.ok }, 'trace taken for another instance');
  };

  return {
    start() {
      if (running) return;
      running = true;
      offs.push(
        deps.bus.subscribe(TOPIC.ask, (p) => {
          const { req, to, host, port } = (p ?? {}) as { req?: unknown; to?: unknown; host?: unknown; port?: unknown };
          if (to !== deps.self || typeof req !== 'string' || typeof host !== 'string' || host.length > 253) return;
          void run(req, host, typeof port === 'number' && Number.isInteger(port) && port > 0 && port < 65_536 ? port : undefined).catch((err: unknown) =>
            deps.logger?.error({ err, event: 'remote_trace_failed' }, 'could not take a trace for another instance'),
          );
        }),
        deps.bus.subscribe(TOPIC.answer, (p) => {
          const { req } = (p ?? {}) as { req?: unknown };
          if (typeof req === 'string') waiting.get(req)?.();
        }),
      );
    },

    stop() {
      running = false;
      for (const off of offs.splice(0)) off();
      for (const done of waiting.values()) done();
      waiting.clear();
    },

    async traceOn(id, host, port) {
      const req = randomUUID();
      const answered = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          waiting.delete(req);
          resolve(false);
        }, deps.timeoutMs);
        waiting.set(req, () => {
          clearTimeout(timer);
          waiting.delete(req);
          resolve(true);
        });
      });
      await deps.bus.publish(TOPIC.ask, { req, to: id, host, ...(port !== undefined ? { port } : {}) });
      if (!(await answered)) return undefined;
      const found = await results.get(req);
      await results.delete(req).catch(() => undefined);
      return found;
    },
  };
}
