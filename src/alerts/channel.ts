import type { Notification } from '../domain/notification.js';

/**
 * What to do after a failed delivery: `retry` later (network, 5xx, 429 with its wait), `done` (nothing
 * left to do, e.g. the text was already current), or `drop` (it can never succeed: the bot was removed
 * from the chat, the message to edit is gone, the address answers "gone").
 */
export type DeliveryVerdict =
  | { action: 'retry'; afterMs?: number }
  | { action: 'done' }
  /** `gone`: the destination itself is gone (401/403/404/410, an invalid key): it is paused, its queue kept. */
  | { action: 'drop'; why: string; gone?: boolean };

/** What a delivered part was, for listeners (traces attach to an alert that went out alone). */
export interface PartInfo {
  /** The part was one target's alert, alone in its message. */
  single?: boolean;
}

/** Thrown by a channel for the part it could not deliver: which notifications it covered, and why. */
export class DeliveryError extends Error {
  constructor(
    /** Ids of the notifications the failed part covered. */
    readonly ids: readonly string[],
    cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = 'DeliveryError';
  }
}

/** How a channel paces a storm: the first notification after a quiet spell at once, then groups further and further apart. */
export interface Grouping {
  windowMs: number;
  maxIntervalMs: number;
  /** Notifications that answer someone (an acknowledgement's edit) go at once when they reach the head, outside the pace. */
  immediate?(n: Notification): boolean;
}

/**
 * A channel: one way of telling people (Telegram, and more later). It renders its own messages from
 * notifications, delivers them to one destination at a time, updates what it delivered earlier where it
 * can, and knows its own errors. Retry, pacing, persistence and order are the outbox's, shared by all.
 */
export interface Channel {
  readonly kind: string;
  /** Storm pacing; without it every notification is delivered on its own, as soon as it is queued. */
  readonly grouping?: Grouping;
  /**
   * Delivers a batch (in queue order, oldest first) to one destination, in parts (a message each).
   * After each part the destination accepted it calls `done` with the ids of the notifications the part
   * covered and waits for it (that is what makes progress durable); a part that fails is thrown as a
   * {@link DeliveryError}. Once `signal` is aborted it starts no further part.
   */
  deliver(destination: string, batch: readonly Notification[], done: (ids: readonly string[], info?: PartInfo) => Promise<void>, signal: AbortSignal): Promise<void>;
  /** A failed part's cause turned into a verdict. */
  classify(err: unknown): DeliveryVerdict;
  /** A cheap call that answers whether the channel is reachable again (asked while deliveries back off). */
  probe?(): Promise<boolean>;
  /** Lets go of what it holds open (pooled connections) when the outbox stops. */
  close?(): Promise<void>;
}

/** One part per notification, in order: what channels that do not group do with a batch. */
export async function deliverEach(batch: readonly Notification[], done: (ids: readonly string[]) => Promise<void>, signal: AbortSignal, send: (n: Notification) => Promise<void>): Promise<void> {
  for (const n of batch) {
    if (signal.aborted) return;
    try {
      await send(n);
    } catch (err) {
      throw new DeliveryError([n.id], err);
    }
    await done([n.id]);
  }
}
