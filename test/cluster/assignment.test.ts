import { describe, expect, it } from 'vitest';
import { assign, ownerOf, rendezvousWeight } from '../../src/cluster/assignment.js';

/** Target ids as Lookout makes them (`<chat>/<name>`), from a few chats. */
const targets = (n: number): string[] => Array.from({ length: n }, (_, i) => `${[-1001234567890, 42, 777][i % 3]}/api-${i}`);
/** Member ids as a deployment makes them (host, pid, random part). */
const members = (n: number, from = 0): string[] => Array.from({ length: n }, (_, i) => `lookout-${from + i}.internal-${1000 + from + i}-${((from + i) * 2654435761 >>> 0).toString(16)}`);

const owners = (ts: readonly string[], ms: readonly string[]): Map<string, string> => new Map(ts.map((t) => [t, ownerOf(t, ms)!]));

describe('rendezvous assignment', () => {
  const ts = targets(10_000);

  it('is deterministic: the same lists give the same owners, whatever the order of the members', () => {
    const ms = members(5);
    expect(rendezvousWeight(ms[0]!, ts[0]!)).toBe(rendezvousWeight(ms[0]!, ts[0]!));
    expect(Number.isSafeInteger(rendezvousWeight(ms[0]!, ts[0]!))).toBe(true);
    const a = owners(ts, ms);
    const b = owners(ts, [...ms].reverse());
    expect(b).toEqual(a);
    expect(assign(ts, ms)).toEqual(assign(ts, [...ms].reverse()));
    // Fixed values: a change of the hash (which reassigns every target in a cluster) shows up here.
    expect(rendezvousWeight('a', '1/x')).toMatchInlineSnapshot(`6998457187001793`);
    expect(ownerOf('42/api', ['a', 'b', 'c'])).toMatchInlineSnapshot(`"b"`);
  });

  it('gives every target exactly one owner, among the members', () => {
    const ms = members(3);
    const map = assign(ts, ms);
    expect([...map.keys()]).toEqual([...ms].sort());
    const all = [...map.values()].flat();
    expect(all).toHaveLength(ts.length);
    expect(new Set(all).size).toBe(ts.length);
    for (const [member, list] of map) for (const t of list.slice(0, 50)) expect(ownerOf(t, ms)).toBe(member);
  });

  it('no member: no owner; one member: it owns all; a duplicated member counts once', () => {
    expect(ownerOf('1/a', [])).toBeUndefined();
    expect(assign(['1/a'], [])).toEqual(new Map());
    expect(assign(['1/a', '1/b'], ['solo'])).toEqual(new Map([['solo', ['1/a', '1/b']]]));
    expect(assign(['1/a', '1/b'], ['x', 'y', 'x'])).toEqual(assign(['1/a', '1/b'], ['x', 'y']));
  });

  /** Ways a deployment names its instances: host-pid-random, StatefulSet pods, single letters. */
  const namings: Record<string, (n: number) => string[]> = {
    'host-pid-random': (n) => members(n),
    'pod ordinals': (n) => Array.from({ length: n }, (_, i) => `lookout-${i}`),
    letters: (n) => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + i)),
  };

  it.each([2, 3, 5])('balances 10,000 targets over %i members within a tenth of a fair share, however they are named', (n) => {
    const fair = ts.length / n;
    for (const [naming, make] of Object.entries(namings)) {
      const counts = [...assign(ts, make(n)).values()].map((l) => l.length);
      const worst = Math.max(...counts.map((c) => Math.abs(c - fair) / fair));
      console.log(`balance over ${n} (${naming}): ${counts.join(', ')} (fair ${Math.round(fair)}; worst ${(worst * 100).toFixed(1)}% off)`);
      expect(worst).toBeLessThanOrEqual(0.1);
    }
  });

  it.each([2, 3, 5])('a member of %i leaves: only its targets move', (n) => {
    const ms = members(n);
    const before = owners(ts, ms);
    const gone = ms[1]!;
    const after = owners(ts, ms.filter((m) => m !== gone));
    let moved = 0;
    for (const t of ts) {
      if (before.get(t) === gone) {
        expect(after.get(t)).not.toBe(gone);
        moved++;
      } else expect(after.get(t)).toBe(before.get(t));
    }
    console.log(`leave ${n} → ${n - 1}: ${moved} of ${ts.length} targets moved (${((moved / ts.length) * 100).toFixed(1)}%, its share)`);
  });

  it.each([1, 2, 4])('a member joins %i: about 1/(n+1) of the targets move, all of them to it', (n) => {
    const ms = members(n);
    const joiner = members(1, 100)[0]!;
    const before = owners(ts, ms);
    const after = owners(ts, [...ms, joiner]);
    let moved = 0;
    for (const t of ts) {
      if (after.get(t) !== before.get(t)) {
        expect(after.get(t)).toBe(joiner);
        moved++;
      }
    }
    const fair = ts.length / (n + 1);
    console.log(`join ${n} → ${n + 1}: ${moved} of ${ts.length} targets moved to the new member (fair ${fair.toFixed(0)})`);
    expect(Math.abs(moved - fair)).toBeLessThanOrEqual(fair * 0.1);
  });

  it('is fast enough to recompute on every change (10,000 targets × 5 members)', () => {
    const ms = members(5);
    const t0 = performance.now();
    assign(ts, ms);
    const ms5 = performance.now() - t0;
    console.log(`assign 10,000 × 5: ${ms5.toFixed(1)} ms`);
    expect(ms5).toBeLessThan(1_000);
  });
});
