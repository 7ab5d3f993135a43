// What the targets' request times tell the cluster benchmark. Lookout keeps each target on a fixed
// cadence (due = previous due + every), so a target's requests should arrive `every` apart: how much
// later than that cadence one came is the scheduler's lateness (give or take the request's own latency),
// and a longer gap is a target nobody checked for a while (its instance killed, say). Neither needs a
// scrape of an instance, so neither is disturbed by one.

/**
 * The lateness (ms) of each request in `arrivals` (per target, ascending ms timestamps): its offset from
 * the target's cadence `everyMs` anchored at its first request, less the smallest offset of that target
 * (its most punctual request counts as on time). Requests inside an `exclude` span are left out of the
 * answer (they still anchor the cadence). Targets with fewer than two requests say nothing.
 */
export function arrivalLateness(arrivals: readonly (readonly number[])[], everyMs: number, exclude: ReadonlyArray<readonly [number, number]> = []): number[] {
  const out: number[] = [];
  const excluded = (at: number): boolean => exclude.some(([from, to]) => at >= from && at <= to);
  for (const list of arrivals) {
    if (list.length < 2) continue;
    const first = list[0]!;
    const offsets = list.map((at) => at - first - Math.round((at - first) / everyMs) * everyMs);
    const punctual = Math.min(...offsets);
    list.forEach((at, i) => {
      if (!excluded(at)) out.push(offsets[i]! - punctual);
    });
  }
  return out;
}

/** How long targets went unchecked around an event (a kill). */
export interface Gaps {
  /** The longest time any target went without a request (ms, its interval included). */
  longestMs: number;
  /** Targets whose longest gap exceeded 1.5 intervals: the ones the event held up. */
  delayed: number;
  /** Targets with no request since the event by `until`. */
  unchecked: number;
}

/**
 * The gaps between each target's last request before an event (`lastBefore`, 0 = none: skipped) and its
 * requests since (`since`, ascending); a target still waiting at `until` counts its open gap when it is
 * overdue (longer than `everyMs`).
 */
export function gapsAround(lastBefore: readonly number[], since: readonly (readonly number[])[], everyMs: number, until: number): Gaps {
  let longestMs = 0;
  let delayed = 0;
  let unchecked = 0;
  lastBefore.forEach((last, i) => {
    if (last <= 0) return;
    const after = (since[i] ?? []).filter((at) => at > last);
    if (after.length === 0) unchecked += 1;
    let longest = 0;
    let previous = last;
    for (const at of after) {
      longest = Math.max(longest, at - previous);
      previous = at;
    }
    if (until - previous > everyMs) longest = Math.max(longest, until - previous);
    longestMs = Math.max(longestMs, longest);
    if (longest > 1.5 * everyMs) delayed += 1;
  });
  return { longestMs, delayed, unchecked };
}
