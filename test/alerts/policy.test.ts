import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIncidentBook, type IncidentBook } from '../../src/alerts/incidents.js';
import { createNotifier, type Notifier } from '../../src/alerts/notify.js';
import { createOutbox, type Outbox } from '../../src/alerts/outbox.js';
import { createAlertPolicy, type AlertPolicy } from '../../src/alerts/policy.js';
import { classifyTelegramError } from '../../src/alerts/telegram.js';
import type { CheckResult } from '../../src/domain/check.js';
import type { Incident } from '../../src/domain/incident.js';
import type { StateChange, TargetState } from '../../src/domain/state.js';
import type { Target } from '../../src/domain/target.js';
import type { Window } from '../../src/domain/window.js';
import type { TimerHandle } from '../../src/lib/clock.js';
import { openStore, type KeyvStore } from '../../src/store/keyv.js';
import { listAll } from '../../src/store/targets.js';
import { createWindowRegistry, type WindowRegistry } from '../../src/store/windows.js';
import { FakeClock, flushPromises } from '../support/fake-clock.js';
import { ScriptedSender, type SenderCall } from '../support/scripted-sender.js';
import { httpTarget } from '../support/target-server.js';

const CHAT = -1001234567890;
const OTHER_CHAT = -1009876543210;
const MINUTE = 60_000;
const HOUR = 3_600_000;
const target = httpTarget({ id: `${CHAT}/api`, chatId: CHAT, threadId: 7, name: 'api', url: 'https://api.example.com/health' });
const other = httpTarget({ id: `${CHAT}/web`, chatId: CHAT, name: 'web', url: 'https://www.example.com/' });
const elsewhere = httpTarget({ id: `${OTHER_CHAT}/api`, chatId: OTHER_CHAT, name: 'api', url: 'https://api.example.org/health' });

/** A FakeClock that remembers the delay of every timer set on it. */
class RecordingClock extends FakeClock {
  readonly delays: number[] = [];

  constructor() {
    super();
    const schedule = this.setTimeout;
    this.setTimeout = (fn: () => void, ms: number): TimerHandle => {
      this.delays.push(ms);
      return schedule(fn, ms);
    };
  }
}

/** Everything one run of the alert layer consists of, over one store. */
interface Run {
  store: KeyvStore;
  incidents: IncidentBook;
  windows: WindowRegistry;
  sender: ScriptedSender;
  outbox: Outbox;
  notifier: Notifier;
  policy: AlertPolicy;
}

let clock: FakeClock;
let targets: Map<string, Target>;
let store: KeyvStore;
let incidents: IncidentBook;
let windows: WindowRegistry;
let sender: ScriptedSender;
let outbox: Outbox;
let policy: AlertPolicy;

/** Creates and starts the alert layer over `on` the way main.ts wires it (loading what the store holds). */
async function startRun(on: KeyvStore): Promise<Run> {
  const book = createIncidentBook(on);
  await book.load();
  const registry = createWindowRegistry(on);
  await registry.load();
  const scripted = new ScriptedSender(clock);
  const box = createOutbox({ store: on, incidents: book, sender: scripted, classify: classifyTelegramError, clock });
  const notifier = createNotifier({ incidents: book, outbox: box, clock });
  const alerts = createAlertPolicy({
    incidents: book,
    outbox: box,
    notifier,
    windows: registry,
    clock,
    source: { label: 'fra-1', addressFor: async () => '203.0.113.7' },
    target: (id) => targets.get(id),
  });
  await alerts.start();
  await box.start();
  return { store: on, incidents: book, windows: registry, sender: scripted, outbox: box, notifier, policy: alerts };
}

async function stopRun(run: Run): Promise<void> {
  await run.policy.stop();
  await run.outbox.stop(1_000);
  await run.incidents.flush();
}

function use(run: Run): void {
  ({ store, incidents, windows, sender, outbox, policy } = run);
}

let current: Run;

beforeEach(async () => {
  clock = new FakeClock();
  targets = new Map([target, other, elsewhere].map((t) => [t.id, t]));
  current = await startRun(await openStore({ kind: 'memory' }));
  use(current);
});

afterEach(async () => {
  await stopRun(current);
  await store.close();
});

const failed = (at: number): CheckResult => ({ ok: false, at, latencyMs: 250, status: 503, failure: 'status', reason: 'HTTP 503, expected 200-299' });
const passed = (at: number): CheckResult => ({ ok: true, at, latencyMs: 80, status: 200 });

function change(from: TargetState, to: TargetState, over: Partial<StateChange> = {}): StateChange {
  const at = clock.now();
  return { targetId: target.id, from, to, at, fromSince: at - 60_000, result: to === 'DOWN' ? failed(at) : passed(at), failures: to === 'DOWN' ? 2 : 0, ...over };
}

const downOf = (t: Target): Promise<void> => policy.onChange(change('UP', 'DOWN', { targetId: t.id }), t);
const upOf = (t: Target): Promise<void> => policy.onChange(change('DOWN', 'UP', { targetId: t.id }), t);

/** Every incident in the store. */
const stored = async (): Promise<Incident[]> => listAll(store.namespace<Incident>('incidents'));
/** One incident as the store has it. */
const storedIncident = async (id: string): Promise<Incident | undefined> => store.namespace<Incident>('incidents').get(id);

/** Lets the policy, the notifier and the outbox finish everything due now. */
async function settle(): Promise<void> {
  await flushPromises();
  await outbox.idle();
  await incidents.flush();
}

/** Moves time on and lets everything it triggered finish. */
async function pass(ms: number): Promise<void> {
  await clock.advance(ms);
  await settle();
}

const labels = (call: SenderCall | undefined): string[] | undefined => {
  const buttons = call?.op === 'send' ? call.options.buttons : call?.buttons;
  return buttons?.flat().map((b) => b.text);
};

const sends = (): Array<Extract<SenderCall, { op: 'send' }>> => sender.calls.filter((c): c is Extract<SenderCall, { op: 'send' }> => c.op === 'send');

/** The Telegram message id of an incident's alert. */
async function alertIdOf(incident: Incident | undefined): Promise<number | undefined> {
  const key = incident?.alertKey;
  return key === undefined ? undefined : (await incidents.messages.get(key))?.messageId;
}

/** A target that went DOWN and whose alert was delivered; returns its incident. */
async function wentDown(): Promise<Incident> {
  await policy.onChange(change('UP', 'DOWN'), target);
  await settle();
  return incidents.openFor(target.id)!;
}

/** A window of CHAT from now (one-off, UTC); `over` wins. */
const windowOf = (over: Partial<Window> = {}): Window => ({
  id: 'w1',
  chatId: CHAT,
  kind: 'maintenance',
  start: clock.now(),
  durationMs: 30 * MINUTE,
  tz: 'UTC',
  createdAt: clock.now(),
  ...over,
});

/** Adds a window the way the bot does: store it, then tell the policy. */
async function addWindow(over: Partial<Window> = {}): Promise<Window> {
  const w = windowOf(over);
  await windows.add(w);
  await policy.windowsChanged();
  await settle();
  return w;
}

describe('alert policy', () => {
  it('DOWN opens one incident and sends one alert with the four buttons', async () => {
    await policy.onChange(change('UP', 'DOWN'), target);
    await settle();
    const incident = incidents.openFor(target.id);
    expect(incident).toMatchObject({ targetId: target.id, chatId: CHAT, threadId: 7, name: 'api', reason: 'HTTP 503, expected 200-299', alertKey: expect.any(String) });
    expect(incident?.line).toBe('<b>api</b> · HTTP 503, expected 200-299 · https://api.example.com/health');
    expect(incidents.allOpen()).toHaveLength(1);
    expect(sender.calls).toHaveLength(1);
    const [alert] = sender.calls;
    expect(alert).toMatchObject({ op: 'send', chatId: CHAT, options: { threadId: 7 } });
    expect(alert?.text.split('\n').slice(0, 3)).toEqual(['🔴 <b>api</b> is DOWN', 'https://api.example.com/health', 'Reason: HTTP 503, expected 200-299']);
    expect(alert?.text).toContain('From: fra-1 (203.0.113.7)');
    expect(labels(alert)).toEqual(['Recheck', 'Mute 1h', 'Trace', 'Ack']);
    expect(alert?.op === 'send' && alert.options.buttons?.[0]?.[3]?.data).toBe(`ak:${incident?.alertKey}`);
    expect(await alertIdOf(incident)).toBe(101);
    expect(await storedIncident(incident!.id)).toMatchObject({ alertKey: incident?.alertKey, notifiedAt: clock.now() });
    expect((await store.namespace<{ messageId?: number }>('alert-messages').get(incident!.alertKey!))?.messageId).toBe(101);
  });

  it('DOWN again while an incident is open sends nothing new', async () => {
    const incident = await wentDown();
    await clock.advance(60_000);
    await policy.onChange(change('UNKNOWN', 'DOWN'), target);
    await policy.onChange(change('UP', 'DOWN'), target);
    await pass(10_000);
    expect(sender.calls).toHaveLength(1);
    expect(await stored()).toHaveLength(1);
    expect(incidents.openFor(target.id)?.id).toBe(incident.id);
  });

  it('DOWN → UP resolves: a reply with the downtime, and the alert edited to say so', async () => {
    const incident = await wentDown();
    await clock.advance(300_000);
    await policy.onChange(change('DOWN', 'UP'), target);
    await settle();

    expect(incidents.openFor(target.id)).toBeUndefined();
    expect(await storedIncident(incident.id)).toMatchObject({ resolvedAt: clock.now(), resolution: 'recovered', alertKey: incident.alertKey });
    expect(incidents.allOpen()).toEqual([]);
    const [, reply, edit] = sender.calls;
    expect(sender.calls).toHaveLength(3);
    expect(reply).toMatchObject({ op: 'send', chatId: CHAT, options: { threadId: 7, replyTo: 101 } });
    expect(reply?.text.split('\n')).toEqual(['🟢 <b>api</b> is UP again', 'Down for 5m (since 2026-11-23 12:00:00 UTC)', 'Now: HTTP 200 in 80 ms']);
    expect(edit).toMatchObject({ op: 'edit', chatId: CHAT, messageId: 101, buttons: undefined });
    expect(edit?.text.startsWith(sender.calls[0]!.text)).toBe(true);
    expect(edit?.text).toContain('✅ <b>Resolved</b> at 2026-11-23 12:05:00 UTC after 5m');
  });

  it('a DOWN → UP fired right after the DOWN, without waiting, still resolves in order', async () => {
    const down = policy.onChange(change('UP', 'DOWN'), target);
    const otherDown = policy.onChange(change('UP', 'DOWN', { targetId: other.id }), other);
    const up = policy.onChange(change('DOWN', 'UP'), target);
    await Promise.all([down, otherDown, up]);
    // The recovery joins the next group of its chat and topic.
    await pass(5_000);

    expect(incidents.openFor(target.id)).toBeUndefined();
    expect(incidents.openFor(other.id)).toBeDefined();
    const mine = sender.calls.filter((c) => c.text.includes('<b>api</b>'));
    expect(mine.map((c) => c.op)).toEqual(['send', 'send', 'edit']);
    const [alert, reply, edit] = mine;
    // The alert is rendered when it is delivered: by then it may already show the recovery.
    expect(alert?.text.startsWith('🔴 <b>api</b> is DOWN')).toBe(true);
    expect(reply).toMatchObject({ options: { replyTo: alert?.op === 'send' ? alert.messageId : -1 } });
    expect(reply?.text).toContain('is UP again');
    expect(edit).toMatchObject({ messageId: alert?.op === 'send' ? alert.messageId : -1, buttons: undefined });
    expect(edit?.text).toContain('Resolved');
  });

  it('UNKNOWN → UP and other changes that are not DOWN or a recovery send nothing', async () => {
    const quiet: Array<[TargetState, TargetState]> = [
      ['UNKNOWN', 'UP'],
      ['UP', 'PAUSED'],
      ['PAUSED', 'UNKNOWN'],
      ['UP', 'DEGRADED'],
      ['DEGRADED', 'UP'],
    ];
    for (const [from, to] of quiet) await policy.onChange(change(from, to), target);
    await pass(10_000);
    expect(sender.attempts).toEqual([]);
    expect(await stored()).toEqual([]);
  });

  it('a new DOWN after a recovery opens a new incident', async () => {
    const first = await wentDown();
    await clock.advance(60_000);
    await policy.onChange(change('DOWN', 'UP'), target);
    await clock.advance(60_000);
    await policy.onChange(change('UP', 'DOWN'), target);
    await settle();
    const second = incidents.openFor(target.id);
    expect(second?.id).not.toBe(first.id);
    expect(second?.alertKey).not.toBe(first.alertKey);
    expect(sender.calls.map((c) => c.op)).toEqual(['send', 'send', 'edit', 'send']);
    expect(await alertIdOf(second)).toBe(sender.calls[3]?.op === 'send' ? sender.calls[3].messageId : -1);
  });

  it('DOWNs of several targets of one chat and topic within seconds share one grouped alert', async () => {
    const more = ['a', 'b', 'c'].map((name) => httpTarget({ id: `${CHAT}/${name}`, chatId: CHAT, name, url: `https://${name}.example.com/` }));
    for (const t of more) targets.set(t.id, t);
    await downOf(other);
    for (const t of more) await downOf(t);
    await settle();
    expect(sender.calls).toHaveLength(1);
    await pass(5_000);
    expect(sends().map((c) => c.text.split('\n')[0])).toEqual(['🔴 <b>web</b> is DOWN', '🔴 <b>3 of 3 targets are DOWN</b>']);
    expect(labels(sends()[1])).toEqual(['Ack all']);
    const keys = more.map((t) => incidents.openFor(t.id)?.alertKey);
    expect(new Set(keys).size).toBe(1);
  });
});

describe('acknowledge', () => {
  it('records who acknowledged and edits the alert without the Ack button', async () => {
    const incident = await wentDown();
    await clock.advance(3 * MINUTE);
    const result = await policy.acknowledge(incident.alertKey!, { userId: 42, name: 'Ann <ops>' });
    await settle();

    expect(result).toBe('acknowledged');
    expect(incidents.openFor(target.id)?.ack).toEqual({ userId: 42, name: 'Ann <ops>', at: Date.UTC(2026, 10, 23, 12, 3, 0) });
    expect((await storedIncident(incident.id))?.ack?.userId).toBe(42);
    expect(sender.calls.map((c) => c.op)).toEqual(['send', 'edit']);
    const edit = sender.calls[1];
    expect(edit).toMatchObject({ op: 'edit', messageId: 101 });
    expect(edit?.text).toContain('👀 Acknowledged by Ann &lt;ops&gt; at 2026-11-23 12:03:00 UTC');
    expect(labels(edit)).toEqual(['Recheck', 'Mute 1h', 'Trace']);
  });

  it("a second acknowledgement answers 'already' and changes nothing", async () => {
    const incident = await wentDown();
    await policy.acknowledge(incident.alertKey!, { userId: 42, name: 'Ann' });
    await settle();
    expect(await policy.acknowledge(incident.alertKey!, { userId: 43, name: 'Bob' })).toBe('already');
    await settle();
    expect((await storedIncident(incident.id))?.ack?.name).toBe('Ann');
    expect(sender.calls).toHaveLength(2);
  });

  it('two acknowledgements at the same moment: one wins, the other hears already', async () => {
    const incident = await wentDown();
    const results = await Promise.all([
      policy.acknowledge(incident.alertKey!, { userId: 42, name: 'Ann' }),
      policy.acknowledge(incident.alertKey!, { userId: 43, name: 'Bob' }),
    ]);
    await settle();
    expect(results).toEqual(['acknowledged', 'already']);
    expect((await storedIncident(incident.id))?.ack?.name).toBe('Ann');
    expect(sender.calls.map((c) => c.op)).toEqual(['send', 'edit']);
  });

  it("after the resolution it answers 'resolved'; the resolution names who acknowledged", async () => {
    const incident = await wentDown();
    await policy.acknowledge(incident.alertKey!, { userId: 42, name: 'Ann' });
    await clock.advance(120_000);
    await policy.onChange(change('DOWN', 'UP'), target);
    await settle();
    expect(await policy.acknowledge(incident.alertKey!, { userId: 43, name: 'Bob' })).toBe('resolved');
    await settle();
    const reply = sender.calls.find((c) => c.op === 'send' && c.options.replyTo !== undefined);
    expect(reply?.text).toContain('Acknowledged by Ann');
    const lastEdit = sender.calls.at(-1);
    expect(lastEdit?.op).toBe('edit');
    expect(lastEdit?.text).toContain('👀 Acknowledged by Ann');
    expect(lastEdit?.text).toContain('✅ <b>Resolved</b>');
    expect(sender.calls.map((c) => c.op)).toEqual(['send', 'edit', 'send', 'edit']);
  });

  it('an unknown alert message answers undefined', async () => {
    await wentDown();
    expect(await policy.acknowledge('nosuchid', { userId: 42, name: 'Ann' })).toBeUndefined();
    await settle();
    expect(sender.calls).toHaveLength(1);
  });

  it('Ack all acknowledges every open incident of a grouped message, once, and the message loses its button', async () => {
    await downOf(other);
    const more = ['a', 'b', 'c'].map((name) => httpTarget({ id: `${CHAT}/${name}`, chatId: CHAT, name, url: `https://${name}.example.com/` }));
    for (const t of more) await downOf(t);
    await pass(5_000);
    await clock.advance(MINUTE);
    await upOf(more[2]!);
    await pass(10_000);
    const key = incidents.openFor(more[0]!.id)!.alertKey!;
    const before = sender.calls.length;

    expect(await policy.acknowledge(key, { userId: 42, name: 'Ann' })).toBe('acknowledged');
    await settle();
    expect(more.slice(0, 2).map((t) => incidents.openFor(t.id)?.ack?.name)).toEqual(['Ann', 'Ann']);
    // The other alert message (web) is not touched.
    expect(incidents.openFor(other.id)?.ack).toBeUndefined();
    const edit = sender.calls.slice(before);
    expect(edit.map((c) => c.op)).toEqual(['edit']);
    expect(edit[0]?.text.split('\n').slice(0, 4)).toEqual([
      '🔴 <b>2 of 3 targets are DOWN</b>',
      '🔴 <b>a</b> · HTTP 503, expected 200-299 · https://a.example.com/ · 👀 Ann',
      '🔴 <b>b</b> · HTTP 503, expected 200-299 · https://b.example.com/ · 👀 Ann',
      '✅ <b>c</b> · HTTP 503, expected 200-299 · https://c.example.com/ · resolved after 1m5s',
    ]);
    expect(edit[0]?.op === 'edit' && edit[0].buttons).toBeUndefined();
    expect(await policy.acknowledge(key, { userId: 43, name: 'Bob' })).toBe('already');
  });
});

describe('close', () => {
  it.each([
    ['paused', 'Closed: checks paused'],
    ['removed', 'Closed: target removed'],
  ] as const)('%s: edits the alert with that wording and sends no new message', async (resolution, wording) => {
    const incident = await wentDown();
    await clock.advance(90_000);
    await policy.close(target.id, resolution);
    await settle();
    expect(incidents.openFor(target.id)).toBeUndefined();
    expect(await storedIncident(incident.id)).toMatchObject({ resolvedAt: clock.now(), resolution });
    expect(sender.calls.map((c) => c.op)).toEqual(['send', 'edit']);
    expect(sender.calls[1]).toMatchObject({ messageId: 101, buttons: undefined });
    expect(sender.calls[1]?.text).toContain(`✅ <b>${wording}</b> at 2026-11-23 12:01:30 UTC after 1m30s`);
  });

  it('does nothing for a target without an open incident', async () => {
    await policy.close(target.id, 'paused');
    await settle();
    expect(sender.attempts).toEqual([]);
    expect(await stored()).toEqual([]);
  });

  it('closes a held-back incident silently, and its window ending later sends no alert', async () => {
    await addWindow({ kind: 'mute' });
    await wentDown();
    await policy.close(target.id, 'removed');
    await pass(HOUR);
    expect(incidents.allOpen()).toEqual([]);
    expect(sends().map((c) => c.text)).toEqual(['🔔 <b>all targets</b> is no longer muted.']);
  });

  it('stops the reminders of the closed incident', async () => {
    await wentDown();
    await policy.close(target.id, 'paused');
    await pass(3 * HOUR);
    expect(sender.calls.map((c) => c.op)).toEqual(['send', 'edit']);
  });
});

describe('windows', () => {
  it('a window covering the target holds back the alert: DOWN sends nothing', async () => {
    const w = await addWindow({ targetId: target.id });
    await downOf(target);
    await pass(10 * MINUTE);
    expect(sender.attempts).toEqual([]);
    const incident = incidents.openFor(target.id);
    expect(incident).toMatchObject({ suppressed: true });
    expect(incident?.alertKey).toBeUndefined();
    expect(policy.windowFor(CHAT, target.id)).toEqual(w);
    // It covers only that target.
    expect(policy.windowFor(CHAT, other.id)).toBeUndefined();
    await downOf(other);
    await settle();
    expect(sends().map((c) => c.text.split('\n')[0])).toEqual(['🔴 <b>web</b> is DOWN']);
  });

  it('when the window ends and the target is still DOWN, the alert is sent then', async () => {
    await addWindow({ targetId: target.id, durationMs: 30 * MINUTE });
    await downOf(target);
    await pass(30 * MINUTE - 1);
    expect(sender.attempts).toEqual([]);
    await pass(1);
    expect(sends().map((c) => [c.text.split('\n')[0], c.options.silent, c.at - sends()[0]!.at])).toEqual([
      ['🔧 Maintenance ended for <b>api</b>. Alerts are back on.', true, 0],
      ['🔴 <b>api</b> is DOWN', undefined, 0],
    ]);
    const incident = incidents.openFor(target.id);
    expect(incident).toMatchObject({ suppressed: false, alertKey: expect.any(String) });
    expect(labels(sends()[1])).toEqual(['Recheck', 'Mute 1h', 'Trace', 'Ack']);
    // The alert still says when it went DOWN.
    expect(sends()[1]?.text).toContain('When: 2026-11-23 12:00:00 UTC');
    expect(policy.windowFor(CHAT, target.id)).toBeUndefined();
    expect(windows.list()).toEqual([]);
    // And it is resolved like any other (with the next group of its topic).
    await upOf(target);
    await pass(5_000);
    expect(sender.calls.slice(2).map((c) => c.op)).toEqual(['send', 'edit']);
  });

  it('DOWN and UP inside the window: no alert and no resolution, not even after the window ends', async () => {
    await addWindow({ targetId: target.id, kind: 'mute' });
    await downOf(target);
    await pass(5 * MINUTE);
    await upOf(target);
    await pass(HOUR);
    const incident = (await stored())[0];
    expect(incident).toMatchObject({ suppressed: true, resolution: 'recovered' });
    expect(incident?.alertKey).toBeUndefined();
    // The only message is the quiet notice that the mute is over.
    expect(sender.calls.map((c) => [c.op, c.text, c.op === 'send' && c.options.silent])).toEqual([['send', '🔔 <b>api</b> is no longer muted.', true]]);
  });

  it('a mute for all covers every target of the chat, but not another chat', async () => {
    await addWindow({ kind: 'mute', durationMs: HOUR });
    await downOf(target);
    await downOf(other);
    await downOf(elsewhere);
    await pass(10_000);
    expect(sender.calls.map((c) => [c.chatId, c.text.split('\n')[0]])).toEqual([[OTHER_CHAT, '🔴 <b>api</b> is DOWN']]);
    expect(incidents.openFor(target.id)?.suppressed).toBe(true);
    expect(incidents.openFor(other.id)?.suppressed).toBe(true);
    expect(policy.windowFor(CHAT, other.id)?.kind).toBe('mute');
    expect(policy.windowFor(OTHER_CHAT, elsewhere.id)).toBeUndefined();
  });

  it('removing the window (unmute) while DOWN sends the held-back alerts at once', async () => {
    await addWindow({ kind: 'mute', durationMs: HOUR });
    await downOf(target);
    await downOf(other);
    await pass(MINUTE);
    await windows.remove('w1');
    await policy.windowsChanged();
    await pass(5_000);
    // No "no longer muted" notice: the /unmute command answers for itself.
    expect(sends().map((c) => [c.options.threadId, c.text.split('\n')[0]])).toEqual([
      [7, '🔴 <b>api</b> is DOWN'],
      [undefined, '🔴 <b>web</b> is DOWN'],
    ]);
    await pass(2 * HOUR);
    expect(sends().filter((c) => c.text.includes('muted'))).toEqual([]);
  });

  it('a window that starts while a target is DOWN and alerted changes nothing for it', async () => {
    const incident = await wentDown();
    await addWindow({ targetId: target.id });
    await pass(HOUR);
    expect(incidents.openFor(target.id)).toMatchObject({ id: incident.id, alertKey: incident.alertKey });
    expect(sends().filter((c) => c.text.includes('is DOWN'))).toHaveLength(1);
  });

  it('scheduled maintenance announces its start and its end quietly, naming the target', async () => {
    await addWindow({ targetId: target.id, threadId: 7, start: clock.now() + 10 * MINUTE, durationMs: 30 * MINUTE, reason: 'db <upgrade>' });
    await pass(10 * MINUTE - 1);
    expect(sender.calls).toEqual([]);
    expect(policy.windowFor(CHAT, target.id)).toBeUndefined();
    await pass(1);
    expect(policy.windowFor(CHAT, target.id)?.id).toBe('w1');
    await pass(30 * MINUTE);
    expect(sends().map((c) => [c.chatId, c.options, c.text, c.at - Date.UTC(2026, 10, 23, 12, 0, 0)])).toEqual([
      [
        CHAT,
        { threadId: 7, silent: true },
        '🔧 Maintenance started for <b>api</b> until 2026-11-23 12:40 UTC: db &lt;upgrade&gt;. Checks go on; alerts wait.',
        10 * MINUTE,
      ],
      [CHAT, { threadId: 7, silent: true }, '🔧 Maintenance ended for <b>api</b>. Alerts are back on.', 40 * MINUTE],
    ]);
  });

  it('maintenance for all targets names "all targets"; a mute announces only its end', async () => {
    await addWindow({ id: 'wall', start: clock.now() + MINUTE, durationMs: 10 * MINUTE });
    await addWindow({ id: 'wmute', kind: 'mute', targetId: other.id, start: clock.now() + MINUTE, durationMs: 20 * MINUTE });
    await pass(HOUR);
    expect(sends().map((c) => [c.options.silent, c.text])).toEqual([
      [true, expect.stringMatching(/^🔧 Maintenance started for <b>all targets<\/b> until 2026-11-23 12:11 UTC\./)],
      [true, '🔧 Maintenance ended for <b>all targets</b>. Alerts are back on.'],
      [true, '🔔 <b>web</b> is no longer muted.'],
    ]);
  });

  it('a recurring window holds alerts back each time it occurs', async () => {
    // Every day at 12:30 UTC for 15 minutes; now is 12:00.
    await addWindow({ start: undefined, cron: '30 12 * * *', durationMs: 15 * MINUTE, targetId: target.id });
    await pass(30 * MINUTE);
    await downOf(target);
    await pass(MINUTE);
    expect(sends().map((c) => c.text.split(' until')[0])).toEqual(['🔧 Maintenance started for <b>api</b>']);
    await pass(14 * MINUTE);
    expect(sends().map((c) => c.text.split('\n')[0])).toEqual([
      expect.stringContaining('Maintenance started'),
      '🔧 Maintenance ended for <b>api</b>. Alerts are back on.',
      '🔴 <b>api</b> is DOWN',
    ]);
    // Recurring windows stay.
    expect(windows.list()).toHaveLength(1);
  });

  it('keeps every timer within what setTimeout can wait, and still ends a 30-day window on time', async () => {
    const recording = new RecordingClock();
    await stopRun(current);
    await store.close();
    clock = recording;
    current = await startRun(await openStore({ kind: 'memory' }));
    use(current);
    await addWindow({ targetId: target.id, durationMs: 30 * 24 * HOUR });
    await downOf(target);
    await pass(30 * 24 * HOUR - MINUTE);
    expect(sends()).toEqual([]);
    await pass(MINUTE);
    expect(sends().map((c) => c.text.split('\n')[0])).toEqual(['🔧 Maintenance ended for <b>api</b>. Alerts are back on.', '🔴 <b>api</b> is DOWN']);
    // Node fires a longer timeout after 1 ms, which would re-evaluate the windows in a busy loop.
    expect(Math.max(...recording.delays)).toBeLessThanOrEqual(2 ** 31 - 1);
  });

  it('two evaluations at once release a held-back alert only once', async () => {
    // A group already under way in the topic, so both releases would land in the same group.
    await downOf(httpTarget({ id: `${CHAT}/x`, chatId: CHAT, threadId: 7, name: 'x' }));
    await addWindow({ kind: 'mute', targetId: target.id, durationMs: HOUR });
    await downOf(target);
    await settle();
    await windows.remove('w1');
    await Promise.all([policy.windowsChanged(), policy.windowsChanged()]);
    await pass(10_000);
    expect(sends().map((c) => c.text.split('\n')[0])).toEqual(['🔴 <b>x</b> is DOWN', '🔴 <b>api</b> is DOWN']);
    const message = await incidents.messages.get(incidents.openFor(target.id)!.alertKey!);
    expect(message?.incidentIds).toEqual([incidents.openFor(target.id)!.id]);
  });
});

describe('reminders', () => {
  it('an unacknowledged DOWN is repeated every hour by default, as a reply to the alert', async () => {
    const incident = await wentDown();
    await pass(HOUR - 1);
    expect(sender.calls).toHaveLength(1);
    await pass(1);
    expect(sender.calls.slice(1).map((c) => [c.op, c.text, c.op === 'send' && c.options])).toEqual([
      ['send', '⏰ <b>api</b> is still DOWN (for 1h) and not acknowledged: HTTP 503, expected 200-299', { threadId: 7, replyTo: 101 }],
    ]);
    await pass(HOUR);
    expect(sender.calls.slice(1).map((c) => c.text.split(' and')[0])).toEqual(['⏰ <b>api</b> is still DOWN (for 1h)', '⏰ <b>api</b> is still DOWN (for 2h)']);
    expect(await storedIncident(incident.id)).toMatchObject({ reminders: 2, notifiedAt: clock.now() });
  });

  it('after an acknowledgement no more reminders come', async () => {
    const incident = await wentDown();
    await pass(HOUR);
    expect(sender.calls).toHaveLength(2);
    await policy.acknowledge(incident.alertKey!, { userId: 42, name: 'Ann' });
    await pass(5 * HOUR);
    expect(sender.calls.map((c) => c.op)).toEqual(['send', 'send', 'edit']);
  });

  it('after the recovery no more reminders come', async () => {
    await wentDown();
    await pass(30 * MINUTE);
    await upOf(target);
    await pass(5 * HOUR);
    expect(sender.calls.map((c) => c.op)).toEqual(['send', 'send', 'edit']);
  });

  it('remind 0 means never', async () => {
    targets.set(target.id, { ...target, remindMs: 0 });
    await wentDown();
    await pass(48 * HOUR);
    expect(sender.calls).toHaveLength(1);
  });

  it("a target's own remind interval is used", async () => {
    targets.set(target.id, { ...target, remindMs: 15 * MINUTE });
    await wentDown();
    await pass(HOUR);
    expect(sender.calls.slice(1).map((c) => [c.at - sender.calls[0]!.at, c.text.split(' and')[0]])).toEqual([
      [15 * MINUTE, '⏰ <b>api</b> is still DOWN (for 15m)'],
      [30 * MINUTE, '⏰ <b>api</b> is still DOWN (for 30m)'],
      [45 * MINUTE, '⏰ <b>api</b> is still DOWN (for 45m)'],
      [60 * MINUTE, '⏰ <b>api</b> is still DOWN (for 1h)'],
    ]);
  });

  it('a reminder due while a window covers the target is skipped; the next one after it comes', async () => {
    await wentDown();
    await clock.advance(30 * MINUTE);
    await addWindow({ kind: 'mute', targetId: target.id, durationMs: HOUR });
    await pass(HOUR);
    // 13:00 fell inside the mute; only its end was said.
    expect(sends().slice(1).map((c) => c.text)).toEqual(['🔔 <b>api</b> is no longer muted.']);
    await pass(30 * MINUTE);
    expect(sends().slice(1).map((c) => [c.at - Date.UTC(2026, 10, 23, 12, 0, 0), c.text.split(' and')[0]])).toEqual([
      [90 * MINUTE, '🔔 <b>api</b> is no longer muted.'],
      [2 * HOUR, '⏰ <b>api</b> is still DOWN (for 2h)'],
    ]);
  });

  it('reminders of several targets due together come as one reply', async () => {
    await downOf(target);
    await downOf(httpTarget({ id: `${CHAT}/x`, chatId: CHAT, threadId: 7, name: 'x' }));
    await downOf(httpTarget({ id: `${CHAT}/y`, chatId: CHAT, threadId: 7, name: 'y' }));
    await pass(5_000);
    expect(sender.calls).toHaveLength(2);
    await pass(HOUR);
    const reminders = sends().slice(2);
    expect(reminders.map((c) => c.text.split('\n')[0])).toEqual([
      '⏰ <b>api</b> is still DOWN (for 1h) and not acknowledged: HTTP 503, expected 200-299',
      '⏰ <b>2 targets are still DOWN</b> and not acknowledged',
    ]);
  });
});

describe('stop', () => {
  it('sends what is grouped and waiting, then no timer fires', async () => {
    await downOf(target);
    await downOf(httpTarget({ id: `${CHAT}/x`, chatId: CHAT, threadId: 7, name: 'x' }));
    await addWindow({ start: clock.now() + HOUR });
    await policy.stop();
    await settle();
    expect(sends().map((c) => c.text.split('\n')[0])).toEqual(['🔴 <b>api</b> is DOWN', '🔴 <b>x</b> is DOWN']);
    await pass(3 * HOUR);
    expect(sender.calls).toHaveLength(2);
  });
});

describe('restart (SQLite)', () => {
  let dir: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lookout-policy-'));
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Retries `check` until it passes: SQLite answers on its own time, not the fake clock's (real waits of 5 ms). */
  async function eventually(check: () => Promise<void> | void, timeoutMs = 3_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      await settle();
      try {
        await check();
        return;
      } catch (err) {
        if (Date.now() > end) throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** Stops the memory run of the outer beforeEach and starts one over SQLite in `dir`. */
  async function onDisk(): Promise<void> {
    await stopRun(current);
    await store.close();
    current = await startRun(await openStore({ kind: 'sqlite', dataDir: dir }));
    use(current);
  }

  /** Stops the run, lets `downFor` pass with the app down, and starts a new run over the same database. */
  async function restart(downFor: number): Promise<void> {
    await stopRun(current);
    await store.close();
    await clock.advance(downFor);
    current = await startRun(await openStore({ kind: 'sqlite', dataDir: dir }));
    use(current);
  }

  it('a held-back alert whose window ended while the app was down is sent by start()', async () => {
    await onDisk();
    await addWindow({ targetId: target.id, durationMs: 30 * MINUTE });
    await downOf(target);
    await eventually(() => expect(incidents.openFor(target.id)?.suppressed).toBe(true));
    expect(sender.attempts).toEqual([]);

    await restart(HOUR);
    await eventually(() => expect(sends().map((c) => [c.options.threadId, c.text.split('\n')[0]])).toEqual([[7, '🔴 <b>api</b> is DOWN']]));
    const incident = incidents.openFor(target.id);
    expect(incident).toMatchObject({ suppressed: false, alertKey: expect.any(String) });
    expect(windows.list()).toEqual([]);
    // It goes on like any alert: acknowledged from its button, resolved with a reply.
    expect(await policy.acknowledge(incident!.alertKey!, { userId: 42, name: 'Ann' })).toBe('acknowledged');
    await upOf(target);
    await clock.advance(5_000);
    await eventually(() => expect(sender.calls.map((c) => c.op)).toEqual(['send', 'edit', 'send', 'edit']));
  });

  it('a held-back alert whose window is still on after a restart waits for its end', async () => {
    await onDisk();
    await addWindow({ targetId: target.id, durationMs: 2 * HOUR });
    await downOf(target);
    await eventually(() => expect(incidents.openFor(target.id)?.suppressed).toBe(true));
    await restart(HOUR);
    await eventually(() => expect(incidents.openFor(target.id)?.suppressed).toBe(true));
    expect(sender.attempts).toEqual([]);
    await clock.advance(HOUR);
    await eventually(() =>
      expect(sends().map((c) => c.text.split('\n')[0])).toEqual(['🔧 Maintenance ended for <b>api</b>. Alerts are back on.', '🔴 <b>api</b> is DOWN']),
    );
  });

  it('an alert still waiting for its group when the app died is sent by start(), once', async () => {
    await onDisk();
    const x = httpTarget({ id: `${CHAT}/x`, chatId: CHAT, threadId: 7, name: 'x' });
    targets.set(x.id, x);
    await downOf(x);
    await eventually(() => expect(sender.calls).toHaveLength(1));
    // api's alert waits for the group of its topic; the process dies before it is sent (no stop()).
    await downOf(target);
    await eventually(() => expect(incidents.openFor(target.id)).toBeDefined());
    expect(current.notifier.pending()).toBe(1);
    await current.outbox.stop(1_000);
    await incidents.flush();
    await store.close();
    // The dead process's timers die with it: the next run has a clock of its own, a minute later.
    clock = new FakeClock(clock.now() + MINUTE);
    current = await startRun(await openStore({ kind: 'sqlite', dataDir: dir }));
    use(current);
    await eventually(() => expect(sends().map((c) => [c.options.threadId, c.text.split('\n')[0]])).toEqual([[7, '🔴 <b>api</b> is DOWN']]));
    // x was alerted before: only its reminder is due, later.
    await clock.advance(10_000);
    await eventually(() => expect(incidents.openFor(target.id)?.alertKey).toBeDefined());
    expect(sender.calls).toHaveLength(1);
  });

  it('reminders resume after a restart, counted from the last one', async () => {
    await onDisk();
    await downOf(target);
    await eventually(() => expect(sender.calls).toHaveLength(1));
    const alertId = sender.calls[0]?.messageId;
    await restart(40 * MINUTE);
    await clock.advance(20 * MINUTE - 1);
    await eventually(() => expect(incidents.allOpen()).toHaveLength(1));
    expect(sender.attempts).toEqual([]);
    await clock.advance(1);
    await eventually(() =>
      expect(sends().map((c) => [c.text.split(' and')[0], c.options.replyTo])).toEqual([['⏰ <b>api</b> is still DOWN (for 1h)', alertId]]),
    );
  });
});
