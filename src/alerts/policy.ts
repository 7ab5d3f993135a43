import { shortId, type Incident } from '../domain/incident.js';
import type { StateChange } from '../domain/state.js';
import { servicePort, targetHost, type Target } from '../domain/target.js';
import { occurrenceAt, type Window } from '../domain/window.js';
import { createScheduler } from '../engine/scheduler.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import { createSerial } from '../lib/serial.js';
import { withTimeout } from '../lib/timeout.js';
import type { Logger } from '../lib/logger.js';
import type { WindowRegistry } from '../store/windows.js';
import {
  formatAlert,
  formatAlertLine,
  formatEscalation,
  formatRecoveredWindowEnded,
  formatResolution,
  formatWindowEnded,
  formatWindowStarted,
  type SourceInfo,
} from './format.js';
import type { IncidentBook } from './incidents.js';
import type { Notifier } from './notify.js';
import type { Outbox } from './outbox.js';
import type { StateNotices } from './state-notices.js';

// setTimeout fires at once when asked to wait more than 2^31-1 ms (24.8 days); a window may last 30
// days or recur yearly, so the timer wakes at least daily (an early wake-up only re-evaluates).
const WINDOW_TIMER_MAX_MS = 86_400_000;

/** Who pressed a button or ran a command. */
export interface Actor {
  userId: number;
  name: string;
}

/** Turns state changes into incidents and messages, honouring windows, acknowledgements and reminders. */
export interface AlertPolicy {
  /** Resumes after a restart: alerts that never went out, held-back alerts whose window ended, reminders, the window timer. */
  start(): Promise<void>;
  /** Sends what is grouped and waiting, and stops the timers. */
  stop(): Promise<void>;
  /** Handles one state change of the engine. */
  onChange(change: StateChange, target: Target): Promise<void>;
  /** Acknowledges every open incident of an alert message; reminders stop for them. */
  acknowledge(messageKey: string, actor: Actor): Promise<'acknowledged' | 'already' | 'resolved' | undefined>;
  /** Closes a target's open incident because a user paused or removed it (edits the alert, no new message). */
  close(targetId: string, resolution: 'paused' | 'removed'): Promise<void>;
  /** Keeps a renamed target's open incident and windows with it. */
  renamed(previousId: string, target: Target): Promise<void>;
  /** Re-evaluates after windows were added or removed by a command (`announce` = say when they end). */
  windowsChanged(): Promise<void>;
  /** Whether a target is in a window now (lists show it). */
  windowFor(chatId: number, targetId: string): Window | undefined;
}

/** What the policy needs. */
export interface AlertPolicyDeps {
  incidents: IncidentBook;
  outbox: Outbox;
  notifier: Notifier;
  windows: WindowRegistry;
  clock: Clock;
  /** Where Lookout runs: the label, and the local address toward a host (looked up with a short bound). */
  source: { label: string; addressFor(host: string): Promise<string | undefined> };
  /** The current settings of a target (for `remind`, and names in window messages). */
  target(id: string): Target | undefined;
  /** DEGRADED and MAINTENANCE messages. */
  notices?: StateNotices;
  /** Default reminder interval when a target sets none. */
  remindDefaultMs?: number;
  /** A chat's on-call people and default escalation delay (escalation is off without them). */
  chatSettings?(chatId: number): Promise<{ oncall?: Array<{ id?: number; username?: string; name: string }>; escalateMs?: number }>;
  logger?: Logger;
}

/**
 * The alert policy. DOWN opens an incident: alerted at once (grouped with other changes of the chat),
 * or held back while a window covers the target and alerted when the window ends if it is still DOWN.
 * UP resolves it: a reply and an edit of the alert, or nothing if it was never alerted. Unacknowledged
 * alerts are repeated every `remind` as replies.
 */
export function createAlertPolicy(deps: AlertPolicyDeps): AlertPolicy {
  const { incidents, outbox, notifier, windows, clock } = deps;
  const log = deps.logger;
  const remindDefault = deps.remindDefaultMs ?? 3_600_000;
  let seq = 0;
  let activeIds = new Set<string>();
  let windowTimer: TimerHandle | undefined;
  let running = false;

  const remindMsOf = (incident: Incident): number => deps.target(incident.targetId)?.remindMs ?? remindDefault;
  const reminders = createScheduler(clock, (id) => void remind(id).catch((err: unknown) => log?.error({ err, event: 'reminder_failed' }, 'reminder failed')));
  const scheduleReminder = (incident: Incident, from: number): void => {
    const every = remindMsOf(incident);
    if (every > 0 && incident.ack === undefined && incident.resolvedAt === undefined) reminders.schedule(incident.id, from + every);
  };
  const covered = (incident: Incident, now: number): boolean => windows.activeFor(incident.chatId, incident.targetId, now).length > 0;

  async function remind(id: string): Promise<void> {
    const incident = await incidents.get(id);
    if (!incident || incident.resolvedAt !== undefined || incident.ack) return;
    const now = clock.now();
    if (!incident.suppressed && incident.alertKey !== undefined && !covered(incident, now)) {
      await incidents.update(id, (i) => {
        i.notifiedAt = now;
        i.reminders = (i.reminders ?? 0) + 1;
      });
      notifier.notify(incident, { kind: 'reminder', incidentId: id });
    }
    scheduleReminder(incident, now);
  }

  // Escalation: an alert nobody acknowledged is answered with a mention of the next person on call,
  // one more person each `escalate` period, until someone presses Ack or it resolves.
  const escalations = createScheduler(clock, (id) => void escalate(id).catch((err: unknown) => log?.error({ err, event: 'escalation_failed' }, 'escalation failed')));
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
    // A grouped alert is escalated once, by its first open incident; the others only keep the step.
    const message = incident.alertKey !== undefined ? await incidents.messages.get(incident.alertKey) : undefined;
    const siblings = message ? (await incidents.incidentsOf(message)).filter((i) => i.resolvedAt === undefined && !i.ack) : [incident];
    const leader = siblings[0]?.id === incident.id;
    let go = false;
    const updated = await incidents.update(id, (i) => {
      // Checked inside the update: an Ack that arrived meanwhile wins.
      if (i.ack || i.resolvedAt !== undefined) return;
      i.escalations = step + 1;
      go = true;
    });
    if (!go || !updated) return;
    if (leader) {
      await outbox.enqueue(incident.chatId, incident.threadId, {
        op: 'send',
        text: formatEscalation(incident, person, now, siblings.length - 1),
        ...(incident.alertKey !== undefined ? { replyToKey: incident.alertKey } : {}),
      });
      log?.info({ event: 'escalated', chat: incident.chatId, target: incident.targetId, step: step + 1 }, 'alert escalated to the next person on call');
    }
    await scheduleEscalation(updated);
  }

  const alert = (incident: Incident): void => {
    notifier.notify(incident, { kind: 'down', incidentId: incident.id });
    scheduleReminder(incident, clock.now());
    const alertedAt = clock.now();
    void incidents
      .update(incident.id, (i) => {
        i.alertedAt = alertedAt;
      })
      .then((updated) => updated && scheduleEscalation(updated))
      .catch((err: unknown) => log?.error({ err, event: 'escalation_failed' }, 'could not schedule the escalation'));
  };

  // Changes of one target are handled in order, so a quick DOWN → UP never resolves before it opened.
  const serial = createSerial();
  const inOrder = (targetId: string, work: () => Promise<void>): Promise<void> => serial.run(targetId, work);

  async function open(change: StateChange, target: Target): Promise<void> {
    if (incidents.openFor(target.id)) return;
    const suppressed = windows.activeFor(target.chatId, target.id, clock.now()).length > 0;
    const host = targetHost(target);
    const address = await withTimeout(deps.source.addressFor(host), 200);
    const source: SourceInfo = { label: deps.source.label, ...(address ? { address } : {}) };
    const incident = await incidents.open({
      id: shortId(clock.now(), seq++),
      targetId: target.id,
      chatId: target.chatId,
      ...(target.threadId !== undefined ? { threadId: target.threadId } : {}),
      name: target.name,
      openedAt: change.at,
      reason: change.result?.reason ?? 'unknown',
      ...(change.result?.failure ? { failure: change.result.failure } : {}),
      host,
      port: servicePort(target),
      alertText: formatAlert(target, change, source),
      line: formatAlertLine(target, change),
      ...(suppressed ? { suppressed: true } : {}),
    });
    if (suppressed) log?.info({ event: 'alert_held', target: target.id, chat: target.chatId }, 'DOWN inside a window: alert held back');
    else alert(incident);
  }

  async function close(targetId: string, resolution: 'paused' | 'removed' | 'maintenance'): Promise<void> {
    const current = incidents.openFor(targetId);
    if (!current) return;
    reminders.cancel(current.id);
    escalations.cancel(current.id);
    const incident = await incidents.update(current.id, (i) => {
      i.resolvedAt = clock.now();
      i.resolution = resolution;
    });
    if (incident?.alertKey) await outbox.enqueue(incident.chatId, incident.threadId, { op: 'edit-alert', key: incident.alertKey });
  }

  async function resolve(change: StateChange, target: Target): Promise<void> {
    const current = incidents.openFor(target.id);
    if (!current) return;
    reminders.cancel(current.id);
    escalations.cancel(current.id);
    const incident = await incidents.update(current.id, (i) => {
      i.resolvedAt = change.at;
      i.resolution = 'recovered';
    });
    // Down and back inside a window: nothing was said, nothing to say.
    if (!incident || incident.suppressed) return;
    notifier.notify(incident, { kind: 'up', incidentId: incident.id, text: formatResolution(target, incident, change.result) });
  }

  /** `until-up` windows of a target that is UP again end now, and say so. */
  async function endUntilUp(target: Target): Promise<void> {
    const ending = windows.activeFor(target.chatId, target.id, clock.now()).filter((w) => w.untilUp && w.targetId === target.id);
    if (ending.length === 0) return;
    for (const w of ending) {
      await windows.remove(w.id);
      await outbox.enqueue(w.chatId, w.threadId, { op: 'send', silent: true, text: formatRecoveredWindowEnded(target.name) });
      log?.info({ event: 'window_ended_up', chat: w.chatId, target: target.id, window: w.id }, 'until-up window ended: the target is UP');
    }
    await evaluateWindows(false);
  }

  const scopeName = (w: Window): string => {
    if (w.targetId === undefined) return 'all targets';
    return deps.target(w.targetId)?.name ?? w.targetId.slice(w.targetId.indexOf('/') + 1);
  };

  async function evaluateWindows(announce: boolean): Promise<void> {
    const now = clock.now();
    const current = new Set(windows.list().filter((w) => occurrenceAt(w, now) !== undefined).map((w) => w.id));
    if (announce) {
      for (const w of windows.list()) {
        const occurrence = occurrenceAt(w, now);
        // A mute's start is the answer to its command; scheduled maintenance announces itself.
        if (occurrence && !activeIds.has(w.id) && w.kind === 'maintenance') {
          await outbox.enqueue(w.chatId, w.threadId, { op: 'send', silent: true, text: formatWindowStarted(w, scopeName(w), occurrence.end) });
        }
      }
      for (const id of activeIds) {
        const w = windows.get(id);
        if (w && !current.has(id)) await outbox.enqueue(w.chatId, w.threadId, { op: 'send', silent: true, text: formatWindowEnded(w, scopeName(w)) });
      }
    }
    activeIds = current;
    // Alerts held back by windows that no longer cover their target go out now.
    for (const incident of incidents.allOpen()) {
      if (!incident.suppressed || covered(incident, now)) continue;
      let released = false;
      await incidents.update(incident.id, (i) => {
        // Checked inside the update: of two evaluations at once, only the first releases the alert.
        if (!i.suppressed || i.resolvedAt !== undefined) return;
        i.suppressed = false;
        released = true;
      });
      if (released) alert(incident);
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
      void evaluateWindows(true).catch((err: unknown) => log?.error({ err, event: 'window_evaluation_failed' }, 'window evaluation failed'));
    }, Math.min(WINDOW_TIMER_MAX_MS, Math.max(0, next - clock.now())));
  }

  return {
    async start() {
      running = true;
      const now = clock.now();
      activeIds = new Set(windows.list().filter((w) => occurrenceAt(w, now) !== undefined).map((w) => w.id));
      for (const incident of incidents.allOpen()) {
        if (incident.suppressed) continue;
        if (incident.alertKey !== undefined) {
          scheduleReminder(incident, incident.notifiedAt ?? incident.openedAt);
          await scheduleEscalation(incident);
        }
        // Its alert was still waiting for its group when the last run ended without stop(): send it now.
        else alert(incident);
      }
      await evaluateWindows(false);
    },

    async stop() {
      running = false;
      if (windowTimer !== undefined) clock.clearTimeout(windowTimer);
      reminders.stop();
      escalations.stop();
      await notifier.flushAll();
    },

    onChange: (change, target) =>
      inOrder(target.id, async () => {
        if (change.to === 'DOWN') await open(change, target);
        else if (change.from === 'DOWN' && change.to === 'MAINTENANCE') await close(target.id, 'maintenance');
        else if (change.from === 'DOWN' && change.to !== 'PAUSED') await resolve(change, target);
        if (deps.notices && (change.to === 'DEGRADED' || change.to === 'MAINTENANCE' || change.from === 'DEGRADED' || change.from === 'MAINTENANCE')) {
          await deps.notices.onChange(change, target, windows.activeFor(target.chatId, target.id, clock.now()).length > 0);
        }
        // Back UP from a known bad state (not the first check of a new or resumed target).
        if (change.to === 'UP' && (change.from === 'DOWN' || change.from === 'DEGRADED' || change.from === 'MAINTENANCE')) await endUntilUp(target);
      }),

    async acknowledge(key, actor) {
      const message = await incidents.messages.get(key);
      if (!message) return undefined;
      const list = await incidents.incidentsOf(message);
      const open = list.filter((i) => i.resolvedAt === undefined);
      if (open.length === 0) return 'resolved';
      let acknowledged = 0;
      for (const incident of open) {
        await incidents.update(incident.id, (i) => {
          // Checked inside the update: of two presses at the same moment, the first wins.
          if (i.ack || i.resolvedAt !== undefined) return;
          i.ack = { userId: actor.userId, name: actor.name, at: clock.now() };
          acknowledged++;
        });
        reminders.cancel(incident.id);
        escalations.cancel(incident.id);
      }
      if (acknowledged === 0) return 'already';
      await outbox.enqueue(message.chatId, message.threadId, { op: 'edit-alert', key });
      log?.info({ event: 'acknowledged', chat: message.chatId, message: key, by: actor.userId, incidents: acknowledged }, 'alert acknowledged');
      return 'acknowledged';
    },

    close: (targetId, resolution) => inOrder(targetId, () => close(targetId, resolution)),

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

    windowsChanged: () => evaluateWindows(false),

    windowFor: (chatId, targetId) => windows.activeFor(chatId, targetId, clock.now())[0],
  };
}
