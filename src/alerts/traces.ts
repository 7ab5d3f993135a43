import { NETWORK_FAILURES } from '../domain/check.js';
import type { Notification } from '../domain/notification.js';
import { traceFacts } from '../diagnostics/report.js';
import type { SourceResolver } from '../diagnostics/source.js';
import type { Tracer } from '../diagnostics/tracer.js';
import type { Logger } from '../lib/logger.js';
import type { RemoteTracer } from '../cluster/remote-trace.js';
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
  /**
   * Several places: the places that see the alert's target fail and the instance that checks it there.
   * Each one traces from where it is (this instance itself when it is one of them); empty: a trace from here.
   */
  places?(targetId: string): Array<{ location: string; instance: string }>;
  /** This instance's id and place (with `places`). */
  self?: { id: string; location: string };
  remote?: RemoteTracer;
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
      const places = deps.places?.(incident.target.id) ?? [];
      if (places.length > 0) {
        await fromPlaces(alert, destination, places);
        return;
      }
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

  /** One trace per failing place, each saying where it was taken; the first drawn into the alert, the others replies. */
  async function fromPlaces(alert: Extract<Notification, { kind: 'down' }>, destination: string, places: Array<{ location: string; instance: string }>): Promise<void> {
    const incident = alert.incident;
    const host = incident.host!;
    const taken = await Promise.all(
      places.map(async (p) => {
        if (p.instance === deps.self?.id || !deps.remote) {
          const result = await tracer.trace(host, incident.port);
          const address = await deps.source.addressFor(host);
          return { place: p.location, got: { result, label: `${p.location} (${deps.source.label})`, ...(address ? { address } : {}) } };
        }
        return { place: p.location, got: await deps.remote.traceOn(p.instance, host, incident.port) };
      }),
    );
    let first = true;
    for (const { place, got } of taken) {
      if (stopped) return;
      if (!got) {
        deps.logger?.warn({ event: 'remote_trace_missing', place, target: incident.target.id }, `no trace came back from ${place}`);
        continue;
      }
      const trace = traceFacts(got.result, { label: got.label, ...(got.address ? { address: got.address } : {}) });
      await outbox.enqueue(
        {
          kind: 'trace',
          incidentId: incident.id,
          trace,
          ...(first ? {} : { asReply: true }),
          id: `${incident.id}:trace:${place}`,
          at: deps.now(),
          chatId: alert.chatId,
          ...(alert.threadId !== undefined ? { threadId: alert.threadId } : {}),
        },
        [destination],
      );
      first = false;
    }
    deps.logger?.info({ event: 'trace_attached', chat: alert.chatId, target: incident.target.id, places: taken.filter((t) => t.got).map((t) => t.place) }, 'traces from the failing places attached to alert');
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
