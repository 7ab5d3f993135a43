import { describe, expect, it } from 'vitest';
import { onSlot, SLOT_CHECKS_MAX, SLOT_RATE_MAX, slotMsFor } from '../../src/engine/slots.js';

describe('start-time slots', () => {
  it('about SLOT_CHECKS_MAX checks share a slot of at most a second, while the rate is low', () => {
    expect(slotMsFor(5)).toBe(1_000); // 100 targets every 20 s
    expect(slotMsFor(50)).toBe(250); // 1,000 targets every 20 s: 12.5 per slot
    expect(slotMsFor(150)).toBe(100);
    for (const rate of [0.01, 1, 7, 33, 50, 80, 120, 199]) {
      const slot = slotMsFor(rate);
      expect(1_000 % slot).toBe(0);
      expect((slot / 1_000) * rate).toBeLessThanOrEqual(SLOT_CHECKS_MAX);
    }
  });

  it('no slots at high rates, with no targets, or for a rate that is not a number', () => {
    expect(slotMsFor(SLOT_RATE_MAX)).toBe(1);
    expect(slotMsFor(1_000)).toBe(1);
    expect(slotMsFor(0)).toBe(1);
    expect(slotMsFor(Number.NaN)).toBe(1);
  });

  it('rounds a time up to its slot, and leaves it with no slot', () => {
    expect(onSlot(1_234, 250)).toBe(1_250);
    expect(onSlot(1_250, 250)).toBe(1_250);
    expect(onSlot(1_234, 1)).toBe(1_234);
  });
});
