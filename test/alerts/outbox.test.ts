import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrammyError, HttpError } from 'grammy';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatAlertMessage } from '../../src/alerts/format.js';
import { createIncidentBook, type IncidentBook } from '../../src/alerts/incidents.js';
import { createOutbox, type DeliveryEvent, type Outbox, type OutboxItem, type OutboxMessage } from '../../src/alerts/outbox.js';
import type { ClassifyError } from '../../src/alerts/sender.js';
import { classifyTelegramError } from '../../src/alerts/telegram.js';
import type { AlertMessage, Incident } from '../../src/domain/incident.js';
import { openStore, type KeyvStore } from '../../src/store/keyv.js';
import { listAll } from '../../src/store/targets.js';
import { FakeClock, flushPromises } from '../support/fake-clock.js';
import { ScriptedSender } from '../support/scripted-sender.js';

const CHAT = -1001234567890;
const OTHER = -1009876543210;

const apiError = (error_code: number, description: string, retry_after?: number): GrammyError =>
  new GrammyError(
    "Call to 'sendMessage' failed!",
    { ok: false, error_code, description, ...(retry_after !== undefined ? { parameters: { retry_after } } : {}) },
    'sendMessage',
    {},
  );
const networkDown = (): HttpError => new HttpError('Network request failed', new Error('connect ECONNREFUSED'));
const alwaysRetry: ClassifyError = () => ({ action: 'retry' });

const notice = (text: string): OutboxMessage => ({ op: 'send', text });

const openIncident = (clock: FakeClock, over: Partial<Incident> = {}): Incident => ({
  id: 'inc1',
  targetId: `${CHAT}/api`,
  chatId: CHAT,
  name: 'api',
  openedAt: clock.now(),
  reason: 'HTTP 503, expected 200-299',
  alertText: '🔴 <b>api</b> is DOWN',
  line: '<b>api</b> · HTTP 503, expected 200-299 · https://api.example.com/',
  alertKey: 'msg1',
  ...over,
});

/** Opens the incidents and the alert message `key` that carries them (not yet delivered unless `messageId`). */
async function alertMessage(book: IncidentBook, clock: FakeClock, list: Incident[], over: Partial<AlertMessage> = {}): Promise<AlertMessage> {
  const first = list[0]!;
  const message: AlertMessage = {
    id: first.alertKey ?? 'msg1',
    chatId: first.chatId,
    ...(first.threadId !== undefined ? { threadId: first.threadId } : {}),
    incidentIds: list.map((i) => i.id),
    createdAt: clock.now(),
    ...over,
  };
  for (const incident of list) await book.open({ ...incident, alertKey: message.id });
  return book.messages.put(message);
}

/** The three messages of one alert's life: the alert, the resolution replying to it, the edit of the alert. */
const alertOf = (message: AlertMessage): OutboxMessage => ({ op: 'send-alert', key: message.id });
const resolutionOf = (message: AlertMessage): OutboxMessage => ({ op: 'send', text: '🟢 <b>api</b> is UP again', replyToKey: message.id });
const editOf = (message: AlertMessage): OutboxMessage => ({ op: 'edit-alert', key: message.id });

/** How the alert message reads now. */
const renderedNow = async (book: IncidentBook, key: string): Promise<{ text: string; buttons?: unknown }> => {
  const message = (await book.messages.get(key))!;
  return formatAlertMessage(key, await book.incidentsOf(message));
};

/** The next delivery event that matches. */
const nextEvent = (outbox: Outbox, match: (event: DeliveryEvent) => boolean = () => true): Promise<DeliveryEvent> =>
  new Promise((resolve) => {
    const off = outbox.onDelivery((event) => {
      if (!match(event)) return;
      off();
      resolve(event);
    });
  });

/** Whether a promise has settled by now. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(() => (done = true));
  await flushPromises();
  return done;
}

const outboxItems = async (store: KeyvStore): Promise<OutboxItem[]> =>
  (await listAll(store.namespace<OutboxItem>('outbox'))).sort((a, b) => a.seq - b.seq);

describe('outbox over a memory store', () => {
  let clock: FakeClock;
  let store: KeyvStore;
  let incidents: IncidentBook;
  let sender: ScriptedSender;
  let events: DeliveryEvent[];
  const outboxes: Outbox[] = [];

  const make = async (options: { classify?: ClassifyError; base?: number; max?: number; sender?: ScriptedSender; start?: boolean } = {}): Promise<Outbox> => {
    const outbox = createOutbox({
      store,
      incidents,
      sender: options.sender ?? sender,
      classify: options.classify ?? classifyTelegramError,
      clock,
      ...(options.base !== undefined ? { baseBackoffMs: options.base } : {}),
      ...(options.max !== undefined ? { maxBackoffMs: options.max } : {}),
    });
    outbox.onDelivery((e) => events.push(e));
    outboxes.push(outbox);
    if (options.start !== false) await outbox.start();
    return outbox;
  };

  beforeEach(async () => {
    clock = new FakeClock();
    store = await openStore({ kind: 'memory' });
    incidents = createIncidentBook(store);
    sender = new ScriptedSender(clock);
    events = [];
  });

  afterEach(async () => {
    for (const o of outboxes.splice(0)) await o.stop(1_000);
    await incidents.flush();
    await store.close();
  });

  it('delivers an alert, then the resolution as a reply to it, then the edit of that message', async () => {
    const outbox = await make();
    const message = await alertMessage(incidents, clock, [openIncident(clock, { threadId: 7 })]);
    const alert = await renderedNow(incidents, message.id);
    expect(alert.text).toBe('🔴 <b>api</b> is DOWN');
    await outbox.enqueue(CHAT, 7, alertOf(message));
    await outbox.idle();
    await incidents.update('inc1', (i) => {
      i.resolvedAt = clock.now() + 60_000;
      i.resolution = 'recovered';
    });
    await outbox.enqueue(CHAT, 7, resolutionOf(message));
    await outbox.enqueue(CHAT, 7, editOf(message));
    await outbox.idle();

    expect((await incidents.messages.get(message.id))?.messageId).toBe(101);
    const resolved = await renderedNow(incidents, message.id);
    expect(sender.calls.map(({ at: _at, ...c }) => c)).toEqual([
      { op: 'send', chatId: CHAT, text: alert.text, options: { threadId: 7, buttons: alert.buttons }, messageId: 101 },
      { op: 'send', chatId: CHAT, text: '🟢 <b>api</b> is UP again', options: { threadId: 7, replyTo: 101 }, messageId: 102 },
      { op: 'edit', chatId: CHAT, messageId: 101, text: resolved.text, buttons: undefined },
    ]);
    expect(sender.calls[2]?.text).toContain('✅ <b>Resolved</b>');
    expect(events.map((e) => [e.outcome, e.messageId])).toEqual([
      ['delivered', 101],
      ['delivered', 102],
      ['delivered', 101],
    ]);
  });

  it('renders an alert message when it is delivered, not when it is queued', async () => {
    const outbox = await make();
    sender.failNext(CHAT, networkDown());
    await outbox.enqueue(CHAT, undefined, notice('before'));
    const message = await alertMessage(incidents, clock, [openIncident(clock)]);
    await outbox.enqueue(CHAT, undefined, alertOf(message));
    await flushPromises();
    // Acknowledged while the alert waits behind a message that is backing off.
    await incidents.update('inc1', (i) => {
      i.ack = { userId: 7, name: 'Ann', at: clock.now() };
    });
    await clock.advance(1_000);
    await outbox.idle();
    expect(sender.calls.map((c) => c.text.split('\n')[0])).toEqual(['before', '🔴 <b>api</b> is DOWN']);
    const alert = sender.callsOf(CHAT)[1];
    expect(alert?.text).toContain('👀 Acknowledged by Ann');
    expect(alert?.op === 'send' && alert.options.buttons?.flat().map((b) => b.text)).toEqual(['Recheck', 'Mute 1h', 'Trace']);
  });

  it('a grouped alert message is sent as one message with Ack all, and its message id is recorded', async () => {
    const outbox = await make();
    const list = ['api', 'web', 'db'].map((name) =>
      openIncident(clock, { id: `inc-${name}`, targetId: `${CHAT}/${name}`, name, line: `<b>${name}</b> · connection refused`, alertKey: 'grp' }),
    );
    const message = await alertMessage(incidents, clock, list);
    await outbox.enqueue(CHAT, undefined, alertOf(message));
    await outbox.idle();
    expect(sender.calls).toHaveLength(1);
    const [call] = sender.calls;
    expect(call?.text.split('\n').slice(0, 4)).toEqual([
      '🔴 <b>3 of 3 targets are DOWN</b>',
      '🔴 <b>api</b> · connection refused',
      '🔴 <b>web</b> · connection refused',
      '🔴 <b>db</b> · connection refused',
    ]);
    expect(call?.op === 'send' && call.options).toEqual({ buttons: [[{ text: 'Ack all', data: 'ak:grp' }]] });
    expect((await incidents.messages.get('grp'))?.messageId).toBe(101);
  });

  it('passes silent through, and replies only to an alert message that was delivered', async () => {
    const outbox = await make();
    const undelivered = await alertMessage(incidents, clock, [openIncident(clock)]);
    await outbox.enqueue(CHAT, 3, { op: 'send', text: 'quiet', silent: true });
    await outbox.enqueue(CHAT, undefined, { op: 'send', text: 'to nothing', replyToKey: undelivered.id });
    await outbox.enqueue(CHAT, undefined, { op: 'send', text: 'to unknown', replyToKey: 'nope' });
    await outbox.enqueue(CHAT, undefined, { op: 'send', text: 'with buttons', buttons: [[{ text: 'Yes', data: 'y' }]] });
    await outbox.idle();
    expect(sender.calls.map((c) => (c.op === 'send' ? [c.text, c.options] : c.op))).toEqual([
      ['quiet', { threadId: 3, silent: true }],
      ['to nothing', {}],
      ['to unknown', {}],
      ['with buttons', { buttons: [[{ text: 'Yes', data: 'y' }]] }],
    ]);
  });

  it('a send-alert of an unknown alert message sends nothing and counts as delivered', async () => {
    const outbox = await make();
    await outbox.enqueue(CHAT, undefined, { op: 'send-alert', key: 'nope' });
    await outbox.idle();
    expect(sender.attempts).toEqual([]);
    expect(events.map((e) => [e.outcome, e.messageId])).toEqual([['delivered', undefined]]);
    expect(await outboxItems(store)).toEqual([]);
  });

  it('keeps a chat in order while its head is retried: nothing overtakes the alert', async () => {
    const outbox = await make();
    const message = await alertMessage(incidents, clock, [openIncident(clock)]);
    const alertText = (await renderedNow(incidents, message.id)).text;
    sender.failNext(CHAT, networkDown(), networkDown());
    await outbox.enqueue(CHAT, undefined, alertOf(message));
    await outbox.enqueue(CHAT, undefined, resolutionOf(message));
    await outbox.enqueue(CHAT, undefined, editOf(message));
    await flushPromises();
    expect(sender.attempts.map((a) => a.op)).toEqual(['send']);
    await clock.advance(1_000);
    expect(sender.attempts.map((a) => a.text)).toEqual([alertText, alertText]);
    await clock.advance(2_000);
    await outbox.idle();
    expect(sender.calls.map((c) => [c.op, c.messageId])).toEqual([
      ['send', 101],
      ['send', 102],
      ['edit', 101],
    ]);
    expect(sender.calls[1]?.op === 'send' && sender.calls[1].options.replyTo).toBe(101);
  });

  it('delivers chats independently: a failing chat does not hold up another', async () => {
    const outbox = await make();
    sender.failing.set(CHAT, networkDown);
    await outbox.enqueue(CHAT, undefined, notice('a1'));
    await outbox.enqueue(OTHER, undefined, notice('b1'));
    await outbox.enqueue(CHAT, undefined, notice('a2'));
    await outbox.enqueue(OTHER, undefined, notice('b2'));
    await flushPromises();
    expect(sender.callsOf(OTHER).map((c) => c.text)).toEqual(['b1', 'b2']);
    expect(sender.callsOf(CHAT)).toEqual([]);

    await clock.advance(30_000);
    await outbox.enqueue(OTHER, undefined, notice('b3'));
    await flushPromises();
    expect(sender.callsOf(OTHER).map((c) => c.text)).toEqual(['b1', 'b2', 'b3']);
    expect(sender.attempts.filter((a) => a.chatId === CHAT).every((a) => a.text === 'a1')).toBe(true);
    expect(outbox.depth()).toBe(2);

    sender.failing.delete(CHAT);
    await clock.advance(60_000);
    await outbox.idle();
    expect(sender.callsOf(CHAT).map((c) => c.text)).toEqual(['a1', 'a2']);
  });

  it('retries with exponential backoff from the base up to the maximum', async () => {
    const outbox = await make({ classify: alwaysRetry, max: 5_000 });
    const t0 = clock.now();
    sender.failNext(CHAT, ...Array.from({ length: 5 }, () => new Error('socket hang up')));
    const item = await outbox.enqueue(CHAT, undefined, notice('hello'));
    await flushPromises();

    const saved = await store.namespace<OutboxItem>('outbox').get(item.id);
    expect(saved).toMatchObject({ attempts: 1, notBefore: t0 + 1_000 });
    await clock.advance(999);
    expect(sender.attempts).toHaveLength(1);

    await clock.advance(60_000);
    expect(sender.attempts.map((a) => a.at - t0)).toEqual([0, 1_000, 3_000, 7_000, 12_000, 17_000]);
    expect(events.map((e) => e.outcome)).toEqual(['retry', 'retry', 'retry', 'retry', 'retry', 'delivered']);
    expect(events.filter((e) => e.outcome === 'retry').map((e) => e.error)).toEqual(Array.from({ length: 5 }, () => new Error('socket hang up')));
    expect(sender.calls).toHaveLength(1);
    expect(outbox.depth()).toBe(0);
    expect(await outboxItems(store)).toEqual([]);
  });

  it('by default waits 1s, 2s, 4s ... and never more than 5 minutes', async () => {
    const outbox = await make();
    const t0 = clock.now();
    sender.failNext(CHAT, ...Array.from({ length: 11 }, networkDown));
    await outbox.enqueue(CHAT, undefined, notice('hello'));
    await flushPromises();
    await clock.advance(3_600_000);
    const gaps = sender.attempts.slice(1).map((a, i) => a.at - sender.attempts[i]!.at);
    expect(sender.attempts[0]?.at).toBe(t0);
    expect(gaps).toEqual([1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300].map((s) => s * 1_000));
    expect(sender.calls).toHaveLength(1);
  });

  it("waits Telegram's retry_after instead of the backoff", async () => {
    const outbox = await make({ base: 1_000 });
    const t0 = clock.now();
    sender.failNext(CHAT, apiError(429, 'Too Many Requests: retry after 7', 7));
    await outbox.enqueue(CHAT, undefined, notice('hello'));
    await flushPromises();
    await clock.advance(6_999);
    expect(sender.attempts).toHaveLength(1);
    await clock.advance(1);
    expect(sender.attempts.map((a) => a.at - t0)).toEqual([0, 7_000]);
    expect(sender.calls.map((c) => c.text)).toEqual(['hello']);
  });

  it("drops what can never succeed, emits 'dropped' and goes on with the next", async () => {
    const outbox = await make();
    const forbidden = apiError(403, 'Forbidden: bot was kicked from the supergroup chat');
    sender.failNext(CHAT, forbidden);
    const first = await outbox.enqueue(CHAT, undefined, notice('one'));
    await outbox.enqueue(CHAT, undefined, notice('two'));
    await outbox.idle();
    expect(events.map((e) => [e.outcome, e.item.id])).toEqual([
      ['dropped', first.id],
      ['delivered', expect.any(String)],
    ]);
    expect(events[0]?.error).toBe(forbidden);
    expect(sender.attempts.map((a) => a.text)).toEqual(['one', 'two']);
    expect(sender.calls.map((c) => c.text)).toEqual(['two']);
    expect(await outboxItems(store)).toEqual([]);
    expect(outbox.depth()).toBe(0);
  });

  it("counts 'done' (message is not modified) as delivered, without retrying", async () => {
    const outbox = await make();
    const message = await alertMessage(incidents, clock, [openIncident(clock)], { messageId: 55 });
    sender.failNext(CHAT, apiError(400, 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same'));
    await outbox.enqueue(CHAT, undefined, editOf(message));
    await outbox.idle();
    await clock.advance(60_000);
    expect(events.map((e) => e.outcome)).toEqual(['delivered']);
    expect(sender.attempts).toHaveLength(1);
    expect(await outboxItems(store)).toEqual([]);
  });

  it('an edit of an alert message not delivered yet (or unknown) sends nothing', async () => {
    const outbox = await make();
    const message = await alertMessage(incidents, clock, [openIncident(clock)]);
    await outbox.enqueue(CHAT, undefined, editOf(message));
    await outbox.enqueue(CHAT, undefined, { op: 'edit-alert', key: 'nope' });
    await outbox.idle();
    expect(sender.attempts).toEqual([]);
    expect(events.map((e) => [e.outcome, e.messageId])).toEqual([
      ['delivered', undefined],
      ['delivered', undefined],
    ]);
  });

  it('an edit of a delivered alert message re-renders it as it stands', async () => {
    const outbox = await make();
    const message = await alertMessage(incidents, clock, [openIncident(clock)], { messageId: 55 });
    await incidents.update('inc1', (i) => {
      i.ack = { userId: 7, name: 'Ann', at: clock.now() };
    });
    await outbox.enqueue(CHAT, undefined, editOf(message));
    await outbox.idle();
    expect(sender.calls).toEqual([
      { op: 'edit', chatId: CHAT, messageId: 55, text: (await renderedNow(incidents, message.id)).text, buttons: [[
        { text: 'Recheck', data: `rc:${CHAT}/api` },
        { text: 'Mute 1h', data: `mu:${CHAT}/api` },
        { text: 'Trace', data: `tr:${CHAT}/api` },
      ]], at: clock.now() },
    ]);
    expect(sender.calls[0]?.text).toContain('👀 Acknowledged by Ann');
  });

  it('depth counts undelivered items; idle resolves once all are delivered', async () => {
    const outbox = await make();
    await expect(outbox.idle()).resolves.toBeUndefined();
    const release = sender.hold();
    for (const text of ['a', 'b', 'c']) await outbox.enqueue(CHAT, undefined, notice(text));
    await outbox.enqueue(OTHER, undefined, notice('d'));
    expect(outbox.depth()).toBe(4);
    const idle = outbox.idle();
    expect(await settled(idle)).toBe(false);
    release();
    await idle;
    expect(outbox.depth()).toBe(0);
    expect(sender.calls.map((c) => c.text)).toEqual(['a', 'd', 'b', 'c']);
  });

  it('idle waits for an item that is backing off', async () => {
    const outbox = await make();
    sender.failNext(CHAT, networkDown());
    await outbox.enqueue(CHAT, undefined, notice('a'));
    const idle = outbox.idle();
    expect(await settled(idle)).toBe(false);
    expect(outbox.depth()).toBe(1);
    await clock.advance(1_000);
    expect(await settled(idle)).toBe(true);
  });

  it('delivers nothing before start and after stop', async () => {
    const outbox = await make({ start: false });
    await outbox.enqueue(CHAT, undefined, notice('early'));
    await flushPromises();
    expect(sender.attempts).toEqual([]);
    await outbox.start();
    await outbox.idle();
    expect(sender.calls.map((c) => c.text)).toEqual(['early']);

    sender.failNext(CHAT, networkDown());
    await outbox.enqueue(CHAT, undefined, notice('late'));
    await flushPromises();
    await outbox.stop();
    await clock.advance(60_000);
    expect(sender.attempts.map((a) => a.text)).toEqual(['early', 'late']);
    expect((await outboxItems(store)).map((i) => i.attempts)).toEqual([1]);
  });

  it('a message queued before start is numbered after what the last run left, and each is sent once', async () => {
    const broken = new ScriptedSender(clock);
    broken.failing.set(CHAT, networkDown);
    const first = await make({ sender: broken });
    const retried = nextEvent(first, (e) => e.outcome === 'retry');
    await first.enqueue(CHAT, undefined, notice('left over'));
    await retried;
    await first.stop();

    // The engine may report a change before the outbox has started.
    const second = await make({ start: false });
    await second.enqueue(CHAT, undefined, notice('new'));
    await second.start();
    await clock.advance(1_000);
    await second.idle();
    expect(sender.calls.map((c) => c.text)).toEqual(['left over', 'new']);
    expect(await outboxItems(store)).toEqual([]);
  });
});

describe('outbox across a restart (SQLite)', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lookout-outbox-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers what a failed run left exactly once, in the original order, keeping the attempts', async () => {
    const clock = new FakeClock();
    const t0 = clock.now();

    // Run 1: Telegram is unreachable the whole time.
    let store = await openStore({ kind: 'sqlite', dataDir: dir });
    let incidents = createIncidentBook(store);
    const broken = new ScriptedSender(clock);
    broken.failing.set(CHAT, networkDown);
    broken.failing.set(OTHER, networkDown);
    const first = createOutbox({ store, incidents, sender: broken, classify: classifyTelegramError, clock });
    await first.start();
    const message = await alertMessage(incidents, clock, [openIncident(clock, { threadId: 7 })]);
    const alert = await renderedNow(incidents, message.id);
    const failedOnce = nextEvent(first, (e) => e.outcome === 'retry');
    await first.enqueue(CHAT, 7, alertOf(message));
    await failedOnce;
    await incidents.update('inc1', (i) => {
      i.resolvedAt = t0 + 90_000;
      i.resolution = 'recovered';
    });
    await first.enqueue(CHAT, 7, resolutionOf(message));
    await first.enqueue(CHAT, 7, editOf(message));
    const otherFailed = nextEvent(first, (e) => e.outcome === 'retry' && e.item.chatId === OTHER);
    await first.enqueue(OTHER, undefined, notice('other chat'));
    await otherFailed;
    const failedTwice = [CHAT, OTHER].map((chat) => nextEvent(first, (e) => e.outcome === 'retry' && e.item.chatId === chat && e.item.attempts === 2));
    await clock.advance(1_000);
    await Promise.all(failedTwice);
    await first.stop();
    await incidents.flush();
    await store.close();
    // Only the head of each chat was ever tried.
    expect(broken.attempts.filter((a) => a.chatId === CHAT).map((a) => a.op)).toEqual(['send', 'send']);
    // Each attempt renders the alert as it stands: the second one already shows the resolution.
    const [firstTry, secondTry] = broken.attempts.filter((a) => a.chatId === CHAT).map((a) => a.text);
    expect(firstTry).toBe(alert.text);
    expect(secondTry?.startsWith(alert.text)).toBe(true);
    expect(secondTry).toContain('✅ <b>Resolved</b>');

    // Run 2: a new outbox over the same database, Telegram is back.
    store = await openStore({ kind: 'sqlite', dataDir: dir });
    const left = await outboxItems(store);
    expect(left.map((i) => [i.chatId, i.message, i.attempts])).toEqual([
      [CHAT, alertOf(message), 2],
      [CHAT, resolutionOf(message), 0],
      [CHAT, editOf(message), 0],
      [OTHER, notice('other chat'), 2],
    ]);
    expect(left[0]?.notBefore).toBe(t0 + 3_000);
    incidents = createIncidentBook(store);
    await incidents.load();
    const working = new ScriptedSender(clock);
    const second = createOutbox({ store, incidents, sender: working, classify: classifyTelegramError, clock });
    const events: DeliveryEvent[] = [];
    second.onDelivery((e) => events.push(e));
    await second.start();
    await flushPromises();
    expect(working.attempts).toEqual([]); // the persisted backoff is kept
    await clock.advance(2_000);
    await second.idle();

    const alertCall = working.callsOf(CHAT)[0];
    expect(working.callsOf(CHAT).map(({ at: _at, ...c }) => c)).toEqual([
      // Rendered at delivery: the incident resolved while Telegram was unreachable.
      { op: 'send', chatId: CHAT, text: expect.stringContaining('✅ <b>Resolved</b>'), options: { threadId: 7 }, messageId: alertCall?.messageId },
      { op: 'send', chatId: CHAT, text: '🟢 <b>api</b> is UP again', options: { threadId: 7, replyTo: alertCall?.messageId }, messageId: expect.any(Number) },
      { op: 'edit', chatId: CHAT, messageId: alertCall?.messageId, text: expect.stringContaining('✅ <b>Resolved</b>'), buttons: undefined },
    ]);
    expect(working.callsOf(OTHER).map((c) => c.text)).toEqual(['other chat']);
    expect(events.find((e) => e.item.chatId === CHAT)?.item.attempts).toBe(2);
    expect(await outboxItems(store)).toEqual([]);
    expect((await createIncidentBook(store).messages.get(message.id))?.messageId).toBe(alertCall?.messageId);
    await second.stop();
    await incidents.flush();
    await store.close();

    // Run 3: nothing is left to send.
    store = await openStore({ kind: 'sqlite', dataDir: dir });
    const idleSender = new ScriptedSender(clock);
    const third = createOutbox({ store, incidents: createIncidentBook(store), sender: idleSender, classify: classifyTelegramError, clock });
    await third.start();
    await clock.advance(600_000);
    expect(idleSender.attempts).toEqual([]);
    expect(third.depth()).toBe(0);
    await third.stop();
    await store.close();
  });
});
