import { z } from 'zod';
import { CHANNEL_ENTRY_SCHEMA, TARGET_ENTRY_SCHEMA } from '../targets/document.js';

// The REST API's bodies and answers as zod schemas: the handlers read and write these, and the OpenAPI
// document is generated from them (openapi.ts), so the two cannot drift apart.

const STATES = ['UNKNOWN', 'UP', 'DEGRADED', 'DOWN', 'MAINTENANCE', 'PAUSED'] as const;

/** A target's body: a targets-document entry (the keys and values `/add` takes). */
export const TargetInput = TARGET_ENTRY_SCHEMA.meta({ id: 'TargetInput', description: 'A target as in the targets document / `/export`: `url:` (or `host:`, `endpoint:`, …), `every: 30s`, `expect: 200-299`, … Unknown keys are refused.' });

/** The last check of a target. */
export const LastCheck = z
  .object({ ok: z.boolean(), at: z.string(), latencyMs: z.number(), status: z.number().optional(), reason: z.string().optional() })
  .meta({ id: 'LastCheck' });

/** A target as the API shows it. */
export const TargetView = z
  .object({
    name: z.string(),
    chat: z.number(),
    kind: z.string(),
    address: z.string(),
    paused: z.boolean(),
    managedBy: z.enum(['chat', 'file']).describe('file: declared in TARGETS_FILE, which is its source of truth (the API may not change it)'),
    state: z.enum(STATES),
    since: z.string().optional(),
    lastCheck: LastCheck.optional(),
    entry: z.record(z.string(), z.unknown()).describe('the target as a document entry (secrets masked as ••••; send it back as is to keep them)'),
    once: z.array(z.string()).optional().describe("shown once, in the answer that made it: a new secret's use, like a heartbeat's ping URL"),
  })
  .meta({ id: 'Target' });

/** The list of a chat's targets. */
export const TargetList = z.object({ targets: z.array(TargetView) }).meta({ id: 'TargetList' });

/** What a check now found. */
export const CheckOutcome = z.object({ target: z.string(), state: z.enum(STATES), ok: z.boolean(), latencyMs: z.number(), status: z.number().optional(), reason: z.string().optional() }).meta({ id: 'CheckOutcome' });

/** A target's stats over a period. */
export const Stats = z
  .object({
    target: z.string(),
    period: z.enum(['24h', '7d', '30d']),
    from: z.string(),
    to: z.string(),
    uptimePct: z.number().optional().describe('up time over up + down time (DEGRADED counts as up; maintenance and paused not at all)'),
    downSeconds: z.number(),
    incidents: z.number(),
    checks: z.number(),
    failures: z.number(),
    latencyMs: z.object({ p50: z.number().optional(), p95: z.number().optional(), p99: z.number().optional() }),
    failuresByReason: z.record(z.string(), z.number()),
  })
  .meta({ id: 'Stats' });

/** A maintenance window or mute to create: what `/maintenance` and `/mute` take, as keys. */
export const WindowInput = z
  .object({
    target: z.string().describe('a target name, or all'),
    kind: z.enum(['maintenance', 'mute']).default('maintenance'),
    start: z.string().optional().describe('now, HH:MM (the chat time zone) or an ISO time; a mute starts now'),
    duration: z.union([z.string(), z.number()]).describe('like 2h or 30m'),
    cron: z.string().optional().describe('a recurring window: "0 2 * * SUN" (instead of start)'),
    tz: z.string().optional(),
    reason: z.string().optional(),
    untilUp: z.boolean().optional().describe('end early when the target is UP again (one-off windows of one target)'),
  })
  .strict()
  .meta({ id: 'WindowInput' });

/** A window as the API shows it. */
export const WindowView = z
  .object({
    id: z.string(),
    kind: z.enum(['maintenance', 'mute']),
    target: z.string(),
    start: z.string().optional(),
    cron: z.string().optional(),
    durationSeconds: z.number(),
    tz: z.string(),
    reason: z.string().optional(),
    untilUp: z.boolean().optional(),
    active: z.boolean(),
    managedBy: z.enum(['chat', 'file']),
  })
  .meta({ id: 'Window' });

/** A chat's windows. */
export const WindowList = z.object({ windows: z.array(WindowView) }).meta({ id: 'WindowList' });

/** A destination's body: a document `channels:` entry (what `/notify add` takes, as keys). */
export const ChannelInput = CHANNEL_ENTRY_SCHEMA.meta({ id: 'ChannelInput', description: 'kind, name, address and the kind\'s own options; events and targets as lists or comma-separated' });

/** A destination as the API shows it (no secrets). */
export const ChannelView = z
  .object({
    name: z.string(),
    kind: z.string(),
    where: z.string(),
    events: z.array(z.string()),
    targets: z.array(z.string()).optional(),
    paused: z.object({ at: z.string(), why: z.string() }).optional(),
    managedBy: z.enum(['chat', 'file']),
  })
  .meta({ id: 'Channel' });

/** A chat's destinations. */
export const ChannelList = z.object({ channels: z.array(ChannelView) }).meta({ id: 'ChannelList' });

/** An incident as the API shows it. */
export const IncidentView = z
  .object({
    id: z.string(),
    target: z.string(),
    reason: z.string(),
    openedAt: z.string(),
    resolvedAt: z.string().optional(),
    durationSeconds: z.number().optional(),
    acknowledged: z.object({ by: z.string(), at: z.string() }).optional(),
  })
  .meta({ id: 'Incident' });

/** Open and recent incidents. */
export const IncidentList = z.object({ open: z.array(IncidentView), recent: z.array(IncidentView) }).meta({ id: 'IncidentList' });

/** The outcome of an acknowledgement. */
export const AckOutcome = z.object({ incident: z.string(), outcome: z.enum(['acknowledged', 'already', 'resolved']) }).meta({ id: 'AckOutcome' });

/** An RFC 9457 problem. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number(),
    detail: z.string().optional(),
    errors: z.array(z.object({ field: z.string().optional(), detail: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });
