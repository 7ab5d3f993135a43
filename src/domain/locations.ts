// Checking from several places: where a target is checked from, how many places must agree, and the
// verdict over what each place sees. Pure: no I/O, no clock.

import type { TargetState } from './state.js';

/** A location's name: a short lower-case word (`fra`, `nyc`, `eu-west-1`). */
export const LOCATION_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;

/** Where a target is checked from: every live location (default), one check as before, or the ones named. */
export type LocationChoice = { kind: 'all' } | { kind: 'one' } | { kind: 'named'; names: readonly string[] };

/** How many of the target's live locations must see it DOWN for it to be DOWN. */
export type Quorum = { kind: 'majority' } | { kind: 'all' } | { kind: 'any' } | { kind: 'count'; n: number };

/** At most this many locations per target. */
export const MAX_LOCATIONS = 16;

/** `locations=fra,nyc` / `locations=one` / `locations=all`: the choice, or why not (short; never the whole value). */
export function parseLocations(value: string): { ok: true; value: LocationChoice } | { ok: false; error: string } {
  const v = value.trim().toLowerCase();
  if (v === 'all' || v === '*') return { ok: true, value: { kind: 'all' } };
  if (v === 'one') return { ok: true, value: { kind: 'one' } };
  const names = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) return { ok: false, error: 'locations must be all, one, or names like fra,nyc' };
  if (names.length > MAX_LOCATIONS) return { ok: false, error: `locations names at most ${MAX_LOCATIONS} places` };
  const bad = names.find((n) => !LOCATION_RE.test(n));
  if (bad !== undefined) return { ok: false, error: `locations: "${bad.slice(0, 32)}" is not a location name (a-z, 0-9, -; up to 32)` };
  return { ok: true, value: { kind: 'named', names: [...new Set(names)].sort() } };
}

/** `quorum=majority|all|any|N`. */
export function parseQuorum(value: string): { ok: true; value: Quorum } | { ok: false; error: string } {
  const v = value.trim().toLowerCase();
  if (v === 'majority' || v === 'all' || v === 'any') return { ok: true, value: { kind: v } };
  if (/^\d{1,2}$/.test(v) && Number(v) >= 1 && Number(v) <= MAX_LOCATIONS) return { ok: true, value: { kind: 'count', n: Number(v) } };
  return { ok: false, error: `quorum must be majority, all, any or a number 1-${MAX_LOCATIONS}` };
}

/** How the choice is written back (`/export`, the document). */
export const formatLocations = (c: LocationChoice): string => (c.kind === 'named' ? c.names.join(',') : c.kind);
export const formatQuorum = (q: Quorum): string => (q.kind === 'count' ? String(q.n) : q.kind);

/** The locations that check a target among the live ones (sorted); `one` gives [] (one check, not per place). */
export function locationsOf(choice: LocationChoice | undefined, live: readonly string[]): string[] {
  const all = [...new Set(live)].sort();
  if (!choice || choice.kind === 'all') return all;
  if (choice.kind === 'one') return [];
  return choice.names.filter((n) => all.includes(n));
}

/** How many failing locations make the target DOWN, of `n` live ones (at least 1, at most n). */
export function needed(quorum: Quorum | undefined, n: number): number {
  if (n <= 0) return 1;
  const q = quorum ?? { kind: 'majority' };
  const k = q.kind === 'all' ? n : q.kind === 'any' ? 1 : q.kind === 'majority' ? Math.floor(n / 2) + 1 : q.n;
  return Math.max(1, Math.min(n, k));
}

/** What one location sees of a target. */
export interface LocationView {
  location: string;
  state: TargetState;
  reason?: string;
  latencyMs?: number;
  since: number;
}

/** The target's state as the locations together see it. */
export interface Verdict {
  /**
   * DOWN at quorum; MAINTENANCE when the quorum fails and some of it says planned maintenance; DEGRADED for a
   * partial outage (some failing, fewer than the quorum) or when the quorum sees it degraded (slow); else UP;
   * UNKNOWN before anyone has looked, or while places yet to report could still make the quorum.
   */
  state: 'UP' | 'DOWN' | 'DEGRADED' | 'MAINTENANCE' | 'UNKNOWN';
  /** The locations that see it failing (DOWN, or a maintenance page), and the others that count (UP or DEGRADED). */
  down: LocationView[];
  up: LocationView[];
  needed: number;
  /** The words: `DOWN from fra (timeout after 10s), nyc (connection refused); UP from sgp in 84 ms`. */
  detail: string;
}

const counts = (s: TargetState): 'down' | 'up' | undefined =>
  s === 'DOWN' || s === 'MAINTENANCE' ? 'down' : s === 'UP' || s === 'DEGRADED' ? 'up' : undefined;

/** The verdict over the views of the target's live locations (a location not live is not passed in). */
export function verdict(views: readonly LocationView[], quorum: Quorum | undefined): Verdict {
  const sorted = [...views].sort((a, b) => (a.location < b.location ? -1 : a.location > b.location ? 1 : 0));
  const down = sorted.filter((v) => counts(v.state) === 'down');
  const up = sorted.filter((v) => counts(v.state) === 'up');
  const k = needed(quorum, sorted.length);
  // Places that have not reported yet (a start, a place that just joined) could still make the quorum:
  // undecided (UNKNOWN) rather than a partial outage told just before the outage.
  const pending = sorted.length - down.length - up.length;
  const outage = down.filter((v) => v.state === 'DOWN').length;
  const slow = up.filter((v) => v.state === 'DEGRADED').length;
  // The quorum fails: DOWN when that many see it DOWN, else the service told some of them it is in planned
  // maintenance (a maintenance page), which is what the target's own rules make of such an answer.
  const state =
    down.length >= k
      ? outage >= k
        ? 'DOWN'
        : 'MAINTENANCE'
      : down.length > 0 && down.length + pending >= k
        ? 'UNKNOWN'
        : down.length > 0
          ? 'DEGRADED'
          : slow >= k
            ? 'DEGRADED'
            : up.length > 0
              ? 'UP'
              : 'UNKNOWN';
  return { state, down, up, needed: k, detail: describeViews(down, up) };
}

/** `DOWN from fra (reason), nyc (reason); UP from sgp in 84 ms` (a place's own DEGRADED or MAINTENANCE named as such). */
export function describeViews(down: readonly LocationView[], up: readonly LocationView[]): string {
  const parts: string[] = [];
  const group = (word: string, list: readonly LocationView[], what: (v: LocationView) => string): void => {
    if (list.length > 0) parts.push(`${word} from ${list.map((v) => `${v.location}${what(v)}`).join(', ')}`);
  };
  const why = (v: LocationView): string => (v.reason ? ` (${v.reason.slice(0, 120)})` : '');
  const took = (v: LocationView): string => (v.latencyMs !== undefined ? ` in ${Math.round(v.latencyMs)} ms` : '');
  group('DOWN', down.filter((v) => v.state !== 'MAINTENANCE'), why);
  group('MAINTENANCE', down.filter((v) => v.state === 'MAINTENANCE'), why);
  group('UP', up.filter((v) => v.state !== 'DEGRADED'), took);
  group('DEGRADED', up.filter((v) => v.state === 'DEGRADED'), (v) => (v.reason ? why(v) : took(v)));
  return parts.join('; ');
}
