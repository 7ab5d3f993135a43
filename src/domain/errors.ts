// How error messages repeat what a user typed: never whole when it is long, never with raw control characters.

/** The most characters of a user's value an error message repeats. */
export const QUOTE_MAX_CHARS = 40;

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * A user-supplied value cut to `max` characters (whole code points) with `…` when longer, control
 * characters written as escapes (`\n`, `\u0000`), so an error stays short and on one line.
 */
export function clipText(value: string, max = QUOTE_MAX_CHARS): string {
  // The common case (short, printable) without a walk over code points: every entry of a file clips its name.
  if (value.length <= max && !CONTROL.test(value)) return value;
  let out = '';
  let count = 0;
  for (const ch of value) {
    if (count === max) return `${out}…`;
    count++;
    // C0 controls, DEL and C1 controls: shown, not sent as they are.
    out += /[\u0000-\u001f\u007f-\u009f]/.test(ch) ? (ESCAPES[ch] ?? `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}`) : ch;
  }
  return out;
}

/** A user-supplied value as error messages quote it: `"value"`, clipped like {@link clipText}. */
export const quoteValue = (value: string, max = QUOTE_MAX_CHARS): string => `"${clipText(value, max)}"`;
