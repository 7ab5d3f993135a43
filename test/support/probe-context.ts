import type { CheckResult } from '../../src/domain/check.js';
import type { Target } from '../../src/kinds/index.js';
import type { Probe, ProbeContext } from '../../src/probes/probe.js';

/** A fixed wall-clock instant tests inject as `now`, so `CheckResult.at` is predictable. */
export const TEST_NOW = 1_700_000_000_000;

/** A probe context as the engine makes it, plus `dispose` to clear the timeout timer after the check. */
export interface TestProbeContext extends ProbeContext {
  dispose(): void;
}

/** A context whose signal aborts after `timeoutMs`, like the engine's per-check timeout. */
export function probeContext(timeoutMs: number, now = TEST_NOW): TestProbeContext {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  return {
    signal: controller.signal,
    now: () => now,
    dispose: () => clearTimeout(timer),
  };
}

/** A context whose signal has already fired: the check's time is up before it starts. */
export function abortedProbeContext(now = TEST_NOW): ProbeContext {
  const controller = new AbortController();
  controller.abort();
  return { signal: controller.signal, now: () => now };
}

/** Runs one check the way the engine does: a signal that fires at the target's timeout. */
export async function runProbe<T extends Target>(probe: Probe<T>, target: T): Promise<CheckResult> {
  const ctx = probeContext(target.timeoutMs);
  try {
    return await probe.run(target, ctx);
  } finally {
    ctx.dispose();
  }
}
