import type { LookupFunction } from 'node:net';
import type { Dispatcher } from 'undici';
import type { TargetCommon, TargetContext } from '../domain/target.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { Probe } from '../probes/probe.js';

// The contract of a check kind. Everything about one kind lives in its folder under src/kinds/<kind>/:
// its target type, its options, how its address is read, shown, exported and imported, where its traces
// go, its probe, and its lines in /help and the /add dialogue. The option grammar (targets/options.ts),
// the targets document (targets/document.ts), the help texts, the probe registry and the HTTP server's
// routes are built from the list in kinds/index.ts; nothing outside a kind's folder names a kind.

/** The fields every kind's target has, and its kind name. */
export type KindTarget = TargetCommon & { kind: string };

/** A target being built or edited: every field optional until it is finished. */
export type Draft<T extends KindTarget> = Partial<Omit<T, 'kind'>> & { kind: T['kind'] };

/** What an option's parser gets besides the value: the key as the user wrote it (errors name it) and where the target lives. */
export interface OptionContext extends TargetContext {
  key: string;
}

/** One `key=value` option. `apply` sets the draft's field, or returns why the value is refused. */
export interface OptionSpec<D> {
  /** May be given more than once (`header=`, `assert=`). */
  repeatable?: boolean;
  /** Its value is a secret: the chat message that carried it is deleted, errors never echo it. */
  secret?: boolean;
  apply(draft: D, value: string, ctx: OptionContext): string | undefined;
}

/** A value an export writes for one key. */
export type EntryValue = string | number | boolean | readonly string[] | Readonly<Record<string, string>>;

/** The positional word after the kind in `/add` (and its key in a document). */
export interface AddressSpec<T extends KindTarget> {
  /** The document key (`url`, `host`, `endpoint`, `query`, or `name` for kinds addressed by their name). */
  key: string;
  /** The error when it is missing, with an example. */
  missing: string;
  /** How a document gives it, when more than the key is worth saying (`host: host:port`). */
  documentHint?: string;
  /** Parses it into the draft, or returns why it is refused. */
  apply(draft: Draft<T>, text: string, ctx: OptionContext): string | undefined;
}

/** What a kind's parts get from the process: shared clients, the deployment's rules and the store. */
export interface KindRuntime {
  allowMetadata: boolean;
  /** The guarded HTTP agent every http-like probe shares. */
  httpAgent: Dispatcher;
  /** Name resolution; tests pass one that never leaves the machine. */
  lookup?: LookupFunction;
  clock: Clock;
  logger?: Logger;
  /** A durable key-value namespace of the kind's own (a push kind's last pings). */
  storage(namespace: string): KindStorage;
  /** Checks a target now (a push kind that just heard from its job). */
  checkNow(targetId: string): void;
  /** The targets being checked. */
  targets(): readonly KindTarget[];
  /** The address people and jobs reach Lookout's HTTP server at (`PUBLIC_URL`). */
  publicUrl: string;
  /** `SOURCE_ADDRESS`: every probe's connections leave from this local address. */
  sourceAddress?: string;
}

/** The part of Keyv a kind uses. */
export interface KindStorage {
  get(key: string): Promise<unknown>;
  set(key: string, value: unknown): Promise<unknown>;
  delete(key: string): Promise<unknown>;
}

/** A request to Lookout's HTTP server that a kind answers (`/ping/<token>`). */
export interface KindRequest {
  method: string;
  /** The path, without the query. */
  path: string;
  /** At most 10 KiB of the body, as text (read when asked for). */
  body(): Promise<string>;
}

/** A kind's answer; undefined: not this kind's path. */
export interface KindResponse {
  status: number;
  body: unknown;
}

/** A kind running in the process: its probe, and whatever else it needs while the process runs. */
export interface KindInstance<T extends KindTarget> {
  probe: Probe<T>;
  /** Answers requests to Lookout's HTTP server under this kind's own paths. */
  route?(req: KindRequest): Promise<KindResponse | undefined>;
  /** Loads what the kind keeps (before the first check). */
  start?(): Promise<void>;
  /** Releases clients and connections at shutdown. */
  close?(): Promise<void> | void;
}

/** One kind of check: everything about it. */
export interface KindModule<T extends KindTarget> {
  readonly kind: T['kind'];
  /** `/add` usage of this kind, like `/add ping HOST [count=3] [loss=100%]`. */
  readonly usage: string;
  /** What it checks, in a few words (help, README). */
  readonly summary: string;
  /** The dialogue's hint for this kind's address, like `ping host`. */
  readonly dialogue: string;
  /** The dialogue's example of this kind's options (HTML), like `name=db count=5 loss=20%`. */
  readonly optionsExample: string;
  readonly address: AddressSpec<T>;
  /** The kind's own options; an option named like a shared one replaces it for this kind. */
  readonly options: Readonly<Record<string, OptionSpec<Draft<T>>>>;
  /** Document keys that are not options, with how they become options (http's `headers:`). */
  readonly entryKeys?: Readonly<Record<string, EntryKey<T>>>;
  /** Shared settings this kind defaults differently (a heartbeat confirms a missed ping at once). */
  readonly defaults?: Partial<Pick<TargetCommon, 'confirm' | 'recover' | 'everyMs' | 'timeoutMs' | 'retryMs'>>;
  /** Shared options that mean nothing for this kind: refused, and left out of its exports. */
  readonly omits?: readonly string[];
  /** What a target read again from a document keeps of the stored one when the entry does not say (a heartbeat's token). */
  keep?(built: T, stored: T, given: ReadonlySet<string>): T;
  /** The kind's fields of a finished target, from a draft whose options were all accepted. */
  finish(draft: Draft<T>, ctx: TargetContext): Omit<T, keyof TargetCommon | 'kind'>;
  /** What a new target of this kind lacks (given: the option keys given); its address is checked already. */
  required?(draft: Draft<T>, given: ReadonlySet<string>, ctx: TargetContext): string[];
  /** Rules between fields, after every option is applied. */
  check?(target: T): string[];
  /** After an edit's options are applied: what follows from them (a new key drops a session token). */
  edited?(before: T, draft: Draft<T>, given: ReadonlySet<string>): void;
  /** The host a derived target name is made from. */
  nameHost(draft: Draft<T>): string;
  /** The address as people see it: a URL, `host:port`, `dns MX example.com`; never a secret. */
  show(target: T): string;
  /** The kind's settings in a few words, for /status and the /add reply. */
  describe(target: T): string;
  /** The kind is not checked on a timer of its own choosing (a push kind): its settings leave out the check timing. */
  readonly pushed?: boolean;
  /** Extra /status lines (masked headers, the masked ping URL). */
  statusLines?(target: T): string[];
  /**
   * Extra lines of the /add reply, and of an /edit or /import reply when the target's secrets changed (a
   * heartbeat's URL, shown whole only there). `publicUrl` is undefined when the HTTP server is off.
   */
  addedLines?(target: T, runtime: { publicUrl: string | undefined }): string[];
  /** The kind's entry keys in a document (the address first), secrets masked unless `secrets`. */
  entry(target: T, secrets: boolean): Record<string, EntryValue>;
  /** Where a trace of a failing target goes: its host and the service's port (none: ICMP only). */
  trace(target: T): { host: string; port?: number } | undefined;
  /** Values that must never appear in logs or chat (credentials, tokens). */
  secrets(target: T): string[];
  /** The stored value of a secret option, which a masked value (••••) in a document stands for. */
  stored?(target: T, key: string): string | undefined;
  create(runtime: KindRuntime): KindInstance<T>;
}

/** A document key that is not an option (`headers:` of http). */
export interface EntryKey<T extends KindTarget> {
  /** Whether the value has the right shape; the message when not. */
  shape(value: unknown): string | undefined;
  /** The options it stands for; a masked value is taken from `existing`, or an error is pushed. */
  options(value: unknown, existing: T | undefined, at: string, errors: string[]): Array<{ key: string; value: string }>;
}

/** The type-checked identity: a kind module written against its own target type. */
export const defineKind = <T extends KindTarget>(module: KindModule<T>): KindModule<T> => module;

/** An option's error from a parse result, or undefined after `set` took the value. */
export function errorOf<V>(parsed: { ok: true; value: V } | { ok: false; errors: string[] }, set: (v: V) => void): string | undefined {
  if (!parsed.ok) return parsed.errors.join('; ');
  set(parsed.value);
  return undefined;
}

/** `[::1]:443` or `db:5432`: a host and port as people write them. */
export const hostPort = (host: string, port: number): string => `${host.includes(':') ? `[${host}]` : host}:${port}`;

/** A parse result whose errors name `key` (the key as the user wrote it) where they named `as`. */
export function withKey<V>(parsed: { ok: true; value: V } | { ok: false; errors: string[] }, as: string, key: string) {
  if (parsed.ok || as === key) return parsed;
  return { ok: false as const, errors: parsed.errors.map((e) => (e.startsWith(as) ? key + e.slice(as.length) : e)) };
}
