import type { StateRecord, TargetState } from '../../../domain/state.js';
import type { Target } from '../../../kinds/index.js';
import type { Clock, TimerHandle } from '../../../lib/clock.js';
import type { Logger } from '../../../lib/logger.js';
import type { KeyvStore } from '../../../store/keyv.js';
import { escapeHtml, formatLatency, STATE_ICONS } from '../../format.js';
import { MESSAGE_LIMIT } from '../../split.js';

// The live status board: one message per chat, pinned, edited when states change (coalesced), and
// posted again when someone deleted it.

/** The order of the board's sections: what needs attention first. */
const SECTIONS: readonly TargetState[] = ['DOWN', 'DEGRADED', 'MAINTENANCE', 'UNKNOWN', 'UP', 'PAUSED'];

/** `Dec 1 14:05 UTC`: absolute, so the text only changes when something changed. */
function formatSince(ms: number): string {
  const d = new Date(ms);
  const month = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][d.getUTCMonth()];
  return `${month} ${d.getUTCDate()} ${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')} UTC`;
}

/**
 * Pure: the board's text. Every target with its state icon, name, latency (or reason) and since
 * when, grouped by state, DOWN first. No clock in it: the same states give the same text, so an
 * edit that would change nothing is skipped. Too many targets for one message: UP ones are counted.
 */
export function formatBoard(targets: readonly Target[], state: (id: string) => StateRecord | undefined): string {
  const lines = (s: TargetState): string[] =>
    targets
      .filter((t) => (state(t.id)?.state ?? 'UNKNOWN') === s)
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((t) => {
        const r = state(t.id);
        const last = r?.lastResult;
        const detail = s === 'PAUSED' ? 'paused' : !last ? 'not checked yet' : last.ok ? (last.summary ?? formatLatency(last.latencyMs)) : (last.reason ?? 'failed');
        return `${STATE_ICONS[s]} <b>${escapeHtml(t.name)}</b> · ${escapeHtml(detail)}${r ? ` · since ${formatSince(r.since)}` : ''}`;
      });
  const counts = SECTIONS.map((s) => [s, lines(s).length] as const).filter(([, n]) => n > 0);
  const header = `📊 <b>Status board</b> · ${targets.length} target${targets.length === 1 ? '' : 's'}${counts.length > 0 ? `: ${counts.map(([s, n]) => `${STATE_ICONS[s]} ${n}`).join(' ')}` : ''}`;
  if (targets.length === 0) return `${header}\nNo targets yet: /add one.`;
  const sections = SECTIONS.map((s) => lines(s)).filter((l) => l.length > 0);
  let text = [header, ...sections.map((l) => l.join('\n'))].join('\n\n');
  if (text.length > MESSAGE_LIMIT) {
    // UP targets are the least interesting: named no more, just counted.
    const up = lines('UP').length;
    const rest = SECTIONS.filter((s) => s !== 'UP').map((s) => lines(s)).filter((l) => l.length > 0);
    text = [header, ...rest.map((l) => l.join('\n')), `${STATE_ICONS.UP} ${up} targets UP`].join('\n\n');
    if (text.length > MESSAGE_LIMIT) text = `${text.slice(0, MESSAGE_LIMIT - 40).replace(/\n[^\n]*$/, '')}\n… (more than one message holds)`;
  }
  return text;
}

/** How the board reaches Telegram (edits that change nothing and deleted messages are told apart). */
export interface BoardApi {
  send(chatId: number, threadId: number | undefined, text: string): Promise<number>;
  /** `gone`: the message was deleted; `same`: it already shows this text. Throws for anything else. */
  edit(chatId: number, messageId: number, text: string): Promise<'ok' | 'same' | 'gone'>;
  /** Pins quietly; false when the bot may not pin here. */
  pin(chatId: number, messageId: number): Promise<boolean>;
  unpin(chatId: number, messageId: number): Promise<void>;
}

/** A chat's board as stored: survives restarts. */
export interface BoardRecord {
  chatId: number;
  threadId?: number;
  messageId: number;
  /** The text it shows now (an edit to the same text is skipped). */
  text: string;
  pinned: boolean;
}

/** The boards of every chat. */
export interface Boards {
  /** Loads the boards and brings each up to date (edited, or posted again if deleted). */
  start(): Promise<void>;
  /** Posts (or refreshes) a chat's board and pins it; says whether it could pin. */
  open(chatId: number, threadId: number | undefined): Promise<{ record: BoardRecord; created: boolean }>;
  /** Stops a chat's board: unpinned and forgotten; false when there was none. */
  close(chatId: number): Promise<boolean>;
  /** Something in the chat changed: its board is edited soon (at most once per `minIntervalMs`). */
  changed(chatId: number): void;
  get(chatId: number): BoardRecord | undefined;
  /** Waits for edits in flight and stops the timers. */
  stop(): Promise<void>;
}

/** What the boards need: the store, Telegram, the clock, and the text of a chat's board now. */
export interface BoardDeps {
  store: KeyvStore;
  api: () => BoardApi;
  clock: Clock;
  render(chatId: number): Promise<string>;
  /** At most one edit per chat this often (ms, default 10 s): bursts of changes become one edit, and alerts keep most of the chat's rate. */
  minIntervalMs?: number;
  /** What a failed call means: `drop` (the bot left the chat: the board goes), or retry (after `afterMs`). */
  classify?(err: unknown): { action: 'retry'; afterMs?: number } | { action: 'done' } | { action: 'drop'; why: string };
  logger?: Logger;
}

/** Creates the boards over the `boards` namespace. */
export function createBoards(deps: BoardDeps): Boards {
  const keyv = deps.store.namespace<BoardRecord>('boards');
  const minInterval = deps.minIntervalMs ?? 10_000;
  const boards = new Map<number, BoardRecord>();
  const timers = new Map<number, TimerHandle>();
  const lastEdit = new Map<number, number>();
  const inFlight = new Map<number, Promise<void>>();
  let running = false;

  const save = async (record: BoardRecord): Promise<void> => {
    boards.set(record.chatId, record);
    await keyv.set(String(record.chatId), record);
  };

  /** Posts the board anew (first time, or after it was deleted) and pins it. */
  const post = async (chatId: number, threadId: number | undefined, text: string): Promise<BoardRecord> => {
    const api = deps.api();
    const messageId = await api.send(chatId, threadId, text);
    const pinned = await api.pin(chatId, messageId);
    const record: BoardRecord = { chatId, ...(threadId !== undefined ? { threadId } : {}), messageId, text, pinned };
    await save(record);
    deps.logger?.info({ event: 'board_posted', chat: chatId, pinned }, 'status board posted');
    return record;
  };

  /**
   * Brings one chat's board up to date now. `probe` edits even when the text is the same: the answer
   * ("not modified" or "not found") tells whether the message still exists.
   */
  const refresh = async (chatId: number, probe = false): Promise<void> => {
    const record = boards.get(chatId);
    if (!record) return;
    const text = await deps.render(chatId);
    lastEdit.set(chatId, deps.clock.now());
    if (text === record.text && !probe) return;
    const result = await deps.api().edit(chatId, record.messageId, text);
    // Closed while the edit was on its way: nothing to save.
    if (boards.get(chatId) !== record) return;
    if (result === 'gone') await post(chatId, record.threadId, text);
    else if (text !== record.text) await save({ ...record, text });
  };

  const forget = async (chatId: number): Promise<void> => {
    boards.delete(chatId);
    const timer = timers.get(chatId);
    if (timer !== undefined) deps.clock.clearTimeout(timer);
    timers.delete(chatId);
    await keyv.delete(String(chatId));
  };

  const run = (chatId: number, probe = false): Promise<void> => {
    const previous = inFlight.get(chatId) ?? Promise.resolve();
    const next = previous
      .then(() => refresh(chatId, probe))
      .catch(async (err: unknown) => {
        const verdict = deps.classify?.(err) ?? { action: 'retry' as const };
        if (verdict.action === 'done') return;
        if (verdict.action === 'drop') {
          // The bot was removed from the chat, or the chat is gone: a board there can never be shown.
          deps.logger?.warn({ err, event: 'board_dropped', chat: chatId, why: verdict.why }, 'status board dropped');
          await forget(chatId);
          return;
        }
        deps.logger?.warn({ err, event: 'board_edit_failed', chat: chatId }, 'status board not updated; trying again');
        if (running) schedule(chatId, verdict.action === 'retry' ? verdict.afterMs : undefined);
      });
    inFlight.set(chatId, next);
    void next.finally(() => inFlight.get(chatId) === next && inFlight.delete(chatId));
    return next;
  };

  function schedule(chatId: number, afterMs?: number): void {
    if (!running || !boards.has(chatId) || timers.has(chatId)) return;
    const wait = Math.max(afterMs ?? 0, (lastEdit.get(chatId) ?? -Infinity) + minInterval - deps.clock.now(), 0);
    timers.set(
      chatId,
      deps.clock.setTimeout(() => {
        timers.delete(chatId);
        void run(chatId);
      }, wait),
    );
  }

  return {
    async start() {
      running = true;
      if (!keyv.iterator) return;
      for await (const [, record] of keyv.iterator(undefined)) {
        if (record) boards.set((record as BoardRecord).chatId, record as BoardRecord);
      }
      // Each board is checked at start, even unchanged: it may have been deleted while Lookout was stopped.
      for (const chatId of boards.keys()) void run(chatId, true);
    },

    async open(chatId, threadId) {
      const existing = boards.get(chatId);
      if (existing) {
        // Asked for again: make sure it still exists (it is posted anew if it was deleted).
        await run(chatId, true);
        const now = boards.get(chatId);
        if (now) return { record: now, created: now.messageId !== existing.messageId };
      }
      const record = await post(chatId, threadId, await deps.render(chatId));
      lastEdit.set(chatId, deps.clock.now());
      return { record, created: true };
    },

    async close(chatId) {
      const record = boards.get(chatId);
      if (!record) return false;
      // An edit or repost in flight finishes first, so it cannot bring the board back afterwards.
      await forget(chatId);
      await inFlight.get(chatId)?.catch(() => undefined);
      // A repost that was under way has saved its new message: that one is the board to stop.
      const current = boards.get(chatId) ?? record;
      await forget(chatId);
      if (current.pinned) await deps.api().unpin(chatId, current.messageId);
      await deps
        .api()
        .edit(chatId, current.messageId, `${current.text}\n\n<i>This board is no longer updated (/board starts it again).</i>`)
        .catch(() => undefined);
      return true;
    },

    changed: (chatId) => schedule(chatId),

    get: (chatId) => boards.get(chatId),

    async stop() {
      running = false;
      for (const t of timers.values()) deps.clock.clearTimeout(t);
      timers.clear();
      await Promise.allSettled([...inFlight.values()]);
    },
  };
}
