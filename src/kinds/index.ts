import { ec2Kind } from './ec2/index.js';
import { heartbeatKind } from './heartbeat/index.js';
import { httpKind } from './http/index.js';
import { createProbeRegistry, type AnyProbe, type ProbeRegistry } from '../probes/registry.js';
import type { KindModule, KindRequest, KindResponse, KindRuntime, KindTarget } from './kind.js';
import { dnsKind } from './dns/index.js';
import { pingKind } from './ping/index.js';
import { tcpKind } from './tcp/index.js';

// The one list of check kinds. A new kind is its folder, its test, one line here and the docs.
// The first kind is the default of `/add` (a bare URL).

/** Every kind, by name: the key must be the module's kind (checked below, and by the compiler through `Target`). */
export const KINDS = {
  http: httpKind,
  tcp: tcpKind,
  ec2: ec2Kind,
  ping: pingKind,
  dns: dnsKind,
  heartbeat: heartbeatKind,
} as const;

type Modules = (typeof KINDS)[keyof typeof KINDS];
type TargetOf<M> = M extends KindModule<infer T> ? T : never;

/** Anything Lookout checks on a schedule: the union of every kind's target. */
export type Target = TargetOf<Modules>;
/** What a target checks. */
export type TargetKind = Target['kind'];

/** Each kind's target. */
export type TargetOfKind<K extends TargetKind> = Extract<Target, { kind: K }>;

// The compiler refuses a key that is not its module's kind.
const _keysMatch: { [K in TargetKind]: KindModule<TargetOfKind<K>> } = KINDS;
void _keysMatch;

/** The kinds in registration order. */
export const KIND_LIST: ReadonlyArray<KindModule<Target>> = Object.values(KINDS) as unknown as ReadonlyArray<KindModule<Target>>;

/** The kind names, in registration order. */
export const KIND_NAMES = Object.keys(KINDS) as TargetKind[];

/** Whether `word` names a kind. */
export const isKind = (word: string): word is TargetKind => Object.hasOwn(KINDS, word);

/**
 * The module of a target's kind, typed for that target. One cast, here: a module keyed by its kind
 * (checked above) is the module of every target of that kind.
 */
export const moduleOf = <T extends Target>(target: T): KindModule<T> => KINDS[target.kind as TargetKind] as unknown as KindModule<T>;

/** A kind's module by name. */
export const moduleNamed = (kind: TargetKind): KindModule<Target> => KINDS[kind] as unknown as KindModule<Target>;

/** The address a target checks, as shown to users: the URL, `host:port`, `ec2 ENDPOINT (REGION)`; never a credential. */
export const targetAddress = (t: Target): string => moduleOf(t).show(t);

/** Where a trace of the target goes: its host, and the service's port for TCP traces; none for kinds without a host. */
export const traceTarget = (t: Target): { host: string; port?: number } | undefined => moduleOf(t).trace(t);

export type { KindTarget };

/** Every kind running in the process: the probes, the kinds' HTTP routes, and their start and close. */
export interface RunningKinds {
  probes: ProbeRegistry;
  /** Offers a request to Lookout's HTTP server to every kind; undefined when none answers it. */
  route(req: KindRequest): Promise<KindResponse | undefined>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Makes every kind's instance for this process. */
export function startKinds(runtime: KindRuntime): RunningKinds {
  const instances = KIND_LIST.map((m) => m.create(runtime));
  return {
    probes: createProbeRegistry(instances.map((i): AnyProbe => i.probe)),
    async route(req) {
      for (const i of instances) {
        const answer = await i.route?.(req);
        if (answer) return answer;
      }
      return undefined;
    },
    start: async () => void (await Promise.all(instances.map((i) => i.start?.()))),
    close: async () => void (await Promise.allSettled(instances.map((i) => i.close?.()))),
  };
}
