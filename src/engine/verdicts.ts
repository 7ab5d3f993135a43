import { verdict, type LocationView, type Quorum, type Verdict } from '../domain/locations.js';

// The verdict of each target checked from several places, kept up to date as each place reports its own
// state and as places come and go. No I/O: the leader feeds it what the locations' owners report (their
// state changes, through the change journal) and acts on the changes of the verdict it answers.
// (Run by the leader through cluster/judge.ts.)

/** The verdict of one target moved: from one state to another, with the views that made it. */
export interface VerdictChange {
  targetId: string;
  from: Verdict['state'];
  to: Verdict['state'];
  verdict: Verdict;
  /** Locations that dropped out of the count in this step (their instances are gone). */
  dropped: string[];
}

export interface VerdictsDeps {
  /** The target's quorum (`quorum=`), majority when undefined. */
  quorum(targetId: string): Quorum | undefined;
  /** The live locations that check the target now (its `locations=` among the live ones). */
  locations(targetId: string): readonly string[];
}

export interface Verdicts {
  /** One location's view of a target changed; answers the verdict's change, if it moved. */
  observe(targetId: string, view: LocationView): VerdictChange | undefined;
  /** The live locations changed: every target's verdict over the ones that remain; answers those that moved or lost a place. */
  relocated(): VerdictChange[];
  /** The verdict of a target now, if any location has reported. */
  get(targetId: string): Verdict | undefined;
  /** The target is gone (removed, or no longer checked from several places). */
  forget(targetId: string): void;
}

export function createVerdicts(deps: VerdictsDeps): Verdicts {
  const views = new Map<string, Map<string, LocationView>>();
  const last = new Map<string, Verdict>();

  const evaluate = (targetId: string): { verdict: Verdict; dropped: string[] } => {
    const live = new Set(deps.locations(targetId));
    const mine = views.get(targetId) ?? new Map<string, LocationView>();
    const dropped = [...mine.keys()].filter((l) => !live.has(l));
    // A location that vanished does not count (never "DOWN" because a prober died), and is forgotten.
    for (const l of dropped) mine.delete(l);
    // A live location that has not reported yet counts as one that does not see it DOWN (the quorum is of the live ones).
    const silent = [...live].filter((l) => !mine.has(l)).map((location): LocationView => ({ location, state: 'UNKNOWN', since: 0 }));
    return { verdict: verdict([...mine.values(), ...silent], deps.quorum(targetId)), dropped };
  };

  const step = (targetId: string): VerdictChange | undefined => {
    const { verdict: now, dropped } = evaluate(targetId);
    const before = last.get(targetId);
    last.set(targetId, now);
    const from = before?.state ?? 'UNKNOWN';
    // The words change with every report (a latency, a reason): only a state change or a lost place is news.
    if (from === now.state && dropped.length === 0) return undefined;
    return { targetId, from, to: now.state, verdict: now, dropped };
  };

  return {
    observe(targetId, view) {
      let mine = views.get(targetId);
      if (!mine) views.set(targetId, (mine = new Map()));
      const previous = mine.get(view.location);
      // A report older than the one held (a late announcement) changes nothing.
      if (previous && previous.since > view.since) return undefined;
      mine.set(view.location, view);
      return step(targetId);
    },
    relocated() {
      const out: VerdictChange[] = [];
      for (const targetId of [...views.keys()]) {
        const change = step(targetId);
        if (change) out.push(change);
      }
      return out;
    },
    get: (targetId) => last.get(targetId),
    forget(targetId) {
      views.delete(targetId);
      last.delete(targetId);
    },
  };
}
