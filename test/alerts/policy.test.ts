import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createIncidentBook, type IncidentBook } from '../../src/alerts/incidents.js';
import { createOutbox, type Outbox } from '../../src/alerts/outbox.js';
import { createAlertPolicy, type AlertPolicy } from '../../src/alerts/policy.js';
import { classifyTelegramError } from '../../src/alerts/telegram.js';
import type { CheckResult } from '../../src/domain/check.js';
import type { Incident } from '../../src/domain/incident.js';
import type { StateChange, TargetState } from '../../src/domain/state.js';
import { openStore, type KeyvStore } from '../../src/store/keyv.js';
import { createIncidentRepository, type IncidentRepository } from '../../src/store/incidents.js';
import { listAll } from '../../src/store/targets.js';
import { FakeClock, flushPromises } from '../support/fake-clock.js';
import { ScriptedSender, type SenderCall } from '../support/scripted-sender.js';
import { httpTarget } from '../support/target-server.js';

const CHAT = -1001234567890;
const target = httpTarget({ id: `${CHAT}/api`, chatId: CHAT, threadId: 7, name: 'api', url: 'https://api.example.com/health' });
const other = httpTarget({ id: `${CHAT}/web`, chatId: CHAT, name: 'web', url: 'https://www.example.com/' });

let clock: FakeClock;
let store: KeyvStore;
let repo: IncidentRepository;
let incidents: IncidentBook;
let sender: ScriptedSender;
let outbox: Outbox;
let policy: AlertPolicy;

beforeEach(async () => {
  clock = new FakeClock();
  store = await openStore({ kind: 'memory' });
  repo = createIncidentRepository(store);
  incidents = createIncidentBook(repo);
  sender = new ScriptedSender(clock);
  outbox = createOutbox({ store, incidents, sender, classify: classifyTelegramError, clock });
  await outbox.start();
  policy = createAlertPolicy({ incidents, outbox, clock, source: () => ({ label: 'fra-1', address: '203.0.113.7' }) });
});

afterEach(async () => {
  await outbox.stop(1_000);
  await incidents.flush();
  await store.close();
});

const failed = (at: number): CheckResult => ({ ok: false, at, latencyMs: 250, status: 503, failure: 'status', reason: 'HTTP 503, expected 200-299' });
const passed = (at: number): CheckResult => ({ ok: true, at, latencyMs: 80, status: 200 });

function change(from: TargetState, to: TargetState, over: Partial<StateChange> = {}): StateChange {
  const at = clock.now();
  return { targetId: target.id, from, to, at, fromSince: at - 60_000, result: to === 'DOWN' ? failed(at) : passed(at), failures: to === 'DOWN' ? 2 : 0, ...over };
}

/** Every incident in the store. */
const stored = async (): Promise<Incident[]> => listAll(store.namespace<Incident>('incidents'));

/** Lets the policy and the outbox finish everything queued. */
async function settle(): Promise<void> {
  await flushPromises();
  await outbox.idle();
  await incidents.flush();
}

const labels = (call: SenderCall | undefined): string[] | undefined => {
  const buttons = call?.op === 'send' ? call.options.buttons : call?.buttons;
  return buttons?.flat().map((b) => b.text);
};

/** A target that went DOWN and whose alert was delivered; returns its incident. */
async function wentDown(): Promise<Incident> {
  await policy.onChange(change('UP', 'DOWN'), target);
  await settle();
  return incidents.openFor(target.id)!;
}

describe('alert policy', () => {
  it('DOWN opens one incident and sends one alert with the four buttons', async () => {
    await policy.onChange(change('UP', 'DOWN'), target);
    await settle();
    const incident = incidents.openFor(target.id);
    expect(incident).toMatchObject({ targetId: target.id, chatId: CHAT, threadId: 7, name: 'api', reason: 'HTTP 503, expected 200-299', alertMessageId: 101 });
    expect(await repo.listOpen()).toHaveLength(1);
    expect(sender.calls).toHaveLength(1);
    const [alert] = sender.calls;
    expect(alert).toMatchObject({ op: 'send', chatId: CHAT, options: { threadId: 7 } });
    expect(alert?.text.split('\n').slice(0, 3)).toEqual(['🔴 <b>api</b> is DOWN', 'https://api.example.com/health', 'Reason: HTTP 503, expected 200-299']);
    expect(alert?.text).toContain('From: fra-1 (203.0.113.7)');
    expect(labels(alert)).toEqual(['Recheck', 'Mute 1h', 'Trace', 'Ack']);
    expect((await repo.get(incident!.id))?.alertMessageId).toBe(101);
  });

  it('DOWN again while an incident is open sends nothing new', async () => {
    const incident = await wentDown();
    await clock.advance(60_000);
    await policy.onChange(change('UNKNOWN', 'DOWN'), target);
    await policy.onChange(change('UP', 'DOWN'), target);
    await settle();
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
    expect(await repo.get(incident.id)).toMatchObject({ resolvedAt: clock.now(), resolution: 'recovered', alertMessageId: 101 });
    expect(await repo.listOpen()).toEqual([]);
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
    await settle();

    expect(incidents.openFor(target.id)).toBeUndefined();
    expect(incidents.openFor(other.id)).toBeDefined();
    const mine = sender.calls.filter((c) => c.text.includes('<b>api</b>'));
    expect(mine.map((c) => c.op)).toEqual(['send', 'send', 'edit']);
    const [alert, reply, edit] = mine;
    expect(alert?.text).toContain('is DOWN');
    expect(labels(alert)).toEqual(['Recheck', 'Mute 1h', 'Trace', 'Ack']);
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
    await settle();
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
    expect(sender.calls.map((c) => c.op)).toEqual(['send', 'send', 'edit', 'send']);
    expect(second?.alertMessageId).toBe(sender.calls[3]?.op === 'send' ? sender.calls[3].messageId : -1);
  });
});

describe('acknowledge', () => {
  it('records who acknowledged and edits the alert without the Ack button', async () => {
    const incident = await wentDown();
    clock.now = () => Date.UTC(2026, 10, 23, 12, 3, 0);
    const result = await policy.acknowledge(incident.id, { userId: 42, name: 'Ann <ops>' });
    await settle();

    expect(result).toMatchObject({ id: incident.id, ack: { userId: 42, name: 'Ann <ops>', at: Date.UTC(2026, 10, 23, 12, 3, 0) } });
    expect((await repo.get(incident.id))?.ack?.userId).toBe(42);
    expect(sender.calls.map((c) => c.op)).toEqual(['send', 'edit']);
    const edit = sender.calls[1];
    expect(edit).toMatchObject({ op: 'edit', messageId: 101 });
    expect(edit?.text).toContain('👀 Acknowledged by Ann &lt;ops&gt; at 2026-11-23 12:03:00 UTC');
    expect(labels(edit)).toEqual(['Recheck', 'Mute 1h', 'Trace']);
  });

  it("a second acknowledgement answers 'already' and changes nothing", async () => {
    const incident = await wentDown();
    await policy.acknowledge(incident.id, { userId: 42, name: 'Ann' });
    await settle();
    expect(await policy.acknowledge(incident.id, { userId: 43, name: 'Bob' })).toBe('already');
    await settle();
    expect((await repo.get(incident.id))?.ack?.name).toBe('Ann');
    expect(sender.calls).toHaveLength(2);
  });

  it('two acknowledgements at the same moment: one wins, the other hears already', async () => {
    const incident = await wentDown();
    const results = await Promise.all([
      policy.acknowledge(incident.id, { userId: 42, name: 'Ann' }),
      policy.acknowledge(incident.id, { userId: 43, name: 'Bob' }),
    ]);
    await settle();
    expect(results[0]).toMatchObject({ ack: { name: 'Ann' } });
    expect(results[1]).toBe('already');
    expect((await repo.get(incident.id))?.ack?.name).toBe('Ann');
    expect(sender.calls.map((c) => c.op)).toEqual(['send', 'edit']);
  });

  it("after the resolution it answers 'resolved'; the resolution names who acknowledged", async () => {
    const incident = await wentDown();
    await policy.acknowledge(incident.id, { userId: 42, name: 'Ann' });
    await clock.advance(120_000);
    await policy.onChange(change('DOWN', 'UP'), target);
    await settle();
    expect(await policy.acknowledge(incident.id, { userId: 43, name: 'Bob' })).toBe('resolved');
    await settle();
    const reply = sender.calls.find((c) => c.op === 'send' && c.options.replyTo !== undefined);
    expect(reply?.text).toContain('Acknowledged by Ann');
    const lastEdit = sender.calls.at(-1);
    expect(lastEdit?.op).toBe('edit');
    expect(lastEdit?.text).toContain('👀 Acknowledged by Ann');
    expect(lastEdit?.text).toContain('✅ <b>Resolved</b>');
    expect(sender.calls.map((c) => c.op)).toEqual(['send', 'edit', 'send', 'edit']);
  });

  it('an unknown incident id answers undefined', async () => {
    await wentDown();
    expect(await policy.acknowledge('nosuchid', { userId: 42, name: 'Ann' })).toBeUndefined();
    await settle();
    expect(sender.calls).toHaveLength(1);
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
    expect(await repo.get(incident.id)).toMatchObject({ resolvedAt: clock.now(), resolution });
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
});
