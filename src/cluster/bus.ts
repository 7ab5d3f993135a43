// A message bus between the instances on one database: PostgreSQL LISTEN/NOTIFY on one channel, each
// message `{"t": topic, "p": payload}` as JSON. It carries hints ("target 12 changed", "a state changed"),
// not data: the store stays the truth, and a receiver reads what changed from it.
//
// DELIVERY. NOTIFY reaches the sessions that are listening when the notifying transaction commits, and no
// other: what is published while this bus's LISTEN connection is down (the server restarting, the
// connection cut, a network outage) is NOT delivered to it later, and PostgreSQL keeps no backlog for it.
// So after every reconnect (once LISTEN is in place again) the bus calls its `onReconnect` listeners:
// a user resyncs there from the store (reads what it follows again) instead of counting on the missed
// notifications. A bus also receives what it publishes itself (through the database, like everyone else).
// Publishes of one bus go through one connection, one after another, so they arrive in the order made;
// PostgreSQL's own limit on a payload is 8000 bytes, the bus refuses more than {@link MAX_MESSAGE_BYTES}.
import pg from 'pg';
import { systemClock, type Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { closeClient, createStepLoop, newClient, reasonOf, whereOf, within } from './connection.js';
import { MAX_MESSAGE_BYTES, MessageTooLarge } from './message-size.js';

export { MAX_MESSAGE_BYTES, MessageTooLarge } from './message-size.js';

/** The channel all instances of one database listen on unless told otherwise. */
export const DEFAULT_CHANNEL = 'lookout';

/** Options of {@link createBus}. */
export interface BusOptions {
  /** The database the instances share (may hold a password: it is never logged). */
  url: string;
  /** The NOTIFY channel: a lower-case identifier (letters, digits, `_`), 63 bytes at most. Default 'lookout'. */
  channel?: string;
  logger?: Logger;
  clock?: Clock;
  /** How long to wait before reconnecting the LISTEN connection (ms). Default 1000. */
  retryMs?: number;
  /** How often the idle LISTEN connection is checked (`SELECT 1`), so a silent network is noticed (ms). Default 5000. */
  checkMs?: number;
  /** How long connecting and a check may take (ms). Default 5000. */
  timeoutMs?: number;
}

/** The bus. */
export interface Bus {
  /** Connects and LISTENs; resolves after the first attempt (whatever its outcome) and keeps reconnecting. Never rejects for the database. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Sends `payload` to every bus listening on the channel (this one too). Rejects when it is too big, the bus is not started, or the database refuses. */
  publish(topic: string, payload: object): Promise<void>;
  /** Calls `listener` with the payload of each message on `topic`. Answers a function that removes it. */
  subscribe(topic: string, listener: (payload: unknown) => void): () => void;
  /** Calls `listener` each time LISTEN is back after a lost connection: resync there (notifications of the gap are lost). */
  onReconnect(listener: () => void): () => void;
  /** Whether LISTEN is in place now. */
  readonly listening: boolean;
  /** The PostgreSQL backend pid of the LISTEN connection, while connected (for tests and diagnostics). */
  readonly backendPid: number | undefined;
}

interface Envelope {
  t: string;
  p: unknown;
}

const isEnvelope = (v: unknown): v is Envelope => v !== null && typeof v === 'object' && typeof (v as { t?: unknown }).t === 'string' && 'p' in v;

/** A bus on `url`. Call start(). */
export function createBus(options: BusOptions): Bus {
  const { url, logger } = options;
  const clock = options.clock ?? systemClock;
  const channel = options.channel ?? DEFAULT_CHANNEL;
  if (!/^[a-z_][a-z0-9_]*$/.test(channel) || channel.length > 63) throw new RangeError(`channel must be a lower-case identifier of at most 63 characters, not '${channel}'`);
  const retryMs = options.retryMs ?? 1000;
  const checkMs = options.checkMs ?? 5000;
  const timeoutMs = options.timeoutMs ?? 5000;
  const log = { ...whereOf(url), channel };

  const topics = new Map<string, Set<(payload: unknown) => void>>();
  const reconnectListeners = new Set<() => void>();
  let running = false;
  let current: { client: pg.Client; pid: number | undefined } | undefined;
  /** Whether LISTEN was in place once since start: the next time it is, that is a reconnect. */
  let listenedBefore = false;
  let failing = false;
  let pool: pg.Pool | undefined;

  const call = (what: string, fn: () => void): void => {
    try {
      fn();
    } catch (err) {
      logger?.error({ event: 'bus_listener_failed', ...log, what, err: { message: reasonOf(err, url) } }, 'a bus listener threw');
    }
  };

  const deliver = (text: string | undefined): void => {
    let message: unknown;
    try {
      message = JSON.parse(text ?? '');
    } catch {
      logger?.warn({ event: 'bus_message_invalid', ...log }, 'a bus message is not JSON');
      return;
    }
    if (!isEnvelope(message)) {
      logger?.warn({ event: 'bus_message_invalid', ...log }, 'a bus message has no topic');
      return;
    }
    for (const listener of [...(topics.get(message.t) ?? [])]) call(message.t, () => listener(message.p));
  };

  const loop = createStepLoop({
    clock,
    retryMs,
    step: () => step(),
    running: () => running,
    failed: (err) => logger?.error({ event: 'bus_step_failed', ...log, err: { message: reasonOf(err, url) } }, 'bus step failed'),
  });
  const schedule = loop.schedule;

  const lose = (client: pg.Client, why: string): void => {
    if (current?.client !== client) return;
    current = undefined;
    void closeClient(client, 1000, clock);
    if (!running) return;
    logger?.warn({ event: 'bus_lost', ...log, why }, `the bus connection was lost: ${why}; notifications until it is back are missed`);
    schedule(retryMs);
  };

  const connect = async (): Promise<void> => {
    const client = newClient(url, 'lookout-bus', { statementTimeoutMs: timeoutMs });
    client.on('notification', (msg) => {
      if (msg.channel === channel) deliver(msg.payload);
    });
    try {
      await within(client.connect(), timeoutMs, 'connecting', clock);
      const { rows } = await within(client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'), timeoutMs, 'the first statement', clock);
      await within(client.query(`LISTEN "${channel}"`), timeoutMs, 'LISTEN', clock);
      if (!running) {
        await closeClient(client, 1000, clock);
        return;
      }
      current = { client, pid: rows[0]?.pid };
      client.on('error', (err) => lose(client, `the connection failed: ${reasonOf(err, url)}`));
      client.on('end', () => lose(client, 'the connection ended'));
      failing = false;
      const again = listenedBefore;
      listenedBefore = true;
      if (again) {
        logger?.info({ event: 'bus_reconnected', ...log }, 'the bus listens again');
        for (const listener of [...reconnectListeners]) call('reconnect', listener);
      } else logger?.debug({ event: 'bus_listening', ...log }, 'the bus listens');
    } catch (err) {
      void closeClient(client, 1000, clock);
      const reason = reasonOf(err, url);
      if (!failing) logger?.warn({ event: 'bus_connect_failed', ...log, why: reason }, `cannot connect the bus: ${reason}`);
      failing = true;
    }
  };

  async function step(): Promise<void> {
    if (!running) return;
    if (!current) {
      await connect();
      schedule(current ? checkMs : retryMs);
      return;
    }
    const c = current;
    try {
      await within(c.client.query('SELECT 1'), timeoutMs, 'the bus check', clock);
      if (current === c) schedule(checkMs);
    } catch (err) {
      lose(c.client, `the bus check failed: ${reasonOf(err, url)}`);
    }
  }

  return {
    async start() {
      if (running) return;
      running = true;
      listenedBefore = false;
      pool = new pg.Pool({ connectionString: url, max: 1, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs, keepAlive: true, application_name: 'lookout-bus-publish' });
      pool.on('error', (err) => logger?.debug({ event: 'bus_publish_connection_lost', ...log, why: reasonOf(err, url) }, 'an idle publishing connection ended'));
      await loop.run();
    },
    async stop() {
      if (!running) return;
      running = false;
      loop.cancel();
      await loop.settled();
      const c = current;
      current = undefined;
      if (c) await closeClient(c.client, 1000, clock);
      const p = pool;
      pool = undefined;
      await p?.end().catch(() => undefined);
    },
    async publish(topic, payload) {
      const text = JSON.stringify({ t: topic, p: payload } satisfies Envelope);
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes > MAX_MESSAGE_BYTES) throw new MessageTooLarge(topic, bytes);
      if (!pool) throw new Error('the bus is not started');
      try {
        await pool.query('SELECT pg_notify($1, $2)', [channel, text]);
      } catch (err) {
        throw new Error(`publishing on the bus failed: ${reasonOf(err, url)}`, { cause: err });
      }
    },
    subscribe(topic, listener) {
      let set = topics.get(topic);
      if (!set) topics.set(topic, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0 && topics.get(topic) === set) topics.delete(topic);
      };
    },
    onReconnect(listener) {
      reconnectListeners.add(listener);
      return () => reconnectListeners.delete(listener);
    },
    get listening() {
      return current !== undefined;
    },
    get backendPid() {
      return current?.pid;
    },
  };
}
