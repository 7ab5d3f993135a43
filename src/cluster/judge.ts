// The leader's verdict over targets checked from several locations (issue 17).
//
// Each location's instance keeps its own state of such a target (its confirm/retry rules, saved in the
// store's `states@<location>` namespace) and forwards that state's changes through the change journal
// like any other. The leader feeds them to the verdicts (engine/verdicts.ts): the target is DOWN when at
// least its quorum of live locations see it DOWN, a partial outage (DEGRADED, with the failing places in
// words) when fewer do. A change of the verdict is what the alert policy hears, as a state change of the
// target; the verdict's record is the target's state in `states`, the one the chat, boards, /api/status
// and a restart read. A location whose instances are gone drops out of the count (never DOWN because a
// prober vanished) and the chats whose targets it checked hear it once.

import { NETWORK_FAILURES, type CheckResult } from '../domain/check.js';
import type { LocationView, Verdict } from '../domain/locations.js';
import type { StateChange, StateRecord } from '../domain/state.js';
import { createVerdicts, type VerdictChange } from '../engine/verdicts.js';
import type { Target } from '../kinds/index.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { StateRepository } from '../store/states.js';
import type { Placement } from './assignment.js';

export interface JudgeDeps {
  /** The locations of the live instances. */
  live(): readonly string[];
  /** Who checks the target now (its live locations). */
  placement(targetId: string, target: Target): Placement;
  target(targetId: string): Target | undefined;
  targets(): Target[];
  /** The verdict records (the `states` namespace). */
  verdicts: StateRepository;
  /** One location's records (`states@<location>`). */
  at(location: string): StateRepository;
  /** The alert policy: a change of the verdict, once its record is saved. */
  decide(change: StateChange, target: Target): Promise<void>;
  /** The chats whose targets a location checked: it stopped reporting, or reports again. */
  locationChanged(location: string, lost: boolean, remaining: readonly string[], chats: ReadonlyMap<number, number>): Promise<void>;
  /** The live places as the last leader knew them (a place lost while no one led is told by the next). */
  places?: { get(): Promise<readonly string[] | undefined>; set(places: readonly string[]): Promise<void> };
  /** The verdict record changed (the others' copies, /api/status). */
  announce?(record: StateRecord): void;
  clock: Clock;
  logger?: Logger;
}

export interface Judge {
  /** The verdicts as they were saved (before the alert policy starts: it reconciles against them). */
  prime(): Promise<void>;
  /** Starts judging (the leader): every live location's records read, and what changed since told. */
  load(): Promise<void>;
  /** One location's state of a target changed (its owner's record after the change). */
  seen(target: Target, location: string, record: StateRecord): Promise<void>;
  /** The live locations changed: verdicts over the ones that remain, the chats told of a place lost or back. */
  relocated(): Promise<void>;
  /** The verdict record of a target judged per location (undefined for the others). */
  record(targetId: string): StateRecord | undefined;
  /** Each location's last view of a target (for /status). */
  views(targetId: string): LocationView[];
  /** Whether the target is judged per location now. */
  judged(targetId: string): boolean;
  forget(targetId: string): void;
  /** A target judged per location was renamed: its verdict (record and saved state) moves to the new id. */
  renamed(previousId: string, targetId: string): Promise<void>;
  /** Reads what the places the judge has not heard from saved (every few seconds while leading). */
  refresh(): Promise<void>;
  /** No longer leading: partial outages still held are dropped (the next leader takes the verdicts again). */
  stop(): void;
}

/** The view a location's record gives. */
export function viewOf(location: string, record: StateRecord): LocationView {
  const r = record.lastResult;
  return {
    location,
    state: record.state,
    // Why it fails there, or why it is DEGRADED or in MAINTENANCE there (the place's own rules said so).
    ...(record.detail !== undefined && (record.state === 'DEGRADED' || record.state === 'MAINTENANCE') ? { reason: record.detail } : r && !r.ok && r.reason !== undefined ? { reason: r.reason } : {}),
    ...(r ? { latencyMs: r.latencyMs } : {}),
    since: record.since,
  };
}

export function createJudge(deps: JudgeDeps): Judge {
  const { clock, logger } = deps;
  const records = new Map<string, StateRecord>();
  const results = new Map<string, CheckResult>();
  const known = new Map<string, LocationView[]>();
  let locations: string[] = [];
  const verdicts = createVerdicts({
    quorum: (id) => deps.target(id)?.quorum,
    locations: (id) => {
      const t = deps.target(id);
      if (!t) return [];
      const p = deps.placement(id, t);
      return p.perLocation ? p.locations : [];
    },
  });
  let chain: Promise<void> = Promise.resolve();
  const inOrder = (work: () => Promise<void>): Promise<void> => {
    const next = chain.then(work);
    chain = next.catch(() => undefined);
    return next;
  };

  // A paused target is not judged: its state is PAUSED (the engine's), and the verdict starts over on resume.
  const judged = (id: string): boolean => {
    const t = deps.target(id);
    return t !== undefined && !t.paused && deps.placement(id, t).perLocation;
  };

  /** The verdict's own record and the change the policy hears. */
  const apply = async (target: Target, vc: VerdictChange): Promise<void> => {
    // No place reports (all gone): nothing is known, nothing is told; the last verdict stands until one does.
    if (vc.to === 'UNKNOWN') return;
    const at = clock.now();
    const v = vc.verdict;
    // Not judged before (one place until now, or a new target): the state saved for it is where it stood.
    const before = records.get(target.id) ?? (await deps.verdicts.get(target.id));
    const from = before?.state ?? 'UNKNOWN';
    if (from === v.state) {
      if (before) records.set(target.id, before);
      cancelHold(target.id);
      return;
    }
    // A partial outage out of a good state is held until the other places have had the time to confirm
    // theirs (their next check and its retries): the places check one after the other, so a real outage
    // is first seen by one place, and telling "partial" just before "DOWN" would be noise.
    const partial = v.state === 'DEGRADED' && v.down.length > 0 && (from === 'UP' || from === 'UNKNOWN') && !vc.dropped.length;
    // A place that vanished never counts as seeing it DOWN, but the quorum is over the places left, so its
    // going can leave the failing ones a quorum: that DOWN waits for the places left to check once more.
    const leftDown = v.state === 'DOWN' && from !== 'DOWN' && vc.dropped.length > 0;
    if (partial || leftDown) {
      if (!holds.has(target.id)) {
        const expect = v.state;
        const ms = leftDown ? target.everyMs + target.timeoutMs : target.everyMs + Math.max(0, target.confirm - 1) * target.retryMs + target.timeoutMs;
        holds.set(
          target.id,
          clock.setTimeout(() => {
            holds.delete(target.id);
            void inOrder(async () => {
              const still = verdicts.get(target.id);
              const t = deps.target(target.id);
              if (t && still?.state === expect && judged(t.id)) await commit(t, still, records.get(t.id) ?? (await deps.verdicts.get(t.id)));
            }).catch((err: unknown) => logger?.error({ err, event: 'verdict_failed', target: target.id }, 'could not tell a partial outage'));
          }, ms),
        );
      }
      return;
    }
    cancelHold(target.id);
    await commit(target, v, before);
  };

  const holds = new Map<string, ReturnType<Clock['setTimeout']>>();
  const cancelHold = (id: string): void => {
    const h = holds.get(id);
    if (h !== undefined) clock.clearTimeout(h);
    holds.delete(id);
  };

  /** The verdict's record saved, then the change told to the policy. */
  const commit = async (target: Target, v: Verdict, before: StateRecord | undefined): Promise<void> => {
    const at = clock.now();
    const from = before?.state ?? 'UNKNOWN';
    if (from === v.state) return;
    const result = verdictResult(target.id, v, at);
    // A partial outage (some places fail), a quorum that sees it slow, or planned maintenance, in words.
    const detail = v.state === 'DEGRADED' ? (v.down.length > 0 ? `partial outage: ${v.detail}` : v.detail) : v.state === 'MAINTENANCE' ? v.detail : undefined;
    const record: StateRecord = {
      targetId: target.id,
      state: v.state,
      since: at,
      consecutiveFailures: v.down.length,
      consecutiveSuccesses: v.up.length,
      checks: (before?.checks ?? 0) + 1,
      failures: (before?.failures ?? 0) + (v.state === 'DOWN' ? 1 : 0),
      lastCheckAt: at,
      lastResult: result,
      ...(detail !== undefined ? { detail } : {}),
    };
    records.set(target.id, record);
    await deps.verdicts.put(record);
    deps.announce?.(record);
    const change: StateChange = { targetId: target.id, from, to: v.state, at, fromSince: before?.since ?? at, result, failures: v.down.length, ...(detail !== undefined ? { detail } : {}) };
    logger?.info({ event: 'verdict', target: target.id, from, to: v.state, down: v.down.map((d) => d.location), up: v.up.map((u) => u.location) }, `${target.name} is ${v.state} (${v.detail})`);
    await deps.decide(change, target);
    logger?.debug({ event: 'verdict_decided', target: target.id, to: v.state }, 'verdict handed to the policy');
  };

  /** What the policy shows of the verdict: the words of every place, the first failing place's kind of failure. */
  const verdictResult = (id: string, v: Verdict, at: number): CheckResult => {
    const firstDown = v.down[0] ? results.get(`${id}@${v.down[0].location}`) : undefined;
    const firstUp = v.up[0] ? results.get(`${id}@${v.up[0].location}`) : undefined;
    if (v.state === 'DOWN' || v.state === 'MAINTENANCE') {
      // The kind of failure the alert carries: a network-level one if any failing place has one (the
      // failing places' traces are taken for those), else the first failing place's.
      const failing = v.down.filter((d) => d.state === v.state).map((d) => results.get(`${id}@${d.location}`));
      const r = failing.find((x) => x?.failure !== undefined && NETWORK_FAILURES.has(x.failure)) ?? failing[0] ?? firstDown;
      return { ok: false, at, latencyMs: r?.latencyMs ?? 0, failure: r?.failure ?? 'error', reason: v.detail, ...(r?.status !== undefined ? { status: r.status } : {}), ...(r?.maintenance ? { maintenance: r.maintenance } : {}) };
    }
    return { ok: true, at, latencyMs: firstUp?.latencyMs ?? 0, ...(firstUp?.status !== undefined ? { status: firstUp.status } : {}), reason: v.detail };
  };

  const forgetTarget = (id: string): void => {
    cancelHold(id);
    records.delete(id);
    known.delete(id);
    verdicts.forget(id);
  };

  const liveLocations = (): string[] => [...new Set(deps.live())].sort();

  /**
   * The places of a target the judge has not heard from: what they saved, read now. A place tells only its
   * changes, so one that kept its state since it joined (or since this leader took over) is silent, and a
   * silent place could hold the verdict undecided for ever.
   */
  const fill = async (t: Target): Promise<boolean> => {
    const p = deps.placement(t.id, t);
    if (!p.perLocation) return false;
    const have = new Set((known.get(t.id) ?? []).map((v) => v.location));
    let read = false;
    for (const l of p.locations) {
      if (have.has(l)) continue;
      const r = await deps.at(l).get(t.id);
      if (r) {
        observe(t, l, r);
        read = true;
      }
    }
    return read;
  };
  /** The verdict as it stands now, told if it differs from the last told. */
  const settle = async (t: Target): Promise<void> => {
    const v = verdicts.get(t.id);
    if (v) await apply(t, { targetId: t.id, from: 'UNKNOWN', to: v.state, verdict: v, dropped: [] });
  };

  /** One notice per chat whose targets the place checked (or checks again), to its admins. */
  const tellPlaces = async (lost: readonly string[], back: readonly string[], now: readonly string[]): Promise<void> => {
    for (const [list, isLost] of [[lost, true], [back, false]] as const) {
      for (const l of list) {
        const chats = new Map<number, number>();
        for (const t of deps.targets()) {
          const wanted = t.locations?.kind === 'named' ? t.locations.names.includes(l) : t.locations?.kind !== 'one';
          if (wanted) chats.set(t.chatId, (chats.get(t.chatId) ?? 0) + 1);
        }
        logger?.warn({ event: isLost ? 'location_lost' : 'location_back', location: l, remaining: now }, isLost ? `location ${l} stopped reporting: judged from ${now.join(', ')}` : `location ${l} checks again`);
        await deps.locationChanged(l, isLost, now, chats);
      }
    }
  };

  const observe = (target: Target, location: string, record: StateRecord): VerdictChange | undefined => {
    if (record.lastResult) results.set(`${target.id}@${location}`, record.lastResult);
    const view = viewOf(location, record);
    const list = (known.get(target.id) ?? []).filter((v) => v.location !== location);
    known.set(target.id, [...list, view].sort((a, b) => (a.location < b.location ? -1 : 1)));
    return verdicts.observe(target.id, view);
  };

  return {
    prime: () =>
      inOrder(async () => {
        const saved = await deps.verdicts.all();
        for (const t of deps.targets()) {
          const r = saved.get(t.id);
          if (r && judged(t.id)) records.set(t.id, r);
        }
      }),

    load: () =>
      inOrder(async () => {
        locations = liveLocations();
        // Every place's records first, then one verdict per target: taken place by place, a new leader
        // would tell the verdict over the first place alone (UP over fra before sgp's DOWN is read).
        const touched = new Map<string, Target>();
        for (const l of locations) {
          const theirs = await deps.at(l).all();
          for (const [id, record] of theirs) {
            const t = deps.target(id);
            // A record in a place the target does not ask for (left from before its locations= changed) is not a view.
            if (!t || !judged(id) || !deps.placement(id, t).locations.includes(l)) continue;
            observe(t, l, record);
            touched.set(id, t);
          }
        }
        for (const [id, t] of touched) {
          const v = verdicts.get(id);
          if (v) await apply(t, { targetId: id, from: 'UNKNOWN', to: v.state, verdict: v, dropped: [] });
        }
        // A place that stopped reporting while no one led (the last leader was there, or died with it).
        const saved = await deps.places?.get();
        if (saved) await tellPlaces(saved.filter((l) => !locations.includes(l)), [], locations);
        await deps.places?.set(locations);
      }),

    seen: (target, location, record) =>
      inOrder(async () => {
        if (deps.target(target.id)?.paused) {
          forgetTarget(target.id);
          return;
        }
        if (!judged(target.id)) return;
        const vc = observe(target, location, record);
        if (await fill(target)) await settle(target);
        else if (vc) await apply(target, vc);
      }),

    refresh: () =>
      inOrder(async () => {
        for (const t of deps.targets()) if (judged(t.id) && (await fill(t))) await settle(t);
      }),

    relocated: () =>
      inOrder(async () => {
        const now = liveLocations();
        const lost = locations.filter((l) => !now.includes(l));
        const back = now.filter((l) => !locations.includes(l));
        const before = locations;
        locations = now;
        for (const vc of verdicts.relocated()) {
          const t = deps.target(vc.targetId);
          if (t) await apply(t, vc);
        }
        // Down to one place: a target is one check again, its owner's state the target's. What the verdict
        // said and that place sees now are made one (an incident the verdict opened is not left open).
        for (const [id, record] of [...records]) {
          if (judged(id)) continue;
          const t = deps.target(id);
          const view = (known.get(id) ?? []).find((v) => now.includes(v.location));
          const sees = view?.state;
          if (t && sees !== undefined && sees !== record.state && (sees === 'UP' || sees === 'DOWN' || sees === 'DEGRADED' || sees === 'MAINTENANCE')) {
            const at = clock.now();
            const result = results.get(`${id}@${view!.location}`);
            const change: StateChange = { targetId: id, from: record.state, to: sees, at, fromSince: record.since, ...(result ? { result } : {}), failures: sees === 'DOWN' ? 1 : 0 };
            await deps.decide(change, t);
          }
          forgetTarget(id);
        }
        if (before.length > 0) await tellPlaces(lost, back, now);
        if (lost.length > 0 || back.length > 0) await deps.places?.set(now);
      }),

    record: (id) => (judged(id) ? records.get(id) : undefined),
    views: (id) => known.get(id) ?? [],
    judged,
    forget: forgetTarget,
    renamed: (previousId, id) =>
      inOrder(async () => {
        const before = records.get(previousId) ?? (await deps.verdicts.get(previousId));
        forgetTarget(previousId);
        if (!before) return;
        // The places rename their own records; the verdict is the leader's: under the new id, an outage the
        // verdict opened is not told again (the policy moves its incident the same way).
        const moved = { ...before, targetId: id };
        records.set(id, moved);
        await deps.verdicts.put(moved);
        await deps.verdicts.delete(previousId);
      }),
    stop() {
      for (const id of [...holds.keys()]) cancelHold(id);
    },
  };
}
