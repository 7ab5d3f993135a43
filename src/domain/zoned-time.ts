/** A calendar date and time of day as read on a wall clock (month 1-12, no fractions of a second). */
export interface WallClock {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const DAY_MS = 86_400_000;
const FORMATTERS_MAX = 256;
const formatters = new Map<string, Intl.DateTimeFormat>();
// Offset zones (`+01:00`) are accepted by newer Intl versions only; we take IANA names alone, everywhere.
const ZONE_NAME_RE = /^[A-Za-z][A-Za-z0-9_+\-/]*$/;

function formatterFor(tz: string): Intl.DateTimeFormat {
  let formatter = formatters.get(tz);
  if (formatter) return formatter;
  formatter = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  if (formatters.size >= FORMATTERS_MAX) formatters.delete(formatters.keys().next().value as string);
  formatters.set(tz, formatter);
  return formatter;
}

/** Whether `tz` is an IANA time zone name this runtime knows (`UTC`, `Europe/Berlin`; not `+01:00`). */
export function isValidTimeZone(tz: string): boolean {
  if (!ZONE_NAME_RE.test(tz)) return false;
  try {
    formatterFor(tz);
    return true;
  } catch {
    return false;
  }
}

let knownZones: Map<string, string> | undefined;

/** `europe/berlin` → `Europe/Berlin`; a valid alias the runtime does not list keeps the spelling given. */
export function canonicalZoneSpelling(tz: string): string {
  knownZones ??= new Map(['UTC', ...Intl.supportedValuesOf('timeZone')].map((z) => [z.toLowerCase(), z]));
  return knownZones.get(tz.toLowerCase()) ?? tz;
}

/** The wall clock in `tz` at instant `ms`; throws a RangeError for an unknown zone. */
export function wallClockAt(ms: number, tz: string): WallClock {
  const fields: Record<string, number> = {};
  for (const part of formatterFor(tz).formatToParts(ms)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return {
    year: fields.year ?? NaN,
    month: fields.month ?? NaN,
    day: fields.day ?? NaN,
    hour: fields.hour ?? NaN,
    minute: fields.minute ?? NaN,
    second: fields.second ?? NaN,
  };
}

/** The wall clock read as if it were UTC, in epoch ms. */
function asUtc(w: WallClock): number {
  const d = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  d.setUTCFullYear(w.year, w.month - 1, w.day);
  d.setUTCHours(w.hour, w.minute, w.second, 0);
  return d.getTime();
}

/** How far `tz` is ahead of UTC at instant `ms`, in ms. */
function offsetAt(ms: number, tz: string): number {
  const wholeSecond = Math.floor(ms / 1_000) * 1_000;
  return asUtc(wallClockAt(ms, tz)) - wholeSecond;
}

/**
 * The instant a wall clock in `tz` shows `w`. A time that occurs twice (clocks set back) is its
 * first occurrence; a time skipped by clocks set forward is moved forward by the length of the gap
 * (02:30 in a 02:00→03:00 gap is 03:30), as RFC 5545 and Temporal's "compatible" rule do.
 */
export function instantAt(w: WallClock, tz: string): number {
  const local = asUtc(w);
  // Zones change offset at most once within a day around any date, so these two offsets cover it.
  const before = offsetAt(local - DAY_MS, tz);
  const after = offsetAt(local + DAY_MS, tz);
  const matches = [local - before, local - after].filter((t) => t + offsetAt(t, tz) === local);
  if (matches.length > 0) return Math.min(...matches);
  return local - before;
}

/** The calendar day after `w` (same time of day). */
export function nextDay(w: WallClock): WallClock {
  const d = new Date(asUtc({ ...w, hour: 12, minute: 0, second: 0 }) + DAY_MS);
  return { ...w, year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Whether year/month/day name a real calendar date. */
export function isCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const d = new Date(0);
  d.setUTCFullYear(year, month, 0);
  return day <= d.getUTCDate();
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `2026-12-01 03:00`: the wall clock in `tz` at `ms`, to the minute. */
export function formatWallClock(ms: number, tz: string): string {
  const w = wallClockAt(ms, tz);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}`;
}
