import { formatDuration } from '../domain/duration.js';
import type { StateChange } from '../domain/state.js';
import type { Target } from '../domain/target.js';
import { escapeHtml } from '../lib/html.js';
import type { KeyvStore } from '../store/keyv.js';
import type { Outbox } from './outbox.js';

/** Messages for DEGRADED and MAINTENANCE, which are not outages: no incident, no buttons, no reminders. */
export interface StateNotices {
  /** Handles a change into or out of DEGRADED or MAINTENANCE; `quiet` when a window covers the target. */
  onChange(change: StateChange, target: Target, quiet: boolean): Promise<void>;
}

/** What was said about a target, so the way back is announced only when the way in was. */
interface Said {
  state: 'DEGRADED' | 'MAINTENANCE';
  at: number;
}

/**
 * 🟡 DEGRADED (latency or error rate) with its reason, and "back to normal" when it ends; 🔧 MAINTENANCE
 * reported by the service, quietly (`disable_notification`), and its end, quietly too. Inside a window
 * nothing is said, and then nothing is said when it ends either.
 */
export function createStateNotices(store: KeyvStore, outbox: Outbox): StateNotices {
  const said = store.namespace<Said>('state-notices');
  const send = (t: Target, text: string, silent: boolean): Promise<unknown> =>
    outbox.enqueue(t.chatId, t.threadId, { op: 'send', text, ...(silent ? { silent: true } : {}) });
  const name = (t: Target): string => `<b>${escapeHtml(t.name)}</b>`;

  return {
    async onChange(change, target, quiet) {
      const before = await said.get(target.id);
      if (before && change.from === before.state) {
        await said.delete(target.id);
        const took = formatDuration(change.at - before.at);
        if (change.to === 'UP' && before.state === 'DEGRADED') await send(target, `🟢 ${name(target)} is back to normal (was DEGRADED for ${took})`, false);
        if (change.to === 'UP' && before.state === 'MAINTENANCE') await send(target, `🔧 ${name(target)} is out of maintenance after ${took}`, true);
      }
      if (quiet || (change.to !== 'DEGRADED' && change.to !== 'MAINTENANCE')) return;
      await said.set(target.id, { state: change.to, at: change.at });
      const detail = change.detail ? `: ${escapeHtml(change.detail)}` : '';
      if (change.to === 'DEGRADED') await send(target, `🟡 ${name(target)} is DEGRADED${detail}`, false);
      else await send(target, `🔧 ${name(target)} reports maintenance${detail}. Checks go on; no alert while it lasts.`, true);
    },
  };
}
