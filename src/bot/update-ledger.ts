import type { Context, MiddlewareFn } from 'grammy';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';

/** What the ledger keeps: the update handled last (every earlier one handled too), by which bot, and when. */
export interface HandledUpdate {
  bot: number;
  updateId: number;
  at: number;
}

/** Where the record is kept: a store namespace (a Keyv) shared by every instance on the database. */
export interface UpdateRecords {
  get(key: string): Promise<HandledUpdate | undefined>;
  set(key: string, value: HandledUpdate): Promise<unknown>;
}

/** The key of the record in its namespace. */
export const HANDLED_KEY = 'handled';

/**
 * How long a record can matter: Telegram keeps an unconfirmed update 24 hours at most, so an older
 * record cannot meet a redelivery. It must not outlive that: after a week without updates Telegram
 * picks the next update_id at random, possibly below the one recorded.
 */
export const REDELIVERY_WINDOW_MS = 24 * 60 * 60 * 1_000;

/** What the ledger works with. */
export interface UpdateLedgerDeps {
  records: UpdateRecords;
  clock: Clock;
  logger?: Logger | undefined;
}

/** The handled updates of the chat, across leaders: the middleware, and what it has recorded. */
export interface UpdateLedger {
  /** Skips an update handled already (by this instance or an earlier leader); install it before every other middleware. */
  middleware: MiddlewareFn<Context>;
  /** The record as this ledger knows it (read from the store the first time). */
  handled(): Promise<HandledUpdate | undefined>;
}

/**
 * Telegram confirms the updates of a poll only when the next getUpdates passes a higher offset, and a
 * webhook update only when its POST is answered; a leader killed in between leaves them to be sent
 * again to the next leader. This ledger keeps the highest update_id handled, with every one below it,
 * in the shared store, and the next leader skips what it names.
 *
 * An update is recorded *after* its handlers ended (threw or not): a leader killed mid-handler leaves
 * that update unrecorded, and the next leader handles it again if Telegram sends it again (at most the
 * updates in handling at the crash, once more). Recorded before, the same crash would lose it. For the
 * same reason the record does not pass an update still in handling: the runner handles updates of
 * different chats at once, and a later one that ends first waits for the earlier ones to be recorded.
 *
 * The record is read once, at the first update, and then kept in memory: one ledger lives as long as
 * one app, and a leader that loses its lock starts a new app (a new ledger) before it can lead again, so
 * no other instance writes while this one is read.
 */
export function createUpdateLedger(deps: UpdateLedgerDeps): UpdateLedger {
  let last: HandledUpdate | undefined;
  let loading: Promise<void> | undefined;
  let loaded = false;
  const inHandling = new Set<number>();
  // Handled, but above an update still in handling: recorded once that one ends.
  const waiting = new Set<number>();
  let writes: Promise<void> = Promise.resolve();

  const load = (): Promise<void> =>
    (loading ??= deps.records.get(HANDLED_KEY).then(
      (stored) => {
        loaded = true;
        last ??= stored ?? undefined;
      },
      (err: unknown) => {
        // Unreadable: handle the update (a repeat rather than a loss) and read again at the next one.
        loading = undefined;
        deps.logger?.warn({ err, event: 'update_ledger_unreadable' }, 'could not read the handled updates; handling this one');
      },
    ));

  /** The record, if it is this bot's and recent enough to meet a redelivery. */
  const current = (bot: number): HandledUpdate | undefined =>
    last !== undefined && last.bot === bot && deps.clock.now() - last.at < REDELIVERY_WINDOW_MS ? last : undefined;

  const record = async (bot: number): Promise<void> => {
    const oldest = Math.min(...inHandling);
    let mark: number | undefined;
    for (const id of waiting) {
      if (id >= oldest) continue;
      waiting.delete(id);
      mark = Math.max(mark ?? id, id);
    }
    const known = current(bot);
    if (mark === undefined || (known !== undefined && mark <= known.updateId)) return;
    const entry: HandledUpdate = { bot, updateId: mark, at: deps.clock.now() };
    last = entry;
    // Chained, so the writes land in the order the marks rose: the stored record never goes back.
    const write = writes.then(async () => {
      await deps.records.set(HANDLED_KEY, entry);
    });
    writes = write.catch(() => undefined);
    try {
      await write;
    } catch (err) {
      deps.logger?.error({ err, event: 'update_ledger_write_failed', update: mark }, 'could not record a handled update');
    }
  };

  const middleware: MiddlewareFn<Context> = async (ctx, next) => {
    const id = ctx.update.update_id;
    const bot = ctx.me.id;
    await load();
    const known = current(bot);
    if (known !== undefined && id <= known.updateId) {
      deps.logger?.info({ event: 'update_replayed_skipped', update: id, handled: known.updateId, chat: ctx.chat?.id }, 'skipped an update that was handled already');
      return;
    }
    inHandling.add(id);
    try {
      await next();
    } finally {
      inHandling.delete(id);
      waiting.add(id);
      await record(bot);
    }
  };

  return {
    middleware,
    async handled() {
      if (!loaded) await load();
      return last;
    },
  };
}
