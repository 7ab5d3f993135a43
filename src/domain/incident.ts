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
  /** The alert text as first sent; edits add the resolution or acknowledgement below it. */
  alertText: string;
  alertMessageId?: number;
  ack?: Acknowledgement;
  resolvedAt?: number;
  /** How it ended: recovered (UP again), or stopped by a user (paused, removed). */
  resolution?: 'recovered' | 'paused' | 'removed';
}

/** A short, unique, sortable id for an incident (fits Telegram's 64-byte callback data). */
export function incidentId(now: number, seq: number): string {
  return `${now.toString(36)}${seq.toString(36).padStart(3, '0')}`;
}
