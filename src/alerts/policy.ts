import { incidentId, type Incident } from '../domain/incident.js';
import type { StateChange } from '../domain/state.js';
import type { Target } from '../domain/target.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { formatAlert, formatIncidentAlert, formatResolution, type SourceInfo } from './format.js';
import type { IncidentBook } from './incidents.js';
import type { Outbox } from './outbox.js';

/** Who pressed a button. */
export interface Actor {
  userId: number;
  name: string;
}

/** Turns state changes into incidents and messages. */
export interface AlertPolicy {
  /** Handles one state change of the engine. */
  onChange(change: StateChange, target: Target): Promise<void>;
  /** Records an acknowledgement; `already` when someone acknowledged it before. */
  acknowledge(incidentId: string, actor: Actor): Promise<Incident | 'already' | 'resolved' | undefined>;
  /** Closes a target's open incident because a user paused or removed it (edits the alert, no new message). */
  close(targetId: string, resolution: 'paused' | 'removed'): Promise<void>;
}

/** What the policy needs. */
export interface AlertPolicyDeps {
  incidents: IncidentBook;
  outbox: Outbox;
  clock: Clock;
  source: () => SourceInfo;
  logger?: Logger;
}

/** The alert policy: DOWN opens an incident and alerts; UP resolves it, replies and edits the alert. */
export function createAlertPolicy(deps: AlertPolicyDeps): AlertPolicy {
  const { incidents, outbox, clock } = deps;
  let seq = 0;

  async function open(change: StateChange, target: Target): Promise<void> {
    if (incidents.openFor(target.id)) return;
    const incident = await incidents.open({
      id: incidentId(clock.now(), seq++ % 46_656),
      targetId: target.id,
      chatId: target.chatId,
      ...(target.threadId !== undefined ? { threadId: target.threadId } : {}),
      name: target.name,
      openedAt: change.at,
      reason: change.result?.reason ?? 'unknown',
      alertText: formatAlert(target, change, deps.source()),
    });
    const rendered = formatIncidentAlert(incident);
    await outbox.enqueue(target.chatId, target.threadId, {
      op: 'send',
      role: 'alert',
      incidentId: incident.id,
      text: rendered.text,
      ...(rendered.buttons ? { buttons: rendered.buttons } : {}),
    });
  }

  async function resolve(change: StateChange, target: Target): Promise<void> {
    const current = incidents.openFor(target.id);
    if (!current) return;
    const incident = await incidents.update(current.id, (i) => {
      i.resolvedAt = change.at;
      i.resolution = 'recovered';
    });
    if (!incident) return;
    await outbox.enqueue(incident.chatId, incident.threadId, {
      op: 'send',
      role: 'resolution',
      incidentId: incident.id,
      text: formatResolution(target, incident, change.result),
    });
    await outbox.enqueue(incident.chatId, incident.threadId, { op: 'edit-incident', incidentId: incident.id });
  }

  // Changes of one target are handled in order, so a quick DOWN → UP never resolves before it opened.
  const chains = new Map<string, Promise<void>>();
  const inOrder = (targetId: string, work: () => Promise<void>): Promise<void> => {
    const previous = chains.get(targetId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    chains.set(targetId, next);
    void next.finally(() => {
      if (chains.get(targetId) === next) chains.delete(targetId);
    }).catch(() => undefined);
    return next;
  };
  const handle = async (change: StateChange, target: Target): Promise<void> => {
    if (change.to === 'DOWN') await open(change, target);
    else if (change.from === 'DOWN' && change.to === 'UP') await resolve(change, target);
  };

  return {
    onChange: (change, target) => inOrder(target.id, () => handle(change, target)),

    async acknowledge(id, actor) {
      let refused: 'already' | 'resolved' | undefined;
      // Decided inside the update: of two presses at the same moment only the first is recorded.
      const incident = await incidents.update(id, (i) => {
        if (i.resolvedAt !== undefined) refused = 'resolved';
        else if (i.ack) refused = 'already';
        else i.ack = { userId: actor.userId, name: actor.name, at: clock.now() };
      });
      if (!incident) return undefined;
      if (refused) return refused;
      await outbox.enqueue(incident.chatId, incident.threadId, { op: 'edit-incident', incidentId: id });
      deps.logger?.info({ event: 'acknowledged', target: incident.targetId, chat: incident.chatId, incident: id, by: actor.userId }, 'incident acknowledged');
      return incident;
    },

    close: (targetId, resolution) => inOrder(targetId, async () => {
      const current = incidents.openFor(targetId);
      if (!current) return;
      const incident = await incidents.update(current.id, (i) => {
        i.resolvedAt = clock.now();
        i.resolution = resolution;
      });
      if (incident) await outbox.enqueue(incident.chatId, incident.threadId, { op: 'edit-incident', incidentId: incident.id });
    }),
  };
}
