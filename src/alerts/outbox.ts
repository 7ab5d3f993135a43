import { randomUUID } from 'node:crypto';
import type { Notification } from '../domain/notification.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { KeyvStore } from '../store/keyv.js';
import { listAll } from '../store/targets.js';
import { DeliveryError, type Channel, type PartInfo } from './channel.js';

/** A persisted delivery: one notification for one destination, kept until the destination accepted it. */
export interface OutboxItem {
  /** The store key: `${seq}-${tag}`, the sequence number zero-padded (sorts as queued) and the outbox's own tag (two leaders one after the other never write the same key). */
  id: string;
  seq: number;
  /** `<channel kind>:<address>`, e.g. `telegram:-100123:7`. */
  destination: string;
  createdAt: number;
  attempts: number;
  notBefore: number;
  notification: Notification;
}

/** Delivery outcomes, for metrics, traces and benchmarks. */
export interface DeliveryEvent {
  item: OutboxItem;
  /** `paused`: the destination answered that it is gone; its queue waits for `resume`. */
  outcome: 'delivered' | 'retry' | 'dropped' | 'paused';
  info?: PartInfo;
  error?: unknown;
  /** For `dropped` and `paused`: the channel's words for why. */
  why?: string;
}

/** The persisted, retrying delivery queue between the alert side and the channels. */
export interface Outbox {
  /** Loads what a previous run left undelivered and starts delivering. */
  start(): Promise<void>;
  /**
   * Queues a notification for each destination and resolves once it is on disk. A notification id
   * already queued for a destination is not queued again (a decision re-made after a crash).
   */
  enqueue(notification: Notification, destinations: readonly string[]): Promise<void>;
  /** Starts no new delivery, lets the ones in flight finish (bounded), and keeps the rest for the next start. */
  stop(timeoutMs?: number): Promise<void>;
  /**
   * Like stop, but keeps the channels open: nothing more is delivered until `start()` again (this
   * instance stopped leading; what it had not delivered stays queued, on disk).
   */
  pause(timeoutMs?: number): Promise<void>;
  /** Items not yet delivered. */
  depth(): number;
  /** Items not yet delivered, per channel kind. */
  depthByChannel(): Map<string, number>;
  /** Resolves when nothing is queued (tests); a paused destination's queue does not count. */
  idle(): Promise<void>;
  /** Delivers a paused destination's queue again. */
  resume(destination: string): void;
  /** Forgets a destination's queue (it was removed). */
  discard(destination: string): Promise<number>;
  /** The last delivery and the last failure of each destination, for /health. */
  outcomes(): Map<string, { lastOkAt?: number; lastErrorAt?: number; lastError?: string; depth: number; paused: boolean }>;
  onDelivery(listener: (event: DeliveryEvent) => void): () => void;
}

/** What the outbox needs. */
export interface OutboxDeps {
  store: KeyvStore;
  /** The channels by kind; a destination's kind is the part of its id before the first `:`. */
  channels: ReadonlyMap<string, Channel>;
  clock: Clock;
  logger?: Logger;
  /** First retry delay; doubles per attempt up to `maxBackoffMs`. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** While a destination backs off, its channel is probed this often; an answer wakes it at once. */
  probeEveryMs?: number;
  /** Notifications one batch may hold (a storm is delivered in batches this big at most). */
  maxBatch?: number;
}

/** After this many failures of one part while its channel answered probes, the part is dropped as undeliverable. */
const POISON_FAILURES = 10;

/** One destination's queue and pacing. */
interface Lane {
  destination: string;
  channel: Channel;
  queue: OutboxItem[];
  busy: boolean;
  timer?: TimerHandle;
  /** When the last batch started, and the pause before the next while a storm lasts. */
  lastBatchAt: number;
  intervalMs: number;
  /** The head waits for a backoff a probe may cut short (not Telegram's own `retry_after`). */
  probeMayWake: boolean;
  lastFailureAt: number;
  /** Failures of the head's part since a probe said the channel answers. */
  failuresWhileUp: number;
  /** The destination answered "gone": nothing is delivered until `resume`. */
  paused: boolean;
  lastOkAt?: number;
  lastErrorAt?: number;
  lastError?: string;
}

/** The items at the head of a queue that match, up to the first that does not. */
function leading(queue: readonly OutboxItem[], match: (n: Notification) => boolean): OutboxItem[] {
  const end = queue.findIndex((i) => !match(i.notification));
  return queue.slice(0, end === -1 ? queue.length : end);
}

export const channelOf = (destination: string): string => destination.slice(0, Math.max(0, destination.indexOf(':'))) || destination;

/**
 * Creates the outbox. Each destination has its own FIFO queue, delivered one batch at a time (so an
 * alert always precedes its resolution there); destinations never wait for one another. A channel with
 * grouping paces storms: the first notification after a quiet spell goes at once, later ones wait for
 * the group (5 s, then 10 s, 20 s, ... up to 60 s while it lasts) and go together. Every notification
 * is on disk before `enqueue` resolves and leaves it only once its destination accepted the part that
 * carried it, so a crash repeats at most the one part in flight. A failed part waits with exponential
 * backoff (or the channel's `retry_after`); while it does, the channel is probed, and a probe that
 * answers wakes every waiting destination of that channel at once.
 */
export function createOutbox(deps: OutboxDeps): Outbox {
  const { clock } = deps;
  const log = deps.logger;
  const keyv = deps.store.namespace<OutboxItem>('outbox');
  const base = deps.baseBackoffMs ?? 1_000;
  const max = deps.maxBackoffMs ?? 300_000;
  const probeEvery = deps.probeEveryMs ?? 5_000;
  const maxBatch = deps.maxBatch ?? 500;
  const lanes = new Map<string, Lane>();
  const queued = new Set<string>();
  const inFlight = new Set<Promise<void>>();
  const listeners = new Set<(event: DeliveryEvent) => void>();
  const idleWaiters: Array<() => void> = [];
  const probing = new Map<string, TimerHandle>();
  let abort = new AbortController();
  let seq = 0;
  let running = false;
  let writeChain: Promise<void> = Promise.resolve();
  let loading: Promise<void> | undefined;

  const dedupKey = (destination: string, notificationId: string): string => `${destination}\u0000${notificationId}`;

  const depth = (): number => {
    let n = 0;
    for (const lane of lanes.values()) if (!lane.paused) n += lane.queue.length;
    return n;
  };

  const emit = (event: DeliveryEvent): void => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch (err) {
        log?.error({ err, event: 'listener_failed' }, 'a delivery listener threw');
      }
    }
  };

  const checkIdle = (): void => {
    if (depth() === 0) for (const w of idleWaiters.splice(0)) w();
  };

  const laneFor = (destination: string): Lane | undefined => {
    let lane = lanes.get(destination);
    if (lane) return lane;
    const channel = deps.channels.get(channelOf(destination));
    if (!channel) return undefined;
    lane = {
      destination,
      channel,
      queue: [],
      busy: false,
      lastBatchAt: -Infinity,
      intervalMs: channel.grouping?.windowMs ?? 0,
      probeMayWake: false,
      lastFailureAt: -Infinity,
      failuresWhileUp: 0,
      paused: false,
    };
    lanes.set(destination, lane);
    return lane;
  };

  const save = (item: OutboxItem): Promise<void> =>
    keyv.set(item.id, item).then(
      () => undefined,
      (err: unknown) => log?.error({ err, event: 'store_write_failed', destination: item.destination }, 'could not save an outbox item'),
    );

  const forget = (item: OutboxItem): Promise<void> =>
    keyv.delete(item.id).then(
      () => undefined,
      (err: unknown) => log?.error({ err, event: 'store_write_failed', destination: item.destination }, 'could not delete a delivered outbox item'),
    );

  const arm = (lane: Lane, at: number): void => {
    if (lane.timer !== undefined) clock.clearTimeout(lane.timer);
    lane.timer = clock.setTimeout(() => {
      lane.timer = undefined;
      pump(lane);
    }, Math.max(0, at - clock.now()));
  };

  function pump(lane: Lane): void {
    if (!running || lane.busy || lane.paused) return;
    const head = lane.queue[0];
    if (!head) {
      // The lane stays (a few numbers): its pace must outlive a queue that ran dry for a moment.
      checkIdle();
      return;
    }
    const now = clock.now();
    const grouping = lane.channel.grouping;
    let due = head.notBefore;
    let paced = false;
    // A retry follows its own backoff, not the storm's pace; nor does the answer to someone's button.
    const immediate = grouping?.immediate?.(head.notification) ?? false;
    const retry = head.attempts > 0 || immediate;
    if (grouping && !retry && now - lane.lastBatchAt < lane.intervalMs) {
      due = Math.max(due, lane.lastBatchAt + lane.intervalMs);
      paced = true;
    }
    if (due > now) {
      if (lane.timer === undefined) arm(lane, due);
      return;
    }
    if (lane.timer !== undefined) {
      clock.clearTimeout(lane.timer);
      lane.timer = undefined;
    }
    if (grouping && !retry) {
      // A storm: groups come ever further apart. After a quiet spell: at once, and the pace starts over.
      const waited = paced || head.createdAt < lane.lastBatchAt + lane.intervalMs;
      lane.intervalMs = waited && lane.lastBatchAt > -Infinity ? Math.min(lane.intervalMs * 2, grouping.maxIntervalMs) : grouping.windowMs;
      lane.lastBatchAt = now;
    }
    lane.busy = true;
    const batch = !grouping ? [head] : immediate ? leading(lane.queue, (n) => grouping.immediate!(n)) : lane.queue.slice(0, maxBatch);
    const work = deliverBatch(lane, batch).finally(() => {
      lane.busy = false;
    });
    inFlight.add(work);
    void work.finally(() => {
      inFlight.delete(work);
      pump(lane);
    });
  }

  async function deliverBatch(lane: Lane, batch: OutboxItem[]): Promise<void> {
    const byId = new Map(batch.map((item) => [item.notification.id, item]));
    const done = async (ids: readonly string[], info?: PartInfo): Promise<void> => {
      const items = ids.map((id) => byId.get(id)).filter((i): i is OutboxItem => i !== undefined);
      for (const item of items) byId.delete(item.notification.id);
      lane.failuresWhileUp = 0;
      lane.probeMayWake = false;
      lane.lastOkAt = clock.now();
      // Off the disk first, then out of the queue: until then it counts as queued (depth, idle).
      await Promise.all(items.map(forget));
      for (const item of items) {
        const at = lane.queue.indexOf(item);
        if (at >= 0) lane.queue.splice(at, 1);
        queued.delete(dedupKey(item.destination, item.notification.id));
        emit({ item, outcome: 'delivered', ...(info ? { info } : {}) });
      }
    };
    try {
      await lane.channel.deliver(
        lane.destination,
        batch.map((i) => i.notification),
        done,
        abort.signal,
      );
    } catch (err) {
      await failed(lane, byId, err);
    }
  }

  async function failed(lane: Lane, remaining: Map<string, OutboxItem>, err: unknown): Promise<void> {
    const part = err instanceof DeliveryError ? err.ids.map((id) => remaining.get(id)).filter((i): i is OutboxItem => i !== undefined) : [];
    const cause = err instanceof DeliveryError ? err.cause : err;
    const verdict = lane.channel.classify(cause);
    const head = part[0] ?? lane.queue[0];
    if (!head) return;
    lane.lastErrorAt = clock.now();
    lane.lastError = verdict.action === 'drop' ? verdict.why : cause instanceof Error ? cause.message : String(cause);
    if (verdict.action === 'drop' && verdict.gone) {
      // The destination is gone, not the message: everything waits for it to be fixed and resumed.
      lane.paused = true;
      log?.error({ err: cause, destination: lane.destination, event: 'destination_gone', why: verdict.why }, 'the destination answered that it is gone: paused');
      emit({ item: head, outcome: 'paused', error: cause, why: verdict.why });
      checkIdle();
      return;
    }
    const probed = lane.lastFailureAt < lastProbeOk(lane.channel.kind);
    if (verdict.action === 'retry' && probed) lane.failuresWhileUp++;
    lane.lastFailureAt = clock.now();
    const poison = verdict.action === 'retry' && lane.failuresWhileUp >= POISON_FAILURES;
    if (verdict.action === 'retry' && !poison) {
      head.attempts++;
      const backoff = verdict.afterMs ?? Math.min(max, base * 2 ** Math.min(head.attempts - 1, 20));
      head.notBefore = clock.now() + backoff;
      lane.probeMayWake = verdict.afterMs === undefined;
      log?.warn({ err: cause, destination: lane.destination, event: 'delivery_retry', attempts: head.attempts, retryInMs: backoff }, 'delivery failed; will retry');
      await save(head);
      emit({ item: head, outcome: 'retry', error: cause });
      if (lane.probeMayWake) startProbing(lane.channel);
      return;
    }
    // The part can never succeed (or is done already): its notifications leave the queue; the rest go on.
    const gone = part.length > 0 ? part : [head];
    lane.failuresWhileUp = 0;
    for (const item of gone) {
      await forget(item);
      const at = lane.queue.indexOf(item);
      if (at >= 0) lane.queue.splice(at, 1);
      queued.delete(dedupKey(item.destination, item.notification.id));
      if (verdict.action === 'done') {
        emit({ item, outcome: 'delivered' });
      } else {
        const why = verdict.action === 'drop' ? verdict.why : `it failed ${POISON_FAILURES} times while ${lane.channel.kind} answered`;
        log?.error({ err: cause, destination: lane.destination, event: 'delivery_dropped', why, kind: item.notification.kind }, 'notification dropped');
        emit({ item, outcome: 'dropped', error: cause, why });
      }
    }
  }

  // Probing: while a destination backs off after network errors or 5xx, a cheap call to its channel
  // every few seconds tells when it answers again, so the backlog goes out within seconds instead of
  // after a backoff that has grown to minutes.
  const probeOk = new Map<string, number>();
  const lastProbeOk = (kind: string): number => probeOk.get(kind) ?? -Infinity;

  function startProbing(channel: Channel): void {
    if (!channel.probe || probing.has(channel.kind) || !running) return;
    probing.set(
      channel.kind,
      clock.setTimeout(() => void probeOnce(channel), probeEvery),
    );
  }

  async function probeOnce(channel: Channel): Promise<void> {
    probing.delete(channel.kind);
    if (!running) return;
    const waiting = [...lanes.values()].filter((l) => l.channel === channel && l.probeMayWake && !l.busy && (l.queue[0]?.notBefore ?? 0) > clock.now());
    if (waiting.length === 0) return;
    const answers = await channel.probe!().catch(() => false);
    if (answers) {
      probeOk.set(channel.kind, clock.now());
      log?.info({ event: 'channel_answers', channel: channel.kind, destinations: waiting.length }, 'the channel answers again: delivering now');
      for (const lane of waiting) {
        const head = lane.queue[0];
        if (!head || !lane.probeMayWake) continue;
        head.notBefore = clock.now();
        lane.probeMayWake = false;
        if (lane.timer !== undefined) {
          clock.clearTimeout(lane.timer);
          lane.timer = undefined;
        }
        pump(lane);
      }
    } else {
      startProbing(channel);
    }
  }

  // What the last run left is loaded once, before anything new is numbered: a notification queued before
  // start() must neither reuse a persisted item's id nor be queued a second time when start() lists the store.
  const tag = randomUUID().slice(0, 8);
  const load = (): Promise<void> =>
    (loading ??= (async () => {
      const items = (await listAll(keyv)).sort((a, b) => a.seq - b.seq);
      for (const item of items) {
        seq = Math.max(seq, item.seq);
        const lane = laneFor(item.destination);
        if (!lane) {
          log?.warn({ event: 'outbox_orphan', destination: item.destination }, 'an outbox item for an unknown channel was kept');
          continue;
        }
        lane.queue.push(item);
        queued.add(dedupKey(item.destination, item.notification.id));
      }
      if (items.length > 0) log?.info({ event: 'outbox_resumed', items: items.length }, 'delivering notifications left from the last run');
    })().catch((err: unknown) => {
      loading = undefined;
      throw err;
    }));

  return {
    async start() {
      await load();
      abort = new AbortController();
      running = true;
      for (const lane of lanes.values()) pump(lane);
    },

    async enqueue(notification, destinations) {
      await load();
      const now = clock.now();
      const items: Array<{ item: OutboxItem; lane: Lane }> = [];
      for (const destination of destinations) {
        const key = dedupKey(destination, notification.id);
        if (queued.has(key)) continue;
        const lane = laneFor(destination);
        if (!lane) {
          log?.error({ event: 'unknown_channel', destination }, 'no channel for this destination; notification not queued');
          continue;
        }
        const s = ++seq;
        queued.add(key);
        // The key has this outbox's own tag: of several instances on one database, a leader that lost its lock
        // and the next one may each number an item s; neither may overwrite the other's.
        items.push({ lane, item: { id: `${s.toString().padStart(12, '0')}-${tag}`, seq: s, destination, createdAt: now, attempts: 0, notBefore: now, notification } });
      }
      if (items.length === 0) return;
      // Writes are chained so items join their queues in sequence order, whatever the store does. A write
      // that fails is logged and the item is delivered from memory all the same (the store retries it).
      const written = writeChain.then(() => Promise.all(items.map(({ item }) => save(item))));
      writeChain = written.then(
        () => undefined,
        () => undefined,
      );
      await written;
      for (const { lane, item } of items) {
        lane.queue.push(item);
        pump(lane);
      }
    },

    async stop(timeoutMs = 15_000) {
      await this.pause(timeoutMs);
      for (const channel of deps.channels.values()) await channel.close?.().catch(() => undefined);
    },

    async pause(timeoutMs = 15_000) {
      running = false;
      abort.abort();
      for (const lane of lanes.values()) {
        if (lane.timer !== undefined) clock.clearTimeout(lane.timer);
        lane.timer = undefined;
      }
      for (const t of probing.values()) clock.clearTimeout(t);
      probing.clear();
      // A part in flight is waited for, not abandoned: given up on, it might be accepted all the same
      // and be sent again after the restart. No new part starts (the signal is aborted).
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
      await writeChain;
    },

    depth,

    depthByChannel() {
      const by = new Map<string, number>();
      for (const lane of lanes.values()) by.set(lane.channel.kind, (by.get(lane.channel.kind) ?? 0) + lane.queue.length);
      return by;
    },

    resume(destination) {
      const lane = lanes.get(destination);
      if (!lane?.paused) return;
      lane.paused = false;
      lane.failuresWhileUp = 0;
      const head = lane.queue[0];
      if (head) head.notBefore = clock.now();
      pump(lane);
    },

    async discard(destination) {
      const lane = lanes.get(destination);
      if (!lane) return 0;
      const gone = lane.busy ? lane.queue.slice(1) : lane.queue.slice();
      for (const item of gone) {
        await forget(item);
        const at = lane.queue.indexOf(item);
        if (at >= 0) lane.queue.splice(at, 1);
        queued.delete(dedupKey(item.destination, item.notification.id));
      }
      if (!lane.busy) lanes.delete(destination);
      checkIdle();
      return gone.length;
    },

    outcomes() {
      const out = new Map<string, { lastOkAt?: number; lastErrorAt?: number; lastError?: string; depth: number; paused: boolean }>();
      for (const lane of lanes.values()) {
        out.set(lane.destination, {
          ...(lane.lastOkAt !== undefined ? { lastOkAt: lane.lastOkAt } : {}),
          ...(lane.lastErrorAt !== undefined ? { lastErrorAt: lane.lastErrorAt } : {}),
          ...(lane.lastError !== undefined ? { lastError: lane.lastError } : {}),
          depth: lane.queue.length,
          paused: lane.paused,
        });
      }
      return out;
    },

    idle() {
      if (depth() === 0) return Promise.resolve();
      return new Promise<void>((resolve) => idleWaiters.push(resolve));
    },

    onDelivery(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
