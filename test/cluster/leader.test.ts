import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createLeaderElector, DEFAULT_LOCK_KEY, type LeaderElector, type LeaderElectorOptions } from '../../src/cluster/leader.js';
import { createLogger } from '../../src/lib/logger.js';
import { until } from '../support/built-app.js';
import { logSink } from '../support/log-sink.js';
import { useTestCluster } from '../support/postgres.js';

const { enabled, cluster } = useTestCluster();

const RETRY_MS = 100;
const CHECK_MS = 200;
const CHECK_TIMEOUT_MS = 100;

/** Electors made by a test, stopped after it; and a watch that fails the test when two lead at once. */
let electors: LeaderElector[] = [];
let overlaps: string[] = [];
afterEach(async () => {
  await Promise.all(electors.map((e) => e.stop()));
  electors = [];
});

function elector(url: string, extra: Partial<LeaderElectorOptions> = {}): LeaderElector {
  const e = createLeaderElector({ url, retryMs: RETRY_MS, checkMs: CHECK_MS, checkTimeoutMs: CHECK_TIMEOUT_MS, ...extra });
  electors.push(e);
  // At the moment any elector becomes leader, no other one may still think it leads.
  e.onChange((leader) => {
    if (leader && electors.filter((x) => x.isLeader).length > 1) overlaps.push(`two leaders at ${Date.now()}`);
  });
  return e;
}

const leaders = (): LeaderElector[] => electors.filter((e) => e.isLeader);

async function sql(url: string, text: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, values);
  } finally {
    await client.end();
  }
}

/** A TCP proxy to the cluster that can go silent (stop forwarding without closing), as a network that drops packets. */
async function silentableProxy(port: number): Promise<{ port: number; silence(): void; cut(): void; close(): Promise<void> }> {
  const pairs: Array<[Socket, Socket]> = [];
  let silent = false;
  const server: Server = createServer((inbound) => {
    const outbound = tcpConnect(port, '127.0.0.1');
    pairs.push([inbound, outbound]);
    inbound.on('data', (d) => {
      if (!silent) outbound.write(d);
    });
    outbound.on('data', (d) => {
      if (!silent) inbound.write(d);
    });
    const end = (): void => {
      // Silent, a close does not get through either: the other side keeps its connection, as across a partition.
      if (silent) return;
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('close', end).on('error', () => end());
    outbound.on('close', end).on('error', () => end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    silence: () => {
      silent = true;
    },
    cut: () => {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const [a, b] of pairs) {
          a.destroy();
          b.destroy();
        }
        server.close(() => resolve());
      }),
  };
}

describe.runIf(enabled)('leader election on PostgreSQL', () => {
  it('two electors on one database: exactly one leads; its lock is a session advisory lock on its own backend', async () => {
    overlaps = [];
    const url = await cluster.createDatabase();
    const a = elector(url);
    const b = elector(url);
    await a.start();
    await b.start();
    // start() resolves after the first try of the lock: the first one took it, the second was refused.
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    expect(a.changedAt).toEqual(expect.any(Number));
    expect(b.changedAt).toBeUndefined();
    const { rows } = await sql(url, "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = $1", [String(DEFAULT_LOCK_KEY)]);
    expect(rows).toEqual([{ pid: a.backendPid }]);
    // The stand-by keeps trying and keeps being refused while a leads.
    const pidOfB = b.backendPid;
    await until(async () => Number((await sql(url, "SELECT count(*) AS n FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_try_advisory_lock%'", [pidOfB])).rows[0].n) === 1, 5_000, 'b tries the lock');
    expect(leaders()).toEqual([a]);
    expect(overlaps).toEqual([]);
  });

  it('the leader stops: it releases the lock and the other leads within retryMs and a margin', async () => {
    overlaps = [];
    const url = await cluster.createDatabase();
    const log = logSink();
    const a = elector(url, { logger: createLogger('info', log.stream) });
    const b = elector(url);
    await a.start();
    await b.start();
    expect(a.isLeader).toBe(true);
    const changes: boolean[] = [];
    a.onChange((l) => changes.push(l));
    await a.stop();
    expect(a.isLeader).toBe(false);
    expect(changes).toEqual([false]);
    const stoppedAt = Date.now();
    await until(() => b.isLeader, 5_000, 'b leads');
    expect(Date.now() - stoppedAt).toBeLessThan(RETRY_MS + 1_000);
    expect(a.backendPid).toBeUndefined();
    expect(log.lines.filter((l) => l.event === 'leader_lost')).toEqual([expect.objectContaining({ why: 'stopped' })]);
    expect(overlaps).toEqual([]);
  });

  it("the leader's connection is terminated by the server: it stops leading within its bound, the other takes over, it stands by", async () => {
    overlaps = [];
    const url = await cluster.createDatabase();
    const log = logSink();
    const a = elector(url, { logger: createLogger('info', log.stream) });
    const b = elector(url);
    await a.start();
    await b.start();
    expect(a.isLeader).toBe(true);
    const oldPid = a.backendPid;
    const t0 = Date.now();
    await sql(url, 'SELECT pg_terminate_backend($1)', [oldPid]);
    await until(() => !a.isLeader, 5_000, 'a stops leading');
    expect(Date.now() - t0).toBeLessThan(3 * a.lossBoundMs);
    await until(() => b.isLeader, 5_000, 'b leads');
    // a reconnects (a new backend) and stands by.
    await until(() => a.backendPid !== undefined && a.backendPid !== oldPid, 5_000, 'a reconnects');
    expect(leaders()).toEqual([b]);
    const lost = log.lines.filter((l) => l.event === 'leader_lost');
    expect(lost).toHaveLength(1);
    expect(String(lost[0]!.why)).toMatch(/terminat|ended/);
    expect(overlaps).toEqual([]);
  });

  it('a network that goes silent under the leader: it stops leading within checkMs + checkTimeoutMs, and nobody leads until the server drops the session', async () => {
    overlaps = [];
    const url = await cluster.createDatabase();
    const proxy = await silentableProxy(cluster.port);
    try {
      const viaProxy = url.replace(`:${cluster.port}/`, `:${proxy.port}/`);
      const log = logSink();
      const a = elector(viaProxy, { logger: createLogger('info', log.stream), connectTimeoutMs: 300 });
      const b = elector(url);
      await a.start();
      await b.start();
      expect(a.isLeader).toBe(true);
      const oldPid = a.backendPid;
      const t0 = Date.now();
      let bAtLoss: boolean | undefined;
      a.onChange((l) => {
        if (!l) bAtLoss = b.isLeader;
      });
      proxy.silence();
      await until(() => !a.isLeader, 5_000, 'a stops leading');
      expect(Date.now() - t0).toBeLessThan(3 * a.lossBoundMs);
      // The server still holds the silent session, and its lock: b could not have taken it yet.
      expect(bAtLoss).toBe(false);
      const holders = await sql(url, "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted");
      expect(holders.rows).toEqual([{ pid: oldPid }]);
      expect(String(log.lines.find((l) => l.event === 'leader_lost')?.why)).toMatch(/check failed.*did not answer/);
      // a has closed its end; the server notices its session is gone once the connection really closes, then b leads.
      proxy.cut();
      await until(() => b.isLeader, 5_000, 'b leads');
      expect(overlaps).toEqual([]);
    } finally {
      await Promise.all(electors.map((e) => e.stop()));
      await proxy.close();
    }
  });

  it('the server stopped and started: nobody leads while it is down, never two at once, and leadership comes back', async () => {
    overlaps = [];
    const url = await cluster.createDatabase();
    const log = logSink();
    const logger = createLogger('info', log.stream);
    const a = elector(url, { logger });
    const b = elector(url, { logger });
    const c = elector(url, { logger });
    await Promise.all([a.start(), b.start(), c.start()]);
    expect(leaders()).toHaveLength(1);
    await cluster.stopServer();
    try {
      await until(() => leaders().length === 0, 5_000, 'nobody leads');
    } finally {
      await cluster.startServer();
    }
    await until(() => leaders().length === 1, 15_000, 'one leads again');
    // And it holds: kill that one's connection, the next one takes over.
    const first = leaders()[0]!;
    await sql(url, 'SELECT pg_terminate_backend($1)', [first.backendPid]);
    await until(() => leaders().length === 1 && leaders()[0] !== first, 5_000, 'another one leads');
    expect(overlaps).toEqual([]);
    expect(log.lines.some((l) => l.event === 'leader_acquired')).toBe(true);
  }, 40_000);

  it('logs name the host, port and database, never the password in the URL', async () => {
    const password = 'Very-Secret-Password-99';
    const url = (await cluster.createDatabase()).replace('postgres@', `postgres:${password}@`);
    const log = logSink();
    const a = elector(url, { logger: createLogger('debug', log.stream) });
    await a.start();
    expect(a.isLeader).toBe(true);
    await sql(url, 'SELECT pg_terminate_backend($1)', [a.backendPid]);
    await until(() => log.lines.some((l) => l.event === 'leader_lost'), 5_000, 'leader_lost');
    await until(() => a.isLeader, 5_000, 'leads again');
    await a.stop();
    const acquired = log.lines.find((l) => l.event === 'leader_acquired')!;
    expect(acquired).toMatchObject({ host: '127.0.0.1', port: cluster.port, database: expect.stringMatching(/^test_/) });
    expect(JSON.stringify(log.lines)).not.toContain(password);
  });

  it('refuses a lock key outside a signed 64-bit integer and a check timeout not shorter than the check interval', () => {
    expect(() => createLeaderElector({ url: 'postgres://x/y', lockKey: 2n ** 63n })).toThrow(RangeError);
    expect(() => createLeaderElector({ url: 'postgres://x/y', checkMs: 100, checkTimeoutMs: 100 })).toThrow(RangeError);
    expect(createLeaderElector({ url: 'postgres://x/y' }).lossBoundMs).toBe(1500);
  });
});
