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
