import { shortId, untold, wasTold, type Incident, type IncidentAnnouncement } from '../domain/incident.js';
import type { IncidentFacts, Notification, NotificationBody, PersonFacts, Tell } from '../domain/notification.js';
import type { StateChange, StateRecord } from '../domain/state.js';
import { targetAddress, traceTarget, type Target } from '../kinds/index.js';
import { formatWindowTime, occurrenceAt, type Window } from '../domain/window.js';
import { createScheduler } from '../engine/scheduler.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { createSerial } from '../lib/serial.js';
import { withTimeout } from '../lib/timeout.js';
import type { KeyvStore } from '../store/keyv.js';
import type { WindowRegistry } from '../store/windows.js';
import { formatResult } from './format.js';
import type { IncidentBook } from './incidents.js';
import type { StateNotices } from './state-notices.js';

// setTimeout fires at once when asked to wait more than 2^31-1 ms (24.8 days); a window may last 30
// days or recur yearly, so the timer wakes at least daily (an early wake-up only re-evaluates).
const WINDOW_TIMER_MAX_MS = 86_400_000;

/** Who pressed a button or ran a command. */
export interface Actor {
  userId: number;
  name: string;
}

/** Where notifications go: the policy decides what to tell, `tell` makes it durable in the outbox. */
export type { Tell } from '../domain/notification.js';

/** Turns state changes into incidents and notifications, honouring windows, acknowledgements and reminders. */
export interface AlertPolicy {
  /**
   * Resumes after a restart: finishes every announcement that was decided and not yet queued, opens or
   * ends incidents whose target's saved state says so, announces windows that began or ended meanwhile,
   * and re-arms reminders, escalations and the window timer.
   */
  start(): Promise<void>;
  /** Stops the timers and waits for work in progress. */
  stop(): Promise<void>;
  /** Handles one state change of the engine. */
  onChange(change: StateChange, target: Target): Promise<void>;
  /** Acknowledges the open incidents among `incidentIds` that belong to `chatId`; reminders stop for them. */
  acknowledge(incidentIds: readonly string[], actor: Actor, chatId: number): Promise<'acknowledged' | 'already' | 'resolved' | undefined>;
  /** Closes a target's open incident because a user paused or removed it (the alert is edited, nothing new is sent). */
  close(targetId: string, resolution: 'paused' | 'removed'): Promise<void>;
  /** Keeps a renamed target's open incident and windows with it. */
  renamed(previousId: string, target: Target): Promise<void>;
  /** Re-evaluates after windows were added or removed by a command. */
  windowsChanged(): Promise<void>;
  /** Whether a target is in a window now (lists show it). */
  windowFor(chatId: number, targetId: string): Window | undefined;
  /** Resolves when every change handed to the policy so far has been handled (tests, shutdown). */
  settle(): Promise<void>;
}

/** What the policy needs. */
export interface AlertPolicyDeps {
  incidents: IncidentBook;
  tell: Tell;
  windows: WindowRegistry;
  clock: Clock;
  /** Where the policy keeps which windows it announced (so a restart announces what began or ended meanwhile). */
  store: KeyvStore;
  /** Where Lookout runs: the label, and the local address toward a host (looked up with a short bound). */
  source: { label: string; addressFor(host: string): Promise<string | undefined> };
  /** The current settings of a target (for `remind`, and names in window messages). */
  target(id: string): Target | undefined;
  /** Every target and its saved state (what a restart reconciles incidents with). */
  targets?(): Target[];
  state?(id: string): StateRecord | undefined;
  /** Resolves once the engine has saved the state a change led to: an incident never outruns its state on disk. */
  stateSaved?(targetId: string): Promise<void>;
  /** DEGRADED and MAINTENANCE notices. */
  notices?: StateNotices;
  /** Default reminder interval when a target sets none. */
  remindDefaultMs?: number;
  /** A chat's on-call people and default escalation delay (escalation is off without them). */
  chatSettings?(chatId: number): Promise<{ oncall?: PersonFacts[]; escalateMs?: number }>;
  logger?: Logger;
}

/**
 * The alert policy. DOWN opens an incident: alerted at once, or held back while a window covers the
 * target and alerted when the window ends if it is still DOWN. UP resolves it: a resolution, or
 * nothing if it was never alerted. Unacknowledged alerts are repeated every `remind` and escalated to
 * the people on call. Every decision is written before it counts as done: the incident (with what was
 * decided about it) first, then the notification in the outbox, then the note that it was queued; a
 * restart finishes whatever a crash cut short, under the same notification ids.
 */
export function createAlertPolicy(deps: AlertPolicyDeps): AlertPolicy {
  const { incidents, windows, clock, tell } = deps;
  const log = deps.logger;
  const remindDefault = deps.remindDefaultMs ?? 3_600_000;
  // Active windows as announced: window id → start of its current occurrence (so its end has a stable id).
  const kept = deps.store.namespace<Array<[string, number]> | string[]>('policy');
  let seq = 0;
  let activeIds = new Map<string, number>();
  let windowTimer: TimerHandle | undefined;
  let running = false;
  const pending = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    pending.add(work);
    void work.then(
      () => pending.delete(work),
      () => pending.delete(work),
    );
    return work;
  };
  const fail = (event: string, what: string) => (err: unknown) => log?.error({ err, event }, what);

  const base = (incident: Incident): Pick<Notification, 'at' | 'chatId' | 'threadId' | 'targetId'> => ({
    at: clock.now(),
    chatId: incident.chatId,
    ...(incident.threadId !== undefined ? { threadId: incident.threadId } : {}),
    targetId: incident.targetId,
  });
  /** The incident's facts under its target's current id and name (a rename keeps the incident). */
  const factsOf = (incident: Incident): IncidentFacts => ({
    ...incident.facts,
    target: { ...incident.facts.target, id: incident.targetId, name: deps.target(incident.targetId)?.name ?? incident.facts.target.name },
  });
  const send = (body: NotificationBody, id: string, incident: Incident): Promise<void> => tell({ ...body, id, ...base(incident) } as Notification);

  /** Queues one decided announcement of an incident and notes that it is queued. */
  async function announce(incident: Incident, what: IncidentAnnouncement): Promise<void> {
    const facts = factsOf(incident);
    if (what === 'down') {
      await send({ kind: 'down', incident: facts }, `${incident.id}:down`, incident);
    } else if (what === 'ack') {
      if (!incident.ack) return;
      await send({ kind: 'acknowledged', incidentIds: [incident.id], by: { userId: incident.ack.userId, name: incident.ack.name } }, `${incident.id}:ack`, incident);
    } else {
      const resolvedAt = incident.resolvedAt ?? clock.now();
      if (incident.resolution === undefined || incident.resolution === 'recovered') {
        await send(
          {
            kind: 'up',
            incident: facts,
            resolvedAt,
            ...(incident.recoveredWith ? { now: incident.recoveredWith } : {}),
            ...(incident.ack ? { ackBy: incident.ack.name } : {}),
          },
          `${incident.id}:end`,
          incident,
        );
      } else {
        await send({ kind: 'closed', incident: facts, resolvedAt, why: incident.resolution }, `${incident.id}:end`, incident);
      }
    }
    await incidents.update(incident.id, (i) => {
      i.told = [...new Set([...(i.told ?? []), what])];
      if (what === 'down') {
        i.alertedAt ??= clock.now();
        i.notifiedAt ??= i.alertedAt;
      }
    });
  }

  const remindMsOf = (incident: Incident): number => deps.target(incident.targetId)?.remindMs ?? remindDefault;
  const reminders = createScheduler(clock, (id) => void track(remind(id)).catch(fail('reminder_failed', 'reminder failed')));
  const scheduleReminder = (incident: Incident, from: number): void => {
    const every = remindMsOf(incident);
    if (every > 0 && incident.ack === undefined && incident.resolvedAt === undefined) reminders.schedule(incident.id, from + every);
  };
  const covered = (incident: Incident, now: number): boolean => windows.activeFor(incident.chatId, incident.targetId, now).length > 0;

  async function remind(id: string): Promise<void> {
    const incident = await incidents.get(id);
    if (!incident || incident.resolvedAt !== undefined || incident.ack) return;
    const now = clock.now();
    if (!incident.suppressed && wasTold(incident, 'down') && !covered(incident, now)) {
      const n = (incident.reminders ?? 0) + 1;
      await send({ kind: 'reminder', incident: factsOf(incident) }, `${id}:remind:${n}`, incident);
      await incidents.update(id, (i) => {
        i.notifiedAt = now;
        i.reminders = n;
      });
    }
    scheduleReminder(incident, now);
  }

  // Escalation: an alert nobody acknowledged is answered with a mention of the next person on call,
  // one more person each `escalate` period, until someone presses Ack or it resolves.
  const escalations = createScheduler(clock, (id) => void track(escalate(id)).catch(fail('escalation_failed', 'escalation failed')));
  const escalateMsOf = async (incident: Incident): Promise<number> => {
    const own = deps.target(incident.targetId)?.escalateMs;
    if (own !== undefined) return own;
    return (await deps.chatSettings?.(incident.chatId))?.escalateMs ?? 0;
  };
  const scheduleEscalation = async (incident: Incident): Promise<void> => {
    if (!deps.chatSettings || incident.ack !== undefined || incident.resolvedAt !== undefined) return;
    const every = await escalateMsOf(incident);
    if (every <= 0) return;
    const from = incident.alertedAt ?? incident.openedAt;
    escalations.schedule(incident.id, from + every * ((incident.escalations ?? 0) + 1));
  };

  async function escalate(id: string): Promise<void> {
    const incident = await incidents.get(id);
    if (!incident || incident.resolvedAt !== undefined || incident.ack || incident.suppressed) return;
    const now = clock.now();
    // Read again now: escalation turned off (or the target's escalate=0) since this was scheduled.
    const every = await escalateMsOf(incident);
    if (every <= 0) return;
    // Inside a window nobody is paged; the next period is tried again.
    if (covered(incident, now)) {
      escalations.schedule(id, now + every);
      return;
    }
    const oncall = (await deps.chatSettings?.(incident.chatId))?.oncall ?? [];
    const step = incident.escalations ?? 0;
    const person = oncall[step];
    if (!person) return;
    // An Ack that arrived while the settings were read wins.
    if (incident.ack || incident.resolvedAt !== undefined) return;
    await send({ kind: 'escalation', incident: factsOf(incident), person, step: step + 1 }, `${id}:esc:${step + 1}`, incident);
    const updated = await incidents.update(id, (i) => {
      i.escalations = Math.max(i.escalations ?? 0, step + 1);
    });
    log?.info({ event: 'escalated', chat: incident.chatId, target: incident.targetId, step: step + 1 }, 'alert escalated to the next person on call');
    if (updated) await scheduleEscalation(updated);
  }

  /** Tells the alert of an incident that is not held back, and arms its reminders and escalation. */
  async function alert(incident: Incident): Promise<void> {
    await announce(incident, 'down');
    const current = (await incidents.get(incident.id)) ?? incident;
    scheduleReminder(current, current.notifiedAt ?? clock.now());
    await scheduleEscalation(current);
  }

  // Changes of one target are handled in order, so a quick DOWN → UP never resolves before it opened.
  const serial = createSerial();
  const inOrder = (targetId: string, work: () => Promise<void>): Promise<void> => track(serial.run(targetId, work));

  const sourceFor = async (host: string): Promise<{ label: string; address?: string }> => {
    const address = await withTimeout(deps.source.addressFor(host), 200);
    return { label: deps.source.label, ...(address ? { address } : {}) };
  };

  async function open(at: number, result: StateChange['result'], failures: number, target: Target): Promise<void> {
    if (incidents.openFor(target.id)) return;
    const suppressed = windows.activeFor(target.chatId, target.id, clock.now()).length > 0;
    const trace = traceTarget(target);
    const id = shortId(clock.now(), seq++);
    const facts: IncidentFacts = {
      id,
      target: { id: target.id, name: target.name, address: targetAddress(target), ...(target.note ? { note: target.note } : {}) },
      reason: result?.reason ?? 'unknown',
      ...(result?.failure ? { failure: result.failure } : {}),
      openedAt: at,
      failedChecks: failures,
      ...(result ? { latencyMs: result.latencyMs } : {}),
      source: trace ? await sourceFor(trace.host) : { label: deps.source.label },
      ...(trace ? { host: trace.host, ...(trace.port !== undefined ? { port: trace.port } : {}) } : {}),
    };
    // The incident is the decision: on disk before anything is told about it.
    const incident = await incidents.open({
      id,
      targetId: target.id,
      chatId: target.chatId,
      ...(target.threadId !== undefined ? { threadId: target.threadId } : {}),
      name: target.name,
      openedAt: at,
      reason: facts.reason,
      ...(facts.failure ? { failure: facts.failure } : {}),
      ...(facts.host !== undefined ? { host: facts.host } : {}),
      ...(facts.port !== undefined ? { port: facts.port } : {}),
      facts,
      ...(suppressed ? { suppressed: true } : {}),
    });
    if (suppressed) log?.info({ event: 'alert_held', target: target.id, chat: target.chatId }, 'DOWN inside a window: alert held back');
    else await alert(incident);
  }

  async function end(targetId: string, at: number, resolution: Incident['resolution'], recoveredWith?: string): Promise<void> {
    const current = incidents.openFor(targetId);
    if (!current) return;
    reminders.cancel(current.id);
    escalations.cancel(current.id);
    const incident = await incidents.update(current.id, (i) => {
      i.resolvedAt = at;
      i.resolution = resolution;
      if (recoveredWith) i.recoveredWith = recoveredWith;
    });
    // Down and back inside a window: nothing was said, nothing to say.
    if (!incident || incident.suppressed) return;
    await announce(incident, 'end');
  }

  /** `until-up` windows of a target that is UP again end now, and say so. */
  async function endUntilUp(target: Target): Promise<void> {
    const ending = windows.activeFor(target.chatId, target.id, clock.now()).filter((w) => w.untilUp && w.targetId === target.id);
    if (ending.length === 0) return;
    for (const w of ending) {
      await tell({ kind: 'window-ended-up', scope: target.name, id: `window:${w.id}:up`, at: clock.now(), chatId: w.chatId, ...(w.threadId !== undefined ? { threadId: w.threadId } : {}) });
      await windows.remove(w.id);
      log?.info({ event: 'window_ended_up', chat: w.chatId, target: target.id, window: w.id }, 'until-up window ended: the target is UP');
    }
    await evaluateWindows(false);
  }

  const scopeName = (w: Window): string => {
    if (w.targetId === undefined) return 'all targets';
    return deps.target(w.targetId)?.name ?? w.targetId.slice(w.targetId.indexOf('/') + 1);
  };
  const windowBase = (w: Window): Pick<Notification, 'at' | 'chatId' | 'threadId'> => ({
    at: clock.now(),
    chatId: w.chatId,
    ...(w.threadId !== undefined ? { threadId: w.threadId } : {}),
  });

  /** The windows active at `now`, with the start of their current occurrence. */
  const activeNow = (now: number): Map<string, number> => {
    const map = new Map<string, number>();
    for (const w of windows.list()) {
      const occurrence = occurrenceAt(w, now);
      if (occurrence) map.set(w.id, occurrence.start);
    }
    return map;
  };

  async function evaluateWindows(announce: boolean): Promise<void> {
    const now = clock.now();
    const current = activeNow(now);
    if (announce) {
      for (const w of windows.list()) {
        const occurrence = occurrenceAt(w, now);
        // A mute's start is the answer to its command; scheduled maintenance announces itself.
        if (occurrence && activeIds.get(w.id) !== occurrence.start && w.kind === 'maintenance') {
          await tell({
            kind: 'window-started',
            scope: scopeName(w),
            until: formatWindowTime(occurrence.end, w.tz),
            ...(w.reason ? { reason: w.reason } : {}),
            id: `window:${w.id}:start:${occurrence.start}`,
            ...windowBase(w),
          });
        }
      }
      for (const [id, start] of activeIds) {
        const w = windows.get(id);
        if (w && current.get(id) !== start) await tell({ kind: 'window-ended', scope: scopeName(w), window: w.kind, id: `window:${w.id}:end:${start}`, ...windowBase(w) });
      }
    }
    const changed = activeIds.size !== current.size || [...current].some(([id, start]) => activeIds.get(id) !== start);
    activeIds = current;
    if (changed) await kept.set('active-windows', [...current]);
    // Alerts held back by windows that no longer cover their target go out now.
    for (const incident of incidents.allOpen()) {
      if (!incident.suppressed || covered(incident, now)) continue;
      let released = false;
      const updated = await incidents.update(incident.id, (i) => {
        // Checked inside the update: of two evaluations at once, only the first releases the alert.
        if (!i.suppressed || i.resolvedAt !== undefined) return;
        i.suppressed = false;
        released = true;
      });
      if (released && updated) await alert(updated);
    }
    await windows.pruneExpired(now);
    armWindowTimer();
  }

  function armWindowTimer(): void {
    if (windowTimer !== undefined) clock.clearTimeout(windowTimer);
    windowTimer = undefined;
    if (!running) return;
    const next = windows.nextBoundary(clock.now());
    if (next === undefined) return;
    windowTimer = clock.setTimeout(() => {
      windowTimer = undefined;
      void track(evaluateWindows(true)).catch(fail('window_evaluation_failed', 'window evaluation failed'));
    }, Math.min(WINDOW_TIMER_MAX_MS, Math.max(0, next - clock.now())));
  }

  /** After a restart: what the saved states say that the incidents do not know yet. */
  async function reconcile(): Promise<void> {
    if (!deps.targets || !deps.state) return;
    const known = new Map(deps.targets().map((t) => [t.id, t]));
    for (const incident of incidents.allOpen()) {
      const target = known.get(incident.targetId);
      if (!target) {
        await inOrder(incident.targetId, () => end(incident.targetId, clock.now(), 'removed'));
        continue;
      }
      const state = deps.state(target.id);
      // A state saved after the incident opened ended it (the change came, the policy never saw it).
      if (!state || state.state === 'DOWN' || state.since < incident.openedAt) continue;
      const how: Incident['resolution'] = state.state === 'PAUSED' ? 'paused' : state.state === 'MAINTENANCE' ? 'maintenance' : 'recovered';
      const recovered = state.lastResult?.ok ? formatResult(state.lastResult) : undefined;
      log?.info({ event: 'incident_reconciled', target: target.id, state: state.state }, 'an incident ended while its change was in flight: ending it now');
      await inOrder(target.id, () => end(target.id, state.since, how, recovered));
    }
    for (const target of known.values()) {
      const state = deps.state(target.id);
      if (state?.state !== 'DOWN' || incidents.openFor(target.id)) continue;
      log?.info({ event: 'incident_reconciled', target: target.id, state: state.state }, 'a DOWN state without an incident: opening it now');
      await inOrder(target.id, () => open(state.since, state.lastResult, state.consecutiveFailures, target));
    }
  }

  return {
    async start() {
      running = true;
      const saved = await kept.get('active-windows');
      const known = saved?.map((entry): [string, number] => {
        if (typeof entry !== 'string') return entry;
        const w = windows.get(entry);
        return [entry, (w && occurrenceAt(w, clock.now())?.start) ?? 0];
      });
      // The first start of a store that never saved them: windows active now are taken as announced.
      activeIds = new Map(known ?? activeNow(clock.now()));
      // Written now, so that the next start knows what was announced even if no window ever changes.
      if (!saved) await kept.set('active-windows', [...activeIds]);
      // Decided before the last run ended, not queued yet: queued now, in the order they happened.
      for (const incident of incidents.pending()) {
        for (const what of untold(incident)) await inOrder(incident.targetId, () => announce(incident, what));
      }
      for (const incident of incidents.allOpen()) {
        if (incident.suppressed || !wasTold(incident, 'down')) continue;
        scheduleReminder(incident, incident.notifiedAt ?? incident.openedAt);
        await scheduleEscalation(incident);
      }
      await reconcile();
      await deps.notices?.start?.();
      // Windows that began or ended while Lookout was stopped are announced now.
      await evaluateWindows(true);
    },

    async stop() {
      running = false;
      if (windowTimer !== undefined) clock.clearTimeout(windowTimer);
      reminders.stop();
      escalations.stop();
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },

    onChange: (change, target) =>
      inOrder(target.id, async () => {
        // The state this change led to is on disk first: a restart never finds an incident newer than its state.
        await deps.stateSaved?.(target.id);
        if (change.to === 'DOWN') await open(change.at, change.result, change.failures, target);
        else if (change.from === 'DOWN' && change.to === 'MAINTENANCE') await end(target.id, change.at, 'maintenance');
        else if (change.from === 'DOWN' && change.to !== 'PAUSED') await end(target.id, change.at, 'recovered', change.result?.ok ? formatResult(change.result) : undefined);
        if (deps.notices && (change.to === 'DEGRADED' || change.to === 'MAINTENANCE' || change.from === 'DEGRADED' || change.from === 'MAINTENANCE')) {
          await deps.notices.onChange(change, target, windows.activeFor(target.chatId, target.id, clock.now()).length > 0);
        }
        // Back UP from a known bad state (not the first check of a new or resumed target).
        if (change.to === 'UP' && (change.from === 'DOWN' || change.from === 'DEGRADED' || change.from === 'MAINTENANCE')) await endUntilUp(target);
      }),

    async acknowledge(incidentIds, actor, chatId) {
      const list = (await Promise.all(incidentIds.map((id) => incidents.get(id)))).filter((i): i is Incident => i !== undefined && i.chatId === chatId);
      if (list.length === 0) return undefined;
      const open = list.filter((i) => i.resolvedAt === undefined);
      if (open.length === 0) return 'resolved';
      const acked: Incident[] = [];
      for (const incident of open) {
        await incidents.update(incident.id, (i) => {
          // Checked inside the update: of two presses at the same moment, the first wins.
          if (i.ack || i.resolvedAt !== undefined) return;
          i.ack = { userId: actor.userId, name: actor.name, at: clock.now() };
          acked.push(i);
        });
        reminders.cancel(incident.id);
        escalations.cancel(incident.id);
      }
      if (acked.length === 0) return 'already';
      const first = acked[0]!;
      await send({ kind: 'acknowledged', incidentIds: acked.map((i) => i.id), by: { userId: actor.userId, name: actor.name } }, `${first.id}:ack`, first);
      for (const incident of acked) {
        await incidents.update(incident.id, (i) => {
          i.told = [...new Set([...(i.told ?? []), 'ack' as const])];
        });
      }
      log?.info({ event: 'acknowledged', chat: chatId, by: actor.userId, incidents: acked.length }, 'alert acknowledged');
      return 'acknowledged';
    },

    close: (targetId, resolution) => inOrder(targetId, () => end(targetId, clock.now(), resolution)),

    renamed: (previousId, target) =>
      inOrder(previousId, async () => {
        const current = incidents.openFor(previousId);
        if (current) {
          await incidents.update(current.id, (i) => {
            i.targetId = target.id;
          });
        }
        await windows.retarget(previousId, target.id);
      }),

    windowsChanged: () => track(evaluateWindows(false)),

    windowFor: (chatId, targetId) => windows.activeFor(chatId, targetId, clock.now())[0],

    async settle() {
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}
