import type { FailureKind } from './check.js';
import type { ClosedWhy, IncidentFacts } from './notification.js';

/** Who acknowledged an incident, and when. */
export interface Acknowledgement {
  userId: number;
  name: string;
  at: number;
}

/** What the policy decided to tell about an incident; each is queued once (see {@link Incident.told}). */
export type IncidentAnnouncement = 'down' | 'end' | 'ack';

/** One DOWN episode of a target, and what was decided about telling it. */
export interface Incident {
  id: string;
  targetId: string;
  chatId: number;
  threadId?: number;
  /** Target name when the incident opened (the alert keeps it even after a rename). */
  name: string;
  openedAt: number;
  reason: string;
  /** The failure category, and where the traffic went: network failures get a trace. */
  failure?: FailureKind;
  host?: string;
  port?: number;
  /** What its alert tells (channel-neutral; every channel renders its own message from it). */
  facts: IncidentFacts;
  /** Opened inside a maintenance window or mute: no alert has been decided (yet). */
  suppressed?: boolean;
  /** When the last alert or reminder about it was queued. */
  notifiedAt?: number;
  reminders?: number;
  /** When its alert was queued (escalation counts from here), and how many on-call people were called. */
  alertedAt?: number;
  escalations?: number;
  ack?: Acknowledgement;
  resolvedAt?: number;
  /** How it ended: recovered (UP again), or stopped by a user or the service (paused, removed, maintenance). */
  resolution?: 'recovered' | ClosedWhy;
  /** The recovering check in words (`HTTP 200 in 80 ms`), for the resolution. */
  recoveredWith?: string;
  /**
   * The decision journal: announcements already queued in the outbox. One that was decided (the alert
   * once not suppressed, the end once resolved, the acknowledgement once acked) but is not listed here
   * is queued again at start, under the same notification id, so a crash between the decision and the
   * outbox write loses nothing and queues nothing twice.
   */
  told?: IncidentAnnouncement[];
}

/** Whether an announcement is queued already. */
export const wasTold = (incident: Incident, what: IncidentAnnouncement): boolean => incident.told?.includes(what) ?? false;

/** The announcements an incident's state calls for that are not queued yet, in the order they happened. */
export function untold(incident: Incident): IncidentAnnouncement[] {
  const due: IncidentAnnouncement[] = [];
  // Nothing was said about an outage that began and ended inside a window.
  const alerted = !incident.suppressed;
  if (alerted && !wasTold(incident, 'down')) due.push('down');
  if (incident.ack && alerted && !wasTold(incident, 'ack')) due.push('ack');
  if (incident.resolvedAt !== undefined && alerted && !wasTold(incident, 'end')) due.push('end');
  return due;
}

/** A short, unique, sortable id (fits Telegram's 64-byte callback data with room to spare). */
export function shortId(now: number, seq: number): string {
  return `${now.toString(36)}${(seq % 46_656).toString(36).padStart(3, '0')}`;
}
