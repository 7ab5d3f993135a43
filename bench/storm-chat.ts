// What the chat told, read from the fake Bot API's records only (never from Lookout's internals: the
// alert code may change under this benchmark, so everything format-specific is in readMentions).
import type { RecordedCall } from '../test/support/fake-telegram.js';

/** What one message line says about a target. `resolved`: named in an alert as already over. */
export interface Mention {
  name: string;
  says: 'down' | 'resolved' | 'up' | 'blip';
}

// Target names as Lookout allows them; a header like `<b>3 of 5 targets are DOWN</b>` or
// `<b>Resolved</b>` can never match, so each pattern below can stay loose about the rest of its line.
const NAME = '([a-z0-9][a-z0-9_-]{0,31})';
const NAME_ONLY = new RegExp(`^${NAME}$`);
const LINE_RULES: ReadonlyArray<[RegExp, Mention['says']]> = [
  // Single alert `🔴 <b>api</b> is DOWN`, or a grouped alert's line `🔴 <b>api</b> · reason · address`.
  [new RegExp(`^🔴 <b>${NAME}</b>`), 'down'],
  // A grouped alert's line once that target is over: `✅ <b>api</b> · resolved after 25s`.
  [new RegExp(`^✅ <b>${NAME}</b>`), 'resolved'],
  // Single resolution `🟢 <b>api</b> is UP again` (not `… is back to normal`, which ends DEGRADED).
  [new RegExp(`^🟢 <b>${NAME}</b> is UP again`), 'up'],
  // A grouped resolution's line `• <b>api</b> · down for 22s` (a reminder's line says `· for 1h`).
  [new RegExp(`^• <b>${NAME}</b> · down for`), 'up'],
  // A quiet outage that is already over when told: `⚡ <b>api</b> was DOWN for 22s: HTTP 503`.
  [new RegExp(`^⚡ <b>${NAME}</b> was DOWN`), 'blip'],
];
// A storm alert lists names by reason: `🔴 <i>HTTP 503, expected 200-299</i> (100): a, b, c`, and the
// ones over as `✅ resolved (3): d, e, f`; a 👀 after a name marks an acknowledgement.
const LIST_RULES: ReadonlyArray<[RegExp, Mention['says']]> = [
  [/^🔴 <i>.*<\/i> \(\d+\): (.+)$/, 'down'],
  [/^✅ resolved \(\d+\): (.+)$/, 'resolved'],
];
// A single alert keeps its first line once over and gets `✅ <b>Resolved</b> at …` (or `Closed: …`).
const SINGLE_ALERT_OVER = /^✅ <b>(Resolved|Closed)/m;

/**
 * The one place that knows Lookout's message formats (HTML, as sent): every target a message names,
 * line by line, with what it says of it. Lines it does not know (reasons, addresses, DEGRADED, maintenance,
 * reminders, command answers) are ignored. Adjust here when the wording changes.
 */
export function readMentions(html: string): Mention[] {
  const over = SINGLE_ALERT_OVER.test(html);
  const mentions: Mention[] = [];
  for (const line of html.split('\n')) {
    const rule = LINE_RULES.find(([re]) => re.test(line));
    if (rule) {
      const name = rule[0].exec(line)![1]!;
      mentions.push({ name, says: rule[1] === 'down' && over ? 'resolved' : rule[1] });
      continue;
    }
    for (const [re, says] of LIST_RULES) {
      const list = re.exec(line)?.[1];
      if (list === undefined) continue;
      for (const raw of list.split(',')) {
        const name = raw.trim().replace(/👀$/u, '');
        if (NAME_ONLY.test(name)) mentions.push({ name, says });
      }
    }
  }
  return mentions;
}

/** Whether an alert message, as it finally stands, still shows an open outage. */
export function stillOpen(html: string, buttons: readonly string[]): { open: boolean; names: string[] } {
  const names = readMentions(html).filter((m) => m.says === 'down').map((m) => m.name);
  const ack = buttons.some((b) => /^Ack/.test(b));
  const firstLine = html.split('\n', 1)[0] ?? '';
  return { open: ack || names.length > 0 || (/ (is|are) DOWN\b/.test(firstLine) && !SINGLE_ALERT_OVER.test(html)), names };
}

/** One thing the chat told about a target. `soft`: an alert showed the outage as already over. */
export interface ChatEvent {
  kind: 'DOWN' | 'UP';
  at: number;
  messageId: number;
  via: 'send' | 'edit';
  soft?: true;
}

/** The chat's story: events per target name in the order they were told, and what was sent. */
export interface ChatStory {
  events: Map<string, ChatEvent[]>;
  sent: number;
  edits: number;
  /** Messages that named no target in a way readMentions knows (DEGRADED, maintenance, other). */
  otherSent: number;
  /** The same text sent again within `duplicateWindowMs` of an identical one (each repeat counts). */
  duplicateTexts: Array<{ at: number; firstAt: number; text: string }>;
  /** sendMessage calls the client stopped waiting for (a slow Telegram): posted, but Lookout never heard. */
  abandonedSends: number;
}

const messageIdOf = (call: RecordedCall): number | undefined => {
  const result = call.result as { message_id?: unknown } | undefined;
  const id = result?.message_id ?? call.payload.message_id;
  return typeof id === 'number' ? id : undefined;
};

/**
 * Builds the story of one chat from the Bot API calls, in arrival order. A new message tells what it
 * names: `down` a DOWN, `up` an UP, `blip` a DOWN and its UP, `resolved` a DOWN and a soft UP (the alert
 * went out when it was already over). An edit tells only targets that its message did not name before
 * (an alert that grows in place); turning a line to resolved is not news, the resolution message is.
 * A real UP right after a soft one is the same resolution told twice over, kept once.
 */
export function readChat(calls: readonly RecordedCall[], chatId: number, duplicateWindowMs = 600_000): ChatStory {
  const events = new Map<string, ChatEvent[]>();
  const named = new Map<number, Set<string>>();
  const lastText = new Map<string, number>();
  const story: ChatStory = { events, sent: 0, edits: 0, otherSent: 0, duplicateTexts: [], abandonedSends: 0 };
  const tell = (name: string, event: ChatEvent): void => {
    const list = events.get(name) ?? [];
    const last = list.at(-1);
    if (event.kind === 'UP' && !event.soft && last?.kind === 'UP' && last.soft) return;
    list.push(event);
    events.set(name, list);
  };
  for (const call of calls) {
    if (call.failed || call.payload.chat_id !== chatId) continue;
    if (call.method !== 'sendMessage' && call.method !== 'editMessageText') continue;
    const text = String(call.payload.text ?? '');
    const messageId = messageIdOf(call) ?? -1;
    const mentions = readMentions(text);
    const via = call.method === 'sendMessage' ? 'send' : 'edit';
    if (via === 'send') {
      story.sent += 1;
      if (call.abandoned) story.abandonedSends += 1;
      if (mentions.length === 0) story.otherSent += 1;
      const firstAt = lastText.get(text);
      if (firstAt !== undefined && call.at - firstAt <= duplicateWindowMs) story.duplicateTexts.push({ at: call.at, firstAt, text });
      lastText.set(text, call.at);
    } else story.edits += 1;
    const before = named.get(messageId) ?? new Set<string>();
    for (const { name, says } of mentions) {
      if (via === 'edit' && (before.has(name) || (says !== 'down' && says !== 'resolved'))) continue;
      const base = { at: call.at, messageId, via } as const;
      if (says === 'down' || says === 'resolved' || says === 'blip') tell(name, { kind: 'DOWN', ...base });
      if (says === 'up' || says === 'blip') tell(name, { kind: 'UP', ...base });
      if (says === 'resolved') tell(name, { kind: 'UP', ...base, soft: true });
    }
    for (const { name } of mentions) before.add(name);
    named.set(messageId, before);
  }
  return story;
}
