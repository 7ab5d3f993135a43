import { quoteValue } from './errors.js';
import { invalid, valid, type Parsed } from './result.js';
import { HEADER_NAME_RE, LIMITS, type Header } from './target.js';

// The request headers a target may send: names and values as HTTP allows them (RFC 9110) and as
// undici sends them, minus the headers Lookout has to control itself for a check to mean anything.
// A header value is usually a credential: no error ever repeats it, not even clipped.

const SAME_CONNECTION = 'Lookout manages the connection itself (every check opens a fresh one)';

/** Headers a target may not set, by lower-case name, and why. */
const CONTROLLED: Readonly<Record<string, string>> = {
  host: 'Lookout sets Host from the URL',
  'content-length': 'Lookout sets Content-Length itself (checks send no body)',
  'transfer-encoding': 'Lookout sets Transfer-Encoding itself (checks send no body)',
  trailer: 'Lookout sends no trailers (checks send no body)',
  expect: 'Lookout sends no body, so there is nothing to expect a 100 Continue for',
  te: 'Lookout chooses the transfer codings it accepts itself',
  upgrade: 'Lookout does not switch protocols: a check is one plain HTTP request',
  connection: SAME_CONNECTION,
  'keep-alive': SAME_CONNECTION,
  'proxy-connection': SAME_CONNECTION,
};

const LINE_ERROR = 'header must look like "Name: value" (quote it when the value has spaces, like header="Authorization: Bearer …")';
const NAME_RULE = "header names may hold only letters, digits and !#$%&'*+-.^_`|~ (at most 64 characters), like X-Api-Key";
const ASCII_ONLY = 'header values may hold printable ASCII only (letters, digits, punctuation, spaces)';

/** Spaces and tabs around a name or value (RFC 9110's OWS); other whitespace is not HTTP's and stays to be refused. */
const trimOws = (text: string): string => text.replace(/^[ \t]+|[ \t]+$/g, '');

/** Why `name` cannot be a header of a target, or undefined when it can; never repeats a refused name. */
export function headerNameError(name: string): string | undefined {
  if (!HEADER_NAME_RE.test(name)) return NAME_RULE;
  const why = CONTROLLED[name.toLowerCase()];
  return why === undefined ? undefined : `header ${quoteValue(name, 64)} cannot be set: ${why}`;
}

/** Why `value` cannot be sent as header `name`, or undefined when it can; the value itself is never repeated. */
export function headerValueError(name: string, value: string): string | undefined {
  const quoted = quoteValue(name, 64);
  if (value.length > LIMITS.headerValueMaxChars) return `header ${quoted} has a value longer than ${LIMITS.headerValueMaxChars} characters`;
  // Visible ASCII, space and tab (RFC 9110 field-vchar without obs-text, which undici refuses to send).
  if (/^[\t\x20-\x7e]*$/.test(value)) return undefined;
  if (/[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return `header ${quoted} has a control character or a line break in its value: ${ASCII_ONLY}`;
  return `header ${quoted} has a character outside ASCII in its value (an emoji or a letter like é): ${ASCII_ONLY}`;
}

/**
 * Parses a `header=` line, `Name: value`. An empty value (`X-Name:`) means "remove the header" and
 * comes back as `value: ''`.
 */
export function parseHeaderLine(text: string): Parsed<Header> {
  const colon = text.indexOf(':');
  const name = colon > 0 ? trimOws(text.slice(0, colon)) : '';
  if (name === '') return invalid(LINE_ERROR);
  const nameError = headerNameError(name);
  if (nameError) return invalid(nameError);
  const value = trimOws(text.slice(colon + 1));
  const valueError = headerValueError(name, value);
  return valueError ? invalid(valueError) : valid({ name, value });
}

/** Header values are secrets: shown with their first characters only. */
export function maskHeaderValue(value: string): string {
  return value.length <= 4 ? '••••' : `${value.slice(0, 2)}••••`;
}
