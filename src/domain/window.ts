import { Cron } from 'croner';
import { formatDuration, parseDuration } from './duration.js';
import { quoteValue } from './errors.js';
import type { CommandArgs } from './options.js';
import { invalid, valid, type Parsed } from './result.js';
import {
  canonicalZoneSpelling,
  formatWallClock,
  instantAt,
  isCalendarDate,
  isValidTimeZone,
  nextDay,
  wallClockAt,
} from './zoned-time.js';

export { isValidTimeZone } from './zoned-time.js';

/** A maintenance window or a mute: alerts for its targets are held back while it is active. */
export interface Window {
  id: string;
  chatId: number;
  threadId?: number;
  /** undefined = every target of the chat */
  targetId?: string;
  kind: 'maintenance' | 'mute';
  /** One-off windows and mutes: the start instant (epoch ms). Absent for recurring windows. */
  start?: number;
  durationMs: number;
  /** Recurring windows: a cron expression (5 fields, or 6 with seconds) evaluated in `tz`. */
  cron?: string;
  /** IANA time zone for the cron pattern and for display. */
  tz: string;
  reason?: string;
  createdBy?: number;
  createdAt: number;
  /** `until-up`: the window ends as soon as its target comes back UP (after `recover` good checks). */
  untilUp?: boolean;
  /** Declared in TARGETS_FILE: `/maintenance cancel` may not delete it. */
  managed?: 'file';
}

/** One stretch of time a window is active: `start <= t < end` (epoch ms). */
export interface Occurrence {
  start: number;
  end: number;
}

/** A validated `/maintenance` or `/mute` request: when and how long, not yet for which target. */
export interface WindowSpec {
  start?: number;
  cron?: string;
  tz: string;
  durationMs: number;
  reason?: string;
  /** `until-up`: the window ends as soon as its target is UP again. */
  untilUp?: boolean;
}

/** Where a new window belongs and who made it: with a {@link WindowSpec}, everything {@link windowOf} needs. */
export interface WindowPlace {
  id: string;
  chatId: number;
  threadId?: number;
  /** Undefined: every target of the chat. */
  targetId?: string;
  kind: Window['kind'];
  createdBy?: number;
  createdAt: number;
}

/** A new window from what /maintenance, /mute and the REST API parsed, and where it goes. */
export function windowOf(place: WindowPlace, spec: WindowSpec): Window {
  return {
    id: place.id,
    chatId: place.chatId,
    ...(place.threadId !== undefined ? { threadId: place.threadId } : {}),
    ...(place.targetId !== undefined ? { targetId: place.targetId } : {}),
    kind: place.kind,
    ...(spec.start !== undefined ? { start: spec.start } : {}),
    durationMs: spec.durationMs,
    ...(spec.cron !== undefined ? { cron: spec.cron } : {}),
    tz: spec.tz,
    ...(spec.reason !== undefined ? { reason: spec.reason } : {}),
    ...(spec.untilUp ? { untilUp: true } : {}),
    ...(place.createdBy !== undefined ? { createdBy: place.createdBy } : {}),
    createdAt: place.createdAt,
  };
}

/** Limits of windows, in one place so messages and rules cannot drift apart. */
export const WINDOW_LIMITS = {
  durationMinMs: 60_000,
  durationMaxMs: 30 * 86_400_000,
  reasonMaxChars: 200,
} as const;

/** A start this close behind `now` is taken as "now": the user's clock and typing take time. */
const PAST_TOLERANCE_MS = 60_000;
const CRON_CACHE_MAX = 256;
// Patterns are 5 or 6 fields only: croner also takes nicknames (`@daily`) and ISO dates as one-off patterns.
const CRON_FIELDS_RE = /^\S+(?:\s+\S+){4,5}$/;
const HH_MM_RE = /^(\d{1,2}):(\d{2})$/;
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
/** Window ids count seconds from here, so they stay at most 8 base36 characters until about 2093. */
const ID_EPOCH_MS = Date.UTC(2024, 0, 1);
const ID_SEQ_SPAN = 36 * 36;

const cronCache = new Map<string, Cron>();

/** A paused croner job for `pattern` in `tz`, shared: each one costs a few hundred µs and ~90 KB. */
function cronFor(pattern: string, tz: string): Cron | undefined {
  const key = `${pattern}|${tz}`;
  const cached = cronCache.get(key);
  if (cached) return cached;
  let cron: Cron;
  try {
    cron = new Cron(pattern, { timezone: tz, paused: true, mode: '5-or-6-parts' });
  } catch {
    return undefined;
  }
  if (cronCache.size >= CRON_CACHE_MAX) cronCache.delete(cronCache.keys().next().value as string);
  cronCache.set(key, cron);
  return cron;
}

/** Runs a croner query; a stored window whose pattern or zone croner refuses has no occurrences. */
function cronQuery<T>(w: Window, query: (cron: Cron) => T): T | undefined {
  const cron = cronFor(w.cron ?? '', w.tz);
  if (!cron) return undefined;
  try {
    return query(cron);
  } catch {
    // An unknown zone only fails here, at evaluation; an engine tick must not die of one bad window.
    return undefined;
  }
}

/** Parses an IANA time zone name, returning it in its usual spelling (`europe/berlin` → `Europe/Berlin`). */
export function parseTimeZone(text: string): Parsed<string> {
  const tz = text.trim();
  if (!isValidTimeZone(tz)) return invalid(`unknown time zone ${quoteValue(text)}; use an IANA name like Europe/Berlin or UTC`);
  return valid(canonicalZoneSpelling(tz));
}

/** `2026-12-01 03:00 Europe/Berlin`: an instant as the wall clock in `tz` shows it. */
export function formatWindowTime(ms: number, tz: string): string {
  try {
    return `${formatWallClock(ms, tz)} ${tz}`;
  } catch {
    // Only a zone that was never validated gets here; a readable UTC time beats a failed message.
    return `${formatWallClock(ms, 'UTC')} UTC`;
  }
}

function parseIsoStart(m: RegExpExecArray, tz: string): number | undefined {
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as [
    number, number, number, number, number, number,
  ];
  if (!isCalendarDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined;
  const millis = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0'));
  const zone = m[8];
  if (zone === undefined) return instantAt({ year, month, day, hour, minute, second }, tz) + millis;
  const wall = instantAt({ year, month, day, hour, minute, second }, 'UTC') + millis;
  if (zone.toUpperCase() === 'Z') return wall;
  const digits = zone.slice(1).replace(':', '');
  const offsetHours = Number(digits.slice(0, 2));
  const offsetMinutes = digits.length > 2 ? Number(digits.slice(2)) : 0;
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const sign = zone.startsWith('-') ? -1 : 1;
  return wall - sign * (offsetHours * 3_600_000 + offsetMinutes * 60_000);
}

/**
 * Parses when a window starts: `now`, `HH:MM` (the next time the wall clock in `tz` shows it),
 * an ISO date with `Z` or an offset, or an ISO date without one (a wall-clock time in `tz`).
 */
export function parseStart(text: string, tz: string, now: number): Parsed<number> {
  const error = `start must be now, HH:MM or a date like 2026-12-01T02:00Z, got ${quoteValue(text)}`;
  const zone = parseTimeZone(tz);
  if (!zone.ok) return zone;
  const trimmed = text.trim();
  if (trimmed.toLowerCase() === 'now') return valid(now);
  let start: number | undefined;
  const hhmm = HH_MM_RE.exec(trimmed);
  const iso = hhmm ? null : ISO_RE.exec(trimmed);
  if (hhmm) {
    const hour = Number(hhmm[1]);
    const minute = Number(hhmm[2]);
    if (hour > 23 || minute > 59) return invalid(error);
    const today = { ...wallClockAt(now, tz), hour, minute, second: 0 };
    start = instantAt(today, tz);
    // Tomorrow by the calendar, not now + 24h: the day may be 23 or 25 hours long.
    if (start < now - PAST_TOLERANCE_MS) start = instantAt(nextDay(today), tz);
  } else if (iso) {
    start = parseIsoStart(iso, tz);
  }
  if (start === undefined) return invalid(error);
  if (start < now - PAST_TOLERANCE_MS) return invalid(`start ${formatWindowTime(start, 'UTC')} is in the past`);
  return valid(start);
}

/** Validates a 5-field (or 6 with seconds) cron pattern in `tz`; returns it with single spaces. */
export function parseCron(text: string, tz: string): Parsed<string> {
  const error = `cron must be a cron expression like "0 2 * * SUN" (minute hour day month weekday), got ${quoteValue(text)}`;
  const pattern = text.trim().split(/\s+/).join(' ');
  if (!CRON_FIELDS_RE.test(pattern)) return invalid(error);
  const zone = parseTimeZone(tz);
  if (!zone.ok) return zone;
  const cron = cronFor(pattern, zone.value);
  if (!cron) return invalid(error);
  // Without a year field, a pattern that matches any date matches one within croner's search horizon.
  if (cron.nextRun(new Date(0)) === null) return invalid(`cron must match at least one real date, got ${quoteValue(text)}`);
  return valid(pattern);
}

/** Parses how long a window lasts: a duration between 1m and 30d. */
export function parseWindowDuration(text: string): Parsed<number> {
  const parsed = parseDuration(text, 'duration');
  if (!parsed.ok) return parsed;
  if (parsed.value < WINDOW_LIMITS.durationMinMs || parsed.value > WINDOW_LIMITS.durationMaxMs) {
    const min = formatDuration(WINDOW_LIMITS.durationMinMs);
    const max = formatDuration(WINDOW_LIMITS.durationMaxMs);
    return invalid(`duration must be between ${min} and ${max}, got ${quoteValue(text)}`);
  }
  return parsed;
}

/** Where and when a window is being asked for: the chat's time zone and the current instant. */
export interface WindowContext {
  tz: string;
  now: number;
}

/** The reason words joined, or an error when they are too long. */
function parseReason(words: readonly string[], errors: string[]): string | undefined {
  const reason = words.join(' ').trim();
  if (reason.length > WINDOW_LIMITS.reasonMaxChars) {
    errors.push(`reason must be at most ${WINDOW_LIMITS.reasonMaxChars} characters, got ${reason.length}`);
  }
  return reason === '' ? undefined : reason;
}

/** Pushes the errors of a parse and returns its value when it succeeded. */
function collect<T>(parsed: Parsed<T>, errors: string[]): T | undefined {
  if (parsed.ok) return parsed.value;
  errors.push(...parsed.errors);
  return undefined;
}

/** Words that are meant as a START even when they are not a valid one. */
const looksLikeStart = (word: string): boolean => /^(?:now|\d{1,2}:\d{2}|\d{4}-\d{2}-\d{2}T.*)$/i.test(word);

/** Words that are meant as a DURATION even when they are not a valid one (`-5m`, `2hours`). */
const looksLikeDuration = (word: string): boolean => /^[-+]?\d/.test(word) && !looksLikeStart(word);

/**
 * Parses what follows the scope word of `/maintenance`: `START DURATION [reason...]` for a one-off
 * window, or `DURATION [reason...]` with `cron="..."` (and optionally `tz=Zone`) for a recurring one.
 * Every problem found is reported at once.
 */
export function parseWindowSpec(args: CommandArgs, ctx: WindowContext): Parsed<WindowSpec> {
  const errors: string[] = [];
  const given = new Map<string, string>();
  for (const { key, value } of args.options) {
    if (key !== 'cron' && key !== 'tz') errors.push(`unknown option ${quoteValue(key)}; expected cron or tz`);
    else if (given.has(key)) errors.push(`option ${quoteValue(key)} is given twice`);
    else given.set(key, value);
  }
  const tzText = given.get('tz');
  const tz = (tzText === undefined ? undefined : collect(parseTimeZone(tzText), errors)) ?? ctx.tz;
  const cronText = given.get('cron');
  const cron = cronText === undefined ? undefined : collect(parseCron(cronText, tz), errors);
  const [first, second, ...rest] = args.positional;

  let start: number | undefined;
  let durationMs: number | undefined;
  let reasonWords: string[] = [];
  if (cronText !== undefined) {
    if (first !== undefined && looksLikeStart(first)) {
      errors.push('give either START or cron="...", not both');
    } else if (first === undefined || !looksLikeDuration(first)) {
      errors.push('give a DURATION after cron=..., like 2h');
    } else {
      durationMs = collect(parseWindowDuration(first), errors);
      reasonWords = args.positional.slice(1);
    }
  } else if (first === undefined || second === undefined || (!looksLikeStart(first) && parseDuration(first).ok)) {
    // A lone word, or a DURATION where the START belongs: the START is what is missing.
    errors.push('give a START and a DURATION, like now 2h or 14:00 30m');
  } else {
    start = collect(parseStart(first, tz, ctx.now), errors);
    durationMs = collect(parseWindowDuration(second), errors);
    reasonWords = rest;
  }
  // `until-up` right after the DURATION: the window ends early when the target recovers.
  const untilUp = reasonWords[0]?.toLowerCase() === 'until-up';
  if (untilUp) reasonWords = reasonWords.slice(1);
  if (untilUp && cronText !== undefined) errors.push('until-up is for one-off windows (START DURATION until-up), not with cron=');
  const reason = parseReason(reasonWords, errors);
  if (errors.length > 0) return invalid(...errors);
  return valid({
    ...(cron !== undefined ? { cron } : { start }),
    tz,
    durationMs: durationMs as number,
    ...(reason !== undefined ? { reason } : {}),
    ...(untilUp ? { untilUp: true } : {}),
  });
}

/** Parses what follows the scope word of `/mute`: `DURATION [reason...]`, starting now. */
export function parseMuteSpec(args: CommandArgs, ctx: WindowContext): Parsed<WindowSpec> {
  const errors = args.options.map(
    ({ key }) => `unknown option ${quoteValue(key)}; a mute takes only a DURATION and an optional reason`,
  );
  const [first, ...rest] = args.positional;
  const durationMs = first === undefined ? undefined : collect(parseWindowDuration(first), errors);
  if (first === undefined) errors.push('give a DURATION, like 1h');
  const reason = parseReason(rest, errors);
  if (errors.length > 0) return invalid(...errors);
  return valid({
    start: ctx.now,
    tz: ctx.tz,
    durationMs: durationMs as number,
    ...(reason !== undefined ? { reason } : {}),
  });
}

/** The latest start of a recurring window at or before `at` (croner's previousRuns is exclusive). */
function latestStart(w: Window, at: number): number | undefined {
  return cronQuery(w, (cron) => cron.previousRuns(1, new Date(at + 1))[0]?.getTime());
}

/** The occurrence of `w` containing `now` (`start <= now < end`), if any. */
export function occurrenceAt(w: Window, now: number): Occurrence | undefined {
  // All occurrences of a window have the same length, so the latest start is the one still running, if any is.
  const start = w.cron === undefined ? w.start : latestStart(w, now);
  if (start === undefined || start > now) return undefined;
  const end = start + w.durationMs;
  return now < end ? { start, end } : undefined;
}

/** Whether `w` is active at `now`. */
export const isWindowActive = (w: Window, now: number): boolean => occurrenceAt(w, now) !== undefined;

/** The first occurrence of `w` that starts strictly after `after`. */
export function nextOccurrence(w: Window, after: number): Occurrence | undefined {
  let start: number | undefined;
  if (w.cron === undefined) {
    start = w.start !== undefined && w.start > after ? w.start : undefined;
  } else {
    start = cronQuery(w, (cron) => {
      let next = cron.nextRun(new Date(after))?.getTime();
      // Belt and braces: croner works in whole seconds; never hand back a start at or before `after`.
      while (next !== undefined && next <= after) next = cron.nextRun(new Date(next))?.getTime();
      return next;
    });
  }
  return start === undefined ? undefined : { start, end: start + w.durationMs };
}

/** The earliest instant after `now` at which any of `windows` starts or ends: when to look again. */
export function nextBoundary(windows: readonly Window[], now: number): number | undefined {
  let earliest: number | undefined;
  const consider = (t: number | undefined): void => {
    if (t !== undefined && t > now && (earliest === undefined || t < earliest)) earliest = t;
  };
  for (const w of windows) {
    consider(occurrenceAt(w, now)?.end);
    consider(nextOccurrence(w, now)?.start);
  }
  return earliest;
}

/** Whether `w` applies to target `targetId` of chat `chatId` (a window without a target covers them all). */
export const windowCovers = (w: Window, chatId: number, targetId: string): boolean =>
  w.chatId === chatId && (w.targetId === undefined || w.targetId === targetId);

/** The windows that hold back alerts of `targetId` in `chatId` at `now`. */
export const activeWindowsFor = (windows: readonly Window[], chatId: number, targetId: string, now: number): Window[] =>
  windows.filter((w) => windowCovers(w, chatId, targetId) && isWindowActive(w, now));

/** Whether a one-off window or mute is over for good (recurring windows never are). */
export function isExpired(w: Window, now: number): boolean {
  if (w.cron !== undefined) return false;
  return w.start === undefined || w.start + w.durationMs <= now;
}

/** A short id for a new window, unique per (second of `now`, `seq` modulo 1296): lower-case base36, ≤ 8 characters. */
export function windowId(now: number, seq: number): string {
  const seconds = Math.max(0, Math.floor((now - ID_EPOCH_MS) / 1_000));
  const slot = ((Math.trunc(seq) % ID_SEQ_SPAN) + ID_SEQ_SPAN) % ID_SEQ_SPAN;
  return (seconds * ID_SEQ_SPAN + slot).toString(36);
}
