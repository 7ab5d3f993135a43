import type { TargetState } from '../domain/state.js';
import { clipPlain, escapeHtml } from '../lib/html.js';
import { formatPct, uptimeLevel, type UptimeLevel } from './model.js';

// Shields-style flat badges for READMEs and wikis: drawn as SVG text, no font is loaded, so every
// text width is an estimate from the characters (Verdana 11 px advances, which DejaVu Sans is close to).

/** How many characters of a label or a message a badge shows (then `…`). */
export const BADGE_TEXT_MAX = 40;

const HEIGHT = 20;
const PAD_X = 6;
const LABEL_COLOR = '#555';
const FONT = 'Verdana,Geneva,DejaVu Sans,sans-serif';

// Advance widths (px at 11 px) of the characters that are far from the average one.
const NARROW: Readonly<Record<string, number>> = { i: 3, l: 3, I: 4.6, j: 3.8, f: 3.9, t: 4.3, r: 4.7, ' ': 3.9, '.': 4, ',': 4, ':': 5, ';': 5, "'": 3, '|': 5, '!': 4.3, '(': 5, ')': 5, '-': 4.7, '/': 5, '[': 5, ']': 5 };
const WIDE: Readonly<Record<string, number>> = { m: 11.6, w: 9, M: 9.5, W: 10.9, '%': 11.8, '@': 12, '&': 8.3, '…': 11 };
const DIGIT = 7;
const LOWER = 6.6;
const UPPER = 7.8;
/** East Asian and other wide characters: about one em. */
const FULL = 11;

/** The estimated width (px) of `text` at 11 px Verdana. */
function textWidth(text: string): number {
  let width = 0;
  for (const ch of text) {
    const known = NARROW[ch] ?? WIDE[ch];
    if (known !== undefined) width += known;
    else if (ch >= '0' && ch <= '9') width += DIGIT;
    else if (ch >= 'a' && ch <= 'z') width += LOWER;
    else if (ch >= 'A' && ch <= 'Z') width += UPPER;
    else width += (ch.codePointAt(0) ?? 0) >= 0x1100 ? FULL : LOWER;
  }
  return Math.round(width * 10) / 10;
}

/** Text as an SVG may carry it: characters XML 1.0 forbids are dropped, then clipped and escaped. */
function badgeText(text: string): { raw: string; xml: string } {
  // A single control character would make the whole SVG unparseable.
  const clean = clipPlain(text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '').trim(), BADGE_TEXT_MAX);
  return { raw: clean, xml: escapeHtml(clean) };
}

/** One side of the badge: its box and its text (with the usual 1 px shadow below). */
function part(x: number, width: number, fill: string, text: { raw: string; xml: string }): { box: string; text: string } {
  const center = (x + width / 2).toFixed(1);
  const length = textWidth(text.raw).toFixed(1);
  const attrs = `x="${center}" textLength="${length}" lengthAdjust="spacing"`;
  return {
    box: `<rect x="${x}" width="${width}" height="${HEIGHT}" fill="${fill}"/>`,
    text: `<text ${attrs} y="15" fill="#010101" fill-opacity=".3" aria-hidden="true">${text.xml}</text><text ${attrs} y="14">${text.xml}</text>`,
  };
}

/**
 * A two-part flat badge: `label` on grey at the left, `message` on `color` at the right (an empty label
 * gives a message-only badge). Both are clipped to {@link BADGE_TEXT_MAX} characters and XML-escaped;
 * `color` must be a CSS colour of our own (it is not escaped).
 */
export function badgeSvg(label: string, message: string, color: string): string {
  const l = badgeText(label);
  const m = badgeText(message);
  const labelW = l.raw === '' ? 0 : Math.ceil(textWidth(l.raw) + 2 * PAD_X);
  const messageW = Math.ceil(textWidth(m.raw) + 2 * PAD_X);
  const width = labelW + messageW;
  const name = l.raw === '' ? m.xml : `${l.xml}: ${m.xml}`;
  const parts = [...(labelW > 0 ? [part(0, labelW, LABEL_COLOR, l)] : []), part(labelW, messageW, color, m)];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${HEIGHT}" viewBox="0 0 ${width} ${HEIGHT}" role="img" aria-label="${name}">`,
    `<title>${name}</title>`,
    '<linearGradient id="shine" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>',
    `<clipPath id="round"><rect width="${width}" height="${HEIGHT}" rx="3" fill="#fff"/></clipPath>`,
    `<g clip-path="url(#round)">${parts.map((p) => p.box).join('')}<rect width="${width}" height="${HEIGHT}" fill="url(#shine)"/></g>`,
    `<g fill="#fff" text-anchor="middle" font-family="${FONT}" font-size="11">${parts.map((p) => p.text).join('')}</g>`,
    '</svg>',
  ].join('');
}

/** Badge colours: white text on each stays at 4.5:1 or more, except the grey of `unknown` (4.6:1). */
const COLORS = { green: '#2e7d32', yellowGreen: '#4d7c0f', orange: '#b45309', red: '#c62828', blue: '#1565c0', grey: '#616161', lightGrey: '#757575' } as const;

/** The message and colour of a state. */
function stateLook(state: TargetState): [string, string] {
  switch (state) {
    case 'UP':
      return ['up', COLORS.green];
    case 'DOWN':
      return ['down', COLORS.red];
    case 'DEGRADED':
      return ['degraded', COLORS.orange];
    case 'MAINTENANCE':
      return ['maintenance', COLORS.blue];
    case 'PAUSED':
      return ['paused', COLORS.grey];
    case 'UNKNOWN':
      return ['unknown', COLORS.lightGrey];
    default: {
      const missing: never = state;
      throw new Error(`no badge for state ${String(missing)}`);
    }
  }
}

/** The colour of an uptime level. */
function levelColor(level: UptimeLevel): string {
  switch (level) {
    case 'good':
      return COLORS.green;
    case 'fair':
      return COLORS.yellowGreen;
    case 'poor':
      return COLORS.orange;
    case 'bad':
      return COLORS.red;
    case 'none':
      return COLORS.lightGrey;
    default: {
      const missing: never = level;
      throw new Error(`no colour for uptime level ${String(missing)}`);
    }
  }
}

/** `label | up` (green), `down` (red), `degraded` (orange), `maintenance` (blue), `paused` / `unknown` (grey). */
export function statusBadge(label: string, state: TargetState): string {
  const [message, color] = stateLook(state);
  return badgeSvg(label, message, color);
}

/**
 * `<label> <period> | 99.95%` (e.g. `api 30d | 99.95%`), coloured like a day of the status page's bar
 * (≥ 99.9 green, ≥ 99 yellow-green, ≥ 95 orange, below red); `pct` undefined reads `no data` on grey.
 * The period is shown as given (`30d`, `24h`); an empty label leaves the period alone on the left.
 */
export function uptimeBadge(label: string, pct: number | undefined, period: string): string {
  const left = [label.trim(), period.trim()].filter(Boolean).join(' ');
  return pct === undefined || Number.isNaN(pct) ? badgeSvg(left, 'no data', COLORS.lightGrey) : badgeSvg(left, formatPct(pct), levelColor(uptimeLevel(pct)));
}
