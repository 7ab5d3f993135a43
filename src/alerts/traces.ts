import { NETWORK_FAILURES } from '../domain/check.js';
import { formatTraceReport } from '../diagnostics/report.js';
import type { SourceResolver } from '../diagnostics/source.js';
import type { Tracer } from '../diagnostics/tracer.js';
import type { Logger } from '../lib/logger.js';
import type { IncidentBook } from './incidents.js';
import type { Outbox } from './outbox.js';
import { MESSAGE_LIMIT } from './split.js';

/** Attaches network traces to alerts; `stop` drops traces that finish after shutdown began. */
export interface TraceAttacher {
  stop(): void;
  /** Traces still running (tests, shutdown). */
  pending(): number;
}

/** What the attacher needs. */
export interface TraceAttacherDeps {
  incidents: IncidentBook;
  outbox: Outbox;
  tracer: Tracer;
  source: SourceResolver;
  logger?: Logger;
}

/**
 * Once a single-target alert for a network-level failure has been delivered, traces the path to its
 * host in the background and adds the report to the alert (an edit), or replies with it when the alert
 * and the report together would pass Telegram's 4096 characters. The alert never waits for the trace,
 * and a trace that fails or times out says so without touching the alert's text.
 */
export function attachTraces(deps: TraceAttacherDeps): TraceAttacher {
  const { incidents, outbox, tracer } = deps;
  let stopped = false;
  let running = 0;

  async function attach(key: string): Promise<void> {
    const message = await incidents.messages.get(key);
    if (!message || message.incidentIds.length !== 1) return;
    const [incident] = await incidents.incidentsOf(message);
    if (!incident?.host || !incident.failure || !NETWORK_FAILURES.has(incident.failure)) return;
    running++;
    try {
      const result = await tracer.trace(incident.host, incident.port);
      if (stopped) return;
      const address = await deps.source.addressFor(incident.host);
      const report = formatTraceReport(result, { label: deps.source.label, ...(address ? { address } : {}) });
      if (incident.alertText.length + report.length + 200 <= MESSAGE_LIMIT) {
        await incidents.messages.update(key, (m) => {
          m.trace = report;
        });
        await outbox.enqueue(message.chatId, message.threadId, { op: 'edit-alert', key });
      } else {
        await outbox.enqueue(message.chatId, message.threadId, { op: 'send', text: report, silent: true, replyToKey: key });
      }
      deps.logger?.info({ event: 'trace_attached', chat: message.chatId, target: incident.targetId, ok: result.ok }, 'trace attached to alert');
    } finally {
      running--;
    }
  }

  outbox.onDelivery((event) => {
    const m = event.item.message;
    if (stopped || event.outcome !== 'delivered' || m.op !== 'send-alert') return;
    void attach(m.key).catch((err: unknown) => deps.logger?.error({ err, event: 'trace_attach_failed' }, 'could not attach a trace'));
  });

  return {
    stop() {
      stopped = true;
    },
    pending: () => running,
  };
}
