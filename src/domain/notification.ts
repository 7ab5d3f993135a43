import type { FailureKind } from './check.js';

// What the alert side tells, as facts: every channel renders its own message from these, so no
// module outside a channel writes HTML or knows a message id.

/** Where Lookout runs, as alerts name it. */
export interface SourceFacts {
  label: string;
  address?: string;
}

/** A target as a notification names it. */
export interface TargetFacts {
  id: string;
  name: string;
  /** The address as shown to people (URL, host:port, endpoint); channels clip it. */
  address: string;
  note?: string;
}

/** One incident as its alert tells it: enough for any channel to render it without reading the store. */
export interface IncidentFacts {
  id: string;
  target: TargetFacts;
  reason: string;
  failure?: FailureKind;
  openedAt: number;
  failedChecks: number;
  latencyMs?: number;
  source: SourceFacts;
  /** Where the traffic went (traces). */
  host?: string;
  port?: number;
}

/** Someone on call, as an escalation mentions them. */
export interface PersonFacts {
  id?: number;
  username?: string;
  name: string;
}

/** How an incident ended without recovering. */
export type ClosedWhy = 'paused' | 'removed' | 'maintenance';

/** A warning before something breaks. */
export type WarningFacts =
  | { what: 'cert' | 'token'; expiresAt: number; daysLeft: number }
  | { what: 'rate'; remaining: number; limit: number };

/** A finished network trace, as plain text (channels decide how to show it). */
export interface TraceFacts {
  ok: boolean;
  host: string;
  /** `reached 10.0.0.1 in 3 hops …`, or why the trace failed. */
  summary: string;
  /** `ICMP`, `TCP port 443`. */
  mode: string;
  /** The classic mtr report table (absent when the trace failed). */
  table?: string;
  source: SourceFacts;
}

/** What happened, by kind. */
export type NotificationBody =
  /** A confirmed outage: the alert. */
  | { kind: 'down'; incident: IncidentFacts }
  /** The outage is over. `now` is the recovering check in words; `ackBy` who had acknowledged it. */
  | { kind: 'up'; incident: IncidentFacts; resolvedAt: number; now?: string; ackBy?: string }
  /** The incident ended without a recovery: paused, removed, or planned maintenance. */
  | { kind: 'closed'; incident: IncidentFacts; resolvedAt: number; why: ClosedWhy }
  /** Someone took the incidents on. */
  | { kind: 'acknowledged'; incidentIds: string[]; by: { userId: number; name: string } }
  /** Still DOWN and nobody acknowledged it. */
  | { kind: 'reminder'; incident: IncidentFacts }
  /** Still unacknowledged after `escalate`: the next person on call is called. */
  | { kind: 'escalation'; incident: IncidentFacts; person: PersonFacts; step: number }
  | { kind: 'degraded'; target: TargetFacts; detail?: string }
  | { kind: 'normal'; target: TargetFacts; durationMs: number }
  /** The service itself reports maintenance. */
  | { kind: 'maintenance'; target: TargetFacts; detail?: string }
  | { kind: 'maintenance-over'; target: TargetFacts; durationMs: number }
  | { kind: 'warning'; target: TargetFacts; warning: WarningFacts }
  /** A scheduled maintenance window began (`scope` = a target name or `all targets`). */
  | { kind: 'window-started'; scope: string; until: string; reason?: string }
  | { kind: 'window-ended'; scope: string; window: 'maintenance' | 'mute' }
  /** An `until-up` window ended because its target is UP again. */
  | { kind: 'window-ended-up'; scope: string }
  /** A trace of an alert's path, taken after the alert went out. */
  | { kind: 'trace'; incidentId: string; trace: TraceFacts; /** One of several places' traces after the first: a reply, never drawn into the alert. */ asReply?: boolean }
  /** Lookout cannot write to its store (once per episode), and can again. */
  | { kind: 'store-failing'; cause: string; since: number }
  | { kind: 'store-recovered'; since: number; retried: number }
  /** `/notify test`: a notification that exists only to see whether a destination takes it. */
  | { kind: 'test'; destination: string; by: string }
  /** A destination answered that it is gone (401/403/404/410, an invalid key): paused until resumed. */
  | { kind: 'destination-paused'; destination: string; channel: string; why: string }
  /** A location stopped reporting (its instances are gone) or checks again; `remaining`: the places that judge now; `targets`: this chat's targets it checked. */
  | { kind: 'location'; location: string; lost: boolean; remaining: string[]; targets: number }
  /** A change made outside the chat (the REST API), told to the chat like a change made there. */
  | { kind: 'change'; change: ChangeFacts };

/** What was changed outside the chat, by whom: `➕ api added by token ci-deploy`. */
export interface ChangeFacts {
  action: 'added' | 'edited' | 'removed' | 'paused' | 'resumed' | 'window-added' | 'window-removed' | 'channel-added' | 'channel-removed' | 'acknowledged';
  /** The target, window or destination it was about (its name or id). */
  subject: string;
  /** The API token's name. */
  by: string;
  /** A short description (`every 30s`, `maintenance now → 14:00 UTC`). */
  detail?: string;
}

/** Every kind of notification. */
export type NotificationKind = NotificationBody['kind'];

/** A notification: what happened, for which chat (and topic), when; `id` makes it idempotent. */
export type Notification = NotificationBody & {
  /** Deterministic where it can be (`<incident>:down`): a decision re-made after a crash is queued once. */
  id: string;
  at: number;
  chatId: number;
  threadId?: number;
  /** The target it is about, when it is about one: per target, notifications keep their order. */
  targetId?: string;
};

/** The target a notification is about, if any (for ordering and routing). */
export function notificationTarget(n: NotificationBody): string | undefined {
  switch (n.kind) {
    case 'down':
    case 'up':
    case 'closed':
    case 'reminder':
    case 'escalation':
      return n.incident.target.id;
    case 'degraded':
    case 'normal':
    case 'maintenance':
    case 'maintenance-over':
    case 'warning':
      return n.target.id;
    case 'acknowledged':
    case 'window-started':
    case 'window-ended':
    case 'window-ended-up':
    case 'trace':
    case 'store-failing':
    case 'store-recovered':
    case 'test':
    case 'destination-paused':
    case 'location':
    case 'change':
      return undefined;
    default:
      return unreachable(n);
  }
}

/** The compile-time check of an exhaustive switch. */
export function unreachable(value: never): never {
  throw new Error(`unhandled case: ${JSON.stringify(value)}`);
}

/** Hands a notification to the outbox (durably, before it resolves). */
export type Tell = (notification: Notification) => Promise<void>;
