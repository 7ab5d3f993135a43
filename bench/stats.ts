/** The q-quantile (0..1) of `values` (sorted in place), nearest-rank. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return NaN;
  values.sort((a, b) => a - b);
  const rank = Math.min(values.length - 1, Math.max(0, Math.ceil(q * values.length) - 1));
  return values[rank]!;
}

/** Rounds to `digits` decimals for printing. */
export const round = (n: number, digits = 2): number => Number(n.toFixed(digits));

/** CPU time (user + system) in ms since `since`. */
export function cpuMsSince(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1_000;
}
