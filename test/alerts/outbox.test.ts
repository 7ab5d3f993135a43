import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DeliveryError, type Channel, type DeliveryVerdict, type Grouping } from '../../src/alerts/channel.js';
import { createOutbox, type DeliveryEvent, type Outbox, type OutboxItem } from '../../src/alerts/outbox.js';
import type { Notification } from '../../src/domain/notification.js';
import { openStore, type KeyvStore } from '../../src/store/keyv.js';
import { listAll } from '../../src/store/targets.js';
import { FakeClock, flushPromises } from '../support/fake-clock.js';

const A = 'fake:a';
const B = 'fake:b';

/** A plain notification with an id (the outbox only looks at ids and order). */
const note = (id: string, at = 0): Notification => ({ kind: 'window-ended-up', scope: id, id, at, chatId: 1 });

/** What a test channel does with a part: deliver it, fail it with this cause, or hold until released. */
type Script = 'ok' | { fail: unknown } | { hold: Promise<void> };

/**
 * A channel a test scripts. Each notification is its own part; `batches` records what each delivery
 * call was given; the verdict of a failure is its `cause.verdict`.
 */
class FakeChannel implements Channel {
  readonly kind = 'fake';
  readonly batches: Array<{ destination: string; ids: string[]; at: number }> = [];
  readonly delivered: Array<{ destination: string; id: string; at: number }> = [];
  readonly next: Script[] = [];
  probes = 0;
  answers = true;
  grouping: Grouping | undefined;

  constructor(
    private readonly clock: FakeClock,
    grouping?: Grouping,
  ) {
    this.grouping = grouping;
  }

  async deliver(destination: string, batch: readonly Notification[], done: (ids: readonly string[]) => Promise<void>, signal: AbortSignal): Promise<void> {
    this.batches.push({ destination, ids: batch.map((n) => n.id), at: this.clock.now() });
    for (const n of batch) {
      if (signal.aborted) return;
      const script = this.next.shift() ?? 'ok';
      if (typeof script === 'object' && 'hold' in script) await script.hold;
      if (typeof script === 'object' && 'fail' in script) throw new DeliveryError([n.id], script.fail);
      this.delivered.push({ destination, id: n.id, at: this.clock.now() });
      await done([n.id]);
    }
  }

  classify(err: unknown): DeliveryVerdict {
    return (err as { verdict?: DeliveryVerdict }).verdict ?? { action: 'retry' };
  }

  async probe(): Promise<boolean> {
    this.probes++;
    return this.answers;
  }

  ids(destination?: string): string[] {
    return this.delivered.filter((d) => destination === undefined || d.destination === destination).map((d) => d.id);
  }
}

const retry = (afterMs?: number) => ({ verdict: { action: 'retry', ...(afterMs !== undefined ? { afterMs } : {}) } });
const drop = { verdict: { action: 'drop', why: 'gone' } };
const done = { verdict: { action: 'done' } };

const items = async (store: KeyvStore): Promise<OutboxItem[]> => (await listAll(store.namespace<OutboxItem>('outbox'))).sort((a, b) => a.seq - b.seq);

describe('outbox', () => {
  let clock: FakeClock;
  let store: KeyvStore;
  let channel: FakeChannel;
  let events: DeliveryEvent[];
  const made: Outbox[] = [];

  const make = async (options: { base?: number; max?: number; probeEveryMs?: number; channel?: FakeChannel; start?: boolean; on?: KeyvStore } = {}): Promise<Outbox> => {
    const outbox = createOutbox({
      store: options.on ?? store,
      channels: new Map([['fake', options.channel ?? channel]]),
      clock,
      ...(options.base !== undefined ? { baseBackoffMs: options.base } : {}),
      ...(options.max !== undefined ? { maxBackoffMs: options.max } : {}),
      ...(options.probeEveryMs !== undefined ? { probeEveryMs: options.probeEveryMs } : {}),
    });
    outbox.onDelivery((e) => events.push(e));
    made.push(outbox);
    if (options.start !== false) await outbox.start();
    return outbox;
  };

  beforeEach(async () => {
    clock = new FakeClock();
    store = await openStore({ kind: 'memory' });
    channel = new FakeChannel(clock);
    events = [];
  });

  afterEach(async () => {
    for (const o of made.splice(0)) await o.stop(1_000);
    await store.close();
  });

  it('has every notification on disk before enqueue resolves, and deletes it once delivered', async () => {
    const outbox = await make({ start: false });
    await outbox.enqueue(note('n1'), [A, B]);
    expect((await items(store)).map((i) => [i.destination, i.notification.id])).toEqual([
      [A, 'n1'],
      [B, 'n1'],
    ]);
    await outbox.start();
    await outbox.idle();
    expect(channel.ids(A)).toEqual(['n1']);
    expect(channel.ids(B)).toEqual(['n1']);
    expect(await items(store)).toEqual([]);
  });

  it('queues a notification id once per destination (a decision made again after a crash)', async () => {
    const outbox = await make({ start: false });
    await outbox.enqueue(note('n1'), [A]);
    await outbox.enqueue(note('n1'), [A, B]);
    expect((await items(store)).map((i) => i.destination)).toEqual([A, B]);
    await outbox.start();
    await outbox.idle();
    expect(channel.ids()).toEqual(['n1', 'n1']);
  });

  it('keeps a destination in order while its head is retried: nothing overtakes it', async () => {
    const outbox = await make({ base: 1_000 });
    channel.next.push({ fail: retry() });
    await outbox.enqueue(note('alert'), [A]);
    await outbox.enqueue(note('resolution'), [A]);
    await flushPromises();
    expect(channel.ids()).toEqual([]);
    await clock.advance(1_000);
    await outbox.idle();
    expect(channel.ids()).toEqual(['alert', 'resolution']);
  });

  it('delivers destinations independently: a failing one does not hold up another', async () => {
    const outbox = await make({ base: 60_000 });
    channel.next.push({ fail: retry() });
    await outbox.enqueue(note('a1'), [A]);
    await flushPromises();
    await outbox.enqueue(note('b1'), [B]);
    await flushPromises();
    expect(channel.ids(B)).toEqual(['b1']);
    expect(channel.ids(A)).toEqual([]);
  });

  it('retries with exponential backoff from the base up to the maximum, the attempts saved', async () => {
    const outbox = await make({ base: 1_000, max: 8_000, probeEveryMs: 3_600_000 });
    for (let i = 0; i < 6; i++) channel.next.push({ fail: retry() });
    await outbox.enqueue(note('n'), [A]);
    const tries: number[] = [];
    for (let t = 0; t < 40; t++) {
      const before = channel.batches.length;
      await clock.advance(500);
      if (channel.batches.length > before) tries.push(clock.now());
    }
    const gaps = tries.map((t, i) => t - (i === 0 ? tries[0]! : tries[i - 1]!)).slice(1);
    expect(gaps).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000].slice(1, tries.length));
    expect((await items(store))[0]?.attempts ?? 6).toBeGreaterThan(0);
  });

  it("waits a channel's retry_after instead of the backoff", async () => {
    const outbox = await make({ base: 100 });
    channel.next.push({ fail: retry(7_000) });
    await outbox.enqueue(note('n'), [A]);
    await clock.advance(6_900);
    expect(channel.ids()).toEqual([]);
    await clock.advance(200);
    expect(channel.ids()).toEqual(['n']);
  });

  it("drops what can never succeed, emits 'dropped', and goes on with the next; 'done' counts as delivered", async () => {
    const outbox = await make();
    channel.next.push({ fail: drop }, { fail: done });
    await outbox.enqueue(note('gone'), [A]);
    await outbox.enqueue(note('same'), [A]);
    await outbox.enqueue(note('next'), [A]);
    await outbox.idle();
    expect(channel.ids()).toEqual(['next']);
    expect(events.map((e) => [e.item.notification.id, e.outcome])).toEqual([
      ['gone', 'dropped'],
      ['same', 'delivered'],
      ['next', 'delivered'],
    ]);
    expect(await items(store)).toEqual([]);
  });

  it('a write that fails still delivers the notification from memory', async () => {
    const outbox = await make();
    const keyv = store.namespace<OutboxItem>('outbox');
    const set = keyv.set.bind(keyv);
    keyv.set = (() => Promise.reject(new Error('SQLITE_FULL: database or disk is full'))) as typeof keyv.set;
    await outbox.enqueue(note('n'), [A]);
    await outbox.idle();
    keyv.set = set;
    expect(channel.ids()).toEqual(['n']);
  });

  describe('pacing a storm (a channel that groups)', () => {
    beforeEach(() => {
      channel = new FakeChannel(clock, { windowMs: 5_000, maxIntervalMs: 60_000 });
    });

    it('the first notification after a quiet spell goes at once; later ones wait for the group and go together', async () => {
      const outbox = await make();
      await outbox.enqueue(note('first'), [A]);
      await flushPromises();
      expect(channel.batches.map((b) => b.ids)).toEqual([['first']]);
      await clock.advance(1_000);
      await outbox.enqueue(note('second'), [A]);
      await clock.advance(1_000);
      await outbox.enqueue(note('third'), [A]);
      await clock.advance(2_900);
      expect(channel.batches).toHaveLength(1);
      await clock.advance(200);
      expect(channel.batches.map((b) => b.ids)).toEqual([['first'], ['second', 'third']]);
    });

    it('while it lasts the groups come 5 s, 10 s, 20 s, 40 s, then 60 s apart; after a quiet spell, at once again', async () => {
      const outbox = await make();
      const t0 = clock.now();
      for (let s = 0; s < 200; s++) {
        await outbox.enqueue(note(`n${s}`, clock.now()), [A]);
        await clock.advance(1_000);
      }
      const starts = channel.batches.map((b) => (b.at - t0) / 1_000);
      expect(starts.slice(0, 7)).toEqual([0, 5, 15, 35, 75, 135, 195]);
      // Everything came out once, in order.
      expect(channel.ids()).toEqual(Array.from({ length: channel.ids().length }, (_, i) => `n${i}`));
      await clock.advance(120_000);
      await outbox.idle();
      const quietAt = clock.now();
      await outbox.enqueue(note('after'), [A]);
      await flushPromises();
      expect(channel.batches.at(-1)).toEqual({ destination: A, ids: ['after'], at: quietAt });
    });

    it('the answer to a button goes at once even while the storm paces the destination', async () => {
      channel.grouping = { windowMs: 5_000, maxIntervalMs: 60_000, immediate: (n) => n.id.startsWith('ack') };
      const outbox = await make();
      await outbox.enqueue(note('first'), [A]);
      await flushPromises();
      await outbox.enqueue(note('ack-1'), [A]);
      await flushPromises();
      expect(channel.ids()).toEqual(['first', 'ack-1']);
      // It did not move the pace: the next one still waits for the group.
      await outbox.enqueue(note('later'), [A]);
      await clock.advance(4_000);
      expect(channel.ids()).toEqual(['first', 'ack-1']);
      await clock.advance(1_000);
      expect(channel.ids()).toEqual(['first', 'ack-1', 'later']);
    });

    it('a retry follows its backoff, not the pace of the storm', async () => {
      const outbox = await make({ base: 100 });
      channel.next.push({ fail: retry() });
      await outbox.enqueue(note('n'), [A]);
      await clock.advance(100);
      expect(channel.ids()).toEqual(['n']);
    });

    it('destinations are paced apart: a storm in one does not delay another', async () => {
      const outbox = await make();
      for (let i = 0; i < 5; i++) await outbox.enqueue(note(`a${i}`), [A]);
      await outbox.enqueue(note('b0'), [B]);
      await flushPromises();
      expect(channel.ids(B)).toEqual(['b0']);
    });

    it('a batch delivered in parts: a crash after the first part repeats only the part in flight', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'lookout-outbox-'));
      try {
        const disk = await openStore({ kind: 'sqlite', dataDir: dir });
        let release!: () => void;
        channel.next.push('ok', { hold: new Promise<void>((r) => (release = r)) });
        const first = await make({ on: disk });
        await first.enqueue(note('lead'), [A]);
        await flushPromises();
        for (const id of ['p1', 'p2', 'p3']) await first.enqueue(note(id), [A]);
        await clock.advance(5_000);
        // p1 is on its way (held); the process dies now: no stop, the store is simply reopened.
        expect(channel.ids()).toEqual(['lead']);
        const again = await openStore({ kind: 'sqlite', dataDir: dir });
        expect((await items(again)).map((i) => i.notification.id)).toEqual(['p1', 'p2', 'p3']);
        const after = new FakeChannel(clock, { windowMs: 5_000, maxIntervalMs: 60_000 });
        const second = await make({ on: again, channel: after });
        await second.idle();
        expect(after.ids()).toEqual(['p1', 'p2', 'p3']);
        release();
        await first.stop(100);
        await disk.close();
        await again.close();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });

  describe('catching up after an outage', () => {
    it('probes the channel while backing off, and delivers within seconds once it answers', async () => {
      const outbox = await make({ base: 1_000, max: 300_000, probeEveryMs: 5_000 });
      channel.answers = false;
      // A long outage: the backoff grows to minutes.
      for (let i = 0; i < 12; i++) channel.next.push({ fail: retry() });
      await outbox.enqueue(note('alert'), [A]);
      await outbox.enqueue(note('newer'), [A]);
      await clock.advance(5 * 60_000);
      const failedSoFar = channel.batches.length;
      expect(channel.ids()).toEqual([]);
      channel.next.splice(0);
      channel.answers = true;
      const back = clock.now();
      for (let s = 0; s < 10 && channel.ids().length < 2; s++) await clock.advance(1_000);
      expect(channel.ids()).toEqual(['alert', 'newer']);
      expect(channel.delivered[0]!.at - back).toBeLessThanOrEqual(5_000);
      expect(channel.probes).toBeGreaterThan(0);
      expect(failedSoFar).toBeLessThan(12);
    });

    it("does not cut a channel's own retry_after short", async () => {
      const outbox = await make({ probeEveryMs: 1_000 });
      channel.next.push({ fail: retry(30_000) });
      await outbox.enqueue(note('n'), [A]);
      await clock.advance(10_000);
      expect(channel.ids()).toEqual([]);
      expect(channel.probes).toBe(0);
    });

    it('drops a part that keeps failing while the channel answers, so it cannot hold the queue for ever', async () => {
      const outbox = await make({ base: 3_000, max: 3_000, probeEveryMs: 1_000 });
      for (let i = 0; i < 40; i++) channel.next.push({ fail: retry() });
      await outbox.enqueue(note('poison'), [A]);
      await outbox.enqueue(note('fine'), [A]);
      for (let s = 0; s < 120 && !channel.ids().includes('fine'); s++) {
        if (channel.next.length > 0 && events.some((e) => e.outcome === 'dropped')) channel.next.splice(0);
        await clock.advance(1_000);
      }
      expect(events.find((e) => e.outcome === 'dropped')?.item.notification.id).toBe('poison');
      expect(channel.ids()).toContain('fine');
    });
  });

  describe('stopping', () => {
    it('waits for the part in flight instead of abandoning it, and starts no new part', async () => {
      const outbox = await make();
      let release!: () => void;
      channel.next.push({ hold: new Promise<void>((r) => (release = r)) });
      await outbox.enqueue(note('in-flight'), [A]);
      await outbox.enqueue(note('later'), [A]);
      await flushPromises();
      const stopped = outbox.stop(10_000);
      let over = false;
      void stopped.then(() => (over = true));
      await flushPromises();
      expect(over).toBe(false);
      release();
      await stopped;
      expect(channel.ids()).toEqual(['in-flight']);
      expect((await items(store)).map((i) => i.notification.id)).toEqual(['later']);
    });

    it('delivers nothing before start and after stop', async () => {
      const outbox = await make({ start: false });
      await outbox.enqueue(note('n'), [A]);
      await flushPromises();
      expect(channel.ids()).toEqual([]);
      await outbox.start();
      await outbox.idle();
      await outbox.stop();
      await outbox.enqueue(note('m'), [A]);
      await clock.advance(60_000);
      expect(channel.ids()).toEqual(['n']);
    });
  });

  it('across a restart (SQLite): what a failed run left is delivered once, in order, keeping its attempts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lookout-outbox-'));
    try {
      let disk = await openStore({ kind: 'sqlite', dataDir: dir });
      channel.next.push({ fail: retry() }, { fail: retry() });
      const first = await make({ on: disk, base: 1_000 });
      await first.enqueue(note('a1'), [A]);
      await first.enqueue(note('a2'), [A]);
      await first.enqueue(note('b1'), [B]);
      await flushPromises();
      await first.stop();
      await disk.close();
      disk = await openStore({ kind: 'sqlite', dataDir: dir });
      const left = await items(disk);
      expect(left.map((i) => [i.destination, i.notification.id, i.attempts])).toEqual([
        [A, 'a1', 1],
        [A, 'a2', 0],
        [B, 'b1', 1],
      ]);
      const working = new FakeChannel(clock);
      const second = await make({ on: disk, channel: working });
      await clock.advance(2_000);
      await second.idle();
      expect(working.ids(A)).toEqual(['a1', 'a2']);
      expect(working.ids(B)).toEqual(['b1']);
      // Queued after the restart: numbered after what was left.
      await second.enqueue(note('a3'), [A]);
      await second.idle();
      expect(working.ids(A)).toEqual(['a1', 'a2', 'a3']);
      await second.stop();
      await disk.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
