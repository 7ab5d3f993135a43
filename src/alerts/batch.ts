import { notificationTarget, type Notification } from '../domain/notification.js';
import { DeliveryError } from './channel.js';

type Of<K extends Notification['kind']> = Extract<Notification, { kind: K }>;

/** An outage whose alert and end are in the same batch: told as one line, never silently dropped. */
export interface Blip {
  kind: 'blip';
  down: Of<'down'>;
  end: Of<'up'> | Of<'closed'>;
  /** The notification ids the blip stands for: the alert and its end. */
  ids: string[];
}

/** One entry of a planned batch: a notification, or a blip. */
export type Planned = { kind: 'one'; notification: Notification } | Blip;

/** The target an entry is about, if any. */
const targetOf = (p: Planned): string | undefined => (p.kind === 'blip' ? p.down.incident.target.id : (p.notification.targetId ?? notificationTarget(p.notification)));

/**
 * Plans a batch of one destination (queue order) for a channel that groups: an alert and its end in
 * the same batch become one blip (the outage was real and short; it is told in a line, not lost), and
 * the entries are cut into segments in which no target appears twice. Within a segment a channel may
 * order its messages as it likes (alerts, then resolutions, then the rest) without telling one target's
 * events out of order; segments are delivered one after the other.
 */
export function planBatch(batch: readonly Notification[]): Planned[][] {
  const entries: Planned[] = [];
  // Alerts of this batch not ended in it yet, by incident: the index of their entry.
  const openDown = new Map<string, number>();
  for (const n of batch) {
    if ((n.kind === 'up' || n.kind === 'closed') && openDown.has(n.incident.id)) {
      const at = openDown.get(n.incident.id)!;
      const down = (entries[at] as { notification: Of<'down'> }).notification;
      entries[at] = { kind: 'blip', down, end: n, ids: [down.id, n.id] };
      openDown.delete(n.incident.id);
      continue;
    }
    if (n.kind === 'down') openDown.set(n.incident.id, entries.length);
    entries.push({ kind: 'one', notification: n });
  }
  const segments: Planned[][] = [];
  let current: Planned[] = [];
  let seen = new Set<string>();
  for (const p of entries) {
    const target = targetOf(p);
    if (target !== undefined && seen.has(target)) {
      segments.push(current);
      current = [];
      seen = new Set();
    }
    if (target !== undefined) seen.add(target);
    current.push(p);
  }
  if (current.length > 0) segments.push(current);
  return segments;
}

/** The notification ids a planned entry covers. */
export const idsOf = (p: Planned): string[] => (p.kind === 'blip' ? p.ids : [p.notification.id]);

/** One part per segment of a planned batch, in order: what channels that group do with a batch. */
export async function deliverSegments(
  batch: readonly Notification[],
  done: (ids: readonly string[]) => Promise<void>,
  signal: AbortSignal,
  send: (segment: Planned[]) => Promise<void>,
): Promise<void> {
  for (const segment of planBatch(batch)) {
    if (signal.aborted) return;
    const ids = segment.flatMap(idsOf);
    try {
      await send(segment);
    } catch (err) {
      throw new DeliveryError(ids, err);
    }
    await done(ids);
  }
}
