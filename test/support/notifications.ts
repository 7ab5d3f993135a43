import type { IncidentFacts, Notification } from '../../src/domain/notification.js';

/** A chat the notification helpers use by default. */
export const NOTE_CHAT = -1001234567890;

/** An incident's facts for target `name` (in NOTE_CHAT), with overrides. */
export const facts = (name: string, incident = `i-${name}`, over: Partial<IncidentFacts> = {}): IncidentFacts => ({
  id: incident,
  target: { id: `${NOTE_CHAT}/${name}`, name, address: `https://${name}.example.com/health` },
  reason: 'HTTP 503, expected 200-299',
  failure: 'status',
  openedAt: Date.UTC(2026, 10, 23, 12, 0, 0),
  failedChecks: 2,
  latencyMs: 42,
  source: { label: 'fra-1', address: '203.0.113.7' },
  host: `${name}.example.com`,
  port: 443,
  ...over,
});

const base = (id: string, targetId?: string, chatId = NOTE_CHAT) => ({ id, at: Date.UTC(2026, 10, 23, 12, 0, 0), chatId, ...(targetId ? { targetId } : {}) });

/** A `down` notification of target `name`'s incident. */
export const down = (name: string, incident = `i-${name}`, over: Partial<IncidentFacts> = {}): Notification => {
  const f = facts(name, incident, over);
  return { kind: 'down', incident: f, ...base(`${incident}:down`, f.target.id) };
};

/** The `up` of that incident, `afterMs` after it opened. */
export const up = (name: string, incident = `i-${name}`, afterMs = 22_000): Notification => {
  const f = facts(name, incident);
  return { kind: 'up', incident: f, resolvedAt: f.openedAt + afterMs, now: 'HTTP 200 in 40 ms', ...base(`${incident}:end`, f.target.id) };
};

/** A `closed` end of that incident. */
export const closed = (name: string, why: 'paused' | 'removed' | 'maintenance', incident = `i-${name}`): Notification => {
  const f = facts(name, incident);
  return { kind: 'closed', incident: f, resolvedAt: f.openedAt + 5_000, why, ...base(`${incident}:end`, f.target.id) };
};

/** A reminder of that incident. */
export const reminder = (name: string, incident = `i-${name}`, n = 1): Notification => {
  const f = facts(name, incident);
  return { kind: 'reminder', incident: f, ...base(`${incident}:remind:${n}`, f.target.id) };
};

/** A DEGRADED notice of target `name`. */
export const degraded = (name: string, id = `${name}:deg`): Notification => ({
  kind: 'degraded',
  target: { id: `${NOTE_CHAT}/${name}`, name, address: 'x' },
  detail: 'latency 900 ms over 800 ms',
  ...base(id, `${NOTE_CHAT}/${name}`),
});

/** A chat-wide notice (no target). */
export const windowEnded = (scope: string, id = `w:${scope}`): Notification => ({ kind: 'window-ended', scope, window: 'mute', ...base(id) });
