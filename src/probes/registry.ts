import type { CheckResult } from '../domain/check.js';
import type { KindTarget } from '../kinds/kind.js';
import type { Probe, ProbeContext } from './probe.js';

/** A probe of some kind, as the registry holds it (its target type is the kind's own). */
export type AnyProbe = { readonly kind: string; run(target: never, ctx: ProbeContext): Promise<CheckResult> };

/** Probes by target kind. */
export interface ProbeRegistry {
  get<T extends KindTarget>(kind: T['kind']): Probe<T>;
  kinds(): string[];
}

/** A registry over the given probes; asking for a kind nobody registered is a bug and throws. */
export function createProbeRegistry(probes: readonly AnyProbe[]): ProbeRegistry {
  const byKind = new Map<string, AnyProbe>();
  for (const probe of probes) {
    if (byKind.has(probe.kind)) throw new Error(`two probes registered for kind "${probe.kind}"`);
    byKind.set(probe.kind, probe);
  }
  return {
    get<T extends KindTarget>(kind: T['kind']): Probe<T> {
      const probe = byKind.get(kind);
      if (!probe) throw new Error(`no probe registered for kind "${kind}"`);
      return probe as unknown as Probe<T>;
    },
    kinds: () => [...byKind.keys()],
  };
}
