import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createMembership, MEMBERS_TABLE_REF, newMemberId, type Membership, type MembershipOptions } from '../../src/cluster/members.js';
import { createLogger } from '../../src/lib/logger.js';
import { logSink } from '../support/log-sink.js';
import { useTestCluster } from '../support/postgres.js';

const { enabled, cluster } = useTestCluster();

const TTL = 600;
const BEAT = 200;

/** Polls `check` until it holds (a generous deadline: the point is that it happens, the bound is asserted apart). */
async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Memberships made by one test, stopped at its end whatever happened. */
function rig(url: string) {
  const made: Membership[] = [];
  return {
    make(id: string, extra: Partial<MembershipOptions> = {}): Membership {
      const m = createMembership({ url, id, ttlMs: TTL, beatMs: BEAT, ...extra });
      made.push(m);
      return m;
    },
    async end() {
      await Promise.all(made.map((m) => m.stop()));
    },
  };
}

async function rowIds(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ id: string }>(`SELECT id FROM ${MEMBERS_TABLE_REF} ORDER BY id`)).rows.map((r) => r.id);
  } finally {
    await client.end();
  }
}

async function lastSeen(url: string, id: string): Promise<Date> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ seen_at: Date }>(`SELECT seen_at FROM ${MEMBERS_TABLE_REF} WHERE id = $1`, [id])).rows[0]!.seen_at;
  } finally {
    await client.end();
  }
}

describe('createMembership (options)', () => {
  it('refuses a beat not shorter than the ttl, a missing id or database', () => {
    expect(() => createMembership({ url: 'postgres://x/y', id: 'a', ttlMs: 600, beatMs: 600 })).toThrow(/beatMs/);
    expect(() => createMembership({ url: 'postgres://x/y', id: '' })).toThrow(/id/);
    expect(() => createMembership({ id: 'a' })).toThrow(/url or pool/);
    expect(newMemberId()).not.toBe(newMemberId());
  });
});

describe.runIf(enabled)('the member registry on PostgreSQL', () => {
  it('two instances see each other (and themselves at once), with where they run; onChange tells each new set', async () => {
    const url = await cluster.createDatabase();
    const r = rig(url);
    try {
      const a = r.make('a', { location: 'eu-1' });
      const seenByA: string[][] = [];
      a.onChange((m) => seenByA.push([...m]));
      expect(a.live()).toEqual([]);
      await a.start();
      expect(a.live()).toEqual(['a']);
      const b = r.make('b');
      await b.start();
      expect(b.live()).toEqual(['a', 'b']);
      await waitFor(() => a.live().length === 2, 'a to see b');
      expect(a.live()).toEqual(['a', 'b']);
      expect(seenByA).toEqual([['a'], ['a', 'b']]);
      expect(b.members().map((m) => [m.id, m.location])).toEqual([
        ['a', 'eu-1'],
        ['b', undefined],
      ]);
      expect(b.members()[0]!.startedAt.getTime()).toBeLessThanOrEqual(b.members()[0]!.seenAt.getTime());
      expect(a.health()).toMatchObject({ ok: true, episodes: 0, failedBeats: 0 });
      expect(await rowIds(url)).toEqual(['a', 'b']);
    } finally {
      await r.end();
    }
  });

  it('one stops: its row is deleted, so the other drops it at its next read, not after the ttl', async () => {
    const url = await cluster.createDatabase();
    const r = rig(url);
    try {
      const a = r.make('a');
      const b = r.make('b');
      await a.start();
      await b.start();
      await waitFor(() => a.live().length === 2, 'a to see b');
      await b.stop();
      expect(b.live()).toEqual([]);
      expect(await rowIds(url)).toEqual(['a']);
      await a.refresh();
      expect(a.live()).toEqual(['a']);
    } finally {
      await r.end();
    }
  });

  it('one is killed (it stops beating, its row stays): the other drops it within ttl + beat', async () => {
    const url = await cluster.createDatabase();
    const r = rig(url);
    try {
      const a = r.make('a');
      const b = r.make('b');
      await a.start();
      await b.start();
      await waitFor(() => a.live().length === 2, 'a to see b');
      const changes: string[][] = [];
      a.onChange((m) => changes.push([...m]));
      const killedAt = Date.now();
      await b.halt();
      await waitFor(() => a.live().length === 1, 'a to drop b');
      const droppedAt = Date.now();
      expect(a.live()).toEqual(['a']);
      expect(changes).toEqual([['a']]);
      // b's last beat, as its row tells (seen_at, the database's now()); the test's clock and the database's
      // are one machine's clock here.
      const lastBeat = (await lastSeen(url, 'b')).getTime();
      console.log(`killed member dropped ${droppedAt - killedAt} ms after the kill, ${droppedAt - lastBeat} ms after its last beat (ttl ${TTL}, beat ${BEAT})`);
      // Not before its row aged out (so by the ttl, not by anything else: a row counts as live for the ttl
      // less one read interval, the lesser of 1 s and a beat, so that a death is seen within the ttl), and at
      // the latest one beat after that.
      expect(droppedAt - lastBeat).toBeGreaterThanOrEqual(TTL - Math.min(1_000, BEAT) - 20);
      expect(droppedAt - lastBeat).toBeLessThan(TTL + BEAT + 1_500);
      expect(await rowIds(url)).toEqual(['a', 'b']);

      // Started again under the same id (a restarted pod): back in the set.
      await b.start();
      await waitFor(() => a.live().length === 2, 'a to see b again');
    } finally {
      await r.end();
    }
  });

  it('a shared pool is used and left open; the table is created once by whoever comes first', async () => {
    const url = await cluster.createDatabase();
    const pool = new pg.Pool({ connectionString: url, max: 3 });
    try {
      const ms = Array.from({ length: 4 }, (_, i) => createMembership({ pool, id: `m${i}`, ttlMs: TTL, beatMs: BEAT }));
      await Promise.all(ms.map((m) => m.start()));
      await Promise.all(ms.map((m) => waitFor(() => m.live().length === 4, `${m.id} to see all`)));
      await Promise.all(ms.map((m) => m.stop()));
      expect((await pool.query(`SELECT count(*)::int AS n FROM ${MEMBERS_TABLE_REF}`)).rows[0].n).toBe(0);
    } finally {
      await pool.end();
    }
  });

  it('the database stopped and started: no throw, the last set is kept (one log line), and it recovers', async () => {
    const url = await cluster.createDatabase();
    const log = logSink();
    const logger = createLogger('info', log.stream);
    const r = rig(url);
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown): void => void unhandled.push(err);
    process.on('unhandledRejection', onUnhandled);
    try {
      const a = r.make('a', { logger });
      const b = r.make('b', { logger });
      const c = r.make('c', { logger });
      await a.start();
      await b.start();
      await c.start();
      await waitFor(() => a.live().length === 3, 'a to see b and c');

      await cluster.stopServer();
      let restarted = false;
      try {
        await waitFor(() => a.health().failedBeats >= 3 && b.health().failedBeats >= 3, 'failing beats');
        expect(a.health()).toMatchObject({ ok: false, episodes: 1 });
        expect(a.health().cause).toMatch(/the database|connection/);
        expect(a.live()).toEqual(['a', 'b', 'c']);
        const failing = log.lines.filter((l) => l.event === 'members_failing');
        expect(failing.map((l) => l.member).sort()).toEqual(['a', 'b', 'c']);
        // c stops while the database is down: its row stays, and expires after the ttl once the database is back.
        await c.stop();
        expect(log.lines.filter((l) => l.event === 'members_leave_failed').map((l) => l.member)).toEqual(['c']);
        await cluster.startServer();
        restarted = true;
      } finally {
        if (!restarted) await cluster.startServer();
      }
      await waitFor(() => a.health().ok && b.health().ok, 'recovery');
      await waitFor(() => a.live().length === 2, 'a to drop c (expired)');
      expect(a.live()).toEqual(['a', 'b']);
      expect(a.health()).toMatchObject({ ok: true, episodes: 1 });
      expect(log.lines.filter((l) => l.event === 'members_recovered').map((l) => l.member).sort()).toEqual(['a', 'b']);
      expect(log.lines.filter((l) => l.event === 'members_failing')).toHaveLength(3);
      // And it reads new members again.
      const d = r.make('d', { logger });
      await d.start();
      await waitFor(() => a.live().length === 3, 'a to see d');
      expect(a.live()).toEqual(['a', 'b', 'd']);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await r.end();
    }
  }, 60_000);

  it('a database down at the start: start resolves, the set is itself alone, and it joins once the database is back', async () => {
    const url = await cluster.createDatabase();
    const r = rig(url);
    try {
      const a = r.make('a');
      await a.start();
      await cluster.stopServer();
      let b: Membership;
      try {
        b = r.make('b');
        await b.start();
        expect(b.live()).toEqual(['b']);
        expect(b.health()).toMatchObject({ ok: false, episodes: 1 });
      } finally {
        await cluster.startServer();
      }
      await waitFor(() => b.live().length === 2 && a.live().length === 2, 'both to see each other');
      expect(b.live()).toEqual(['a', 'b']);
    } finally {
      await r.end();
    }
  }, 60_000);
});

describe('the live window and earlierMs (no database needed)', () => {
  const make = (ttlMs: number, earlierMs: number): Membership => createMembership({ url: 'postgres://127.0.0.1:9/none', id: 'x', ttlMs, earlierMs });
  it('keeps all of earlierMs where the TTL leaves room, part of it just above two beats, none below', () => {
    // TTL 15 s: beats of 5 s, reads every 1 s; counted out 3 s earlier still leaves 11 s > 2 beats.
    expect(make(15_000, 3_000).earlyByMs).toBe(3_000);
    // TTL 12 s: beats of 4 s, the window may not go to 2 beats (8 s) or under: 8.001 s of 12 − 1 s read.
    expect(make(12_000, 3_000).earlyByMs).toBe(2_999);
    expect(make(10_000, 3_000).earlyByMs).toBe(10_000 - 1_000 - (2 * 3_333 + 1));
    // TTL 3 s (the tests'): nothing left above two beats.
    expect(make(3_000, 3_000).earlyByMs).toBe(0);
    expect(make(15_000, 0).earlyByMs).toBe(0);
  });
});
