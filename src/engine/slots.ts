/**
 * Start-time slots of a lightly loaded engine. Each check wakes the process and runs its connect, write,
 * read and close in wake-ups of their own; a process that checks 5 or 50 targets a second spends most of
 * its CPU on those wake-ups (the real process at 1,000 targets every 20 s: 1.1 ms per check with each check
 * on its own, 0.48 ms with about a dozen sharing a start). So while the configured check rate is low, due
 * times are rounded up to a slot that about SLOT_CHECKS_MAX checks share. A target keeps its slot from one
 * check to the next (its interval is a whole number of slots), so the gaps a target sees stay its interval.
 * At high rates the checks are dense enough to share wake-ups anyway, and a slot would only make bursts
 * (10,000 targets every 10 s measured worse with 100 ms slots), so there are none from SLOT_RATE_MAX up.
 */

/** Slot lengths (ms), longest first: each divides a second, so intervals in whole seconds keep a target on its slot. */
const SLOTS_MS = [1_000, 500, 250, 200, 100, 50, 25, 20, 10, 5, 2] as const;

/** On average at most this many checks start in one slot. */
export const SLOT_CHECKS_MAX = 20;

/** From this many checks per second up, checks are not put on slots. */
export const SLOT_RATE_MAX = 200;

/** The slot length (ms) for a configured rate of `checksPerS`; 1 means none. */
export function slotMsFor(checksPerS: number): number {
  if (!(checksPerS > 0) || checksPerS >= SLOT_RATE_MAX) return 1;
  for (const slot of SLOTS_MS) if ((slot / 1_000) * checksPerS <= SLOT_CHECKS_MAX) return slot;
  return 1;
}

/** `t` rounded up to the next multiple of `slotMs`. */
export function onSlot(t: number, slotMs: number): number {
  return slotMs <= 1 ? t : Math.ceil(t / slotMs) * slotMs;
}
