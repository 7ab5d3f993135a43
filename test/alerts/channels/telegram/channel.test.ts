import { GrammyError } from 'grammy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAlertRecords, type AlertRecords } from '../../../../src/alerts/channels/telegram/alert-records.js';
import { createTelegramChannel, parseTelegramDestination, telegramDestination } from '../../../../src/alerts/channels/telegram/channel.js';
import { classifyTelegramError } from '../../../../src/alerts/channels/telegram/api.js';
import { createOutbox, type Outbox } from '../../../../src/alerts/outbox.js';
import type { Notification } from '../../../../src/domain/notification.js';
import { openStore, type KeyvStore } from '../../../../src/store/keyv.js';
import { FakeClock, flushPromises } from '../../../support/fake-clock.js';
import { closed, degraded, down, facts, NOTE_CHAT, reminder, up } from '../../../support/notifications.js';
import { ScriptedSender } from '../../../support/scripted-sender.js';

const DEST = telegramDestination(NOTE_CHAT);

let clock: FakeClock;
let store: KeyvStore;
let sender: ScriptedSender;
let records: AlertRecords;
let outbox: Outbox;

async function startOutbox(on: KeyvStore = store, using: ScriptedSender = sender): Promise<Outbox> {
  records = createAlertRecords(on);
  await records.load();
  const channel = createTelegramChannel({ sender: () => using, classify: classifyTelegramError, records, clock });
  const box = createOutbox({ store: on, channels: new Map([['telegram', channel]]), clock, baseBackoffMs: 100, maxBackoffMs: 100 });
  await box.start();
  return box;
}

/** Queues notifications (in order), then lets the first group and the next one go out. */
async function tell(...list: Notification[]): Promise<void> {
  for (const n of list) await outbox.enqueue(n, [DEST]);
  await flushPromises();
}

const sends = () => sender.calls.filter((c) => c.op === 'send');
const edits = () => sender.calls.filter((c) => c.op === 'edit');

beforeEach(async () => {
  clock = new FakeClock();
  store = await openStore({ kind: 'memory' });
  sender = new ScriptedSender(clock);
  outbox = await startOutbox();
});

afterEach(async () => {
  await outbox.stop(1_000);
  await store.close();
});

describe('telegram destinations', () => {
  it.each([
    [NOTE_CHAT, undefined, `telegram:${NOTE_CHAT}`],
    [NOTE_CHAT, 7, `telegram:${NOTE_CHAT}:7`],
  ])('chat %s topic %s is %s and reads back', (chatId, threadId, text) => {
    expect(telegramDestination(chatId, threadId)).toBe(text);
    expect(parseTelegramDestination(text)).toEqual({ chatId, ...(threadId !== undefined ? { threadId } : {}) });
  });
});

describe('alerts', () => {
  it('60 downs: the first alone at once with its four buttons, the other 59 in one message naming each once', async () => {
    const names = Array.from({ length: 60 }, (_, n) => `t${String(n).padStart(2, '0')}`);
    await tell(...names.map((n) => down(n)));
    expect(sends()).toHaveLength(1);
    expect(sends()[0]!.text.split('\n')[0]).toBe('🔴 <b>t00</b> is DOWN');
    expect(sends()[0]!.op === 'send' && sends()[0]!.options.buttons?.[0]?.map((b) => b.text)).toEqual(['Recheck', 'Mute 1h', 'Trace', 'Ack']);
    await clock.advance(5_000);
    await outbox.idle();
    const texts = sends().map((c) => c.text);
    expect(texts).toHaveLength(2);
    expect(texts[1]!.split('\n')[0]).toBe('🔴 <b>59 of 59 targets are DOWN</b>');
    // The storm lists names by reason (no addresses); the single alert names its target in its title.
    const all = `${texts[0]!.split('\n')[0]}\n${texts[1]}`;
    for (const name of names) expect(all.match(new RegExp(`\\b${name}\\b`, 'g'))).toHaveLength(1);
    // Each alert message is a record under its first incident's id, with Telegram's message id.
    expect((await records.get('i-t01'))?.messageId).toBe(sends()[1]!.op === 'send' ? sends()[1]!.messageId : -1);
  });

  it('a storm of 230 makes 1 + 3 messages of at most 100, each within 4096 characters', async () => {
    await tell(...Array.from({ length: 230 }, (_, n) => down(`storm-${String(n).padStart(3, '0')}`)));
    await clock.advance(5_000);
    await outbox.idle();
    const sizes = await Promise.all(sends().map(async (c) => (await records.get((c.op === 'send' && c.options.buttons?.[0]?.at(-1)?.data.slice(3)) || ''))?.incidents.length));
    expect(sizes).toEqual([1, 100, 100, 29]);
    for (const c of sends()) expect(c.text.length).toBeLessThanOrEqual(4_096);
  });

  it('an outage that began and ended within one group is told as one quiet line, not lost', async () => {
    await tell(down('first'));
    await tell(down('late'));
    await clock.advance(1_000);
    await tell(up('late', 'i-late', 22_000));
    await clock.advance(4_000);
    await outbox.idle();
    const texts = sends().map((c) => c.text);
    expect(texts).toHaveLength(2);
    expect(texts[1]).toBe('⚡ <b>late</b> was DOWN for 22s: HTTP 503, expected 200-299');
    expect(sends()[1]!.op === 'send' && sends()[1]!.options.silent).toBe(true);
    expect(await records.forIncident('i-late')).toBeUndefined();
  });

  it("keeps one target's order when a group holds its resolution and its next alert", async () => {
    await tell(down('x', 'x1'));
    await tell(down('other'), up('x', 'x1'), down('x', 'x2'));
    await clock.advance(5_000);
    await outbox.idle();
    const told = sends().map((c) => c.text.split('\n')[0]);
    const x1Up = told.findIndex((t) => t === '🟢 <b>x</b> is UP again');
    const x2Down = told.findIndex((t, i) => i > 0 && t === '🔴 <b>x</b> is DOWN');
    expect(told[0]).toBe('🔴 <b>x</b> is DOWN');
    expect(x1Up).toBeGreaterThan(0);
    expect(x2Down).toBeGreaterThan(x1Up);
  });
});

describe('resolutions', () => {
  it('a single up replies to its alert and edits it to show the resolution', async () => {
    await tell(down('api'));
    await clock.advance(10_000);
    await tell(up('api'));
    await clock.advance(5_000);
    await outbox.idle();
    const [alert, resolution] = sends();
    expect(resolution!.text.split('\n')[0]).toBe('🟢 <b>api</b> is UP again');
    expect(resolution!.op === 'send' && resolution!.options.replyTo).toBe(alert!.op === 'send' ? alert!.messageId : -1);
    expect(edits()).toHaveLength(1);
    expect(edits()[0]!.text).toContain('✅ <b>Resolved</b>');
  });

  it('several ups are one resolution replying to the first alert; each alert message is edited once', async () => {
    await tell(down('a'), down('b'), down('c'));
    await clock.advance(5_000);
    await outbox.idle();
    await clock.advance(60_000);
    await tell(up('a'), up('b'), up('c'));
    await clock.advance(10_000);
    await outbox.idle();
    // The first up after a quiet spell goes at once, alone; the next two come together.
    const [single, group] = sends().slice(-2);
    expect(single!.text.split('\n')[0]).toBe('🟢 <b>a</b> is UP again');
    expect(group!.text.split('\n')[0]).toBe('🟢 <b>2 targets are UP again</b>');
    const groupAlert = sends()[1]!;
    expect(group!.op === 'send' && group!.options.replyTo).toBe(groupAlert.op === 'send' ? groupAlert.messageId : -1);
    // Two alert messages (a alone, then b and c): each edited once.
    expect(edits()).toHaveLength(2);
  });

  it('pause or removal closes the alert with an edit and no new message', async () => {
    await tell(down('api'));
    await clock.advance(10_000);
    await tell(closed('api', 'paused'));
    await clock.advance(5_000);
    await outbox.idle();
    expect(sends()).toHaveLength(1);
    expect(edits()[0]!.text).toContain('Closed: checks paused');
  });

  it('after a crash between the resolution and the edit, the retry edits without resolving twice', async () => {
    await tell(down('api'));
    await clock.advance(10_000);
    // The edit fails once (a network error): the resolution was sent and noted, the edit is retried.
    const original = sender.edit.bind(sender);
    let failEdit = true;
    sender.edit = async (...args) => {
      if (failEdit) {
        failEdit = false;
        throw new Error('socket hang up');
      }
      return original(...args);
    };
    await tell(up('api'));
    await clock.advance(10_000);
    await outbox.idle();
    expect(sends().filter((c) => c.text.includes('UP again'))).toHaveLength(1);
    expect(edits()).toHaveLength(1);
  });
});

describe('retried deliveries', () => {
  it('an alert whose message went out before a crash is not sent again', async () => {
    await tell(down('api'));
    await outbox.idle();
    expect(sends()).toHaveLength(1);
    // The outbox item is back (its deletion was lost): a new outbox over the same store delivers it.
    await outbox.stop();
    await outbox.enqueue(down('api'), [DEST]);
    outbox = await startOutbox();
    await outbox.idle();
    expect(sends()).toHaveLength(1);
  });

  it('drops what Telegram refuses for good (403) and goes on', async () => {
    sender.failNext(NOTE_CHAT, new GrammyError('x', { ok: false, error_code: 403, description: 'Forbidden: bot was kicked' }, 'sendMessage', {}));
    await tell(down('api'));
    await clock.advance(5_000);
    await tell(degraded('web'));
    await clock.advance(5_000);
    await outbox.idle();
    expect(sends().map((c) => c.text.split('\n')[0])).toEqual(['🟡 <b>web</b> is DEGRADED: latency 900 ms over 800 ms']);
  });
});

describe('reminders, escalations, notices', () => {
  it('reminders of one group are one reply to the first alert; resolved and acknowledged ones are left out', async () => {
    await tell(down('a'), down('b'), down('c'));
    await clock.advance(5_000);
    await outbox.idle();
    await tell({ kind: 'acknowledged', incidentIds: ['i-c'], by: { userId: 1, name: 'Ann' }, id: 'ack', at: clock.now(), chatId: NOTE_CHAT });
    await clock.advance(60_000);
    await tell(reminder('a'), reminder('b'), reminder('c'));
    await clock.advance(10_000);
    await outbox.idle();
    const reminders = sends().filter((c) => c.text.startsWith('⏰'));
    expect(reminders.map((c) => c.text.split(' (')[0])).toEqual(['⏰ <b>a</b> is still DOWN', '⏰ <b>b</b> is still DOWN']);
    const groupAlert = sends()[1]!;
    expect(reminders[1]!.op === 'send' && reminders[1]!.options.replyTo).toBe(groupAlert.op === 'send' ? groupAlert.messageId : -1);
  });

  it('a grouped alert calls each person on call once, whichever incident asked', async () => {
    await tell(down('first'), down('a'), down('b'));
    await clock.advance(5_000);
    await outbox.idle();
    const person = { username: 'ann', name: 'Ann' };
    const esc = (name: string): Notification => ({ kind: 'escalation', incident: facts(name), person, step: 1, id: `i-${name}:esc:1`, at: clock.now(), chatId: NOTE_CHAT, targetId: `${NOTE_CHAT}/${name}` });
    await clock.advance(60_000);
    await tell(esc('a'));
    await clock.advance(60_000);
    await tell(esc('b'));
    await clock.advance(60_000);
    await outbox.idle();
    expect(sends().filter((c) => c.text.includes('@ann'))).toHaveLength(1);
  });

  it('several DEGRADED notices of one group are one message', async () => {
    await tell(degraded('x'));
    await tell(degraded('a'), degraded('b'), degraded('c'));
    await clock.advance(5_000);
    await outbox.idle();
    expect(sends()).toHaveLength(2);
    expect(sends()[1]!.text.split('\n')).toHaveLength(3);
  });
});
