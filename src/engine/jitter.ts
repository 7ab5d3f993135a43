/**
 * A stable offset in `[0, spanMs)` for a target: targets with the same interval get different,
 * evenly spread phases (FNV-1a of the id), and a target keeps its phase across restarts.
 */
export function phaseOffset(id: string, spanMs: number): number {
  if (spanMs <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    hash ^= id.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % Math.floor(spanMs);
}
