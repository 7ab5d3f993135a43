import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bot, type Context } from 'grammy';
import type { Update, UserFromGetMe } from 'grammy/types';
import { afterEach, describe, expect, it } from 'vitest';
import { createUpdateLedger, HANDLED_KEY, REDELIVERY_WINDOW_MS, type HandledUpdate, type UpdateLedger, type UpdateRecords } from '../../src/bot/update-ledger.js';
import { createLogger } from '../../src/lib/logger.js';
import { openStore, type KeyvStore } from '../../src/store/keyv.js';
import { FakeClock } from '../support/fake-clock.js';
import { logSink } from '../support/log-sink.js';

const BOT_ID = 42;
const botInfo = (id = BOT_ID): UserFromGetMe => ({ id, is_bot: true, first_name: 'Lookout', username: 'lookout_test_bot' }) as UserFromGetMe;

const stores: KeyvStore[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function memoryStore(): Promise<KeyvStore> {
  const store = await openStore({ kind: 'memory' });
  stores.push(store);
  return store;
}

const message = (updateId: number, text = `m${updateId}`): Update =>
  ({ update_id: updateId, message: { message_id: updateId, date: 0, chat: { id: 7, type: 'private', first_name: 'u' }, from: { id: 7, is_bot: false, first_name: 'u' }, text } }) as Update;

/** A bot with the ledger first and `handler` after it; `handled` lists the update ids the handler saw. */
function botWith(ledger: UpdateLedger, handler: (ctx: Context) => unknown = () => undefined, id = BOT_ID): { bot: Bot; handled: number[] } {
  const bot = new Bot('42:test', { botInfo: botInfo(id) });
  const handled: number[] = [];
  bot.use(ledger.middleware);
  bot.use(async (ctx) => {
    handled.push(ctx.update.update_id);
    await handler(ctx);
  });
  return { bot, handled };
}

const recorded = async (store: KeyvStore): Promise<number | undefined> => (await store.namespace<HandledUpdate>('updates').get(HANDLED_KEY))?.updateId;

describe('update ledger', () => {
  it('skips an update at or below the one recorded, and says so in the log', async () => {
    const store = await memoryStore();
    const sink = logSink();
    const ledger = createUpdateLedger({ records: store.namespace('updates'), clock: new FakeClock(), logger: createLogger('debug', sink.stream) });
    const { bot, handled } = botWith(ledger);
    for (const id of [5, 3, 5, 6]) await bot.handleUpdate(message(id));
    expect(handled).toEqual([5, 6]);
    expect(sink.lines.filter((l) => l.event === 'update_replayed_skipped').map((l) => [l.update, l.handled])).toEqual([
      [3, 5],
      [5, 5],
    ]);
    expect(await recorded(store)).toBe(6);
  });

  it('records the highest update handled, never going back when updates end out of order', async () => {
    const store = await memoryStore();
    const ledger = createUpdateLedger({ records: store.namespace('updates'), clock: new FakeClock() });
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const { bot } = botWith(ledger, (ctx) => (ctx.update.update_id === 10 ? slow : undefined));
    const first = bot.handleUpdate(message(10));
    await bot.handleUpdate(message(11));
    await bot.handleUpdate(message(12));
    // 11 and 12 are done, but 10 is still in handling: recording 12 now would lose 10 in a crash.
    expect(await recorded(store)).toBeUndefined();
    release();
    await first;
    expect(await recorded(store)).toBe(12);
    expect((await ledger.handled())?.updateId).toBe(12);
  });

  it('records an update whose handler threw, and rethrows the error', async () => {
    const store = await memoryStore();
    const ledger = createUpdateLedger({ records: store.namespace('updates'), clock: new FakeClock() });
    const { bot } = botWith(ledger, () => {
      throw new Error('handler broke');
    });
    await expect(bot.handleUpdate(message(8))).rejects.toThrow('handler broke');
    expect(await recorded(store)).toBe(8);
  });

  it('a new ledger on the same database (a new leader) skips what the old one handled', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'lookout-ledger-'));
    dirs.push(dataDir);
    const clock = new FakeClock();
    const before = await openStore({ kind: 'sqlite', dataDir });
    const old = botWith(createUpdateLedger({ records: before.namespace('updates'), clock }));
    await old.bot.handleUpdate(message(20));
    await old.bot.handleUpdate(message(21));
    await before.close();

    const after = await openStore({ kind: 'sqlite', dataDir });
    stores.push(after);
    const next = botWith(createUpdateLedger({ records: after.namespace('updates'), clock }));
    // Telegram sends again what the old leader never confirmed, then what is new.
    for (const id of [20, 21, 22]) await next.bot.handleUpdate(message(id));
    expect(next.handled).toEqual([22]);
    expect(await recorded(after)).toBe(22);
  });

  it('reads the store once, at the first update', async () => {
    const store = await memoryStore();
    const keyv = store.namespace<HandledUpdate>('updates');
    let reads = 0;
    const records: UpdateRecords = {
      get: (key) => {
        reads++;
        return keyv.get(key);
      },
      set: (key, value) => keyv.set(key, value),
    };
    const ledger = createUpdateLedger({ records, clock: new FakeClock() });
    expect(reads).toBe(0);
    const { bot } = botWith(ledger);
    await Promise.all([bot.handleUpdate(message(1)), bot.handleUpdate(message(2))]);
    await bot.handleUpdate(message(3));
    expect(reads).toBe(1);
  });

  it("ignores a record of another bot, or one older than Telegram keeps updates (its ids may start again lower)", async () => {
    const store = await memoryStore();
    const clock = new FakeClock();
    await store.namespace<HandledUpdate>('updates').set(HANDLED_KEY, { bot: 99, updateId: 500, at: clock.now() });
    const other = botWith(createUpdateLedger({ records: store.namespace('updates'), clock }));
    await other.bot.handleUpdate(message(30));
    expect(other.handled).toEqual([30]);

    await clock.advance(REDELIVERY_WINDOW_MS);
    const later = botWith(createUpdateLedger({ records: store.namespace('updates'), clock }));
    await later.bot.handleUpdate(message(4));
    expect(later.handled).toEqual([4]);
    expect(await recorded(store)).toBe(4);
  });

  it('logs a record it could not write, and the update still counts as handled', async () => {
    const sink = logSink();
    const records: UpdateRecords = {
      get: async () => undefined,
      set: async () => {
        throw new Error('disk gone');
      },
    };
    const { bot, handled } = botWith(createUpdateLedger({ records, clock: new FakeClock(), logger: createLogger('debug', sink.stream) }));
    await bot.handleUpdate(message(9));
    await bot.handleUpdate(message(9));
    expect(handled).toEqual([9]);
    expect(sink.lines.map((l) => l.event)).toContain('update_ledger_write_failed');
  });
});
