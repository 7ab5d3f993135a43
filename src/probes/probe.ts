import type { CheckResult } from '../domain/check.js';

/** What a probe gets besides the target: the signal that ends the check at its timeout or at shutdown. */
export interface ProbeContext {
  signal: AbortSignal;
  /** Wall clock for `CheckResult.at`; latency is measured with the monotonic clock. */
  now: () => number;
}

/** One kind of check. `run` resolves to a result for every expected failure and never throws for one. */
export interface Probe<T extends { kind: string } = { kind: string }> {
  readonly kind: T['kind'];
  run(target: T, ctx: ProbeContext): Promise<CheckResult>;
}
