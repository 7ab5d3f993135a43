// Which live instance checks which target: rendezvous (highest random weight) hashing. Pure, no I/O.
//
// Every instance computes the same answer from the same two lists (target ids, live member ids), so no
// instance has to tell another what it owns. A target's owner is the member with the highest weight
// w(member, target); removing a member moves only the targets it owned (each to its runner-up), and a
// new member takes exactly the targets for which it now weighs most (about 1/n of them), from whoever
// had them, and nothing moves between the others.
//
// The weight is a 53-bit non-cryptographic hash (cyrb53: two 32-bit multiply-xor lanes with a final
// avalanche, by bryc, public domain) of the member id, a separator and the target id. That is enough
// here: the ids are Lookout's own (`<chat>/<name>` targets, instance ids chosen by the deployment), not
// an adversary's input; what matters is that the weights of one target across members look independent
// and uniform (balance) and that every instance, whatever its platform, computes the same numbers
// (Math.imul on UTF-16 code units is exact integer arithmetic in every JS engine). A collision would
// only decide one target's owner by the tie-break (the lower member id), never give it two owners or
// none. It is also fast: no BigInt, no allocation per weight (10,000 targets × 5 members ≈ a few ms).
// Changing the hash reassigns every target: all instances of one cluster must run the same function.

/** The weight of `member` for `target` (an integer in [0, 2^53)): the member that weighs most owns the target. */
export function rendezvousWeight(member: string, target: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  const feed = (code: number): void => {
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  };
  for (let i = 0; i < member.length; i++) feed(member.charCodeAt(i));
  // For one target, member + separator + target strings are equal only when the members are: no ambiguity.
  feed(0xffff);
  for (let i = 0; i < target.length; i++) feed(target.charCodeAt(i));
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The member that checks `targetId`, or undefined when there is no member. Equal weights go to the lower id. */
export function ownerOf(targetId: string, members: readonly string[]): string | undefined {
  let owner: string | undefined;
  let best = -1;
  for (const member of members) {
    const w = rendezvousWeight(member, targetId);
    if (w > best || (w === best && owner !== undefined && member < owner)) {
      best = w;
      owner = member;
    }
  }
  return owner;
}

/**
 * The targets of each member: every member (once, in sorted order) is a key, with the targets it owns in
 * the order given (an empty list when it owns none). With no member, the map is empty.
 */
export function assign(targetIds: Iterable<string>, members: readonly string[]): Map<string, string[]> {
  const unique = [...new Set(members)].sort();
  const out = new Map<string, string[]>(unique.map((m) => [m, []]));
  if (unique.length === 0) return out;
  for (const target of targetIds) out.get(ownerOf(target, unique)!)!.push(target);
  return out;
}

/** A live instance and where it checks from. */
export interface PlacedMember {
  id: string;
  location: string;
}

/** Who checks one target: per location (several places, each its own state), or one instance as before. */
export interface Placement {
  /** Checked from each of `locations` on its own (the leader takes the verdict); false: one check, one state. */
  perLocation: boolean;
  /** The live locations that check it (per location), sorted. */
  locations: string[];
  /** The instances that check it: one per location, or the one owner. */
  owners: string[];
}

/**
 * Where a target is checked among the live members. With one live location (or `locations=one`) it is
 * one check by the owner among all members, as with one place. With several, each location it asks for
 * (every live one by default) checks it, the owner among that location's members; a target whose named
 * locations are all gone is checked once by the owner among all (never left unchecked).
 */
export function placeTarget(targetId: string, choice: { kind: 'all' } | { kind: 'one' } | { kind: 'named'; names: readonly string[] } | undefined, members: readonly PlacedMember[]): Placement {
  const ids = [...new Set(members.map((m) => m.id))].sort();
  const live = [...new Set(members.map((m) => m.location))].sort();
  const single = (): Placement => ({ perLocation: false, locations: [], owners: ids.length > 0 ? [ownerOf(targetId, ids)!] : [] });
  if (live.length <= 1 || choice?.kind === 'one') return single();
  const wanted = choice?.kind === 'named' ? live.filter((l) => choice.names.includes(l)) : live;
  if (wanted.length === 0) return single();
  const owners = wanted.map((l) => ownerOf(targetId, members.filter((m) => m.location === l).map((m) => m.id))!);
  return { perLocation: true, locations: wanted, owners };
}
