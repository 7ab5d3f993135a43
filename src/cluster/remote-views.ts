// What each place sees of a target now, for `/status NAME`: the places tell the leader only their state
// changes (the journal), so the leader's own copy of a place's view has the latency of that place's last
// change. Asked for on demand instead: the leader publishes `views` with the target's id, every instance
// that checks it answers `viewed` with its own view (a few hundred bytes: a NOTIFY holds it), and the asker
// waits until each place asked for answered or a short timeout passed (a place that did not answer is shown
// as last known).

import { randomUUID } from 'node:crypto';
import type { LocationView } from '../domain/locations.js';
import type { Logger } from '../lib/logger.js';
import type { Bus } from './bus.js';

export interface RemoteViews {
  /** The views of the places in `locations`, as many as answered within `timeoutMs`. */
  collect(targetId: string, locations: readonly string[], timeoutMs?: number): Promise<Map<string, LocationView>>;
  start(): void;
  stop(): void;
}

export interface RemoteViewsDeps {
  bus: Bus;
  /** This instance's own view of a target it checks per location (undefined when it does not). */
  own(targetId: string): LocationView | undefined;
  logger?: Logger;
}

const TOPIC = { ask: 'views', answer: 'viewed' } as const;

/** Only the fields of a view, each of its type (a payload from the bus is not trusted blindly). */
function viewFrom(p: unknown): LocationView | undefined {
  const v = (p ?? {}) as Record<string, unknown>;
  if (typeof v.location !== 'string' || typeof v.state !== 'string' || typeof v.since !== 'number') return undefined;
  const states = ['UNKNOWN', 'UP', 'DEGRADED', 'DOWN', 'MAINTENANCE', 'PAUSED'];
  if (!states.includes(v.state)) return undefined;
  return {
    location: v.location.slice(0, 32),
    state: v.state as LocationView['state'],
    since: v.since,
    ...(typeof v.reason === 'string' ? { reason: v.reason.slice(0, 200) } : {}),
    ...(typeof v.latencyMs === 'number' ? { latencyMs: v.latencyMs } : {}),
  };
}

export function createRemoteViews(deps: RemoteViewsDeps): RemoteViews {
  const waiting = new Map<string, (view: LocationView) => void>();
  const offs: Array<() => void> = [];

  return {
    start() {
      if (offs.length > 0) return;
      offs.push(
        deps.bus.subscribe(TOPIC.ask, (p) => {
          const { req, id } = (p ?? {}) as { req?: unknown; id?: unknown };
          if (typeof req !== 'string' || typeof id !== 'string') return;
          const view = deps.own(id);
          if (view) void deps.bus.publish(TOPIC.answer, { req, view }).catch(() => undefined);
        }),
        deps.bus.subscribe(TOPIC.answer, (p) => {
          const { req, view } = (p ?? {}) as { req?: unknown; view?: unknown };
          const v = viewFrom(view);
          if (typeof req === 'string' && v) waiting.get(req)?.(v);
        }),
      );
    },

    stop() {
      for (const off of offs.splice(0)) off();
      waiting.clear();
    },

    async collect(targetId, locations, timeoutMs = 1_000) {
      const got = new Map<string, LocationView>();
      const mine = deps.own(targetId);
      if (mine && locations.includes(mine.location)) got.set(mine.location, mine);
      if (locations.every((l) => got.has(l))) return got;
      const req = randomUUID();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, timeoutMs);
        function finish(): void {
          clearTimeout(timer);
          waiting.delete(req);
          resolve();
        }
        waiting.set(req, (v) => {
          // The first answer of a place (two instances of a place may both hold a copy: the owner answers first or alone).
          if (locations.includes(v.location) && !got.has(v.location)) got.set(v.location, v);
          if (locations.every((l) => got.has(l))) finish();
        });
        deps.bus.publish(TOPIC.ask, { req, id: targetId }).catch((err: unknown) => {
          deps.logger?.warn({ event: 'cluster_publish_failed', cause: err instanceof Error ? err.message : String(err) }, 'could not ask the places for their views');
          finish();
        });
      });
      return got;
    },
  };
}
