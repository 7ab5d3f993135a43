import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { KeyvStore } from '../store/keyv.js';
import { listAll } from '../store/targets.js';
import { formatAlertMessage, type Button } from './format.js';
import type { IncidentBook } from './incidents.js';
import type { ClassifyError, MessageSender } from './sender.js';

/** What an outbox item does when delivered. */
export type OutboxMessage =
  /** A plain message; `replyToKey` makes it a reply to that alert message (when it was delivered). */
  | { op: 'send'; text: string; buttons?: Button[][]; silent?: boolean; replyToKey?: string }
  /** A DOWN alert message, rendered from its incidents at delivery time; its message id is recorded. */
  | { op: 'send-alert'; key: string }
  /** Re-renders an alert message as it stands at delivery time (acknowledged, resolved). */
  | { op: 'edit-alert'; key: string };

/** A persisted delivery: kept until Telegram has accepted it (or it can never succeed). */
export interface OutboxItem {
  id: string;
  seq: number;
  chatId: number;
  threadId?: number;
  createdAt: number;
  attempts: number;
  notBefore: number;
  message: OutboxMessage;
}

/** Delivery outcomes, for metrics and benchmarks. */
export interface DeliveryEvent {
  item: OutboxItem;
  outcome: 'delivered' | 'retry' | 'dropped';
  messageId?: number;
  error?: unknown;
}

/** The persisted, retrying delivery queue between the alert policy and the chat. */
export interface Outbox {
  /** Loads what a previous run left undelivered and starts delivering. */
  start(): Promise<void>;
  /** Persists a message (resolves once it is safe on disk) and delivers it in order for its chat. */
  enqueue(chatId: number, threadId: number | undefined, message: OutboxMessage): Promise<OutboxItem>;
  /** Stops starting deliveries and waits (bounded) for the ones in flight. */
  stop(timeoutMs?: number): Promise<void>;
  /** Items not yet delivered. */
  depth(): number;
  /** Resolves when nothing is queued (tests). */
  idle(): Promise<void>;
  onDelivery(listener: (event: DeliveryEvent) => void): () => void;
}

/** What the outbox needs. */
export interface OutboxDeps {
  store: KeyvStore;
  incidents: IncidentBook;
  sender: MessageSender;
  classify: ClassifyError;
  clock: Clock;
  logger?: Logger;
  /** First retry delay; doubles per attempt up to `maxBackoffMs`. */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
}

/**
 * Creates the outbox. Each chat has its own FIFO queue delivered one message at a time (so an alert
 * always precedes its resolution); chats are delivered independently. A failed delivery waits with
 * exponential backoff (or Telegram's `retry_after`) and is retried until it succeeds, also across
 * restarts, unless it can never succeed.
 */
export function createOutbox(deps: OutboxDeps): Outbox {
  const { clock, incidents, sender, classify } = deps;
  const log = deps.logger;
  const keyv = deps.store.namespace<OutboxItem>('outbox');
  const base = deps.baseBackoffMs ?? 1_000;
  const max = deps.maxBackoffMs ?? 300_000;
  const queues = new Map<number, OutboxItem[]>();
  const pumping = new Set<number>();
  const timers = new Map<number, TimerHandle>();
  const inFlight = new Set<Promise<void>>();
  const listeners = new Set<(event: DeliveryEvent) => void>();
  const idleWaiters: Array<() => void> = [];
  let seq = 0;
  let running = false;
  let writeChain: Promise<void> = Promise.resolve();
  let loading: Promise<void> | undefined;

  const depth = (): number => {
    let n = 0;
    for (const q of queues.values()) n += q.length;
    return n;
  };

  const emit = (event: DeliveryEvent): void => {
    for (const l of listeners) l(event);
  };

  const checkIdle = (): void => {
    if (depth() === 0) for (const w of idleWaiters.splice(0)) w();
  };

  async function deliver(item: OutboxItem): Promise<number | undefined> {
    const m = item.message;
    const thread = item.threadId !== undefined ? { threadId: item.threadId } : {};
    if (m.op === 'send') {
      const replyTo = m.replyToKey !== undefined ? (await incidents.messages.get(m.replyToKey))?.messageId : undefined;
      return sender.send(item.chatId, m.text, {
        ...thread,
        ...(m.buttons ? { buttons: m.buttons } : {}),
        ...(m.silent ? { silent: true } : {}),
        ...(replyTo !== undefined ? { replyTo } : {}),
      });
    }
    const message = await incidents.messages.get(m.key);
    if (!message) return undefined;
    const { text, buttons } = formatAlertMessage(message.id, await incidents.incidentsOf(message), message.trace);
    if (m.op === 'edit-alert') {
      if (message.messageId === undefined) return undefined;
      await sender.edit(item.chatId, message.messageId, text, buttons);
      return message.messageId;
    }
    const messageId = await sender.send(item.chatId, text, { ...thread, ...(buttons ? { buttons } : {}) });
    await incidents.messages.update(message.id, (record) => {
      record.messageId = messageId;
    });
    return messageId;
  }

  const wake = (chatId: number, at: number): void => {
    const existing = timers.get(chatId);
    if (existing !== undefined) clock.clearTimeout(existing);
    timers.set(
      chatId,
      clock.setTimeout(() => {
        timers.delete(chatId);
        pump(chatId);
      }, Math.max(0, at - clock.now())),
    );
  };

  function pump(chatId: number): void {
    if (!running || pumping.has(chatId)) return;
    const queue = queues.get(chatId);
    const head = queue?.[0];
    if (!queue || !head) {
      queues.delete(chatId);
      checkIdle();
      return;
    }
    if (head.notBefore > clock.now()) {
      wake(chatId, head.notBefore);
      return;
    }
    pumping.add(chatId);
    const work = (async () => {
      try {
        const messageId = await deliver(head);
        queue.shift();
        await keyv.delete(head.id);
        emit({ item: head, outcome: 'delivered', ...(messageId !== undefined ? { messageId } : {}) });
      } catch (err) {
        const verdict = classify(err);
        if (verdict.action === 'retry') {
          head.attempts++;
          const backoff = verdict.afterMs ?? Math.min(max, base * 2 ** Math.min(head.attempts - 1, 20));
          head.notBefore = clock.now() + backoff;
          log?.warn({ err, chat: chatId, event: 'delivery_retry', attempts: head.attempts, retryInMs: backoff }, 'delivery failed; will retry');
          await keyv.set(head.id, head).catch((e: unknown) => log?.error({ err: e, event: 'store_write_failed' }, 'could not save outbox item'));
          emit({ item: head, outcome: 'retry', error: err });
        } else {
          queue.shift();
          await keyv.delete(head.id).catch(() => undefined);
          if (verdict.action === 'drop') {
            log?.error({ err, chat: chatId, event: 'delivery_dropped', why: verdict.why }, 'message dropped');
            emit({ item: head, outcome: 'dropped', error: err });
          } else {
            emit({ item: head, outcome: 'delivered' });
          }
        }
      } finally {
        pumping.delete(chatId);
      }
    })();
    inFlight.add(work);
    void work.finally(() => {
      inFlight.delete(work);
      pump(chatId);
    });
  }

  // What the last run left is loaded once, before anything new is numbered: a message queued before
  // start() must neither reuse a persisted item's id nor be queued a second time when start() lists the store.
  const load = (): Promise<void> =>
    (loading ??= (async () => {
      const items = (await listAll(keyv)).sort((a, b) => a.seq - b.seq);
      for (const item of items) {
        seq = Math.max(seq, item.seq);
        const q = queues.get(item.chatId) ?? [];
        q.push(item);
        queues.set(item.chatId, q);
      }
      if (items.length > 0) log?.info({ event: 'outbox_resumed', items: items.length }, 'delivering messages left from the last run');
    })().catch((err: unknown) => {
      loading = undefined;
      throw err;
    }));

  return {
    async start() {
      await load();
      running = true;
      for (const chatId of queues.keys()) pump(chatId);
    },

    async enqueue(chatId, threadId, message) {
      await load();
      const s = ++seq;
      const now = clock.now();
      const item: OutboxItem = {
        id: `${s.toString().padStart(12, '0')}`,
        seq: s,
        chatId,
        ...(threadId !== undefined ? { threadId } : {}),
        createdAt: now,
        attempts: 0,
        notBefore: now,
        message,
      };
      // Writes are chained so items join their chat's queue in sequence order, whatever the store does.
      const written = writeChain.then(() => keyv.set(item.id, item));
      writeChain = written.then(() => undefined, () => undefined);
      await written;
      const q = queues.get(chatId) ?? [];
      q.push(item);
      queues.set(chatId, q);
      pump(chatId);
      return item;
    },

    async stop(timeoutMs = 10_000) {
      running = false;
      for (const t of timers.values()) clock.clearTimeout(t);
      timers.clear();
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs))),
      ]);
      clearTimeout(timer);
    },

    depth,

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
