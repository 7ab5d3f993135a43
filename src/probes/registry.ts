import type { Target } from '../kinds/index.js';
import type { Probe } from './probe.js';

/** A probe for any one kind of target. */
export type AnyProbe = { [K in Target['kind']]: Probe<Extract<Target, { kind: K }>> }[Target['kind']];

/** Probes by target kind. */
export interface ProbeRegistry {
  get<T extends Target>(kind: T['kind']): Probe<T>;
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
    get<T extends Target>(kind: T['kind']): Probe<T> {
      const probe = byKind.get(kind);
      if (!probe) throw new Error(`no probe registered for kind "${kind}"`);
      return probe as unknown as Probe<T>;
    },
    kinds: () => [...byKind.keys()],
  };
}
