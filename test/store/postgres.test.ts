import { createServer } from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/lib/logger.js';
import { openStore, StoreError, type KeyvStore, type StoreHealth } from '../../src/store/keyv.js';
import { createChatSettingsRepository } from '../../src/store/chats.js';
import { redactUrl, TABLE_REF } from '../../src/store/postgres.js';
import { logSink } from '../support/log-sink.js';
import { useTestCluster } from '../support/postgres.js';

const { enabled, cluster } = useTestCluster();

/** Every row of the database, read past Lookout's store. */
async function rowsOf(url: string): Promise<Map<string, unknown>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ key: string; value: string }>(`SELECT key, value FROM ${TABLE_REF}`);
    return new Map(rows.map((r) => [r.key, (JSON.parse(r.value) as { value: unknown }).value]));
  } finally {
    await client.end();
  }
}

/** A port of 127.0.0.1 nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return typeof address === 'object' && address ? address.port : 1;
}

/** Resolves with the next health episode event that matches. */
const nextHealth = (store: KeyvStore, ok: boolean): Promise<StoreHealth> =>
  new Promise((resolve) => {
    const off = store.onHealth((h) => {
      if (h.ok !== ok) return;
      off();
      resolve(h);
    });
  });

describe.runIf(enabled)('the store on PostgreSQL', () => {
  it('keeps namespaces apart, whatever their keys hold, and clears one alone', async () => {
    const url = await cluster.createDatabase();
    const store = await openStore({ kind: 'postgres', url });
    try {
      const kind = store.namespace<string>('kind:http');
      const heartbeat = store.namespace<string>('kind:heartbeat');
      const states = store.namespace<number>('states');
      await kind.set('a', 'kind a');
      await heartbeat.set('tok;en:1', 'beat');
      await states.set('1/a', 1);
      await states.set('1/a b', 2);
      const list = async <T>(k: typeof kind | typeof states): Promise<Array<[string, T]>> => {
        const out: Array<[string, T]> = [];
        for await (const [key, value] of k.iterator!(undefined)) out.push([key as string, value as T]);
        return out;
      };
      expect(await list(states)).toEqual([
        ['1/a', 1],
        ['1/a b', 2],
      ]);
      // (Keyv's iterator cuts the key at the first ':' only, whatever the backend: `heartbeat:tok;en:1`.)
      expect((await list(heartbeat)).map(([key, value]) => [key.endsWith('tok;en:1'), value])).toEqual([[true, 'beat']]);
      expect(await list(kind)).toHaveLength(1);
      await states.clear();
      expect(await list(states)).toEqual([]);
      expect(await heartbeat.get('tok;en:1')).toBe('beat');
      expect(await kind.get('a')).toBe('kind a');
    } finally {
      await store.close();
    }
  });

  it('a database stopped while running: writes wait (one episode, health not ok), and all land once it is back', async () => {
    const url = await cluster.createDatabase();
    const log = logSink();
    const store = await openStore({ kind: 'postgres', url }, { retryMs: { base: 20, max: 200 }, logger: createLogger('info', log.stream) });
    try {
      const states = store.namespace<string>('states');
      const outbox = store.namespace<string>('outbox');
      await states.set('1/a', 'UP');
      await outbox.set('gone', 'delivered');
      expect(store.health()).toMatchObject({ ok: true, episodes: 0 });

      await cluster.stopServer();
      const failing = nextHealth(store, false);
      // Decisions made during the outage: each call resolves at once, from memory.
      await states.set('1/a', 'DOWN');
      await states.set('1/b', 'DOWN');
      await outbox.set('inc-1:down', 'alert');
      await outbox.delete('gone');
      for (let i = 0; i < 50; i++) await outbox.set(`burst:${i}`, `item ${i}`);
      await states.set('1/b', 'UP');
      const episode = await failing;
      expect(episode).toMatchObject({ ok: false, episodes: 1 });
      expect(episode.cause).toMatch(/the database|connection/);
      expect(store.health()).toMatchObject({ ok: false, episodes: 1, pendingWrites: 54 });
      expect(await store.ping()).toBe(false);
      // Reads of waiting keys answer the waiting writes.
      expect(await states.get('1/a')).toBe('DOWN');
      expect(await outbox.get('gone')).toBeUndefined();

      const recovered = nextHealth(store, true);
      await cluster.startServer();
      const end = await recovered;
      expect(end).toMatchObject({ ok: true, pendingWrites: 0, episodes: 1 });
      expect(await store.ping()).toBe(true);

      const rows = await rowsOf(url);
      expect(rows.get('states:1/a')).toBe('DOWN');
      expect(rows.get('states:1/b')).toBe('UP');
      expect(rows.get('outbox:inc-1:down')).toBe('alert');
      expect(rows.has('outbox:gone')).toBe(false);
      for (let i = 0; i < 50; i++) expect(rows.get(`outbox:burst:${i}`)).toBe(`item ${i}`);
      const events = log.lines.map((l) => l.event);
      expect(events.filter((e) => e === 'store_failing')).toHaveLength(1);
      expect(events.filter((e) => e === 'store_recovered')).toHaveLength(1);
      expect(JSON.stringify(log.lines)).not.toContain('password');
    } finally {
      await store.close();
    }
  }, 30_000);

  it('chat settings loaded at start still answer while the database is stopped (an alert schedules its escalation)', async () => {
    const url = await cluster.createDatabase();
    const store = await openStore({ kind: 'postgres', url }, { retryMs: { base: 20, max: 200 } });
    try {
      await createChatSettingsRepository(store).put(7, { tz: 'Europe/Berlin', escalateMs: 600_000 });
      const chats = createChatSettingsRepository(store);
      await chats.load();
      await cluster.stopServer();
      try {
        expect(await chats.get(7)).toEqual({ tz: 'Europe/Berlin', escalateMs: 600_000 });
        expect(await chats.get(8)).toEqual({ tz: 'UTC' });
        // Without load() a chat it never read cannot be answered: the read fails as reads do during an outage.
        await expect(createChatSettingsRepository(store).get(7)).rejects.toThrow(/the database refuses connections/);
      } finally {
        await cluster.startServer();
      }
    } finally {
      await store.close();
    }
  }, 30_000);

  it('a database that cannot be reached at start: one line naming the URL without its password', async () => {
    const url = `postgres://lookout:Very-Secret-99@127.0.0.1:${await closedPort()}/lookout`;
    const err = await openStore({ kind: 'postgres', url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    const message = (err as StoreError).message;
    expect(message).toBe(`cannot use ${redactUrl(url)}: the database refuses connections (ECONNREFUSED)`);
    expect(message).not.toContain('Very-Secret-99');
    expect(message).not.toContain('\n');
  });

  it('a database that does not exist at start is named as such', async () => {
    const url = cluster.url('no_such_database', 'Very-Secret-99');
    const err = await openStore({ kind: 'postgres', url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toMatch(/^cannot use postgres:\/\/postgres@127\.0\.0\.1:\d+\/no_such_database: the database does not exist \(3D000/);
    expect((err as StoreError).message).not.toContain('Very-Secret-99');
  });
});

describe.skipIf(!enabled)('several instances opening one new database at once', () => {
  it('all start: the table made by one is no error for the others, and each reads back its own write', async () => {
    for (let round = 0; round < 3; round++) {
      const url = await cluster.createDatabase();
      const opened = await Promise.allSettled(Array.from({ length: 6 }, () => openStore({ kind: 'postgres', url })));
      const failed = opened.filter((o) => o.status === 'rejected').map((o) => String((o as PromiseRejectedResult).reason));
      expect(failed).toEqual([]);
      for (const o of opened) if (o.status === 'fulfilled') await o.value.close();
    }
  }, 60_000);
});
