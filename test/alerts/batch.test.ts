import { describe, expect, it } from 'vitest';
import { idsOf, planBatch, type Planned } from '../../src/alerts/batch.js';
import { closed, degraded, down, reminder, up, windowEnded } from '../support/notifications.js';

/** A plan in short words: `down:a`, `blip:a`, `up:a`, per segment. */
const words = (segments: Planned[][]): string[][] =>
  segments.map((s) => s.map((p) => (p.kind === 'blip' ? `blip:${p.down.incident.target.name}` : `${p.notification.kind}:${p.notification.targetId?.split('/')[1] ?? '-'}`)));

describe('planBatch', () => {
  it('an alert and its end in one batch are one blip that covers both ids', () => {
    const plan = planBatch([down('a'), down('b'), up('a')]);
    expect(words(plan)).toEqual([['blip:a', 'down:b']]);
    expect(idsOf(plan[0]![0]!)).toEqual(['i-a:down', 'i-a:end']);
  });

  it('a closed end makes a blip too', () => {
    expect(words(planBatch([down('a'), closed('a', 'paused')]))).toEqual([['blip:a']]);
  });

  it('an end whose alert went out in an earlier batch stays an end', () => {
    expect(words(planBatch([up('a'), down('b')]))).toEqual([['up:a', 'down:b']]);
  });

  it("cuts segments where a target comes again, so one target's events keep their order", () => {
    // The resolution of incident 1 and the alert of incident 2 of the same target.
    expect(words(planBatch([down('b'), up('a', 'a1'), down('a', 'a2'), degraded('b')]))).toEqual([
      ['down:b', 'up:a'],
      ['down:a', 'degraded:b'],
    ]);
  });

  it('a flapping target: alert, end, alert, end make two blips in two segments, in order', () => {
    const plan = planBatch([down('a', 'a1'), up('a', 'a1'), down('a', 'a2'), up('a', 'a2')]);
    expect(words(plan)).toEqual([['blip:a'], ['blip:a']]);
    expect(plan.flat().flatMap(idsOf)).toEqual(['a1:down', 'a1:end', 'a2:down', 'a2:end']);
  });

  it('notices without a target never cut a segment; a reminder of a target does', () => {
    expect(words(planBatch([down('a'), windowEnded('all'), windowEnded('x'), reminder('a')]))).toEqual([['down:a', 'window-ended:-', 'window-ended:-'], ['reminder:a']]);
  });

  it('covers every id exactly once, in order', () => {
    const batch = [down('a'), down('b'), up('b'), degraded('c'), up('a'), down('a', 'a2'), windowEnded('w')];
    const ids = planBatch(batch).flat().flatMap(idsOf);
    expect([...ids].sort()).toEqual(batch.map((n) => n.id).sort());
  });
});
