import { chatFullText } from '../engine/catalog.js';
import { formatDuration } from '../domain/duration.js';
import { quoteValue } from '../domain/errors.js';
import type { CommandArgs } from '../domain/options.js';
import { targetAddress, moduleOf, type Target } from '../kinds/index.js';
import { chartSvg, renderPng } from '../reports/chart.js';
import { parsePeriod, statsFor, statsForPlaces } from '../reports/period.js';
import { entryArgs, parseTargetEntry, TARGET_ENTRY_SCHEMA, type TargetEntry } from '../targets/document.js';
import { targetEntryOf } from '../targets/document-export.js';
import { editTarget } from '../targets/options.js';
import type { ApiDeps, ApiRequest, ApiRoute } from './api.js';
import { objectBody } from './io.js';
import { problems } from './problem.js';
import type { z } from 'zod';
import type { CheckOutcome, Stats, TargetView } from './schemas.js';

// /api/v1/targets: the same grammar, validation and words as /add and /edit (a target's body is a
// targets-document entry, read by the document's own code), and the same catalog, so the chat is told,
// the other instances read the change and /export shows it.

/** Every key a target body may have: what a problem's `field` may name. */
const FIELDS: ReadonlySet<string> = new Set([...Object.keys(TARGET_ENTRY_SCHEMA.shape), 'chat']);

/** What the chat's /add shows once about a new secret (a heartbeat's ping URL): told once in the answer that made it. */
function shownOnce(deps: Pick<ApiDeps, 'publicUrl'>, t: Target): { once: string[] } | Record<string, never> {
  const lines = moduleOf(t).addedLines?.(t, { publicUrl: deps.publicUrl }) ?? [];
  return lines.length > 0 ? { once: lines } : {};
}

/** A target as the API shows it. */
export function targetView(deps: Pick<ApiDeps, 'engine'>, t: Target): z.infer<typeof TargetView> {
  const record = deps.engine.state(t.id);
  const r = record?.lastResult;
  return {
    name: t.name,
    chat: t.chatId,
    kind: t.kind,
    address: targetAddress(t),
    paused: t.paused,
    managedBy: t.managed === 'file' ? 'file' : 'chat',
    state: t.paused ? 'PAUSED' : (record?.state ?? 'UNKNOWN'),
    ...(record ? { since: new Date(record.since).toISOString() } : {}),
    ...(r
      ? {
          lastCheck: {
            ok: r.ok,
            at: new Date(r.at).toISOString(),
            latencyMs: Math.round(r.latencyMs),
            ...(r.status !== undefined ? { status: r.status } : {}),
            ...(r.reason !== undefined ? { reason: r.reason } : {}),
          },
        }
      : {}),
    entry: targetEntryOf(t, false),
  };
}

/** The named target of the request's chat, or 404. */
async function found(deps: ApiDeps, req: ApiRequest): Promise<Target> {
  const name = req.params.name!.toLowerCase();
  const target = await deps.catalog.get(req.chatId, name);
  if (!target) throw problems.notFound(`no target named ${quoteValue(name)} in chat ${req.chatId}`);
  return target;
}

/** A target the API may change (not one TARGETS_FILE declares). */
async function changeable(deps: ApiDeps, req: ApiRequest): Promise<Target> {
  const target = await found(deps, req);
  if (target.managed === 'file') throw problems.conflict(`${target.name} is managed by TARGETS_FILE: change it in the file`);
  return target;
}

/** The document context of a body for the request's chat. */
const contextOf = (deps: ApiDeps, req: ApiRequest, existing?: Target) => ({
  now: deps.clock.now(),
  allowMetadata: deps.allowMetadata,
  forceChatId: req.chatId,
  ...(existing ? { existing: () => existing } : {}),
});

/** `settings` of an announcement: the address and the interval. */
const summary = (t: Target): string => `${targetAddress(t)}${moduleOf(t).omits?.includes('timeout') ? '' : ` every ${formatDuration(t.everyMs)}`}`;

/** A new target from a body; 409 when the name is taken, 422 with each problem. */
async function create(deps: ApiDeps, req: ApiRequest, body: Record<string, unknown>): Promise<Target> {
  const full = chatFullText(deps.engine.targets().filter((t) => t.chatId === req.chatId).length, deps.maxTargetsPerChat);
  if (full) throw problems.conflict(full);
  const parsed = parseTargetEntry(body, contextOf(deps, req));
  if (!parsed.ok) throw problems.validation(parsed.errors, FIELDS);
  const added = await deps.catalog.add({ ...parsed.value.target, paused: false });
  if (!added.ok) throw problems.conflict(added.error);
  deps.channels.secrets.add(...moduleOf(added.value).secrets(added.value));
  await req.announce({ action: 'added', subject: added.value.name, detail: summary(added.value) });
  return added.value;
}

/** Refuses a `paused:` that is not a boolean before anything changes. */
function checkPaused(paused: unknown): void {
  if (paused !== undefined && typeof paused !== 'boolean') throw problems.validation([`paused must be true or false, got ${quoteValue(JSON.stringify(paused) ?? String(paused))}`], FIELDS);
}

/** Pauses or resumes as a body's `paused:` asks (a change of its own, told as such). */
async function pausedAs(deps: ApiDeps, req: ApiRequest, t: Target, paused: unknown): Promise<Target> {
  if (paused === undefined || paused === t.paused) return t;
  if (typeof paused !== 'boolean') throw problems.validation([`paused must be true or false, got ${quoteValue(JSON.stringify(paused) ?? String(paused))}`], FIELDS);
  if (paused) await deps.catalog.pause(t);
  else await deps.catalog.resume(t);
  await req.announce({ action: paused ? 'paused' : 'resumed', subject: t.name });
  return (await deps.catalog.get(t.chatId, t.name)) ?? t;
}

/** The once-shown lines when an edit changed a target's secrets (a heartbeat's token=new), as /edit shows them. */
const onceIfNewSecret = (deps: ApiDeps, before: Target, after: Target) =>
  moduleOf(after).secrets(after).join('\n') !== moduleOf(before).secrets(before).join('\n') ? shownOnce(deps, after) : {};

/** Replaces a target by its edited copy and tells the chat. */
async function replaced(deps: ApiDeps, req: ApiRequest, previous: Target, next: Target): Promise<Target> {
  const done = await deps.catalog.replace(previous, { ...next, createdAt: previous.createdAt, paused: previous.paused });
  if (!done.ok) throw problems.conflict(done.error);
  deps.channels.secrets.add(...moduleOf(done.value).secrets(done.value));
  const renamed = done.value.name !== previous.name ? `renamed from ${previous.name}; ` : '';
  await req.announce({ action: 'edited', subject: done.value.name, detail: `${renamed}${summary(done.value)}` });
  return done.value;
}

/** The edit options a merge patch stands for (`null` is refused: the grammar has a word for "off" where there is one). */
function patchOptions(target: Target, patch: Record<string, unknown>): CommandArgs['options'] {
  const errors: string[] = [];
  for (const key of ['kind', 'chat', 'thread']) if (patch[key] !== undefined) errors.push(`${key} cannot be changed: remove the target and add it again`);
  const nulls = Object.keys(patch).filter((k) => patch[k] === null);
  for (const key of nulls) errors.push(`${key}: null is not a value; give the value it should have (like 0 or off where the option has one)`);
  if (errors.length > 0) throw problems.validation(errors, FIELDS);
  const shape = TARGET_ENTRY_SCHEMA.safeParse(patch);
  if (!shape.success) throw problems.validation(shape.error.issues.map((i) => (i.code === 'unrecognized_keys' ? `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.slice(0, 5).map((k) => quoteValue(String(k))).join(', ')}` : `${i.path.join('.')}: ${i.message}`)), FIELDS);
  const module = moduleOf(target);
  const { paused: _paused, ...rest } = patch;
  const local: string[] = [];
  const args = entryArgs(rest as TargetEntry, target.kind, target, local, 'body');
  if (local.length > 0) throw problems.validation(local.map((e) => e.replace(/^body\.?/, '')), FIELDS);
  // The address key is an option too (`url=`, `host=`; `name=` for kinds addressed by their name, a rename).
  const address = rest[module.address.key];
  return address !== undefined ? [{ key: module.address.key, value: String(address) }, ...args.options] : args.options;
}

/** The target routes. */
export function targetRoutes(deps: ApiDeps): ApiRoute[] {
  return [
    {
      method: 'GET',
      path: '/targets',
      scope: 'read',
      summary: "List the chat's targets with their state",
      handle: async (req) => ({ status: 200, body: { targets: (await deps.catalog.list(req.chatId)).sort((a, b) => a.name.localeCompare(b.name)).map((t) => targetView(deps, t)) } }),
    },
    {
      method: 'POST',
      path: '/targets',
      scope: 'write',
      summary: 'Add a target (409 when its name is taken)',
      handle: async (req) => {
        const t = await create(deps, req, objectBody(await req.body()));
        return { status: 201, body: { ...targetView(deps, t), ...shownOnce(deps, t) }, headers: { location: `/api/v1/targets/${encodeURIComponent(t.name)}` } };
      },
    },
    { method: 'GET', path: '/targets/{name}', scope: 'read', summary: 'One target with its state', handle: async (req) => ({ status: 200, body: targetView(deps, await found(deps, req)) }) },
    {
      method: 'PUT',
      path: '/targets/{name}',
      scope: 'write',
      summary: 'Create or replace a target by name (idempotent: the same body again changes nothing)',
      handle: async (req) => {
        const body = objectBody(await req.body());
        checkPaused(body.paused);
        const name = req.params.name!.toLowerCase();
        if (body.name !== undefined && String(body.name).toLowerCase() !== name) throw problems.validation([`name ${quoteValue(String(body.name))} is not the name in the path (${quoteValue(name)}); rename with PATCH`], FIELDS);
        const entry: Record<string, unknown> = { ...body, name };
        const existing = await deps.catalog.get(req.chatId, name);
        if (!existing) {
          const t = await create(deps, req, entry);
          return { status: 201, body: { ...targetView(deps, await pausedAs(deps, req, t, body.paused)), ...shownOnce(deps, t) }, headers: { location: `/api/v1/targets/${encodeURIComponent(t.name)}` } };
        }
        if (existing.managed === 'file') throw problems.conflict(`${existing.name} is managed by TARGETS_FILE: change it in the file`);
        const { paused, ...rest } = entry;
        const parsed = parseTargetEntry(rest, contextOf(deps, req, existing));
        if (!parsed.ok) throw problems.validation(parsed.errors, FIELDS);
        if (parsed.value.target.kind !== existing.kind) throw problems.conflict(`${existing.name} is a ${existing.kind} target: its kind cannot be changed; remove it and add it again`);
        const next = { ...parsed.value.target, createdAt: existing.createdAt, paused: existing.paused };
        const same = JSON.stringify(targetEntryOf(next, true)) === JSON.stringify(targetEntryOf(existing, true)) && next.threadId === existing.threadId;
        const t = same ? existing : await replaced(deps, req, existing, next);
        return { status: 200, body: { ...targetView(deps, await pausedAs(deps, req, t, paused)), ...onceIfNewSecret(deps, existing, t) } };
      },
    },
    {
      method: 'PATCH',
      path: '/targets/{name}',
      scope: 'write',
      summary: 'Change some settings of a target (a JSON merge patch of its entry; name renames it)',
      handle: async (req) => {
        const body = objectBody(await req.body());
        checkPaused(body.paused);
        const target = await changeable(deps, req);
        const options = patchOptions(target, body);
        let t = target;
        if (options.length > 0) {
          const edited = editTarget(target, options, { now: deps.clock.now(), allowMetadata: deps.allowMetadata });
          if (!edited.ok) throw problems.validation(edited.errors, FIELDS);
          t = await replaced(deps, req, target, edited.value);
        } else if (body.paused === undefined) throw problems.validation(['nothing to change: give the keys to change, like {"every": "30s"}'], FIELDS);
        return { status: 200, body: { ...targetView(deps, await pausedAs(deps, req, t, body.paused)), ...onceIfNewSecret(deps, target, t) } };
      },
    },
    {
      method: 'DELETE',
      path: '/targets/{name}',
      scope: 'write',
      summary: 'Remove a target (its state and history go with it)',
      handle: async (req) => {
        const target = await changeable(deps, req);
        await deps.catalog.remove(target);
        await req.announce({ action: 'removed', subject: target.name });
        return { status: 204 };
      },
    },
    {
      method: 'POST',
      path: '/targets/{name}/check',
      scope: 'write',
      summary: 'Check a target now',
      handle: async (req) => {
        const target = await found(deps, req);
        const event = await deps.engine.checkNow(target.id);
        if (!event) throw problems.conflict(`${target.name} cannot be checked now${target.paused ? ' (it is paused)' : ''}`);
        const r = event.result;
        const body: z.infer<typeof CheckOutcome> = {
          target: target.name,
          state: event.record.state,
          ok: r.ok,
          latencyMs: Math.round(r.latencyMs),
          ...(r.status !== undefined ? { status: r.status } : {}),
          ...(r.reason !== undefined ? { reason: r.reason } : {}),
        };
        return { status: 200, body };
      },
    },
    ...(['pause', 'resume'] as const).map(
      (verb): ApiRoute => ({
        method: 'POST',
        path: `/targets/{name}/${verb}`,
        scope: 'write',
        summary: verb === 'pause' ? 'Pause a target: no checks and no alerts until resumed' : 'Resume a paused target',
        handle: async (req) => ({ status: 200, body: targetView(deps, await pausedAs(deps, req, await changeable(deps, req), verb === 'pause')) }),
      }),
    ),
    {
      method: 'GET',
      path: '/targets/{name}/stats',
      scope: 'read',
      summary: 'Uptime, latency percentiles and failures by reason over 24h, 7d or 30d (?period=, default 7d)',
      handle: async (req) => {
        const target = await found(deps, req);
        const period = parsePeriod(req.query.get('period') ?? undefined, ['24h', '7d', '30d'], '7d');
        if (!period.ok) throw problems.validation(period.errors.map((e) => e.replace(/^the period/, 'period')), new Set(['period']));
        const s = await statsFor(deps.history, target.id, period.value, deps.clock.now(), 0, deps.placeNames?.(target.id) ?? []);
        const body: z.infer<typeof Stats> = {
          target: target.name,
          period: period.value,
          from: new Date(s.from).toISOString(),
          to: new Date(s.to).toISOString(),
          ...(s.availability.uptimePct !== undefined ? { uptimePct: s.availability.uptimePct } : {}),
          downSeconds: Math.round(s.availability.downMs / 1_000),
          incidents: s.availability.incidents,
          checks: s.summary.checks,
          failures: s.summary.failures,
          latencyMs: { ...(s.p50 !== undefined ? { p50: s.p50 } : {}), ...(s.p95 !== undefined ? { p95: s.p95 } : {}), ...(s.p99 !== undefined ? { p99: s.p99 } : {}) },
          failuresByReason: Object.fromEntries(s.summary.reasons),
        };
        return { status: 200, body };
      },
    },
    ...(['svg', 'png'] as const).map(
      (format): ApiRoute => ({
        method: 'GET',
        path: `/targets/{name}/chart.${format}`,
        scope: 'read',
        summary: `The /history latency chart as ${format.toUpperCase()} (?period=24h|7d|30d, default 24h)`,
        handle: async (req) => {
          const target = await found(deps, req);
          const period = parsePeriod(req.query.get('period') ?? undefined, ['24h', '7d', '30d'], '24h');
          if (!period.ok) throw problems.validation(period.errors.map((e) => e.replace(/^the period/, 'period')), new Set(['period']));
          const places = deps.placeNames?.(target.id) ?? [];
          const both = places.length > 0 ? await statsForPlaces(deps.history, target.id, places, period.value, deps.clock.now()) : undefined;
          const stats = both?.stats ?? (await statsFor(deps.history, target.id, period.value, deps.clock.now()));
          const svg = chartSvg(`${target.name} · latency, last ${period.value} (UTC)`, period.value, stats, both?.places ?? []);
          return { status: 200, raw: format === 'svg' ? { type: 'image/svg+xml', data: svg } : { type: 'image/png', data: renderPng(svg) } };
        },
      }),
    ),
  ];
}
