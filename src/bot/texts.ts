import { escapeHtml, formatLatency, formatResult, formatTime, STATE_ICONS } from '../alerts/format.js';
import { formatDuration } from '../domain/duration.js';
import { clipText } from '../domain/errors.js';
import type { Incident } from '../domain/incident.js';
import type { LocationView } from '../domain/locations.js';
import type { StateRecord } from '../domain/state.js';
import { maskHeaderValue } from '../domain/header.js';
import { LIMITS } from '../domain/target.js';
import { KIND_LIST, moduleOf, targetAddress, type Target } from '../kinds/index.js';
import { formatPct } from '../reports/texts.js';

/** How long `/notify test` waits for the destination to take the test (then it says it is still trying). Here, not in
 * features/notify.ts, so the process reads it without loading grammy. */
export const NOTIFY_TEST_WAIT_MS = 15_000;

/** The bot's commands, for /help and setMyCommands. */
export const COMMANDS: ReadonlyArray<{ command: string; description: string; usage: string }> = [
  { command: 'help', description: 'What Lookout does and its commands', usage: '/help' },
  {
    command: 'add',
    description: 'Add a target to check',
    // The other kinds' short forms come from the list of kinds: a new kind is in /help without a line here.
    usage: `/add URL [name=N] [every=60s] [timeout=10s] [expect=200-299] [keyword=K] [assert=…] (or ${KIND_LIST.slice(1)
      .map((k) => k.usage.replace(/ \[.*$/, '').replace(/ (region|every)=\S+$/, ''))
      .join(', ')})`,
  },
  { command: 'list', description: 'Every target of this chat', usage: '/list' },
  { command: 'status', description: 'Full detail of one target', usage: '/status NAME' },
  { command: 'edit', description: 'Change options of a target', usage: '/edit NAME key=value ...' },
  { command: 'interval', description: 'Change how often a target is checked', usage: '/interval NAME 30s' },
  { command: 'timeout', description: 'Change the timeout of a target', usage: '/timeout NAME 5s' },
  { command: 'check', description: 'Check a target now', usage: '/check NAME' },
  { command: 'pause', description: 'Stop checking a target', usage: '/pause NAME' },
  { command: 'resume', description: 'Start checking a paused target again', usage: '/resume NAME' },
  { command: 'remove', description: 'Delete a target', usage: '/remove NAME' },
  { command: 'trace', description: 'Run mtr to a host or target now', usage: '/trace HOST|NAME' },
  { command: 'mute', description: 'Silence alerts for a while', usage: '/mute NAME|all DURATION [reason]' },
  { command: 'unmute', description: 'End a mute', usage: '/unmute NAME|all' },
  {
    command: 'maintenance',
    description: 'List, add or cancel maintenance windows',
    usage: '/maintenance [NAME|all START DURATION [reason]] [NAME|all cron="0 2 * * SUN" DURATION [tz=Zone]] [cancel ID]',
  },
  { command: 'settings', description: 'Show or set the chat time zone and escalation delay', usage: '/settings [tz=Europe/Berlin] [escalate=15m]' },
  { command: 'oncall', description: 'Who is mentioned when an alert is not acknowledged', usage: '/oncall [@user1 @user2 ...|off]' },
  {
    command: 'notify',
    description: 'Where alerts go besides this chat: Slack, e-mail, PagerDuty, SNS, webhooks',
    usage: '/notify [list|add KIND NAME ADDRESS [events=down,up] [targets=a,b]|test NAME|pause NAME|resume NAME|remove NAME]',
  },
  { command: 'board', description: 'Post and pin a live status board, or stop it', usage: '/board [off]' },
  { command: 'health', description: 'How Lookout itself is doing', usage: '/health' },
  { command: 'history', description: 'Latency and availability chart of a target', usage: '/history NAME [24h|7d|30d]' },
  { command: 'report', description: 'SLA table of every target', usage: '/report [7d|30d]' },
  { command: 'statuspage', description: 'Publish or remove the public status page of this chat', usage: '/statuspage [on [title="…"] [targets=a,b] [show-urls] [slug=name]|off]' },
  { command: 'export', description: 'Targets and windows as a JSON file', usage: '/export [secrets]' },
  { command: 'import', description: 'Add or update targets from an /export file', usage: '/import (as the caption of the file)' },
];

/** /start and /help. */
export function helpText(): string {
  return [
    '<b>Lookout</b> watches the APIs this chat depends on, tells you the moment one breaks and again when it recovers.',
    '',
    ...COMMANDS.map((c) => `${escapeHtml(c.usage)} — ${escapeHtml(c.description)}`),
    '',
    `Other kinds: ${KIND_LIST.slice(1).map((k) => `<code>${escapeHtml(k.usage)}</code> (${escapeHtml(k.summary)})`).join(', ')}.`,
    'Durations are written 30s, 5m, 2h, 1d or 1h30m.',
    'Anyone here can read; only chat administrators can change things.',
  ].join('\n');
}

/** The usage line of a command, for error replies. */
export function usage(command: string): string {
  return COMMANDS.find((c) => c.command === command)?.usage ?? `/${command}`;
}

/** How much of a message the problems of one error reply may fill: the rest are counted, not shown. */
const ERROR_TEXT_BUDGET = 3_000;

/** A bad-input reply: what was wrong, and what is expected; many problems are shown up to a budget and counted. */
export function errorText(errors: readonly string[], command?: string): string {
  const lines: string[] = [];
  let used = 0;
  for (const e of errors) {
    const line = `⚠️ ${escapeHtml(e)}`;
    if (lines.length > 0 && used + line.length > ERROR_TEXT_BUDGET) break;
    lines.push(line);
    used += line.length + 1;
  }
  if (lines.length < errors.length) lines.push(`… and ${errors.length - lines.length} more`);
  if (command) lines.push(`Usage: <code>${escapeHtml(usage(command))}</code>`);
  return lines.join('\n');
}

/** Asked for a target that does not exist. */
export const unknownTarget = (name: string): string =>
  `⚠️ No target named "${escapeHtml(clipText(name))}" in this chat. /list shows the targets.`;

/** A chat command tried to change what TARGETS_FILE declares. */
export const managedByFile = (what: string): string =>
  `🔒 <b>${escapeHtml(what)}</b> is managed by TARGETS_FILE: change it in the file and restart Lookout (or send it SIGHUP). /mute and /check work here.`;

/** Someone who is not an administrator tried to change something. */
export const adminOnly = (what: string): string => `⛔ Only chat administrators can ${what}.`;

/** A chat Lookout does not serve. */
export const notEnabled = (chatId: number): string =>
  `Lookout is not enabled in this chat (id <code>${chatId}</code>). Add the id to ALLOWED_CHAT_IDS to use it here.`;

/** One /list line; `quiet` names the window or mute covering the target now. */
export function listLine(target: Target, record: StateRecord | undefined, now: number, quiet?: string): string {
  const state = record?.state ?? 'UNKNOWN';
  const last = record?.lastResult;
  const detail = state === 'PAUSED' ? 'paused' : last ? (last.ok ? (last.summary ?? formatLatency(last.latencyMs)) : last.reason ?? 'failed') : 'not checked yet';
  const since = record ? ` · ${formatDuration(now - record.since)}` : '';
  return `${STATE_ICONS[state]} <b>${escapeHtml(target.name)}</b> · ${escapeHtml(detail)}${since}${quiet ? ` · ${escapeHtml(quiet)}` : ''}`;
}

/** The /list reply. */
export function listText(
  targets: readonly Target[],
  states: (id: string) => StateRecord | undefined,
  now: number,
  quiet: (target: Target) => string | undefined = () => undefined,
): string {
  if (targets.length === 0) return 'No targets yet. Add one with <code>/add https://api.example.com/health</code>.';
  return [`<b>Targets</b> (${targets.length})`, ...targets.map((t) => listLine(t, states(t.id), now, quiet(t)))].join('\n');
}

/** Header values are secrets: shown with their first characters only. */
export const maskSecret = maskHeaderValue;

/** Settings of a target in one or two lines. */
export function settingsText(t: Target): string {
  const remind = t.remindMs === 0 ? 'never' : formatDuration(t.remindMs ?? LIMITS.remindDefaultMs);
  const sla = t.slaPct !== undefined ? `, SLA ${t.slaPct}%` : '';
  const timing = `every ${formatDuration(t.everyMs)}, timeout ${formatDuration(t.timeoutMs)}, retry ${formatDuration(t.retryMs)}, confirm ${t.confirm}, recover ${t.recover}, remind ${remind}${sla}`;
  const module = moduleOf(t);
  return module.pushed ? `${module.describe(t)}; remind ${remind}${sla}` : `${module.describe(t)}; ${timing}`;
}

/** What /status shows of the history: uptime over 24 h and 7 d, and the last hour as a sparkline. */
export interface StatusHistory {
  uptime24h?: number;
  uptime7d?: number;
  /** One character per minute of the last hour, oldest first: latency bars, `×` for a failed check, space for none. */
  lastHour: string;
}

/** The /status reply. */
export function statusText(t: Target, record: StateRecord | undefined, incident: Incident | undefined, now: number, history?: StatusHistory, places?: readonly LocationView[]): string {
  const state = record?.state ?? 'UNKNOWN';
  const lines = [
    `${STATE_ICONS[state]} <b>${escapeHtml(t.name)}</b> is ${state}${record ? ` since ${formatTime(record.since)} (${formatDuration(now - record.since)})` : ''}`,
    escapeHtml(targetAddress(t)),
    escapeHtml(settingsText(t)),
  ];
  lines.push(...(moduleOf(t).statusLines?.(t) ?? []).map(escapeHtml));
  if (t.note) lines.push(`Note: ${escapeHtml(t.note)}`);
  if (t.managed === 'file') lines.push('🔒 Declared in TARGETS_FILE: change it there.');
  if (record?.lastResult) {
    lines.push(`Last check: ${escapeHtml(formatResult(record.lastResult))} at ${formatTime(record.lastResult.at)}`);
  }
  if (record) lines.push(`Checks: ${record.checks} (${record.failures} failed)`);
  // Checked from several places: a line per place (its own state, last latency or reason, since when).
  for (const p of places ?? []) {
    const what = p.state === 'DOWN' && p.reason ? clipText(p.reason, 80) : p.latencyMs !== undefined ? `${Math.round(p.latencyMs)} ms` : '';
    lines.push(`📍 ${escapeHtml(p.location)}: ${STATE_ICONS[p.state]} ${p.state}${what ? ` · ${escapeHtml(what)}` : ''}${p.since > 0 ? ` since ${formatTime(p.since)}` : ''}`);
  }
  if (history) {
    lines.push(`Uptime: 24h ${formatPct(history.uptime24h)} · 7d ${formatPct(history.uptime7d)}`);
    if (history.lastHour.trim() !== '') lines.push(`Last hour: <code>${escapeHtml(history.lastHour)}</code>`);
  }
  if (incident) {
    lines.push(
      `Open incident since ${formatTime(incident.openedAt)}: ${escapeHtml(incident.reason)}${incident.ack ? `, acknowledged by ${escapeHtml(incident.ack.name)}` : ', not acknowledged'}`,
    );
  }
  return lines.join('\n');
}

/** A check's outcome as a reply line. */
export function checkText(t: Target, record: StateRecord, ok: boolean, detail: string): string {
  return `${STATE_ICONS[record.state]} <b>${escapeHtml(t.name)}</b>: ${ok ? '' : 'failed, '}${escapeHtml(detail)} (state ${record.state})`;
}
