import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createBus, MAX_MESSAGE_BYTES, MessageTooLarge, type Bus, type BusOptions } from '../../src/cluster/bus.js';
import { createLogger } from '../../src/lib/logger.js';
import { until } from '../support/built-app.js';
import { logSink } from '../support/log-sink.js';
import { useTestCluster } from '../support/postgres.js';

const { enabled, cluster } = useTestCluster();

let buses: Bus[] = [];
afterEach(async () => {
  await Promise.all(buses.map((b) => b.stop()));
  buses = [];
});

function bus(url: string, extra: Partial<BusOptions> = {}): Bus {
  const b = createBus({ url, retryMs: 100, checkMs: 200, timeoutMs: 1_000, ...extra });
  buses.push(b);
  return b;
}

async function terminate(url: string, pid: number | undefined): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_terminate_backend($1)', [pid]);
  } finally {
    await client.end();
  }
}

describe.runIf(enabled)('the bus on LISTEN/NOTIFY', () => {
  it('a publish reaches the subscribers of its topic on every bus of the channel, in order, and no other topic', async () => {
    const url = await cluster.createDatabase();
    const a = bus(url);
    const b = bus(url);
    const elsewhere = bus(url, { channel: 'other_lookout' });
    await Promise.all([a.start(), b.start(), elsewhere.start()]);
    expect(a.listening && b.listening && elsewhere.listening).toBe(true);
    const got: unknown[] = [];
    const own: unknown[] = [];
    const states: unknown[] = [];
    const away: unknown[] = [];
    b.subscribe('targets', (p) => got.push(p));
    b.subscribe('states', (p) => states.push(p));
    a.subscribe('targets', (p) => own.push(p));
    elsewhere.subscribe('targets', (p) => away.push(p));
    await a.publish('targets', { id: 1, op: 'changed' });
    await a.publish('states', { id: 1, state: 'DOWN' });
    await a.publish('targets', { id: 2, op: 'removed', name: 'ünïcode ✓' });
    await until(() => got.length === 2 && own.length === 2 && states.length === 1, 5_000, 'messages arrive');
    expect(got).toEqual([
      { id: 1, op: 'changed' },
      { id: 2, op: 'removed', name: 'ünïcode ✓' },
    ]);
    expect(own).toEqual(got);
    expect(states).toEqual([{ id: 1, state: 'DOWN' }]);
    // The other channel's bus gets its own channel's messages only: its marker is the first thing it sees.
    await elsewhere.publish('targets', { marker: true });
    await until(() => away.length > 0, 5_000, 'the other channel');
    expect(away).toEqual([{ marker: true }]);
  });

  it('a subscriber that throws does not stop the others; an unsubscribed listener hears nothing more', async () => {
    const url = await cluster.createDatabase();
    const log = logSink();
    const a = bus(url, { logger: createLogger('info', log.stream) });
    await a.start();
    const got: unknown[] = [];
    const gone: unknown[] = [];
    a.subscribe('t', () => {
      throw new Error('boom');
    });
    a.subscribe('t', (p) => got.push(p));
    const off = a.subscribe('t', (p) => gone.push(p));
    await a.publish('t', { n: 1 });
    await until(() => got.length === 1 && gone.length === 1, 5_000, 'first');
    off();
    await a.publish('t', { n: 2 });
    await until(() => got.length === 2, 5_000, 'second');
    expect(gone).toEqual([{ n: 1 }]);
    expect(log.lines.filter((l) => l.event === 'bus_listener_failed')).toHaveLength(2);
  });

  it('refuses a message over 7,900 bytes (before it reaches the database) and one at the limit goes through', async () => {
    const url = await cluster.createDatabase();
    const a = bus(url);
    await a.start();
    const envelope = JSON.stringify({ t: 'big', p: { s: '' } }).length;
    const atLimit = { s: 'x'.repeat(MAX_MESSAGE_BYTES - envelope) };
    const got: unknown[] = [];
    a.subscribe('big', (p) => got.push(p));
    await expect(a.publish('big', { s: 'é'.repeat(4_000) })).rejects.toBeInstanceOf(MessageTooLarge);
    await expect(a.publish('big', { s: 'x'.repeat(MAX_MESSAGE_BYTES) })).rejects.toThrow(/more than 7900/);
    await a.publish('big', atLimit);
    await until(() => got.length === 1, 5_000, 'the message at the limit');
    expect(got).toEqual([atLimit]);
  });

  it("a subscriber's connection terminated: it reconnects, LISTENs again, onReconnect fires, later publishes arrive", async () => {
    const url = await cluster.createDatabase();
    const log = logSink();
    const publisher = bus(url);
    const subscriber = bus(url, { logger: createLogger('info', log.stream) });
    await Promise.all([publisher.start(), subscriber.start()]);
    const got: unknown[] = [];
    let reconnects = 0;
    subscriber.subscribe('t', (p) => got.push(p));
    subscriber.onReconnect(() => reconnects++);
    await publisher.publish('t', { n: 1 });
    await until(() => got.length === 1, 5_000, 'before');
    expect(reconnects).toBe(0);
    const oldPid = subscriber.backendPid;
    await terminate(url, oldPid);
    await until(() => reconnects === 1, 5_000, 'onReconnect');
    expect(subscriber.listening).toBe(true);
    expect(subscriber.backendPid).not.toBe(oldPid);
    await publisher.publish('t', { n: 2 });
    await until(() => got.length === 2, 5_000, 'after');
    expect(got).toEqual([{ n: 1 }, { n: 2 }]);
    expect(log.lines.map((l) => l.event)).toEqual(expect.arrayContaining(['bus_lost', 'bus_reconnected']));
  });

  it('the server stopped and started: publishing fails meanwhile, both buses come back, onReconnect fires, no password in the logs', async () => {
    const password = 'Very-Secret-Password-99';
    const url = (await cluster.createDatabase()).replace('postgres@', `postgres:${password}@`);
    const log = logSink();
    const logger = createLogger('debug', log.stream);
    const a = bus(url, { logger });
    const b = bus(url, { logger });
    await Promise.all([a.start(), b.start()]);
    const got: unknown[] = [];
    let reconnects = 0;
    b.subscribe('t', (p) => got.push(p));
    b.onReconnect(() => reconnects++);
    await cluster.stopServer();
    try {
      await until(() => !a.listening && !b.listening, 5_000, 'both lose LISTEN');
      await expect(a.publish('t', { n: 0 })).rejects.toThrow(/publishing on the bus failed/);
    } finally {
      await cluster.startServer();
    }
    await until(() => reconnects === 1 && a.listening, 15_000, 'both listen again');
    // The publishing pool's connection died with the server: the next publish takes a new one.
    await until(
      () =>
        a.publish('t', { n: 1 }).then(
          () => true,
          () => false,
        ),
      5_000,
      'a publish goes through',
    );
    await until(() => got.length > 0, 5_000, 'it arrives');
    expect(got[0]).toEqual({ n: 1 });
    expect(log.lines.find((l) => l.event === 'bus_lost')).toMatchObject({ host: '127.0.0.1', port: cluster.port, channel: 'lookout' });
    expect(JSON.stringify(log.lines)).not.toContain(password);
  }, 40_000);

  it('refuses a channel that is not a plain identifier', () => {
    expect(() => createBus({ url: 'postgres://x/y', channel: 'Bad"; DROP' })).toThrow(RangeError);
  });
});
