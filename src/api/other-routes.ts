import { parseDestination, type Destination } from '../alerts/destinations.js';
import { formatDuration } from '../domain/duration.js';
import { quoteValue } from '../domain/errors.js';
import type { Incident } from '../domain/incident.js';
import { isExpired, occurrenceAt, parseMuteSpec, parseWindowSpec, windowOf, type Window } from '../domain/window.js';
import type { z } from 'zod';
import type { ApiDeps, ApiRequest, ApiRoute } from './api.js';
import { objectBody } from './io.js';
import { problems } from './problem.js';
import { CHANNEL_ENTRY_SCHEMA } from '../targets/document.js';
import { WindowInput, type ChannelView, type IncidentView, type WindowView } from './schemas.js';

// /api/v1/windows, /channels and /incidents: the same parsers as /maintenance, /mute, /notify add and
// the Ack button, over the same registries.

const iso = (ms: number): string => new Date(ms).toISOString();
const nameOf = (targetId: string): string => targetId.slice(targetId.indexOf('/') + 1);

/** A window as the API shows it. */
function windowView(w: Window, now: number): z.infer<typeof WindowView> {
  return {
    id: w.id,
    kind: w.kind,
    target: w.targetId === undefined ? 'all' : nameOf(w.targetId),
    ...(w.start !== undefined ? { start: iso(w.start) } : {}),
    ...(w.cron !== undefined ? { cron: w.cron } : {}),
    durationSeconds: Math.round(w.durationMs / 1_000),
    tz: w.tz,
    ...(w.reason !== undefined ? { reason: w.reason } : {}),
    ...(w.untilUp ? { untilUp: true } : {}),
    active: occurrenceAt(w, now) !== undefined,
    managedBy: w.managed === 'file' ? 'file' : 'chat',
  };
}

/** A destination as the API shows it: where it goes in words, never its secrets. */
function channelView(deps: ApiDeps, d: Destination): z.infer<typeof ChannelView> {
  const spec = deps.channels.specs.find((s) => s.kind === d.kind);
  return {
    name: d.name,
    kind: d.kind,
    where: spec ? spec.describe(d.settings) : '?',
    events: d.events,
    ...(d.targets ? { targets: d.targets } : {}),
    ...(d.paused ? { paused: { at: iso(d.paused.at), why: d.paused.why } } : {}),
    managedBy: d.managed === 'file' ? 'file' : 'chat',
  };
}

/** An incident as the API shows it. */
function incidentView(i: Incident): z.infer<typeof IncidentView> {
  return {
    id: i.id,
    target: i.name,
    reason: i.reason,
    openedAt: iso(i.openedAt),
    ...(i.resolvedAt !== undefined ? { resolvedAt: iso(i.resolvedAt), durationSeconds: Math.round((i.resolvedAt - i.openedAt) / 1_000) } : {}),
    ...(i.ack ? { acknowledged: { by: i.ack.name, at: iso(i.ack.at) } } : {}),
  };
}

const WINDOW_FIELDS: ReadonlySet<string> = new Set(Object.keys(WindowInput.shape));

/** A window from its body, read by the parsers of /maintenance and /mute. */
async function windowFromBody(deps: ApiDeps, req: ApiRequest, body: unknown): Promise<Window> {
  const shape = WindowInput.safeParse(body);
  if (!shape.success) {
    throw problems.validation(
      shape.error.issues.map((i) => (i.code === 'unrecognized_keys' ? `unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.slice(0, 5).map((k) => quoteValue(String(k))).join(', ')}` : i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)),
      WINDOW_FIELDS,
    );
  }
  const input = shape.data;
  const scope = input.target.trim().toLowerCase();
  const target = scope === 'all' ? undefined : await deps.catalog.get(req.chatId, scope);
  if (scope !== 'all' && !target) throw problems.validation([`target: no target named ${quoteValue(input.target)} in chat ${req.chatId} (or write all)`], WINDOW_FIELDS);
  const settings = await deps.settings.get(req.chatId);
  const now = deps.clock.now();
  const options = [...(input.cron !== undefined ? [{ key: 'cron', value: input.cron }] : []), ...(input.tz !== undefined ? [{ key: 'tz', value: input.tz }] : [])];
  // The reason is one word here whatever it says: a reason of "until-up" is not the flag.
  const reason = input.reason?.trim() ? [input.reason.trim()] : [];
  if (input.kind === 'mute' && input.untilUp) throw problems.validation(['untilUp is for maintenance windows, not mutes'], WINDOW_FIELDS);
  if (reason[0]?.toLowerCase() === 'until-up' && !input.untilUp) throw problems.validation(['reason: "until-up" would be read as the flag; give untilUp: true, or another reason'], WINDOW_FIELDS);
  const duration = String(input.duration);
  const spec =
    input.kind === 'mute'
      ? input.start !== undefined && input.start.toLowerCase() !== 'now'
        ? { ok: false as const, errors: ['start: a mute starts now (use kind maintenance for a later start)'] }
        : parseMuteSpec({ positional: [duration, ...reason], options }, { tz: settings.tz, now })
      : parseWindowSpec({ positional: [...(input.start !== undefined ? [input.start] : input.cron === undefined ? ['now'] : []), duration, ...(input.untilUp ? ['until-up'] : []), ...reason], options }, { tz: settings.tz, now });
  if (!spec.ok) throw problems.validation(spec.errors, WINDOW_FIELDS);
  if (spec.value.untilUp && !target) throw problems.validation(['untilUp needs a target name: it ends when that target is UP again'], WINDOW_FIELDS);
  return windowOf({ id: deps.windows.nextId(now), chatId: req.chatId, ...(target ? { targetId: target.id } : {}), kind: input.kind, createdAt: now }, spec.value);
}

/** The window, destination and incident routes. */
export function otherRoutes(deps: ApiDeps): ApiRoute[] {
  const channelFields: ReadonlySet<string> = new Set(Object.keys(CHANNEL_ENTRY_SCHEMA.shape));
  return [
    {
      method: 'GET',
      path: '/windows',
      scope: 'read',
      summary: 'Maintenance windows and mutes that are running or still to come',
      handle: async (req) => {
        const now = deps.clock.now();
        return { status: 200, body: { windows: deps.windows.list(req.chatId).filter((w) => !isExpired(w, now)).map((w) => windowView(w, now)) } };
      },
    },
    {
      method: 'POST',
      path: '/windows',
      scope: 'write',
      summary: 'Add a maintenance window or a mute',
      handle: async (req) => {
        const w = await windowFromBody(deps, req, await req.body());
        await deps.windows.add(w);
        await deps.policy.windowsChanged();
        const view = windowView(w, deps.clock.now());
        await req.announce({ action: 'window-added', subject: view.target, detail: `${w.kind} ${w.cron ? `"${w.cron}"` : iso(w.start!)} for ${formatDuration(w.durationMs)}${w.reason ? `: ${w.reason}` : ''} (${w.id})` });
        return { status: 201, body: view, headers: { location: `/api/v1/windows/${w.id}` } };
      },
    },
    {
      method: 'DELETE',
      path: '/windows/{id}',
      scope: 'write',
      summary: 'Cancel a window or end a mute',
      handle: async (req) => {
        const w = deps.windows.get(req.params.id!.toLowerCase());
        if (!w || w.chatId !== req.chatId) throw problems.notFound(`no window with id ${quoteValue(req.params.id!)} in chat ${req.chatId}`);
        if (w.managed === 'file') throw problems.conflict(`window ${w.id} is managed by TARGETS_FILE: change it in the file`);
        await deps.windows.remove(w.id);
        await deps.policy.windowsChanged();
        await req.announce({ action: 'window-removed', subject: windowView(w, deps.clock.now()).target, detail: `${w.kind} ${w.id}` });
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/channels',
      scope: 'read',
      summary: "The chat's other destinations (Slack, e-mail, PagerDuty, SNS, webhooks), without their secrets",
      handle: async (req) => ({ status: 200, body: { channels: deps.destinations.list(req.chatId).map((d) => channelView(deps, d)) } }),
    },
    {
      method: 'POST',
      path: '/channels',
      scope: 'write',
      summary: 'Add a destination (as /notify add)',
      handle: async (req) => {
        const body = objectBody(await req.body());
        const shape = CHANNEL_ENTRY_SCHEMA.safeParse(body);
        if (!shape.success) throw problems.validation(shape.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message)), channelFields);
        const { name, kind, address, events, targets, chat, ...own } = shape.data;
        if (chat !== undefined && chat !== req.chatId) throw problems.validation([`chat ${chat} is not the chat of this request (${req.chatId}): leave chat out`], channelFields);
        const list = (v: string | string[] | undefined): string | undefined => (v === undefined ? undefined : Array.isArray(v) ? v.join(',') : v);
        const options = [
          ...(list(events) !== undefined ? [{ key: 'events', value: list(events)! }] : []),
          ...(list(targets) !== undefined ? [{ key: 'targets', value: list(targets)! }] : []),
          ...Object.entries(own).map(([k, v]) => ({ key: k.toLowerCase(), value: String(v) })),
        ];
        const known = new Set((await deps.catalog.list(req.chatId)).map((t) => t.name));
        const parsed = parseDestination(req.chatId, { kind, name, address, options }, deps.channels.specs, deps.channels.env, deps.clock.now(), known);
        if (!parsed.ok) throw problems.validation(parsed.errors, channelFields);
        if (deps.destinations.byName(req.chatId, parsed.value.name)) throw problems.conflict(`a destination named ${parsed.value.name} exists already: DELETE it first`);
        const spec = deps.channels.specs.find((s) => s.kind === parsed.value.kind)!;
        deps.channels.secrets.add(...spec.secrets(parsed.value.settings));
        await deps.destinations.put(parsed.value);
        await req.announce({ action: 'channel-added', subject: parsed.value.name, detail: `${spec.kind}: ${spec.describe(parsed.value.settings)}, for ${parsed.value.events.join(', ')}` });
        return { status: 201, body: channelView(deps, parsed.value), headers: { location: `/api/v1/channels/${encodeURIComponent(parsed.value.name)}` } };
      },
    },
    {
      method: 'DELETE',
      path: '/channels/{name}',
      scope: 'write',
      summary: 'Remove a destination (what it had not delivered is dropped)',
      handle: async (req) => {
        const d = deps.destinations.byName(req.chatId, req.params.name!.toLowerCase());
        if (!d) throw problems.notFound(`no destination named ${quoteValue(req.params.name!)} in chat ${req.chatId}`);
        if (d.managed === 'file') throw problems.conflict(`${d.name} is managed by TARGETS_FILE: change it in the file`);
        await deps.destinations.remove(d.id);
        await deps.outbox.discard(d.id);
        await req.announce({ action: 'channel-removed', subject: d.name });
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      path: '/incidents',
      scope: 'read',
      summary: 'Open incidents, and those resolved in the last 7 days (?days=1..90)',
      handle: async (req) => {
        const daysText = req.query.get('days') ?? '7';
        if (!/^\d{1,2}$/.test(daysText) || Number(daysText) < 1 || Number(daysText) > 90) throw problems.validation([`days must be a whole number of days between 1 and 90, got ${quoteValue(daysText)}`], new Set(['days']));
        const open = deps.incidents.allOpen().filter((i) => i.chatId === req.chatId && !i.suppressed).sort((a, b) => b.openedAt - a.openedAt);
        const recent = await deps.incidents.recent(req.chatId, deps.clock.now() - Number(daysText) * 86_400_000, 100);
        return { status: 200, body: { open: open.map(incidentView), recent: recent.map(incidentView) } };
      },
    },
    {
      method: 'POST',
      path: '/incidents/{id}/ack',
      scope: 'write',
      summary: 'Acknowledge an open incident (as the Ack button: reminders and escalation stop)',
      handle: async (req) => {
        const id = req.params.id!;
        const outcome = await deps.policy.acknowledge([id], { userId: 0, name: `token ${req.token.name}` }, req.chatId);
        if (outcome === undefined) throw problems.notFound(`no incident ${quoteValue(id)} in chat ${req.chatId}`);
        return { status: 200, body: { incident: id, outcome } };
      },
    },
  ];
}
