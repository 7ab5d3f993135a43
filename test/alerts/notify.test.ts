import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GROUP_MESSAGE_MAX } from '../../src/alerts/format.js';
import { createIncidentBook, type IncidentBook } from '../../src/alerts/incidents.js';
import { createNotifier, type Notifier } from '../../src/alerts/notify.js';
import { createOutbox, type Outbox, type OutboxMessage } from '../../src/alerts/outbox.js';
import { classifyTelegramError } from '../../src/alerts/telegram.js';
import type { AlertMessage, Incident } from '../../src/domain/incident.js';
import { openStore, type KeyvStore } from '../../src/store/keyv.js';
import { FakeClock, flushPromises } from '../support/fake-clock.js';
import { ScriptedSender, type SenderCall } from '../support/scripted-sender.js';

const CHAT = -1001234567890;
const OTHER = -1009876543210;

/** What the notifier handed to the outbox. */
interface Enqueued {
  chatId: number;
  threadId: number | undefined;
  message: OutboxMessage;
}

let clock: FakeClock;
let store: KeyvStore;
let incidents: IncidentBook;
let sender: ScriptedSender;
let outbox: Outbox;
let enqueued: Enqueued[];
let notifier: Notifier;
let errors: unknown[];

beforeEach(async () => {
  clock = new FakeClock();
  store = await openStore({ kind: 'memory' });
  incidents = createIncidentBook(store);
  sender = new ScriptedSender(clock);
  const real = createOutbox({ store, incidents, sender, classify: classifyTelegramError, clock });
  enqueued = [];
  outbox = {
    ...real,
    enqueue: async (chatId, threadId, message) => {
      enqueued.push({ chatId, threadId, message });
      return real.enqueue(chatId, threadId, message);
    },
  };
  await outbox.start();
  errors = [];
  notifier = createNotifier({ incidents, outbox, clock, onError: (err) => errors.push(err) });
});

afterEach(async () => {
  expect(errors).toEqual([]);
  await notifier.flushAll();
  await outbox.stop(1_000);
  await incidents.flush();
  await store.close();
});

/** Opens an open incident of target `name` (no alert yet). */
async function opened(name: string, over: Partial<Incident> = {}): Promise<Incident> {
  return incidents.open({
    id: `inc-${name}`,
    targetId: `${over.chatId ?? CHAT}/${name}`,
    chatId: CHAT,
    name,
    openedAt: clock.now(),
    reason: 'connection refused',
    alertText: `🔴 <b>${name}</b> is DOWN`,
    line: `<b>${name}</b> · connection refused`,
    ...over,
  });
}

const down = (incident: Incident): void => notifier.notify(incident, { kind: 'down', incidentId: incident.id });
const up = (incident: Incident, text = `🟢 <b>${incident.name}</b> is UP again`): void =>
  notifier.notify(incident, { kind: 'up', incidentId: incident.id, text });
const reminder = (incident: Incident): void => notifier.notify(incident, { kind: 'reminder', incidentId: incident.id });

async function resolved(incident: Incident): Promise<Incident> {
  return (await incidents.update(incident.id, (i) => {
    i.resolvedAt = clock.now();
    i.resolution = 'recovered';
  }))!;
}

/** Lets the notifier and the outbox finish what is due now. */
async function settle(): Promise<void> {
  await flushPromises();
  await outbox.idle();
}

const ops = (): string[] => enqueued.map((e) => e.message.op);
const alertKeys = (): string[] => enqueued.flatMap((e) => (e.message.op === 'send-alert' ? [e.message.key] : []));
const messageOf = async (key: string): Promise<AlertMessage> => (await incidents.messages.get(key))!;
const sends = (): Array<Extract<SenderCall, { op: 'send' }>> => sender.calls.filter((c): c is Extract<SenderCall, { op: 'send' }> => c.op === 'send');

/** Opens `names` and alerts them as one quiet spell would: the first alone, the rest as a group 5 s later. */
async function alerted(...names: string[]): Promise<Incident[]> {
  const list: Incident[] = [];
  for (const name of names) list.push(await opened(name));
  for (const incident of list) down(incident);
  await settle();
  await clock.advance(5_000);
  await settle();
  return Promise.all(list.map(async (i) => (await incidents.get(i.id))!));
}

describe('notifier: DOWN', () => {
  it('60 downs in one chat: the first alone at once, the rest in one message listed by reason, each named once', async () => {
    const names = Array.from({ length: 60 }, (_, n) => `t${String(n).padStart(2, '0')}`);
    const list: Incident[] = [];
    for (const name of names) list.push(await opened(name));
    const t0 = clock.now();
    for (const incident of list) down(incident);
    await settle();
    expect(ops()).toEqual(['send-alert']);
    expect(sends().map((c) => c.text)).toEqual(['🔴 <b>t00</b> is DOWN']);

    await clock.advance(4_999);
    expect(ops()).toEqual(['send-alert']);
    await clock.advance(1);
    await settle();
    expect(ops()).toEqual(['send-alert', 'send-alert']);
    expect(enqueued.every((e) => e.chatId === CHAT && e.threadId === undefined)).toBe(true);

    const messages = await Promise.all(alertKeys().map(messageOf));
    expect(messages.map((m) => m.incidentIds.length)).toEqual([1, 59]);
    expect(messages.flatMap((m) => m.incidentIds)).toEqual(list.map((i) => i.id));
    expect(messages.map((m) => m.createdAt - t0)).toEqual([0, 5_000]);
    for (const message of messages) {
      for (const id of message.incidentIds) expect(await incidents.get(id)).toMatchObject({ alertKey: message.id, suppressed: false, notifiedAt: message.createdAt });
    }

    // Telegram got two messages, naming every target exactly once.
    const texts = sends().map((c) => c.text);
    expect(texts).toHaveLength(2);
    expect(texts[1]?.split('\n')[0]).toBe(`🔴 <b>59 of 59 targets are DOWN</b>`);
    expect(texts[1]!.length).toBeLessThanOrEqual(4_096);
    const all = texts.join('\n');
    for (const name of names) expect(all.match(new RegExp(`\\b${name}\\b`, 'g'))).toHaveLength(1);
    expect(sends().map((c) => c.messageId)).toEqual(messages.map((m) => m.messageId));
  });

  it('up to 25 downs get a line each; a storm of 230 makes 1 + 3 messages of at most 100', async () => {
    const small: Incident[] = [];
    for (let n = 0; n < 26; n++) small.push(await opened(`s${n}`));
    for (const incident of small) down(incident);
    await settle();
    await clock.advance(5_000);
    await settle();
    expect((await Promise.all(alertKeys().map(messageOf))).map((m) => m.incidentIds.length)).toEqual([1, 25]);
    expect(sends()[1]!.text.split('\n')).toHaveLength(27);

    await clock.advance(120_000);
    const storm: Incident[] = [];
    for (let n = 0; n < 230; n++) storm.push(await opened(`storm-${String(n).padStart(3, '0')}`));
    for (const incident of storm) down(incident);
    await settle();
    await clock.advance(5_000);
    await settle();
    const sizes = (await Promise.all(alertKeys().map(messageOf))).map((m) => m.incidentIds.length).slice(2);
    expect(sizes).toEqual([1, 100, 100, 29]);
    for (const text of sends().map((c) => c.text)) expect(text.length).toBeLessThanOrEqual(4_096);
  });

  it('a down and its recovery in the same group send nothing', async () => {
    const [first, late] = [await opened('first'), await opened('late')];
    down(first);
    await settle();
    down(late);
    await clock.advance(1_000);
    up(await resolved(late));
    await clock.advance(4_000);
    await settle();
    expect(ops()).toEqual(['send-alert']);
    expect(sends().map((c) => c.text)).toEqual(['🔴 <b>first</b> is DOWN']);
    expect((await incidents.get(late.id))?.alertKey).toBeUndefined();
  });

  it('a down already alerted is not alerted again', async () => {
    const [a] = await alerted('a');
    down(a!);
    await clock.advance(5_000);
    await settle();
    expect(ops()).toEqual(['send-alert']);
  });

  it('different threads of one chat, and different chats, are separate groups', async () => {
    const list = [
      await opened('a7', { threadId: 7 }),
      await opened('b7', { threadId: 7 }),
      await opened('c9', { threadId: 9 }),
      await opened('d9', { threadId: 9 }),
      await opened('e', {}),
      await opened('f', { chatId: OTHER }),
    ];
    for (const incident of list) down(incident);
    await settle();
    // The first of each chat and topic goes at once.
    expect(enqueued.map((e) => [e.chatId, e.threadId, e.message.op])).toEqual([
      [CHAT, 7, 'send-alert'],
      [CHAT, 9, 'send-alert'],
      [CHAT, undefined, 'send-alert'],
      [OTHER, undefined, 'send-alert'],
    ]);
    await clock.advance(5_000);
    await settle();
    const messages = await Promise.all(alertKeys().map(messageOf));
    expect(messages.map((m) => [m.chatId, m.threadId, m.incidentIds])).toEqual([
      [CHAT, 7, ['inc-a7']],
      [CHAT, 9, ['inc-c9']],
      [CHAT, undefined, ['inc-e']],
      [OTHER, undefined, ['inc-f']],
      [CHAT, 7, ['inc-b7']],
      [CHAT, 9, ['inc-d9']],
    ]);
    // Chats are delivered independently; within a chat, in order.
    expect(sender.callsOf(CHAT).map((c) => [c.op === 'send' && c.options.threadId, c.text])).toEqual([
      [7, '🔴 <b>a7</b> is DOWN'],
      [9, '🔴 <b>c9</b> is DOWN'],
      [undefined, '🔴 <b>e</b> is DOWN'],
      [7, '🔴 <b>b7</b> is DOWN'],
      [9, '🔴 <b>d9</b> is DOWN'],
    ]);
    expect(sender.callsOf(OTHER).map((c) => c.text)).toEqual(['🔴 <b>f</b> is DOWN']);
  });

  it('flushAll sends what is waiting at once (shutdown)', async () => {
    const [a, b, c] = [await opened('a'), await opened('b'), await opened('c')];
    down(a);
    down(b);
    down(c);
    expect(notifier.pending()).toBe(2);
    await notifier.flushAll();
    await settle();
    expect(notifier.pending()).toBe(0);
    expect(ops()).toEqual(['send-alert', 'send-alert']);
    expect((await messageOf(alertKeys()[1]!)).incidentIds).toEqual([b.id, c.id]);
    expect(clock.pending).toBe(0);
  });
});

describe('notifier: UP', () => {
  it('a single up replies to its alert with the given text and edits the alert', async () => {
    const [a] = await alerted('a');
    const key = a!.alertKey!;
    const alertId = (await messageOf(key)).messageId;
    await clock.advance(60_000);
    up(await resolved(a!), 'custom resolution');
    await settle();
    expect(enqueued.slice(1).map((e) => e.message)).toEqual([
      { op: 'send', text: 'custom resolution', replyToKey: key },
      { op: 'edit-alert', key },
    ]);
    expect(sender.calls.slice(1).map((c) => [c.op, c.op === 'send' ? c.options.replyTo : c.messageId])).toEqual([
      ['send', alertId],
      ['edit', alertId],
    ]);
    expect(sender.calls[2]?.text).toContain('✅ <b>Resolved</b>');
  });

  it('several ups become one resolution replying to the first alert, and each alert message is edited once', async () => {
    const [a, b, c] = await alerted('a', 'b', 'c');
    const [keyA, keyBC] = [a!.alertKey!, b!.alertKey!];
    expect(c!.alertKey).toBe(keyBC);
    expect(keyA).not.toBe(keyBC);
    const before = enqueued.length;
    await clock.advance(1_000);
    for (const incident of [a!, b!, c!]) up(await resolved(incident));
    await clock.advance(20_000);
    await settle();
    const after = enqueued.slice(before).map((e) => e.message);
    expect(after.map((m) => m.op)).toEqual(['send', 'edit-alert', 'edit-alert']);
    expect(after[0]).toEqual({ op: 'send', text: expect.any(String), replyToKey: keyA });
    expect(after[0]?.op === 'send' && after[0].text.split('\n')).toEqual([
      '🟢 <b>3 targets are UP again</b>',
      '• <b>a</b> · down for 6s',
      '• <b>b</b> · down for 6s',
      '• <b>c</b> · down for 6s',
    ]);
    expect(after.slice(1)).toEqual([
      { op: 'edit-alert', key: keyA },
      { op: 'edit-alert', key: keyBC },
    ]);
    const [alertA, alertBC] = [await messageOf(keyA), await messageOf(keyBC)];
    const resolution = sends().at(-1);
    expect(resolution?.options.replyTo).toBe(alertA.messageId);
    const edits = sender.calls.filter((c) => c.op === 'edit');
    expect(edits.map((e) => e.messageId)).toEqual([alertA.messageId, alertBC.messageId]);
    expect(edits[1]?.text.split('\n')[0]).toBe('✅ <b>2 targets were DOWN</b>, all resolved');
  });

  it('an up of an incident that was never alerted sends nothing', async () => {
    const quiet = await opened('quiet');
    up(await resolved(quiet));
    await clock.advance(10_000);
    await settle();
    expect(enqueued).toEqual([]);
    expect(sender.attempts).toEqual([]);
  });

  it('a down and its up in the same group send nothing at all', async () => {
    const [first, blip] = [await opened('first'), await opened('blip')];
    down(first);
    await settle();
    down(blip);
    await clock.advance(1_000);
    up(await resolved(blip));
    await clock.advance(4_000);
    await settle();
    expect(sends().map((c) => c.text)).toEqual(['🔴 <b>first</b> is DOWN']);
    expect(ops()).toEqual(['send-alert']);
  });
});

describe('notifier: reminders', () => {
  it('reminders of one chat become one reply to the first alert; acknowledged and resolved ones are left out', async () => {
    const [a, b, c, d, e] = await alerted('a', 'b', 'c', 'd', 'e');
    await incidents.update(c!.id, (i) => {
      i.ack = { userId: 1, name: 'Ann', at: clock.now() };
    });
    await resolved(d!);
    const before = enqueued.length;
    await clock.advance(3_600_000);
    for (const incident of [a!, b!, c!, d!, e!]) reminder(incident);
    await settle();
    // The first goes at once; the others wait for the group.
    expect(enqueued.length - before).toBe(1);
    await clock.advance(5_000);
    await settle();
    const after = enqueued.slice(before).map((x) => x.message);
    expect(after).toEqual([
      { op: 'send', text: '⏰ <b>a</b> is still DOWN (for 1h5s) and not acknowledged: connection refused', replyToKey: a!.alertKey },
      { op: 'send', text: expect.any(String), replyToKey: b!.alertKey },
    ]);
    expect(after[1]?.op === 'send' && after[1].text.split('\n')).toEqual([
      '⏰ <b>2 targets are still DOWN</b> and not acknowledged',
      '• <b>b</b> · for 1h10s',
      '• <b>e</b> · for 1h10s',
    ]);
    const replies = sends().slice(-2);
    expect(replies.map((r) => r.options.replyTo)).toEqual([(await messageOf(a!.alertKey!)).messageId, (await messageOf(b!.alertKey!)).messageId]);
  });

  it('a reminder of an incident whose alert was never sent sends nothing', async () => {
    const held = await opened('held', { suppressed: true });
    reminder(held);
    await clock.advance(5_000);
    await settle();
    expect(enqueued).toEqual([]);
  });
});
