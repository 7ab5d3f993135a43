import { addCheck, emptySummary, percentile, summarize, type Summary } from '../domain/history.js';
import type { Clock } from '../lib/clock.js';
import type { CheckEvent } from './engine.js';

/** How Lookout itself is doing lately: what /health reports. */
export interface SelfSnapshot {
  checksLastMinute: number;
  /** Scheduling lateness over the last 5 minutes (ms). */
  latenessP50Ms?: number;
  latenessP95Ms?: number;
  telegramErrorsLastHour: number;
}

/** Rolling counters of checks, lateness and Telegram errors, in fixed memory. */
export interface SelfStats {
  observe(event: Pick<CheckEvent, 'latenessMs' | 'manual'>): void;
  telegramError(): void;
  snapshot(): SelfSnapshot;
}

const SLOT_MS = 10_000;
const SLOTS = 30;

/** Keeps 10-second slots for 5 minutes (a lateness histogram each) and Telegram error times for an hour. */
export function createSelfStats(clock: Clock): SelfStats {
  const slots = new Map<number, { checks: number; lateness: Summary }>();
  const errors: number[] = [];
  const slotOf = (now: number): { checks: number; lateness: Summary } => {
    const t = Math.floor(now / SLOT_MS) * SLOT_MS;
    let slot = slots.get(t);
    if (!slot) {
      slot = { checks: 0, lateness: emptySummary() };
      slots.set(t, slot);
      for (const key of slots.keys()) if (key <= t - SLOTS * SLOT_MS) slots.delete(key);
    }
    return slot;
  };
  return {
    observe(event) {
      const slot = slotOf(clock.now());
      slot.checks++;
      // A /check runs at once: its zero lateness says nothing about the scheduler.
      if (!event.manual) addCheck(slot.lateness, { ok: true, latencyMs: Math.max(0, event.latenessMs) });
    },
    telegramError() {
      const now = clock.now();
      errors.push(now);
      while (errors.length > 0 && errors[0]! < now - 3_600_000) errors.shift();
      if (errors.length > 100_000) errors.splice(0, errors.length - 100_000);
    },
    snapshot() {
      const now = clock.now();
      const recent = [...slots].filter(([t]) => t > now - SLOTS * SLOT_MS);
      const lateness = summarize(recent.map(([, s]) => s.lateness));
      const checksLastMinute = recent.filter(([t]) => t + SLOT_MS > now - 60_000).reduce((n, [, s]) => n + s.checks, 0);
      const p50 = percentile(lateness, 0.5);
      const p95 = percentile(lateness, 0.95);
      return {
        checksLastMinute,
        ...(p50 !== undefined ? { latenessP50Ms: p50 } : {}),
        ...(p95 !== undefined ? { latenessP95Ms: p95 } : {}),
        telegramErrorsLastHour: errors.filter((t) => t > now - 3_600_000).length,
      };
    },
  };
}
