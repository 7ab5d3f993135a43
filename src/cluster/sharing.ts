// Checks shared by the instances on one database: who checks what, and how what one instance learns
// reaches the others.
//
// - Who: a target belongs to the live member that weighs most for it (assignment.ts over members.ts's
//   live set). Every instance computes the same answer; when the set changes, the engine takes the
//   targets it gained (reading the state their last owner saved) and gives up the others (saving theirs).
// - Target changes: the leader's chat (and TARGETS_FILE) change targets in the store and then publish
//   `target` with the id; every instance reads that target again (`engine.sync`). A lost LISTEN
//   connection is followed by a full comparison with the store (notifications of the gap are lost).
// - State changes: an instance that does not lead writes each state change of its targets to the change
//   journal (a namespace of the store, so it goes through the pending-write layer like every decision),
//   then publishes `change` with the journal key. The leader reads the entry, updates its copy of the
//   state, hands the change to the alert policy and deletes the entry once the policy's decision is saved.
//   It also reads the whole journal when it starts leading, when its LISTEN connection comes back and
//   every `drainEveryMs`, so a change whose notification was lost (a leader that died, a database that
//   was down when it was published) is still decided, late rather than never. The journal key starts
//   with the time, so entries are handled in the order they happened.

import type { Notification } from '../domain/notification.js';
import type { StateChange, StateRecord } from '../domain/state.js';
import type { Engine } from '../engine/engine.js';
import type { Target } from '../kinds/index.js';
import { systemClock, type Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { KeyvStore } from '../store/keyv.js';
import type { TargetRepository } from '../store/targets.js';
import { ownerOf, placeTarget, type Placement, type PlacedMember } from './assignment.js';
import type { Bus } from './bus.js';
import { MessageTooLarge } from './message-size.js';
import type { Membership } from './members.js';

/** One state change in the journal, as its owner saw it, or a notification an instance asks the leader to send. */
export type JournalEntry =
  | {
      targetId: string;
      change: StateChange;
      /** The owner's state record after the change (the leader's copy). */
      record: StateRecord;
      /** The instance that checked. */
      by: string;
      /** Where it checked from, when the target is checked per location. */
      location?: string;
    }
  | { tell: Notification; by: string };

/** The location a journal entry's state was seen from (several locations: the leader takes the verdict). */
export const entryLocation = (e: JournalEntry): string | undefined => ('location' in e ? e.location : undefined);

/** What the leader does with the journal. */
export interface Leading {
  /**
   * Decides on a state change (the alert policy); resolves once the decision is saved. With `seen` the
   * change is one location's view of a target checked per location (the leader takes the verdict).
   */
  decide(change: StateChange, target: Target, seen?: { location: string; record: StateRecord }): Promise<void>;
  /** Queues a notification (the outbox); resolves once it is saved. */
  tell(notification: Notification): Promise<void>;
}

/** The bus topics the instances use. */
export const TOPICS = { target: 'target', change: 'change', members: 'members', drain: 'drain', check: 'check' } as const;

export interface SharingDeps {
  membership: Membership;
  bus: Bus;
  engine: Engine;
  store: KeyvStore;
  targets: TargetRepository;
  clock?: Clock;
  logger?: Logger;
  /** How often the leader reads the whole journal besides the notifications (ms, default 5 s). */
  drainEveryMs?: number;
  /** After the engine took or gave targets because the live set changed. */
  reassigned?: (r: { taken: string[]; given: string[] }) => void;
  /** Where this instance checks from (`LOCATION`); the others' come from their member rows. */
  location?: string;
  /** The leader's verdict of a target checked per location, as announced (this instance's copy for /api/status). */
  verdict?: (record: StateRecord) => void;
}

export interface Sharing {
  /** Whether this instance checks `targetId` (all of them while the live set is unknown). */
  owns(targetId: string, target?: Target): boolean;
  /** Who checks the target among the live instances, and whether per location. */
  placement(targetId: string, target?: Target): Placement;
  /** The live instances and where each checks from (this one included). */
  placed(): readonly PlacedMember[];
  /** This instance's location. */
  readonly location: string;
  /** Subscribes to the bus and the member set; call after the membership and the bus have started. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A target changed in the store here: the others read it again. */
  targetChanged(targetId: string, previousId?: string): void;
  /** A state change this instance (the leader) decided on itself: the others update their copy. */
  announce(record: StateRecord): void;
  /** Asks the instance that checks `targetId` to check it now (a heartbeat's ping arrived here). */
  checkOnOwner(targetId: string): void;
  /** A state change of a target this instance checks while it does not lead: saved in the journal, then announced. */
  forward(change: StateChange, target: Target): Promise<void>;
  /** A notification this instance has to send while it does not lead (an expiry warning): the leader queues it. */
  forwardTell(notification: Notification): Promise<void>;
  /** This instance leads from now on: the journal's entries go to `leading`; resolves once the journal has been read. */
  lead(leading: Leading): Promise<void>;
  /** No longer leading: changes stay in the journal for the next leader. */
  unlead(): void;
  /** Reads the journal now and hands what it holds to the leader's policy (resolves when done). */
  drain(): Promise<void>;
  /** Journal entries handled by this instance as leader, and forwarded by it (for /health and tests). */
  stats(): { forwarded: number; decided: number; drains: number };
}

/** Whether `self` checks `targetId` among `live` (all targets while the set is unknown or lacks this instance). */
export function ownsAmong(self: string, live: readonly string[], targetId: string): boolean {
  if (live.length === 0 || !live.includes(self)) return true;
  return ownerOf(targetId, live) === self;
}

export function createSharing(deps: SharingDeps): Sharing {
  const { membership, bus, engine, logger } = deps;
  const clock = deps.clock ?? systemClock;
  const journal = deps.store.namespace<JournalEntry>('cluster-changes');
  const drainEveryMs = deps.drainEveryMs ?? 5_000;
  const self = membership.id;
  let seq = 0;
  let decide: Leading | undefined;
  const handled = new Set<string>();
  // The time of the last change decided per target: an older one arriving late (an instance that could
  // not reach the database, a lost notification) must not undo a newer decision (reopen what was resolved).
  const decidedAt = new Map<string, number>();
  let chain: Promise<void> = Promise.resolve();
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  let running = false;
  const offs: Array<() => void> = [];
  const stats = { forwarded: 0, decided: 0, drains: 0 };
  let lastLive: string[] = [];

  /** Handles one journal entry (in the chain: one at a time, in the order they were announced or listed). */
  const handle = async (key: string, known?: JournalEntry): Promise<void> => {
    const policy = decide;
    if (!policy || handled.has(key)) return;
    const entry = known ?? (await journal.get(key));
    if (!entry) return;
    handled.add(key);
    try {
      // Per location, each place's changes are in order on their own (a place's late change is no older than another's).
      const where = 'tell' in entry ? undefined : entry.location;
      const decidedKey = 'tell' in entry ? '' : where !== undefined ? `${entry.targetId}@${where}` : entry.targetId;
      if ('tell' in entry) await policy.tell(entry.tell);
      else if ((decidedAt.get(decidedKey) ?? -Infinity) > entry.change.at) {
        logger?.warn({ event: 'cluster_change_stale', target: entry.targetId, at: entry.change.at }, 'a state change older than one decided already was dropped');
      } else {
        const target = engine.target(entry.targetId);
        // A target paused here meanwhile: what its owner saw of it in the last check is not decided on.
        if (target && !target.paused) {
          if (where === undefined) {
            engine.observe(entry.record);
            await policy.decide(entry.change, target);
          } else await policy.decide(entry.change, target, { location: where, record: entry.record });
        }
        decidedAt.set(decidedKey, entry.change.at);
      }
      // Left for the next leader when this one stepped down meanwhile (its policy finished the decision and saved it).
      if (decide !== policy) return;
      await journal.delete(key);
      stats.decided++;
    } catch (err) {
      // Left in the journal: the next drain tries it again.
      handled.delete(key);
      logger?.error({ err, event: 'cluster_change_failed', ...('targetId' in entry ? { target: entry.targetId } : {}) }, 'could not decide on a state change from another instance');
    }
    // The set only needs to cover keys that may still be announced or listed.
    if (handled.size > 10_000) handled.clear();
  };

  const enqueue = (work: () => Promise<void>): Promise<void> => {
    const next = chain.then(work).catch((err: unknown) => logger?.error({ err, event: 'cluster_change_failed' }, 'could not handle a journal entry'));
    chain = next;
    return next;
  };

  const drain = (): Promise<void> =>
    enqueue(async () => {
      if (!decide) return;
      stats.drains++;
      if (!journal.iterator) return;
      const entries: Array<[string, JournalEntry]> = [];
      for await (const [key, value] of journal.iterator(undefined)) entries.push([String(key), value as JournalEntry]);
      entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      for (const [key, entry] of entries) await handle(key, entry);
    });

  const scheduleDrain = (): void => {
    if (!running) return;
    timer = clock.setTimeout(() => {
      void drain().finally(scheduleDrain);
    }, drainEveryMs);
  };

  /** After a lost LISTEN connection: every target compared with the store. */
  const resync = async (): Promise<void> => {
    const stored = await deps.targets.list();
    const ids = new Set(stored.map((t) => t.id));
    let changed = 0;
    for (const t of stored) {
      const mine = engine.target(t.id);
      if (!mine || JSON.stringify(mine) !== JSON.stringify(t)) {
        await engine.sync(t.id);
        changed++;
      }
    }
    for (const t of engine.targets()) {
      if (!ids.has(t.id)) {
        await engine.sync(t.id);
        changed++;
      }
    }
    if (changed > 0) logger?.info({ event: 'cluster_resynced', changed }, `${changed} targets read again after a lost connection`);
  };

  /** Saves an entry (through the pending-write layer: durable once the database takes it), then rings the leader. */
  const append = async (at: number, entry: JournalEntry): Promise<void> => {
    const key = `${String(at).padStart(15, '0')}:${self}:${String(++seq).padStart(9, '0')}`;
    await journal.set(key, entry);
    stats.forwarded++;
    await publishChange({ key, ...('record' in entry ? { record: entry.record, ...(entry.location !== undefined ? { location: entry.location } : {}) } : {}) });
  };

  /** With the record when it fits a notification, else the key alone (the leader reads the entry; the others wait for the next change). */
  const publishChange = (payload: { key?: string; record?: StateRecord; location?: string }): Promise<void> =>
    bus.publish(TOPICS.change, payload).catch((err: unknown) => {
      if (err instanceof MessageTooLarge && payload.key !== undefined) return bus.publish(TOPICS.change, { key: payload.key }).catch(() => undefined);
      return undefined;
    });

  const syncChain = { last: Promise.resolve() as Promise<void> };
  const syncOne = (id: string): Promise<void> =>
    (syncChain.last = syncChain.last.then(() => engine.sync(id)).catch((err: unknown) => logger?.error({ err, event: 'cluster_sync_failed', target: id }, 'could not read a changed target')));

  const location = deps.location ?? 'default';
  // The live members with their locations, computed once per live set (owns() is asked per target).
  let placedKey = '';
  let placedList: PlacedMember[] = [];
  const placed = (): PlacedMember[] => {
    const live = membership.live();
    const rows = membership.members();
    const key = `${live.join(',')}|${rows.length}`;
    if (key !== placedKey) {
      const where = new Map(rows.map((r) => [r.id, r.location ?? 'default']));
      where.set(self, location);
      placedList = live.map((id) => ({ id, location: where.get(id) ?? 'default' }));
      placedKey = key;
    }
    return placedList;
  };
  const placement = (id: string, target?: Target): Placement => placeTarget(id, (target ?? engine.target(id))?.locations, placed());

  return {
    owns(id, target) {
      const live = membership.live();
      if (live.length === 0 || !live.includes(self)) return true;
      const p = placement(id, target);
      return p.owners.includes(self);
    },
    placement,
    placed,
    location,

    async start() {
      running = true;
      lastLive = [...membership.live()];
      offs.push(
        bus.subscribe(TOPICS.target, (p) => {
          const { id, previousId } = (p ?? {}) as { id?: unknown; previousId?: unknown };
          if (typeof previousId === 'string') void syncOne(previousId);
          if (typeof id === 'string') void syncOne(id);
        }),
        bus.subscribe(TOPICS.change, (p) => {
          const { key, record, location: at } = (p ?? {}) as { key?: unknown; record?: StateRecord; location?: unknown };
          // Every instance keeps its copy of the others' states current (/api/status, /healthz of any instance);
          // one location's view of a target checked per location is not the target's state (the leader announces the verdict).
          // A verdict (announced by the leader) is never an owner's own record of its place.
          if (record && typeof record.targetId === 'string' && at === undefined) {
            const perLocation = placement(record.targetId).perLocation;
            if (perLocation) deps.verdict?.(record);
            if (!(engine.owned(record.targetId) && perLocation)) engine.observe(record);
          }
          if (typeof key === 'string' && decide) void enqueue(() => handle(key));
        }),
        bus.subscribe(TOPICS.members, () => void membership.refresh()),
        bus.subscribe(TOPICS.check, (p) => {
          const { id } = (p ?? {}) as { id?: unknown };
          if (typeof id === 'string' && engine.owned(id)) void engine.checkNow(id).catch(() => undefined);
        }),
        bus.subscribe(TOPICS.drain, () => void drain()),
        bus.onReconnect(() => {
          void resync().catch((err: unknown) => logger?.error({ err, event: 'cluster_resync_failed' }, 'could not compare the targets with the store'));
          void drain();
        }),
        membership.onChange((live) => {
          // An instance that left may have changed a target in the store and died before announcing it:
          // the targets are compared with the store (one read), as after a lost LISTEN connection.
          const left = lastLive.filter((id) => id !== self && !live.includes(id));
          lastLive = [...live];
          if (left.length > 0) void resync().catch((err: unknown) => logger?.error({ err, event: 'cluster_resync_failed' }, 'could not compare the targets with the store'));
          void engine.reassign().then((r) => deps.reassigned?.(r)).catch((err: unknown) => logger?.error({ err, event: 'reassign_failed' }, 'could not take or give targets'));
        }),
      );
      // A change of the live set between the engine's start and the subscription above is not missed.
      await engine.reassign().then((r) => deps.reassigned?.(r));
      // The others learn of this instance now rather than at their next beat.
      await bus.publish(TOPICS.members, { id: self }).catch(() => undefined);
      scheduleDrain();
    },

    async stop() {
      running = false;
      if (timer !== undefined) clock.clearTimeout(timer);
      for (const off of offs.splice(0)) off();
      decide = undefined;
      await chain;
      await syncChain.last;
    },

    targetChanged(id, previousId) {
      void bus.publish(TOPICS.target, { id, ...(previousId !== undefined ? { previousId } : {}) }).catch((err: unknown) =>
        logger?.warn({ event: 'cluster_publish_failed', target: id, cause: err instanceof Error ? err.message : String(err) }, 'could not tell the other instances of a target change: they read it again when their connection is back'),
      );
    },

    announce(record) {
      decidedAt.set(record.targetId, record.since);
      void publishChange({ record });
    },

    checkOnOwner(id) {
      void bus.publish(TOPICS.check, { id }).catch(() => undefined);
    },

    async forward(change, target) {
      const record = engine.state(target.id);
      if (!record) return;
      const perLocation = placement(target.id, target).perLocation;
      await append(change.at, { targetId: target.id, change, record, by: self, ...(perLocation ? { location } : {}) });
    },

    forwardTell: (notification) => append(clock.now(), { tell: notification, by: self }),

    async lead(policy) {
      decide = policy;
      await drain();
    },

    unlead() {
      decide = undefined;
    },

    drain,
    stats: () => ({ ...stats }),
  };
}
