import type { Notification } from '../domain/notification.js';
import { invalid, valid, type Parsed } from '../domain/result.js';
import { createBook } from '../store/book.js';
import type { KeyvStore } from '../store/keyv.js';
import type { ChannelEnv, ChannelSpec } from './channels/spec.js';
import { parseEvents, wants, type EventClass } from './routing.js';

/** A destination of a chat besides the chat itself: a Slack channel, a mailing list, a PagerDuty service. */
export interface Destination {
  /** `<kind>:<chat>:<name>`: the outbox's destination key. */
  id: string;
  chatId: number;
  /** Unique in its chat, like a target's name. */
  name: string;
  kind: string;
  /** As the kind's `parse` made them. */
  settings: unknown;
  events: EventClass[];
  /** Only these targets (names); all of the chat's when absent. */
  targets?: string[];
  /** Set when it answered "gone" (or an admin paused it): nothing is routed to it until resumed. */
  paused?: { at: number; why: string };
  /** Declared in TARGETS_FILE: the chat cannot change it. */
  managed?: 'file';
  createdAt: number;
}

/** The key of a destination. */
export const destinationId = (kind: string, chatId: number, name: string): string => `${kind}:${chatId}:${name}`;

/** Every destination, in memory (they are few), written through to the store. */
export interface Destinations {
  load(): Promise<void>;
  list(chatId?: number): Destination[];
  get(id: string): Destination | undefined;
  byName(chatId: number, name: string): Destination | undefined;
  put(destination: Destination): Promise<void>;
  remove(id: string): Promise<boolean>;
  update(id: string, change: (d: Destination) => void): Promise<Destination | undefined>;
  /**
   * Where a notification of a chat goes besides the chat: the destinations that asked for its class of
   * events and its target, are not paused, and are among the target's own `notify=` when it has one.
   */
  route(n: Notification, target: { name: string; notify?: readonly string[] } | undefined): string[];
}

/** The destinations over the `destinations` namespace. */
export function createDestinations(store: KeyvStore): Destinations {
  const book = createBook(store.namespace<Destination>('destinations'));
  const all = (): Destination[] => book.cached().sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  return {
    async load() {
      await book.load(() => true);
    },
    list: (chatId) => all().filter((d) => chatId === undefined || d.chatId === chatId),
    get: (id) => book.cached().find((d) => d.id === id),
    byName: (chatId, name) => book.cached().find((d) => d.chatId === chatId && d.name === name),
    async put(destination) {
      await book.put(destination);
    },
    async remove(id) {
      if (!book.cached().some((d) => d.id === id)) return false;
      await book.delete(id);
      return true;
    },
    update: (id, change) => book.update(id, change),
    route(n, target) {
      const out: string[] = [];
      for (const d of book.cached()) {
        if (d.chatId !== n.chatId || d.paused) continue;
        if (target?.notify && target.notify.length > 0 && !target.notify.includes(d.name)) continue;
        if (wants(n, d.events, d.targets, target?.name)) out.push(d.id);
      }
      return out;
    },
  };
}

/** The words of a destination as `/notify add` and the targets document give them. */
export interface DestinationInput {
  kind: string;
  name: string;
  address: string;
  /** `events=`, `targets=` and the kind's own options, with the keys as the user wrote them (lower-cased). */
  options: ReadonlyArray<{ key: string; value: string }>;
}

const NAME_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const clipWord = (text: string, max = 40): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/**
 * Validates a destination (the shared `events=` and `targets=`, then the kind's own address and
 * options) and builds it. Every problem is reported; none echoes a secret or a long value whole.
 */
export function parseDestination(
  chatId: number,
  input: DestinationInput,
  specs: readonly ChannelSpec[],
  env: ChannelEnv,
  now: number,
  knownTargets?: ReadonlySet<string>,
): Parsed<Destination> {
  const spec = specs.find((s) => s.kind === input.kind.toLowerCase());
  if (!spec) return invalid(`unknown kind "${clipWord(input.kind, 20)}": one of ${specs.map((s) => s.kind).join(', ')}`);
  const errors: string[] = [];
  const name = input.name.toLowerCase();
  if (!NAME_RE.test(name)) errors.push(`name must be 1-32 characters of a-z, 0-9, "_" or "-", starting with a letter or digit, got "${clipWord(input.name)}"`);
  let events: EventClass[] = [...spec.defaultEvents];
  let targets: string[] | undefined;
  const own = new Map<string, string>();
  const known = new Set(spec.options.map((o) => o.key));
  for (const { key, value } of input.options) {
    if (key === 'events') {
      const parsed = parseEvents(value);
      if (parsed.ok) events = parsed.value;
      else errors.push(parsed.error);
    } else if (key === 'targets') {
      const names = value.split(',').map((n) => n.trim().toLowerCase()).filter((n) => n !== '');
      const unknown = knownTargets ? names.filter((n) => !knownTargets.has(n)) : [];
      if (names.length === 0) errors.push('targets must be a comma-separated list of target names');
      else if (unknown.length > 0) errors.push(`targets: no target named "${clipWord(unknown[0]!)}" in this chat`);
      else targets = names;
    } else if (known.has(key)) {
      own.set(key, value);
    } else {
      errors.push(`${clipWord(key, 20)} is not an option of ${spec.kind}: use events=, targets=${spec.options.map((o) => `, ${o.key}=`).join('')}`);
    }
  }
  const settings = spec.parse(input.address, own, env);
  if (!settings.ok) errors.push(...settings.errors);
  if (errors.length > 0 || !settings.ok) return invalid(...errors);
  return valid({
    id: destinationId(spec.kind, chatId, name),
    chatId,
    name,
    kind: spec.kind,
    settings: settings.value,
    events,
    ...(targets ? { targets } : {}),
    createdAt: now,
  });
}

/** Whether the words of a destination carried a secret (the message that did is deleted from the chat). */
export function carriesSecret(input: DestinationInput, specs: readonly ChannelSpec[], settings: unknown): boolean {
  const spec = specs.find((s) => s.kind === input.kind.toLowerCase());
  if (!spec) return false;
  const secretKeys = new Set(spec.options.filter((o) => o.secret).map((o) => o.key));
  return input.options.some((o) => secretKeys.has(o.key) && o.value !== '') || spec.secrets(settings).length > 0;
}

/** The masked form of a secret in an export. */
const MASKED = '••••';

/**
 * Validates a document's destination as `/notify add` would. With `stored` (an /import), a masked
 * secret (`••••`) keeps the stored destination's settings of the same name; in TARGETS_FILE a masked
 * value is refused (the file must hold the real one).
 */
export function documentDestination(
  specs: readonly ChannelSpec[],
  env: ChannelEnv,
  now: number,
  options: { managed?: 'file'; stored?: (chatId: number, name: string) => Destination | undefined },
): (chatId: number, input: DestinationInput, known: ReadonlySet<string>) => Parsed<Destination> {
  return (chatId, input, known) => {
    const masked = input.address === MASKED || input.options.some((o) => o.value === MASKED);
    if (masked) {
      const previous = options.stored?.(chatId, input.name.toLowerCase());
      if (!previous || previous.kind !== input.kind.toLowerCase()) return invalid('a masked secret (••••) can only keep the secret of a destination of this chat with that name and kind; give the real value');
      // Only the shared options are read again; the kind's settings are the stored ones.
      const eventsText = input.options.find((o) => o.key === 'events')?.value;
      const parsedEvents = eventsText !== undefined ? parseEvents(eventsText) : undefined;
      if (parsedEvents && !parsedEvents.ok) return invalid(parsedEvents.error);
      const events = parsedEvents?.ok ? parsedEvents.value : previous.events;
      const targetsText = input.options.find((o) => o.key === 'targets')?.value;
      const targets = targetsText !== undefined ? targetsText.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean) : previous.targets;
      return valid({ ...previous, events, ...(targets ? { targets } : {}), ...(options.managed ? { managed: options.managed } : {}) });
    }
    const parsed = parseDestination(chatId, input, specs, env, now, known);
    if (!parsed.ok) return parsed;
    return valid({ ...parsed.value, ...(options.managed ? { managed: options.managed } : {}) });
  };
}

/** A destination as a document entry: the kind writes its address and options back; secrets masked unless asked for. */
export function destinationEntry(d: Destination, spec: ChannelSpec, secrets: boolean): Record<string, string | string[]> {
  const { address, options } = spec.format(d.settings);
  const hidden = new Set(spec.secrets(d.settings));
  const secretKeys = new Set(spec.options.filter((o) => o.secret).map((o) => o.key));
  const out: Record<string, string | string[]> = { name: d.name, kind: d.kind, address: !secrets && hidden.has(address) ? MASKED : address };
  for (const [k, v] of Object.entries(options)) out[k] = !secrets && (secretKeys.has(k) || hidden.has(v)) ? MASKED : v;
  out.events = d.events;
  if (d.targets) out.targets = d.targets;
  return out;
}

/**
 * Makes the registry hold a document's destinations: `declare` (TARGETS_FILE) adds and replaces the
 * declared ones and removes the file-managed ones it no longer declares; `import` adds and replaces,
 * never removes. Returns how many were added or changed.
 */
export async function applyDestinations(registry: Destinations, list: readonly Destination[], mode: 'declare' | 'import', onRemoved?: (d: Destination) => Promise<void>): Promise<number> {
  let changed = 0;
  const declared = new Set(list.map((d) => d.id));
  if (mode === 'declare') {
    for (const d of registry.list().filter((x) => x.managed === 'file' && !declared.has(x.id))) {
      await registry.remove(d.id);
      await onRemoved?.(d);
    }
  }
  for (const d of list) {
    const previous = registry.get(d.id);
    const next: Destination = { ...d, createdAt: previous?.createdAt ?? d.createdAt, ...(previous?.paused ? { paused: previous.paused } : {}) };
    if (previous && JSON.stringify({ ...previous, createdAt: 0 }) === JSON.stringify({ ...next, createdAt: 0 })) continue;
    await registry.put(next);
    changed++;
  }
  return changed;
}
