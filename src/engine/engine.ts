import type { CheckResult } from '../domain/check.js';
import { initialState, nextState, pauseState, resumeState, type StateChange, type StateRecord, type Step } from '../domain/state.js';
import type { Target } from '../kinds/index.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { ProbeRegistry } from '../probes/registry.js';
import type { StateRepository } from '../store/states.js';
import type { TargetRepository } from '../store/targets.js';
import { withTimeout } from '../lib/timeout.js';
import { createLimiter } from './limiter.js';
import { phaseOffset } from './jitter.js';
import { onSlot, slotMsFor } from './slots.js';
import { createScheduler } from './scheduler.js';

/** One finished check, as subscribers see it. */
export interface CheckEvent {
  target: Target;
  result: CheckResult;
  record: StateRecord;
  /** When the check was due. */
  scheduledAt: number;
  /** Probe start minus due time: how late the scheduler was (ms). */
  latenessMs: number;
  /** True for checks asked for by a user (`/check`), false for scheduled ones. */
  manual: boolean;
}

/** Everything the engine needs, passed in (never imported). */
export interface EngineDeps {
  targets: TargetRepository;
  states: StateRepository;
  probes: ProbeRegistry;
  clock: Clock;
  logger?: Logger;
  /** At most this many checks run at once (`CHECK_CONCURRENCY`). */
  concurrency?: number;
  /**
   * Scheduler wake-up granularity (ms). Checks due within one slot start together, which saves an
   * event-loop wake-up per check at high rates; lateness grows by at most this much. Default 1.
   */
  timerResolutionMs?: number;
  /** Overdue targets after a restart are spread over at most this long (ms). */
  restartSpreadMs?: number;
  /** `stop()` waits this long for running checks before aborting them (ms, default 5 s). */
  stopGraceMs?: number;
  /**
   * Whether this instance checks a target (several instances on one database share them; see
   * cluster/sharing.ts). Default: every target. The engine still knows the others (the chat and the
   * alert policy read them), it only neither schedules nor saves them. Call `reassign()` when the answer changes.
   */
  owns?: (targetId: string, target: Target) => boolean;
  /** Targets taken from an instance that died start within this long (ms, default TAKEOVER_SPREAD_MS). */
  takeoverSpreadMs?: number;
  /**
   * Mixed into each target's phase (its place, `LOCATION`): the places that check one target then do not
   * all fire at the same instant. Default none: one place keeps the phases it always had.
   */
  phaseSalt?: string;
  /**
   * While the configured check rate is low, due times are rounded up to start-time slots that a few checks
   * share (engine/slots.ts), saving a wake-up per check. Default off: a due time is its phase.
   */
  startSlots?: boolean;
}

/** The check engine: schedules every target, runs probes, keeps states, emits changes. */
export interface Engine {
  /** Loads targets and states from the store and starts scheduling where it stopped. */
  start(): Promise<void>;
  /** Stops scheduling, drops queued checks, waits for running ones (at most `stopGraceMs`, then aborts them) and flushes states. */
  stop(): Promise<void>;
  /**
   * Starts checking a new target or applies changed settings of a known one. With `previousId`
   * (a rename) the target keeps the state it had under its old id.
   */
  upsert(target: Target, previousId?: string): Promise<void>;
  /** Starts checking many new targets at once (a targets file): their states read in one listing and the new ones written in one batch. */
  addMany(targets: readonly Target[]): Promise<void>;
  /** Stops checking a target and forgets its state. */
  remove(targetId: string): Promise<void>;
  pause(targetId: string): Promise<StateRecord | undefined>;
  resume(targetId: string): Promise<StateRecord | undefined>;
  /** Checks a target now, outside its schedule, and returns what happened. */
  checkNow(targetId: string): Promise<CheckEvent | undefined>;
  state(targetId: string): StateRecord | undefined;
  /** Resolves once the latest state written for a target is on disk. */
  stateSaved(targetId: string): Promise<void>;
  target(targetId: string): Target | undefined;
  /** Every target the engine knows. */
  targets(): Target[];
  /** Subscribes to state changes; returns the unsubscribe function. */
  onChange(listener: (change: StateChange, target: Target) => void): () => void;
  /** Subscribes to every finished check (metrics, history, benchmarks). */
  onCheck(listener: (event: CheckEvent) => void): () => void;
  readonly running: boolean;
  stats(): EngineStats;
  /** Checks due more than a second ago that have not started (late timer, or waiting for a free slot). */
  overdue(): number;
  /**
   * Applies a new answer of `owns`: targets this instance now checks are read from the store (the last
   * owner saved their state) and scheduled; those it gave away stop being scheduled and their state is
   * saved for the next owner. Answers how many were taken and given.
   */
  reassign(): Promise<{ taken: string[]; given: string[] }>;
  /**
   * Another instance changed a target in the store (the leader's chat, TARGETS_FILE): reads it and its
   * state again, or forgets it when it is gone (without deleting what the store holds: the changer did).
   */
  sync(targetId: string): Promise<void>;
  /** The state of a target another instance checks, as that one saved it (the leader's copy, for the chat and the policy). */
  observe(record: StateRecord): void;
  /** Whether this instance checks the target now. */
  owned(targetId: string): boolean;
}

/** Counters for health and metrics. */
export interface EngineStats {
  targets: number;
  scheduled: number;
  inFlight: number;
  queued: number;
  checks: number;
}

interface Entry {
  target: Target;
  record: StateRecord;
  /** The check in progress, so a target never has two at once. */
  inFlight?: Promise<CheckEvent | undefined>;
  /** The record differs from what the store holds. */
  dirty: boolean;
  /** This instance checks it (else the record is a copy of what its owner saved). */
  owned: boolean;
  /** The running check's abort handle, and whether its result is to be dropped (given away and not waited for longer). */
  check?: { controller: AbortController; dropped: boolean };
  /** Taken from another instance and not checked here since: a newer record of the last owner's (its last check, saved late) replaces it. */
  takenFresh?: boolean;
}

/**
 * Targets taken from an instance that died start within this long (ms): their checks are overdue, but a
 * share of thousands started at once would stall the instance's own checks (a 10,000-target bench fell
 * to 5% of its schedule for a second with 0.5 s). The member registry counts an instance out this much
 * earlier, so a target still waits at most interval + MEMBER_TTL.
 */
export const TAKEOVER_SPREAD_MS = 3_000;

/** Creates the engine; nothing runs until `start()`. */
export function createEngine(deps: EngineDeps): Engine {
  const { clock, probes } = deps;
  const log = deps.logger;
  const limiter = createLimiter(deps.concurrency ?? 100);
  const restartSpreadMs = deps.restartSpreadMs ?? 60_000;
  const entries = new Map<string, Entry>();
  const changeListeners = new Set<(change: StateChange, target: Target) => void>();
  const checkListeners = new Set<(event: CheckEvent) => void>();
  const pendingWrites = new Set<Promise<void>>();
  const controllers = new Set<AbortController>();
  const stopGraceMs = deps.stopGraceMs ?? 5_000;
  const owns = deps.owns ?? ((): boolean => true);
  const ownsEntry = (e: Entry): boolean => owns(e.target.id, e.target);
  const takeoverSpreadMs = Math.max(1, deps.takeoverSpreadMs ?? TAKEOVER_SPREAD_MS);
  const phaseOf = (id: string, spanMs: number): number => phaseOffset(deps.phaseSalt !== undefined ? `${id}@${deps.phaseSalt}` : id, spanMs);
  let running = false;
  let abandoned = false;
  let checks = 0;

  // The slot follows the configured rate (checks/s of the targets this instance checks), counted again when
  // the number of targets changed or a second passed: once per batch of a targets file, not per target.
  let slotMs = 1;
  let slotCountedAt = -Infinity;
  let slotCountedSize = -1;
  const slotted = (t: number): number => {
    if (deps.startSlots !== true) return t;
    const now = clock.now();
    if (entries.size !== slotCountedSize || now - slotCountedAt >= 1_000) {
      let rate = 0;
      for (const e of entries.values()) if (e.owned && !e.target.paused && e.record.state !== 'PAUSED') rate += 1_000 / e.target.everyMs;
      slotMs = slotMsFor(rate);
      slotCountedAt = now;
      slotCountedSize = entries.size;
    }
    return onSlot(t, slotMs);
  };

  const scheduler = createScheduler(clock, (id, scheduledAt) => {
    const entry = entries.get(id);
    if (!entry || entry.inFlight || !entry.owned) return;
    void runCheck(entry, scheduledAt, false);
  }, deps.timerResolutionMs ?? 1);

  // The latest state write of each target: the alert policy waits for it before deciding anything.
  const lastWrite = new Map<string, Promise<void>>();
  const persist = (record: StateRecord): void => {
    const write = deps.states.put(record).then(
      () => undefined,
      (err: unknown) => log?.error({ err, target: record.targetId, event: 'store_write_failed' }, 'could not save state'),
    );
    pendingWrites.add(write);
    lastWrite.set(record.targetId, write);
    void write.finally(() => {
      pendingWrites.delete(write);
      if (lastWrite.get(record.targetId) === write) lastWrite.delete(record.targetId);
    });
  };

  const emitChange = (change: StateChange, target: Target): void => {
    log?.info({ target: target.id, chat: target.chatId, event: 'state_change', from: change.from, to: change.to, reason: change.result?.reason }, `${target.name} is ${change.to}`);
    for (const listener of changeListeners) {
      try {
        listener(change, target);
      } catch (err) {
        log?.error({ err, target: target.id, event: 'listener_failed' }, 'a state change listener threw');
      }
    }
  };

  const apply = (entry: Entry, step: Step): void => {
    entry.record = step.record;
    if (step.change) {
      entry.dirty = false;
      persist(step.record);
      emitChange(step.change, entry.target);
    } else {
      entry.dirty = true;
    }
  };

  /** The next due time: keeps the target's phase on the regular cadence, retries after `delay`. */
  const nextDue = (entry: Entry, scheduledAt: number, delayMs: number, finishedAt: number): number => {
    const every = entry.target.everyMs;
    if (delayMs < every) return slotted(finishedAt + delayMs);
    let next = scheduledAt + every;
    if (next <= finishedAt) next += Math.ceil((finishedAt - next + 1) / every) * every;
    return slotted(next);
  };

  const runCheck = (entry: Entry, scheduledAt: number, manual: boolean): Promise<CheckEvent | undefined> => {
    const promise = limiter.run(async () => {
      // A check still queued when the engine stops is not started: stopping must not wait for a backlog.
      if (!running && !manual) return undefined;
      const target = entry.target;
      const startedAt = clock.now();
      // A check started by the owner is the owner's, even if the target is given away while it runs (the
      // handover waits for it and saves its result).
      const owned = entry.owned;
      const controller = new AbortController();
      const handle = { controller, dropped: false };
      entry.check = handle;
      controllers.add(controller);
      const timer = setTimeout(() => controller.abort(), target.timeoutMs);
      let result: CheckResult;
      try {
        result = await probes.get(target.kind).run(target as never, { signal: controller.signal, now: clock.now });
      } catch (err) {
        // A probe that throws has a bug; the target is not blamed for it but the failure is visible.
        log?.error({ err, target: target.id, event: 'probe_bug' }, 'probe threw');
        result = { ok: false, at: startedAt, latencyMs: 0, failure: 'error', reason: 'internal error in the check' };
      } finally {
        clearTimeout(timer);
        controllers.delete(controller);
        if (entry.check === handle) entry.check = undefined;
      }
      // Cut short by shutdown: the result says nothing about the target, so it is not recorded. Cut short
      // because the target was given away and the handover did not wait longer: its next owner checks it.
      if (abandoned || handle.dropped) return undefined;
      checks++;
      if (owned) entry.takenFresh = false;
      const step = nextState(entry.record, result, entry.target);
      // The target may have been removed while the check ran; then its result is dropped. A target another
      // instance checks (a /check here) is only shown: its state is its owner's to keep.
      if (entries.get(target.id) === entry && owned) apply(entry, step);
      const event: CheckEvent = { target, result, record: owned ? entry.record : step.record, scheduledAt, latenessMs: startedAt - scheduledAt, manual };
      if (!owned) return event;
      // A listener that throws (metrics, history, warnings) must not cost the target its next check.
      for (const listener of checkListeners) {
        try {
          listener(event);
        } catch (err) {
          log?.error({ err, target: target.id, event: 'listener_failed' }, 'a check listener threw');
        }
      }
      if (running && entries.get(target.id) === entry && entry.owned && entry.record.state !== 'PAUSED') {
        scheduler.schedule(target.id, nextDue(entry, scheduledAt, step.nextDelayMs, clock.now()));
      }
      return event;
    });
    entry.inFlight = promise;
    void promise.finally(() => {
      if (entry.inFlight === promise) entry.inFlight = undefined;
    });
    return promise;
  };

  const scheduleFirst = (entry: Entry, now: number): void => {
    if (!running || !entry.owned || entry.record.state === 'PAUSED' || entry.target.paused) return;
    const every = entry.target.everyMs;
    const last = entry.record.lastCheckAt;
    if (last !== undefined && last + every > now) {
      scheduler.schedule(entry.target.id, slotted(last + every));
    } else if (last !== undefined) {
      scheduler.schedule(entry.target.id, slotted(now + phaseOf(entry.target.id, Math.min(every, restartSpreadMs))));
    } else {
      scheduler.schedule(entry.target.id, slotted(now + phaseOf(entry.target.id, every)));
    }
  };

  const settle = async (): Promise<void> => {
    while (pendingWrites.size > 0) await Promise.all([...pendingWrites]);
  };

  let reassigning: Promise<unknown> = Promise.resolve();
  const reassignNow = async (): Promise<{ taken: string[]; given: string[] }> => {
    const taken: string[] = [];
    const given: string[] = [];
    const toTake: Entry[] = [];
    const toGive: Entry[] = [];
    for (const entry of [...entries.values()]) {
      const id = entry.target.id;
      const now = ownsEntry(entry);
      if (now === entry.owned) continue;
      if (now) toTake.push(entry);
      else {
        entry.owned = false;
        scheduler.cancel(id);
        toGive.push(entry);
        given.push(id);
      }
    }
    // The checks still running on given targets end first (all together, bounded: a reassign that waited
    // for ever would hold every later one), then their records are saved for the next owner.
    const waited = await withTimeout(Promise.all(toGive.map((e) => e.inFlight?.catch(() => undefined))), stopGraceMs);
    if (waited === undefined) {
      // Still running at the deadline: cut short and dropped, so a result never lands after the next
      // owner took the target (it would save over the next owner's state and tell a change twice).
      for (const entry of toGive) {
        if (entry.check && !entry.owned) {
          entry.check.dropped = true;
          entry.check.controller.abort();
        }
      }
      log?.warn({ event: 'handover_checks_dropped' }, 'checks still running on targets given away were cut short');
    }
    for (const entry of toGive) {
      if (entry.dirty) {
        entry.dirty = false;
        persist(entry.record);
      }
    }
    if (toTake.length > 0) {
      // The last owners saved these states when they gave the targets up (or at their last change, if they
      // died): one read of them all, not one per target (a dead instance's share can be thousands).
      const stored = await deps.states.all().catch(() => new Map<string, StateRecord>());
      const at = clock.now();
      for (const entry of toTake) {
        const id = entry.target.id;
        if (entries.get(id) !== entry || entry.owned || !ownsEntry(entry)) continue;
        const record = stored.get(id);
        if (record) entry.record = record;
        entry.owned = true;
        entry.dirty = false;
        entry.takenFresh = true;
        // Taken from an instance that died: its checks are overdue already, so they are spread over
        // TAKEOVER_SPREAD_MS (not over an interval, as after a restart), or kept at their due time.
        const last = entry.record.lastCheckAt;
        if (running && entry.record.state !== 'PAUSED' && !entry.target.paused) {
          scheduler.schedule(id, slotted(last !== undefined && last + entry.target.everyMs > at ? last + entry.target.everyMs : at + phaseOf(id, Math.min(entry.target.everyMs, takeoverSpreadMs))));
        }
        taken.push(id);
      }
    }
    // Not waiting for the saves (settle()): a store that is slow to answer must not hold the next
    // reassign; the given records are on their way, and the next owner reads what the store has.
    if (taken.length > 0 || given.length > 0) log?.info({ event: 'targets_reassigned', taken: taken.length, given: given.length }, `checking ${taken.length} more, ${given.length} fewer targets`);
    return { taken, given };
  };

  const api: Engine = {
    async start() {
      if (running) return;
      // One after the other: where a target's state is kept can depend on the target (its locations).
      const targets = await deps.targets.list();
      const states = await deps.states.all();
      const now = clock.now();
      running = true;
      for (const target of targets) {
        const stored = states.get(target.id);
        let record = stored ?? initialState(target.id, now, target.paused);
        if (target.paused && record.state !== 'PAUSED') record = pauseState(record, now).record;
        entries.set(target.id, { target, record, dirty: stored === undefined, owned: owns(target.id, target) });
      }
      // Scheduled once all are known: the start slots follow the rate of them all.
      for (const entry of entries.values()) scheduleFirst(entry, now);
      log?.info({ event: 'engine_started', targets: targets.length }, `checking ${targets.length} targets`);
    },

    async stop() {
      if (!running) return;
      running = false;
      scheduler.stop();
      const inFlight = Promise.allSettled([...entries.values()].map((e) => e.inFlight));
      if ((await withTimeout(inFlight, stopGraceMs)) === undefined) {
        // Checks with long timeouts must not hold the shutdown: abort them and keep the states as they were.
        abandoned = true;
        log?.warn({ event: 'checks_abandoned', count: controllers.size }, 'stopping: checks still running were cut short');
        for (const c of controllers) c.abort();
        await inFlight;
      }
      const dirty = [...entries.values()].filter((e) => e.dirty && e.owned).map((e) => e.record);
      await settle();
      try {
        await deps.states.putMany(dirty);
      } catch (err) {
        log?.error({ err, event: 'store_flush_failed' }, 'could not save states at shutdown');
      }
      log?.info({ event: 'engine_stopped', flushed: dirty.length }, 'engine stopped');
    },

    async upsert(target, previousId) {
      const now = clock.now();
      if (previousId !== undefined && previousId !== target.id) {
        const old = entries.get(previousId);
        if (old) {
          if (old.inFlight) await old.inFlight.catch(() => undefined);
          entries.delete(previousId);
          scheduler.cancel(previousId);
          const entry: Entry = { target, record: { ...old.record, targetId: target.id }, dirty: false, owned: owns(target.id, target) };
          entries.set(target.id, entry);
          persist(entry.record);
          await settle();
          await deps.states.delete(previousId);
          scheduleFirst(entry, now);
          return;
        }
      }
      const existing = entries.get(target.id);
      if (existing) {
        const timingChanged = existing.target.everyMs !== target.everyMs;
        existing.target = target;
        // Its locations changed who checks it.
        if (owns(target.id, target) !== existing.owned) void api.reassign().catch(() => undefined);
        if (timingChanged) {
          scheduler.cancel(target.id);
          scheduleFirst(existing, now);
        }
        return;
      }
      const stored = await deps.states.get(target.id);
      const record = stored ?? initialState(target.id, now, target.paused);
      const entry: Entry = { target, record, dirty: false, owned: owns(target.id, target) };
      entries.set(target.id, entry);
      if (!stored) persist(record);
      scheduleFirst(entry, now);
    },

    async addMany(targets) {
      const known = targets.filter((t) => entries.has(t.id));
      for (const t of known) await api.upsert(t);
      const fresh = targets.filter((t) => !entries.has(t.id));
      if (fresh.length === 0) return;
      const stored = await deps.states.getMany(fresh.map((t) => t.id));
      const now = clock.now();
      const created: StateRecord[] = [];
      const added: Entry[] = [];
      for (const target of fresh) {
        const saved = stored.get(target.id);
        const record = saved ?? initialState(target.id, now, target.paused);
        const entry: Entry = { target, record, dirty: false, owned: owns(target.id, target) };
        entries.set(target.id, entry);
        added.push(entry);
        if (!saved) created.push(record);
      }
      // Scheduled once all are known: the start slots follow the rate of the whole batch (counted once).
      for (const entry of added) scheduleFirst(entry, now);
      if (created.length === 0) return;
      const write = deps.states.putMany(created).then(
        () => undefined,
        (err: unknown) => log?.error({ err, event: 'store_write_failed', targets: created.length }, 'could not save the new states'),
      );
      pendingWrites.add(write);
      for (const r of created) lastWrite.set(r.targetId, write);
      void write.finally(() => {
        pendingWrites.delete(write);
        for (const r of created) if (lastWrite.get(r.targetId) === write) lastWrite.delete(r.targetId);
      });
      await write;
    },

    async remove(targetId) {
      const entry = entries.get(targetId);
      entries.delete(targetId);
      scheduler.cancel(targetId);
      if (entry?.inFlight) await entry.inFlight.catch(() => undefined);
      await settle();
      await deps.states.delete(targetId);
    },

    async pause(targetId) {
      const entry = entries.get(targetId);
      if (!entry) return undefined;
      scheduler.cancel(targetId);
      entry.target = { ...entry.target, paused: true };
      apply(entry, pauseState(entry.record, clock.now()));
      await settle();
      return entry.record;
    },

    async resume(targetId) {
      const entry = entries.get(targetId);
      if (!entry) return undefined;
      entry.target = { ...entry.target, paused: false };
      apply(entry, resumeState(entry.record, clock.now()));
      if (running && !entry.inFlight) scheduler.schedule(targetId, clock.now());
      await settle();
      return entry.record;
    },

    async checkNow(targetId) {
      const entry = entries.get(targetId);
      if (!entry) return undefined;
      if (entry.inFlight) return entry.inFlight;
      scheduler.cancel(targetId);
      return runCheck(entry, clock.now(), true);
    },

    reassign() {
      // One at a time: the live set can change twice while a reassign reads states, and a later answer
      // must not be undone by an earlier one that finishes after it.
      const run = reassigning.then(reassignNow);
      reassigning = run.catch(() => undefined);
      return run;
    },

    async sync(id) {
      // The target first: where its state is kept can depend on it (its locations).
      const target = await deps.targets.get(id);
      const stored = target ? await deps.states.get(id) : undefined;
      const entry = entries.get(id);
      if (!target) {
        if (!entry) return;
        entries.delete(id);
        scheduler.cancel(id);
        if (entry.inFlight) await entry.inFlight.catch(() => undefined);
        return;
      }
      const now = clock.now();
      if (!entry) {
        const e: Entry = { target, record: stored ?? initialState(id, now, target.paused), dirty: false, owned: owns(id, target) };
        entries.set(id, e);
        scheduleFirst(e, now);
        return;
      }
      const timingChanged = entry.target.everyMs !== target.everyMs || entry.target.paused !== target.paused;
      entry.target = target;
      // Its locations changed who checks it.
      if (owns(id, target) !== entry.owned) void api.reassign().catch(() => undefined);
      // A pause or resume was applied to the state by whoever changed the target: take it over.
      if (stored && (stored.state === 'PAUSED') !== (entry.record.state === 'PAUSED')) {
        entry.record = stored;
        entry.dirty = false;
      }
      // A check of this owner that ended just before the pause reached it may have saved over PAUSED: pause again.
      if (target.paused && entry.record.state !== 'PAUSED' && entry.owned) {
        entry.record = pauseState(entry.record, now).record;
        persist(entry.record);
      }
      // Resumed by whoever changed it, while this owner's own record (kept apart from the changer's: another
      // place's) still says PAUSED: resumed here too, and told, so that checks start again.
      if (!target.paused && entry.record.state === 'PAUSED' && entry.owned) apply(entry, resumeState(entry.record, now));
      if (timingChanged) {
        scheduler.cancel(id);
        scheduleFirst(entry, now);
      }
    },

    observe(record) {
      const entry = entries.get(record.targetId);
      if (!entry) return;
      // A paused target's copy stays PAUSED (a check that ended just before the pause reached its owner).
      if (entry.target.paused && record.state !== 'PAUSED') return;
      // A copy never goes back in time (a late notification after a newer one).
      const at = (r: StateRecord): number => Math.max(r.lastCheckAt ?? 0, r.since);
      if (!entry.owned) {
        if (at(record) >= at(entry.record)) entry.record = record;
        return;
      }
      // Just taken over, not checked here yet: the last owner's check that ended after this instance read
      // the store (its change arrives now) is the state to go on from, or the change would be seen twice.
      if (entry.takenFresh && at(record) > at(entry.record)) {
        entry.record = record;
        entry.dirty = false;
      }
    },

    owned: (id) => entries.get(id)?.owned ?? false,

    state: (id) => entries.get(id)?.record,
    stateSaved: (id) => lastWrite.get(id) ?? Promise.resolve(),
    target: (id) => entries.get(id)?.target,
    targets: () => [...entries.values()].map((e) => e.target),

    onChange(listener) {
      changeListeners.add(listener);
      return () => changeListeners.delete(listener);
    },

    onCheck(listener) {
      checkListeners.add(listener);
      return () => checkListeners.delete(listener);
    },

    get running() {
      return running;
    },

    stats: () => ({
      targets: entries.size,
      scheduled: scheduler.size,
      inFlight: limiter.active,
      queued: limiter.queued,
      checks,
    }),

    // A scan of the schedule: asked for by /health, kept out of stats(), which every scrape reads.
    overdue: () => scheduler.countDueBefore(clock.now() - 1_000) + limiter.queued,
  };
  return api;
}
