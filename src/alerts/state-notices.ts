import type { Notification } from '../domain/notification.js';
import type { StateChange, StateRecord } from '../domain/state.js';
import { targetAddress, type Target } from '../kinds/index.js';
import type { KeyvStore } from '../store/keyv.js';
import type { Tell } from '../domain/notification.js';

/** Notices for DEGRADED and MAINTENANCE, which are not outages: no incident, no buttons, no reminders. */
export interface StateNotices {
  /** Handles a change into or out of DEGRADED or MAINTENANCE; `quiet` when a window covers the target. */
  onChange(change: StateChange, target: Target, quiet: boolean): Promise<void>;
  /** After a restart: queues what was decided and not queued, and the way back of states left meanwhile. */
  start?(): Promise<void>;
}

/** What was said about a target, so the way back is announced only when the way in was. */
interface Said {
  state: 'DEGRADED' | 'MAINTENANCE';
  at: number;
  detail?: string;
  chatId: number;
  threadId?: number;
  name: string;
  /** The notice is queued (the record is written first, so a crash before the queue loses nothing). */
  told?: boolean;
}

/** What the notices need. */
export interface StateNoticesDeps {
  store: KeyvStore;
  tell: Tell;
  now(): number;
  /** For a restart: every target and its saved state. */
  targets?(): Target[];
  state?(id: string): StateRecord | undefined;
}

/**
 * 🟡 DEGRADED (latency or error rate) with its reason, and "back to normal" when it ends; 🔧 MAINTENANCE
 * reported by the service, quietly, and its end, quietly too. Inside a window nothing is said, and then
 * nothing is said when it ends either.
 */
export function createStateNotices(deps: StateNoticesDeps): StateNotices {
  const said = deps.store.namespace<Said>('state-notices');
  const where = (t: { chatId: number; threadId?: number }): Pick<Notification, 'chatId' | 'threadId'> => ({
    chatId: t.chatId,
    ...(t.threadId !== undefined ? { threadId: t.threadId } : {}),
  });
  const facts = (t: Target) => ({ id: t.id, name: t.name, address: targetAddress(t) });

  async function tellIn(targetId: string, s: Said, target: Target | undefined): Promise<void> {
    const t = target ? facts(target) : { id: targetId, name: s.name, address: '' };
    const id = `${targetId}:${s.state}:${s.at}`;
    const common = { id, at: deps.now(), targetId, ...where(s) };
    await deps.tell(s.state === 'DEGRADED' ? { kind: 'degraded', target: t, ...(s.detail ? { detail: s.detail } : {}), ...common } : { kind: 'maintenance', target: t, ...(s.detail ? { detail: s.detail } : {}), ...common });
    await said.set(targetId, { ...s, told: true });
  }

  async function tellOut(targetId: string, s: Said, at: number, target: Target | undefined): Promise<void> {
    const t = target ? facts(target) : { id: targetId, name: s.name, address: '' };
    const common = { id: `${targetId}:${s.state}:${s.at}:over`, at: deps.now(), targetId, ...where(s) };
    const durationMs = at - s.at;
    await deps.tell(s.state === 'DEGRADED' ? { kind: 'normal', target: t, durationMs, ...common } : { kind: 'maintenance-over', target: t, durationMs, ...common });
    await said.delete(targetId);
  }

  return {
    async onChange(change, target, quiet) {
      const before = await said.get(target.id);
      if (before && change.from === before.state) {
        if (change.to === 'UP' && before.told !== false) await tellOut(target.id, before, change.at, target);
        else await said.delete(target.id);
      }
      if (quiet || (change.to !== 'DEGRADED' && change.to !== 'MAINTENANCE')) return;
      const s: Said = { state: change.to, at: change.at, ...(change.detail ? { detail: change.detail } : {}), ...where(target), name: target.name, told: false };
      await said.set(target.id, s);
      await tellIn(target.id, s, target);
    },

    async start() {
      if (!deps.targets || !deps.state) return;
      for (const target of deps.targets()) {
        const s = await said.get(target.id);
        if (!s) continue;
        if (s.told === false) await tellIn(target.id, s, target);
        const state = deps.state(target.id);
        // Left that state while the notice of its end was on its way: told now.
        if (state && state.state !== s.state && state.since >= s.at) {
          if (state.state === 'UP') await tellOut(target.id, { ...s, told: true }, state.since, target);
          else await said.delete(target.id);
        }
      }
    },
  };
}
