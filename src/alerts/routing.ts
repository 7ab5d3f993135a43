import { unreachable, type Notification, type NotificationKind } from '../domain/notification.js';

/** What a destination may ask to hear about (`events=`). */
export const EVENT_CLASSES = ['down', 'up', 'ack', 'degraded', 'maintenance', 'warning', 'trace'] as const;
/** One of {@link EVENT_CLASSES}. */
export type EventClass = (typeof EVENT_CLASSES)[number];

/** What a destination hears when `events=` is not given. */
export const DEFAULT_EVENTS: readonly EventClass[] = ['down', 'up'];

/**
 * The class of a notification for routing, or `chat` for what only the chat itself is told (reminders,
 * escalations that mention people by their Telegram name, notices about Lookout and its destinations).
 */
export function eventClass(kind: NotificationKind): EventClass | 'chat' | 'test' {
  switch (kind) {
    case 'down':
      return 'down';
    case 'up':
    case 'closed':
      return 'up';
    case 'acknowledged':
      return 'ack';
    case 'degraded':
    case 'normal':
      return 'degraded';
    case 'maintenance':
    case 'maintenance-over':
    case 'window-started':
    case 'window-ended':
    case 'window-ended-up':
      return 'maintenance';
    case 'warning':
      return 'warning';
    case 'trace':
      return 'trace';
    // Reminders and escalations stay in Telegram: PagerDuty escalates by itself, and a mail or a
    // webhook repeating itself every hour helps nobody.
    case 'reminder':
    case 'escalation':
    case 'store-failing':
    case 'store-recovered':
    case 'destination-paused':
    case 'location':
    case 'change':
      return 'chat';
    case 'test':
      return 'test';
    default:
      return unreachable(kind);
  }
}

/** Parses `events=down,up,degraded`; `all` means every class. */
export function parseEvents(text: string): { ok: true; value: EventClass[] } | { ok: false; error: string } {
  const words = text
    .split(',')
    .map((w) => w.trim().toLowerCase())
    .filter((w) => w !== '');
  if (words.length === 1 && words[0] === 'all') return { ok: true, value: [...EVENT_CLASSES] };
  const unknown = words.filter((w) => !(EVENT_CLASSES as readonly string[]).includes(w));
  if (words.length === 0 || unknown.length > 0) {
    const shown = unknown[0] !== undefined ? `"${unknown[0].slice(0, 20)}${unknown[0].length > 20 ? '…' : ''}"` : 'nothing';
    return { ok: false, error: `events must be a list of ${EVENT_CLASSES.join(', ')} (or all), got ${shown}` };
  }
  return { ok: true, value: [...new Set(words as EventClass[])] };
}

/** Whether a notification of a target goes to a destination that asked for these events and targets. */
export function wants(n: Notification, events: readonly EventClass[], targets: readonly string[] | undefined, targetName: string | undefined): boolean {
  const cls = eventClass(n.kind);
  if (cls === 'chat' || cls === 'test') return false;
  if (!events.includes(cls)) return false;
  if (targets && targets.length > 0 && targetName !== undefined && !targets.includes(targetName)) return false;
  return true;
}
