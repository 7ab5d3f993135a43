import type { Notification } from '../../../domain/notification.js';
import type { Clock } from '../../../lib/clock.js';
import { planBatch, type Blip, type Planned } from '../../batch.js';
import { DeliveryError, type Channel, type DeliveryVerdict, type PartInfo } from '../../channel.js';
import { splitMessage } from '../../split.js';
import type { AlertRecord, AlertRecords } from './alert-records.js';
import type { MessageSender, SendOptions } from './api.js';
import {
  COMPACT_MESSAGE_MAX,
  formatAlertMessage,
  formatBlip,
  formatEscalation,
  formatNotice,
  formatReminder,
  formatResolution,
  formatResolutionGroup,
  formatTrace,
  GROUP_MESSAGE_MAX,
  traceFits,
} from './render.js';

type Of<K extends Notification['kind']> = Extract<Notification, { kind: K }>;

/** A Telegram destination: a chat, and a forum topic in it. */
export interface TelegramAddress {
  chatId: number;
  threadId?: number;
}

/** `telegram:<chat>` or `telegram:<chat>:<topic>`. */
export const telegramDestination = (chatId: number, threadId?: number): string => `telegram:${chatId}${threadId !== undefined ? `:${threadId}` : ''}`;

/** The chat and topic of a Telegram destination. */
export function parseTelegramDestination(destination: string): TelegramAddress {
  const [, chat, thread] = destination.split(':');
  return { chatId: Number(chat), ...(thread ? { threadId: Number(thread) } : {}) };
}

/** What the Telegram channel needs. */
export interface TelegramChannelDeps {
  sender: () => MessageSender;
  /** What a failed Bot API call means (api.ts's classifyTelegramError; passed in so this module loads no grammy). */
  classify: (err: unknown) => DeliveryVerdict;
  records: AlertRecords;
  clock: Clock;
  /** Grouping window (default 5 s) and the longest pause between groups in a storm (default 60 s). */
  windowMs?: number;
  maxIntervalMs?: number;
}

/** Notifications told as plain messages, joined when several of a kind are in one segment; quiet ones go silently. */
const QUIET: ReadonlySet<Notification['kind']> = new Set(['maintenance', 'maintenance-over', 'window-started', 'window-ended', 'window-ended-up']);

/**
 * The Telegram channel. A batch (a storm's worth of one chat's notifications) becomes few messages:
 * new alerts of a segment in one message (a line each up to 25, by reason beyond), resolutions in one
 * reply with the alerts edited, outages already over in one quiet line each, reminders and escalations
 * as replies to their alert, everything else as its own text. Alert messages are records of the channel:
 * acknowledgements, resolutions and traces edit them.
 */
export function createTelegramChannel(deps: TelegramChannelDeps): Channel {
  const { records, clock } = deps;

  return {
    kind: 'telegram',
    grouping: { windowMs: deps.windowMs ?? 5_000, maxIntervalMs: deps.maxIntervalMs ?? 60_000, immediate: (n) => n.kind === 'acknowledged' || n.kind === 'destination-paused' || n.kind === 'test' },
    classify: deps.classify,
    probe: () => deps.sender().probe?.() ?? Promise.resolve(true),

    async deliver(destination, batch, done, signal) {
      const address = parseTelegramDestination(destination);
      const sender = deps.sender();
      const thread: SendOptions = address.threadId !== undefined ? { threadId: address.threadId } : {};

      /** Runs one part; a failure carries the part's ids; success marks them done. */
      const part = async (ids: readonly string[], work: () => Promise<void>, info?: PartInfo): Promise<void> => {
        if (ids.length === 0) return;
        try {
          await work();
        } catch (err) {
          throw new DeliveryError(ids, err);
        }
        await done(ids, info);
      };
      const send = (text: string, options: SendOptions = {}): Promise<number> => sender.send(address.chatId, text, { ...thread, ...options });
      const redraw = async (record: AlertRecord | undefined): Promise<void> => {
        if (!record || record.messageId === undefined) return;
        const { text, buttons } = formatAlertMessage(record.id, record.incidents, record.trace);
        await sender.edit(address.chatId, record.messageId, text, buttons);
      };

      async function alerts(downs: Array<Of<'down'>>): Promise<void> {
        // A retried delivery: alerts already out (their record has a message id) are done, not sent again.
        const fresh: Array<Of<'down'>> = [];
        for (const n of downs) {
          const record = await records.forIncident(n.incident.id);
          if (record?.messageId !== undefined) await done([n.id], { single: record.incidents.length === 1 });
          else fresh.push(n);
        }
        const size = fresh.length <= GROUP_MESSAGE_MAX ? GROUP_MESSAGE_MAX : COMPACT_MESSAGE_MAX;
        for (let at = 0; at < fresh.length; at += size) {
          if (signal.aborted) return;
          const chunk = fresh.slice(at, at + size);
          const record = await records.create({
            id: chunk[0]!.incident.id,
            chatId: address.chatId,
            ...(address.threadId !== undefined ? { threadId: address.threadId } : {}),
            incidents: chunk.map((n) => ({ facts: n.incident })),
            createdAt: clock.now(),
          });
          await part(
            chunk.map((n) => n.id),
            async () => {
              const { text, buttons } = formatAlertMessage(record.id, record.incidents);
              const messageId = await send(text, buttons ? { buttons } : {});
              await records.update(record.id, (r) => {
                r.messageId = messageId;
              });
            },
            { single: chunk.length === 1 },
          );
        }
      }

      async function blips(list: Blip[]): Promise<void> {
        const lines = list.map((b) => formatBlip(b.down.incident, b.end.resolvedAt, b.end.kind === 'closed' ? b.end.why : undefined));
        await part(list.flatMap((b) => b.ids), async () => {
          for (const chunk of splitMessage(lines.join('\n'))) await send(chunk, { silent: true });
        });
      }

      async function ends(list: Array<Of<'up'> | Of<'closed'>>): Promise<void> {
        const ups = list.filter((n): n is Of<'up'> => n.kind === 'up');
        const found = new Map<string, AlertRecord | undefined>();
        for (const n of list) found.set(n.id, await records.forIncident(n.incident.id));
        const untold = ups.filter((n) => !found.get(n.id)?.incidents.find((i) => i.facts.id === n.incident.id)?.endTold);
        await part(
          list.map((n) => n.id),
          async () => {
            if (untold.length > 0) {
              const text = untold.length === 1 ? formatResolution(untold[0]!) : formatResolutionGroup(untold);
              const replyTo = found.get(untold[0]!.id)?.messageId;
              for (const chunk of splitMessage(text)) await send(chunk, replyTo !== undefined ? { replyTo } : {});
            }
            const changed = new Map<string, AlertRecord>();
            for (const n of list) {
              const record = found.get(n.id);
              if (!record) continue;
              const updated = await records.update(record.id, (r) => {
                const shown = r.incidents.find((i) => i.facts.id === n.incident.id);
                if (!shown) return;
                shown.resolvedAt = n.resolvedAt;
                shown.resolution = n.kind === 'up' ? 'recovered' : n.why;
                if (n.kind === 'up') shown.endTold = true;
              });
              if (updated) changed.set(updated.id, updated);
            }
            for (const record of changed.values()) await redraw(record);
          },
        );
      }

      async function acknowledged(n: Of<'acknowledged'>): Promise<void> {
        await part([n.id], async () => {
          const changed = new Map<string, AlertRecord>();
          for (const id of n.incidentIds) {
            const record = await records.forIncident(id);
            if (!record) continue;
            const updated = await records.update(record.id, (r) => {
              const shown = r.incidents.find((i) => i.facts.id === id);
              if (shown && !shown.ack) shown.ack = { name: n.by.name, at: n.at };
            });
            if (updated) changed.set(updated.id, updated);
          }
          for (const record of changed.values()) await redraw(record);
        });
      }

      async function trace(n: Of<'trace'>): Promise<void> {
        await part([n.id], async () => {
          const record = await records.forIncident(n.incidentId);
          if (!record || record.messageId === undefined) return;
          const only = record.incidents.length === 1 ? record.incidents[0] : undefined;
          if (only && !n.asReply && traceFits(only.facts, n.trace)) {
            const updated = await records.update(record.id, (r) => {
              r.trace = n.trace;
            });
            await redraw(updated);
          } else {
            await send(formatTrace(n.trace), { silent: true, replyTo: record.messageId });
          }
        });
      }

      async function reminders(list: Array<Of<'reminder'>>): Promise<void> {
        const still: Array<Of<'reminder'>> = [];
        let replyTo: number | undefined;
        for (const n of list) {
          const record = await records.forIncident(n.incident.id);
          const shown = record?.incidents.find((i) => i.facts.id === n.incident.id);
          if (shown && (shown.resolvedAt !== undefined || shown.ack)) continue;
          replyTo ??= record?.messageId;
          still.push(n);
        }
        await part(list.map((n) => n.id), async () => {
          if (still.length === 0) return;
          for (const chunk of splitMessage(formatReminder(still.map((n) => n.incident), clock.now()))) await send(chunk, replyTo !== undefined ? { replyTo } : {});
        });
      }

      async function escalation(n: Of<'escalation'>): Promise<void> {
        await part([n.id], async () => {
          const record = await records.forIncident(n.incident.id);
          // A grouped alert calls each person once, whichever of its incidents asked first.
          if (record?.escalated?.includes(n.step)) return;
          const others = record ? record.incidents.filter((i) => i.resolvedAt === undefined && !i.ack && i.facts.id !== n.incident.id).length : 0;
          await send(formatEscalation(n.incident, n.person, clock.now(), others), record?.messageId !== undefined ? { replyTo: record.messageId } : {});
          if (record) {
            await records.update(record.id, (r) => {
              r.escalated = [...(r.escalated ?? []), n.step];
            });
          }
        });
      }

      async function notices(list: Notification[]): Promise<void> {
        // Several of a kind in one segment (a storm of DEGRADED) are one message, not dozens.
        const byKind = new Map<Notification['kind'], Notification[]>();
        for (const n of list) byKind.set(n.kind, [...(byKind.get(n.kind) ?? []), n]);
        for (const [kind, of] of byKind) {
          if (signal.aborted) return;
          const text = of.map(formatNotice).filter((t): t is string => t !== undefined).join('\n');
          await part(of.map((n) => n.id), async () => {
            if (text === '') return;
            for (const chunk of splitMessage(text)) await send(chunk, QUIET.has(kind) ? { silent: true } : {});
          });
        }
      }

      async function segment(entries: Planned[]): Promise<void> {
        const downs: Array<Of<'down'>> = [];
        const short: Blip[] = [];
        const over: Array<Of<'up'> | Of<'closed'>> = [];
        const acks: Array<Of<'acknowledged'>> = [];
        const traces: Array<Of<'trace'>> = [];
        const reminding: Array<Of<'reminder'>> = [];
        const escalating: Array<Of<'escalation'>> = [];
        const rest: Notification[] = [];
        for (const p of entries) {
          if (p.kind === 'blip') {
            // Its alert went out before a crash cut the delivery short: told as an alert and its end after all.
            const record = await records.forIncident(p.down.incident.id);
            if (record?.messageId !== undefined) {
              downs.push(p.down);
              over.push(p.end);
            } else short.push(p);
            continue;
          }
          const n = p.notification;
          switch (n.kind) {
            case 'down':
              downs.push(n);
              break;
            case 'up':
            case 'closed':
              over.push(n);
              break;
            case 'acknowledged':
              acks.push(n);
              break;
            case 'trace':
              traces.push(n);
              break;
            case 'reminder':
              reminding.push(n);
              break;
            case 'escalation':
              escalating.push(n);
              break;
            default:
              rest.push(n);
          }
        }
        const steps: Array<() => Promise<void>> = [
          () => alerts(downs),
          () => (short.length > 0 ? blips(short) : Promise.resolve()),
          () => (over.length > 0 ? ends(over) : Promise.resolve()),
          ...acks.map((n) => () => acknowledged(n)),
          ...traces.map((n) => () => trace(n)),
          () => (reminding.length > 0 ? reminders(reminding) : Promise.resolve()),
          ...escalating.map((n) => () => escalation(n)),
          () => (rest.length > 0 ? notices(rest) : Promise.resolve()),
        ];
        for (const step of steps) {
          if (signal.aborted) return;
          await step();
        }
      }

      for (const entries of planBatch(batch)) {
        if (signal.aborted) return;
        await segment(entries);
      }
    },
  };
}
