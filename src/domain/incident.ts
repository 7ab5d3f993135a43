import type { FailureKind } from './check.js';

/** Who acknowledged an incident, and when. */
export interface Acknowledgement {
  userId: number;
  name: string;
  at: number;
}

/** One DOWN episode of a target and the chat messages that belong to it. */
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
  /** The single-target alert text (HTML) as first rendered; edits add acknowledgement and resolution. */
  alertText: string;
  /** One escaped line for grouped messages: name, reason, address. */
  line: string;
  /** The alert message carrying this incident; absent while its alert is held back by a window. */
  alertKey?: string;
  /** Opened inside a maintenance window or mute: no alert has been sent (yet). */
  suppressed?: boolean;
  /** When the last alert or reminder about it was queued. */
  notifiedAt?: number;
  reminders?: number;
  /** When its alert was queued (escalation counts from here), and how many on-call people were mentioned. */
  alertedAt?: number;
  escalations?: number;
  ack?: Acknowledgement;
  resolvedAt?: number;
  /** How it ended: recovered (UP again), or stopped by a user (paused, removed). */
  resolution?: 'recovered' | 'paused' | 'removed' | 'maintenance';
}

/** A DOWN alert message in a chat: one incident, or several grouped into one message. */
export interface AlertMessage {
  id: string;
  chatId: number;
  threadId?: number;
  incidentIds: string[];
  /** A network trace attached to a single-target alert (HTML). */
  trace?: string;
  /** Telegram's message id once delivered. */
  messageId?: number;
  createdAt: number;
}

/** A short, unique, sortable id (fits Telegram's 64-byte callback data with room to spare). */
export function shortId(now: number, seq: number): string {
  return `${now.toString(36)}${(seq % 46_656).toString(36).padStart(3, '0')}`;
}
