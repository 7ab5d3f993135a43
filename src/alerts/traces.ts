import { NETWORK_FAILURES } from '../domain/check.js';
import type { Notification } from '../domain/notification.js';
import { traceFacts } from '../diagnostics/report.js';
import type { SourceResolver } from '../diagnostics/source.js';
import type { Tracer } from '../diagnostics/tracer.js';
import type { Logger } from '../lib/logger.js';
import type { Outbox } from './outbox.js';

/** Attaches network traces to alerts; `stop` drops traces that finish after shutdown began. */
export interface TraceAttacher {
  stop(): void;
  /** Traces still running (tests, shutdown). */
  pending(): number;
}

/** What the attacher needs. */
export interface TraceAttacherDeps {
  outbox: Outbox;
  tracer: Tracer;
  source: SourceResolver;
  now(): number;
  logger?: Logger;
}

/**
 * Once a single-target alert for a network-level failure has been delivered, traces the path to its
 * host in the background and queues the trace for the destination that delivered the alert (Telegram
 * adds it to the alert, or replies with it when both would not fit one message). The alert never waits
 * for the trace, and a trace that fails or times out says so without touching the alert's text.
 */
export function attachTraces(deps: TraceAttacherDeps): TraceAttacher {
  const { outbox, tracer } = deps;
  let stopped = false;
  let running = 0;

  async function attach(alert: Extract<Notification, { kind: 'down' }>, destination: string): Promise<void> {
    const incident = alert.incident;
    if (!incident.host || !incident.failure || !NETWORK_FAILURES.has(incident.failure)) return;
    running++;
    try {
      const result = await tracer.trace(incident.host, incident.port);
      if (stopped) return;
      const address = await deps.source.addressFor(incident.host);
      const trace = traceFacts(result, { label: deps.source.label, ...(address ? { address } : {}) });
      await outbox.enqueue(
        {
          kind: 'trace',
          incidentId: incident.id,
          trace,
          id: `${incident.id}:trace`,
          at: deps.now(),
          chatId: alert.chatId,
          ...(alert.threadId !== undefined ? { threadId: alert.threadId } : {}),
        },
        [destination],
      );
      deps.logger?.info({ event: 'trace_attached', chat: alert.chatId, target: incident.target.id, ok: result.ok }, 'trace attached to alert');
    } finally {
      running--;
    }
  }

  outbox.onDelivery((event) => {
    const n = event.item.notification;
    if (stopped || event.outcome !== 'delivered' || n.kind !== 'down' || !event.info?.single) return;
    void attach(n, event.item.destination).catch((err: unknown) => deps.logger?.error({ err, event: 'trace_attach_failed' }, 'could not attach a trace'));
  });

  return {
    stop() {
      stopped = true;
    },
    pending: () => running,
  };
}
