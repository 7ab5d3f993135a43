import { shortId, type Incident } from '../domain/incident.js';
import type { Clock } from '../lib/clock.js';
import { COMPACT_MESSAGE_MAX, formatReminder, formatResolutionGroup, GROUP_MESSAGE_MAX } from './format.js';
import { createGrouper, type Grouper } from './grouping.js';
import type { IncidentBook } from './incidents.js';
import type { Outbox } from './outbox.js';
import { splitMessage } from './split.js';

/** Something to tell a chat about an incident. */
export type Notice =
  | { kind: 'down'; incidentId: string }
  /** `text` is the single-target resolution, used when it is alone in its group. */
  | { kind: 'up'; incidentId: string; text: string }
  | { kind: 'reminder'; incidentId: string };

/** Sends notices grouped per chat and topic. */
export interface Notifier {
  notify(incident: Incident, notice: Notice): void;
  flushAll(): Promise<void>;
  pending(): number;
}

/** What the notifier needs; `windowMs` is the grouping window (default 5 s). */
export interface NotifierDeps {
  incidents: IncidentBook;
  outbox: Outbox;
  clock: Clock;
  windowMs?: number;
  maxIntervalMs?: number;
  onError?(err: unknown): void;
}

const keyOf = (i: Incident): string => `${i.chatId}:${i.threadId ?? ''}`;

/** Creates the notifier: notices of one chat and topic within the grouping window become one message. */
export function createNotifier(deps: NotifierDeps): Notifier {
  const { incidents, outbox, clock } = deps;
  let seq = 0;

  async function flush(key: string, notices: Notice[]): Promise<void> {
    const [chatPart, threadPart] = key.split(':');
    const chatId = Number(chatPart);
    const threadId = threadPart ? Number(threadPart) : undefined;
    const load = async (kind: Notice['kind']): Promise<Array<{ incident: Incident; notice: Notice }>> => {
      const picked = notices.filter((n) => n.kind === kind);
      const loaded = await Promise.all(picked.map(async (notice) => ({ incident: await incidents.get(notice.incidentId), notice })));
      return loaded.filter((x): x is { incident: Incident; notice: Notice } => x.incident !== undefined);
    };

    // DOWN: not yet alerted. One that went down and came back within this same group needs no message
    // at all; one whose recovery comes in a later group is alerted (as resolved) and then resolved.
    const upIds = new Set(notices.filter((n) => n.kind === 'up').map((n) => n.incidentId));
    const downs = (await load('down'))
      .map((x) => x.incident)
      .filter((i) => i.alertKey === undefined && !(i.resolvedAt !== undefined && upIds.has(i.id)));
    // Up to 25 get a line each in one message; a storm is listed by reason, 100 names a message.
    const size = downs.length <= GROUP_MESSAGE_MAX ? GROUP_MESSAGE_MAX : COMPACT_MESSAGE_MAX;
    for (let at = 0; at < downs.length; at += size) {
      const chunk = downs.slice(at, at + size);
      const now = clock.now();
      const message = await incidents.messages.put({
        id: shortId(now, seq++),
        chatId,
        ...(threadId !== undefined ? { threadId } : {}),
        incidentIds: chunk.map((i) => i.id),
        createdAt: now,
      });
      for (const i of chunk) {
        await incidents.update(i.id, (record) => {
          record.alertKey = message.id;
          record.notifiedAt = now;
          record.suppressed = false;
        });
      }
      await outbox.enqueue(chatId, threadId, { op: 'send-alert', key: message.id });
    }

    // UP: only for incidents whose alert was sent; the alerts are edited to show the resolution.
    const ups = (await load('up')).filter((x) => x.incident.alertKey !== undefined);
    if (ups.length > 0) {
      const text = ups.length === 1 && ups[0]!.notice.kind === 'up' ? ups[0]!.notice.text : formatResolutionGroup(ups.map((x) => x.incident));
      const replyToKey = ups[0]!.incident.alertKey;
      for (const chunk of splitMessage(text)) {
        await outbox.enqueue(chatId, threadId, { op: 'send', text: chunk, ...(replyToKey ? { replyToKey } : {}) });
      }
      for (const key of new Set(ups.map((x) => x.incident.alertKey!))) await outbox.enqueue(chatId, threadId, { op: 'edit-alert', key });
    }

    // Reminders: still open, alerted, nobody acknowledged.
    const reminders = (await load('reminder')).map((x) => x.incident).filter((i) => i.resolvedAt === undefined && i.ack === undefined && i.alertKey);
    if (reminders.length > 0) {
      const replyToKey = reminders[0]!.alertKey;
      for (const chunk of splitMessage(formatReminder(reminders, clock.now()))) {
        await outbox.enqueue(chatId, threadId, { op: 'send', text: chunk, ...(replyToKey ? { replyToKey } : {}) });
      }
    }
  }

  const grouper: Grouper<Notice> = createGrouper<Notice>({
    clock,
    windowMs: deps.windowMs ?? 5_000,
    maxIntervalMs: deps.maxIntervalMs ?? 60_000,
    flush,
    ...(deps.onError ? { onError: deps.onError } : {}),
  });

  return {
    notify: (incident, notice) => grouper.add(keyOf(incident), notice),
    flushAll: () => grouper.flushAll(),
    pending: () => grouper.pending(),
  };
}
