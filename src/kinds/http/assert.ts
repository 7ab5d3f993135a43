// JSON assertions of http targets: assert='$.status == "ok"', assert='$.items.length >= 1',
// assert='$.data.id exists'. An assert is a path into the JSON body, then one operator and one literal.
//
// Why a small parser of our own and not a JSONPath library: libraries like jsonpath-plus have filter
// and script expressions that they evaluate as code (eval, new Function or vm), and an assert is text a
// user typed in a chat. This grammar has no expressions at all, only names, indices and literals, and
// nothing here ever runs user text as code: no eval, no Function, no vm. JSON.parse reads the body and
// string literals, which is data, not code.
//
// Grammar (whitespace allowed between tokens):
//   assert  = path ( op value | "exists" | "not" "exists" )
//   path    = "$" { "." name | "[" ( string | index ) "]" }        at most 32 parts
//   name    = [A-Za-z0-9_-]+          `.length` is the length of an array or string (an object's "length" key)
//   index   = -?[0-9]+                negative counts from the end: [-1] is the last element
//   op      = "==" | "!=" | "<" | "<=" | ">" | ">="                 < <= > >= take numbers only
//   value   = string | number | "true" | "false" | "null"
//   string  = a JSON string in "double quotes", or the same in 'single quotes' (where \' is a quote too)
//   number  = a JSON number: -12, 0.5, 1e-3

import { clipText } from '../../domain/errors.js';
import { invalid, valid, type Parsed } from '../../domain/result.js';

/** An assert is at most this many characters, as typed and as {@link formatAssertion} writes it. */
export const MAX_ASSERT_CHARS = 300;
/** A path has at most this many parts after the `$`. */
export const MAX_ASSERT_PATH_SEGMENTS = 32;
/** A target has at most this many asserts (the caller enforces it). */
export const MAX_ASSERTIONS_PER_TARGET = 20;
/** Asserts read at most this much of a body (UTF-8 bytes); {@link evaluate} refuses a longer one. */
export const MAX_ASSERT_BODY_BYTES = 1_048_576;

/** One part of a path after `$`. */
export type PathSegment =
  /** `.name`, `["any key"]`: a key of an object. */
  | { readonly kind: 'key'; readonly key: string }
  /** `[2]`, `[-1]`: an element of an array; a negative index counts from the end. */
  | { readonly kind: 'index'; readonly index: number }
  /** `.length`: the length of an array or a string (code points); for an object, its key "length". */
  | { readonly kind: 'length' };

/** A literal an assert compares with. */
export type AssertValue = string | number | boolean | null;
export type EqualityOperator = '==' | '!=';
export type OrderOperator = '<' | '<=' | '>' | '>=';
export type CompareOperator = EqualityOperator | OrderOperator;
export type PresenceOperator = 'exists' | 'not exists';

/** A parsed assert. Ordering operators compare numbers only, so their value is a number. */
export type Assertion =
  | { readonly path: readonly PathSegment[]; readonly op: EqualityOperator; readonly value: AssertValue }
  | { readonly path: readonly PathSegment[]; readonly op: OrderOperator; readonly value: number }
  | { readonly path: readonly PathSegment[]; readonly op: PresenceOperator };

type PresenceAssertion = Extract<Assertion, { op: PresenceOperator }>;
type ComparisonAssertion = Exclude<Assertion, PresenceAssertion>;
const isPresence = (assertion: Assertion): assertion is PresenceAssertion => assertion.op === 'exists' || assertion.op === 'not exists';

const USAGE = 'assert must be like $.status == "ok", $.items.length >= 1 or $.data.id exists';
const OPERATORS: readonly string[] = ['==', '!=', '<', '<=', '>', '>='];
const ORDER_OPERATORS: readonly string[] = ['<', '<=', '>', '>='];
const NAME_RE = /^[A-Za-z0-9_-]+$/;
/** How long a value or a key is shown in a message (code points). */
const SHOW_MAX_CHARS = 60;
/** How long a path is shown in a message (code points). */
const PATH_SHOW_MAX_CHARS = 120;

// ---------------------------------------------------------------- showing values

/** A string as messages show it: JSON-quoted and escaped, at most 60 code points, `…` inside the quotes when cut. */
function showString(value: string): string {
  let head = '';
  let count = 0;
  let cut = false;
  for (const ch of value) {
    if (count === SHOW_MAX_CHARS) {
      cut = true;
      break;
    }
    head += ch;
    count++;
  }
  const json = JSON.stringify(head);
  // JSON.stringify escapes C0 controls; clipText (with no practical limit) escapes DEL and C1 controls too.
  return clipText(cut ? `${json.slice(0, -1)}…"` : json, Number.MAX_SAFE_INTEGER);
}

const showLiteral = (value: AssertValue): string => (typeof value === 'string' ? showString(value) : String(value));

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasAnyKey(value: Record<string, unknown>): boolean {
  for (const key in value) if (Object.hasOwn(value, key)) return true;
  return false;
}

/** A JSON value as a failure shows it: a literal, or `an object` / `an array of 3` (never the whole thing). */
function showJson(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : `an array of ${value.length}`;
  if (isObject(value)) return hasAnyKey(value) ? 'an object' : 'an empty object';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) return showLiteral(value);
  return String(value);
}

const kindName = (value: string | number | boolean): string =>
  typeof value === 'string' ? 'a string' : typeof value === 'number' ? 'a number' : 'a boolean';

// ---------------------------------------------------------------- formatting

function formatSegment(segment: PathSegment): string {
  switch (segment.kind) {
    case 'length':
      return '.length';
    case 'index':
      return `[${segment.index}]`;
    case 'key':
      // A key named "length" is written in brackets: `.length` is the length.
      return NAME_RE.test(segment.key) && segment.key !== 'length' ? `.${segment.key}` : `[${JSON.stringify(segment.key)}]`;
  }
}

/** A path as an assert writes it: `$.data.items[0]["a key"]`. */
export function formatPath(path: readonly PathSegment[]): string {
  return `$${path.map(formatSegment).join('')}`;
}

/** The canonical text of an assert, which {@link parseAssertion} reads back to an equal assert (for /export, /status). */
export function formatAssertion(assertion: Assertion): string {
  const path = formatPath(assertion.path);
  if (isPresence(assertion)) return `${path} ${assertion.op}`;
  // JSON.stringify writes strings JSON's way; String(number) is JSON number syntax for finite numbers (1e+21 too).
  const value = typeof assertion.value === 'string' ? JSON.stringify(assertion.value) : String(assertion.value);
  return `${path} ${assertion.op} ${value}`;
}

// ---------------------------------------------------------------- parsing

/** Thrown inside the parser with a user-facing message; parseAssertion turns it into `invalid`. */
class Refusal extends Error {}

function fail(message: string): never {
  throw new Refusal(message);
}

const codePoints = (text: string): number => {
  let count = 0;
  for (const _ of text) count++;
  return count;
};

/** A piece of the user's text, as messages quote it. */
const quoteText = (text: string): string => `"${clipText(text)}"`;

class Cursor {
  pos = 0;
  constructor(readonly text: string) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.pos];
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  /** Matches a sticky regex at the cursor and moves past it. */
  match(re: RegExp): string | undefined {
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    if (!m) return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  /** `at character N` (1-based, in code points) for an index into the text. */
  at(index = this.pos): string {
    return `at character ${codePoints(this.text.slice(0, index)) + 1}`;
  }

  /** The next word-ish run of text, for quoting what was found instead of what was expected. */
  token(index = this.pos): string {
    return /^\S*/.exec(this.text.slice(index))![0] || this.text.slice(index, index + 1);
  }
}

const NAME_STICKY = /[A-Za-z0-9_-]+/y;
const INDEX_STICKY = /-?[0-9]+/y;
const OPERATOR_STICKY = /[=!<>~]+/y;
const WORD_STICKY = /[A-Za-z_][A-Za-z0-9_-]*/y;
const NUMBER_STICKY = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const JSON_ESCAPES = '"\\/bfnrt';

/** Reads a quoted string at the cursor (JSON escapes; in single quotes, \' too). */
function readString(c: Cursor): string {
  const start = c.pos;
  const quote = c.peek()!;
  const text = c.text;
  let json = '';
  let i = start + 1;
  for (;;) {
    if (i >= text.length) fail(`unterminated string ${c.at(start)} in assert: the closing ${quote} is missing`);
    const ch = text[i]!;
    if (ch === quote) break;
    if (ch === '\\') {
      const next = text[i + 1];
      if (next === undefined) fail(`unterminated string ${c.at(start)} in assert: the closing ${quote} is missing`);
      if (quote === "'" && next === "'") {
        json += "'";
        i += 2;
        continue;
      }
      if (next === 'u') {
        if (!/^[0-9A-Fa-f]{4}$/.test(text.slice(i + 2, i + 6))) fail(`bad escape ${c.at(i)} in assert: \\u needs 4 hex digits, like \\u00e9`);
        json += text.slice(i, i + 6);
        i += 6;
        continue;
      }
      if (!JSON_ESCAPES.includes(next!)) {
        fail(`bad escape ${quoteText(`\\${next}`)} ${c.at(i)} in assert; strings take JSON escapes: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX${quote === "'" ? " and \\'" : ''}`);
      }
      json += `\\${next}`;
      i += 2;
      continue;
    }
    if (ch < ' ') fail(`string ${c.at(start)} in assert holds a control character ${c.at(i)}; write it as an escape like \\n or \\u0000`);
    // A double quote inside single quotes is plain text; JSON needs it escaped.
    json += ch === '"' ? '\\"' : ch;
    i++;
  }
  c.pos = i + 1;
  // Every escape and character was checked above, so this JSON string literal always parses; it is data, not code.
  return JSON.parse(`"${json}"`) as string;
}

function readPath(c: Cursor): PathSegment[] {
  c.skipSpace();
  if (c.done) fail(USAGE);
  if (c.peek() !== '$') fail(`${USAGE}; the path starts with $ (the whole body), like $.status, got ${quoteText(c.text.slice(c.pos))}`);
  c.pos++;
  const path: PathSegment[] = [];
  for (;;) {
    const start = c.pos;
    const ch = c.peek();
    if (ch === '.') {
      c.pos++;
      const name = c.match(NAME_STICKY);
      if (name === undefined) {
        const found = c.done || /\s/.test(c.peek()!) ? 'nothing' : quoteText(c.token());
        fail(`a name must follow "." ${c.at(start)} in assert, like .status (letters, digits, _ and -; write ["a key"] for any other key), got ${found}`);
      }
      path.push(name === 'length' ? { kind: 'length' } : { kind: 'key', key: name! });
    } else if (ch === '[') {
      c.pos++;
      c.skipSpace();
      const inner = c.peek();
      if (inner === '"' || inner === "'") {
        path.push({ kind: 'key', key: readString(c) });
      } else if (inner === '-' || (inner !== undefined && inner >= '0' && inner <= '9')) {
        const digits = c.match(INDEX_STICKY);
        if (digits === undefined) fail(`[ ${c.at(start)} in assert must hold an index like [0] or [-1], or a quoted key like ["name"]`);
        const index = Number(digits);
        if (!Number.isSafeInteger(index)) fail(`index ${quoteText(digits!)} ${c.at(start)} in assert is too large`);
        path.push({ kind: 'index', index: index === 0 ? 0 : index }); // [-0] is [0]
      } else {
        fail(`[ ${c.at(start)} in assert must hold an index like [0] or [-1], or a quoted key like ["name"] or ['name']`);
      }
      c.skipSpace();
      if (c.peek() !== ']') {
        const found = c.done ? 'the end' : quoteText(c.token());
        fail(`missing "]" ${c.at()} in assert to close the [ ${c.at(start)}, got ${found}`);
      }
      c.pos++;
    } else {
      break;
    }
    if (path.length > MAX_ASSERT_PATH_SEGMENTS) fail(`assert path has more than ${MAX_ASSERT_PATH_SEGMENTS} parts`);
  }
  const next = c.peek();
  if (next !== undefined && !/\s/.test(next) && !/[=!<>~]/.test(next)) {
    fail(
      `unexpected ${quoteText(c.token())} ${c.at()} in the assert path ${clipText(formatPath(path), PATH_SHOW_MAX_CHARS)}: ` +
        'parts are written .name (letters, digits, _ and -), ["any key"] or [0]',
    );
  }
  return path;
}

function readValue(c: Cursor, op: string): AssertValue {
  c.skipSpace();
  const start = c.pos;
  const ch = c.peek();
  if (ch === undefined) fail(`${op} ${c.at()} in assert needs a value after it, like "ok", 1, true or null`);
  if (ch === '"' || ch === "'") return readString(c);
  if (ch === '-' || (ch! >= '0' && ch! <= '9')) {
    const number = c.match(NUMBER_STICKY);
    const after = c.peek();
    if (number === undefined || (after !== undefined && /[A-Za-z0-9_.+-]/.test(after))) {
      fail(`${quoteText(c.token(start))} ${c.at(start)} in assert is not a number; write a string in quotes, like "1.2.0"`);
    }
    const value = Number(number);
    if (!Number.isFinite(value)) fail(`number ${quoteText(number!)} ${c.at(start)} in assert is too large`);
    return value === 0 ? 0 : value; // -0 is 0
  }
  const word = c.match(WORD_STICKY);
  if (word === 'true') return true;
  if (word === 'false') return false;
  if (word === 'null') return null;
  if (word !== undefined) fail(`value ${quoteText(word)} ${c.at(start)} in assert needs quotes to be a string, like "${clipText(word)}" (or write a number, true, false or null)`);
  return fail(`unexpected ${quoteText(c.token())} ${c.at()} in assert where a value belongs, like "ok", 1, true or null`);
}

function readEnd(c: Cursor, after: string): void {
  c.skipSpace();
  if (!c.done) fail(`unexpected ${quoteText(c.text.slice(c.pos))} ${c.at()} in assert after ${after}; one assert checks one thing (repeat assert= for more)`);
}

function readAssertion(c: Cursor): Assertion {
  const path = readPath(c);
  c.skipSpace();
  const shownPath = clipText(formatPath(path), PATH_SHOW_MAX_CHARS);
  if (c.done) fail(`assert needs an operator and a value after the path ${shownPath}, like ${shownPath} == "ok", or the word exists`);
  const opStart = c.pos;
  const op = c.match(OPERATOR_STICKY);
  if (op !== undefined) {
    if (!OPERATORS.includes(op)) {
      const hint = op === '=' ? ' (== compares)' : op === '===' ? ' (== compares exactly already)' : '';
      fail(`unknown operator ${quoteText(op)} ${c.at(opStart)} in assert; use == != < <= > >= or exists${hint}`);
    }
    const value = readValue(c, op);
    if (ORDER_OPERATORS.includes(op) && typeof value !== 'number') {
      fail(`${op} needs a number, got ${showLiteral(value)}; strings, true, false and null are compared with == or !=`);
    }
    readEnd(c, 'the value');
    return { path, op, value } as Assertion;
  }
  const word = c.match(WORD_STICKY);
  if (word === 'exists') {
    readEnd(c, 'exists');
    return { path, op: 'exists' };
  }
  if (word === 'not') {
    c.skipSpace();
    const notStart = c.pos;
    if (c.match(WORD_STICKY) !== 'exists') fail(`"not" ${c.at(opStart)} in assert must be followed by exists, got ${c.done ? 'nothing' : quoteText(c.token(notStart))}`);
    readEnd(c, 'not exists');
    return { path, op: 'not exists' };
  }
  const found = word ?? c.token();
  // `$.first name == "x"`: a word, then what would follow a path, is most likely a key with a space.
  const spaced =
    word !== undefined && /^\s*(?:[=!<>]|exists\b|not\s+exists\b)/.test(c.text.slice(c.pos))
      ? ' (a key with spaces is written in brackets, like $["first name"])'
      : '';
  return fail(`unknown operator ${quoteText(found)} ${c.at(opStart)} in assert; use == != < <= > >= or exists${spaced}`);
}

/**
 * Reads one `assert=` text, like `$.status == "ok"`, `$.items.length >= 1` or `$.data.id exists`.
 * Errors say what is wrong and at which character, and quote user text clipped.
 */
export function parseAssertion(text: string): Parsed<Assertion> {
  if (text.length > MAX_ASSERT_CHARS && codePoints(text) > MAX_ASSERT_CHARS) {
    return invalid(`assert is longer than ${MAX_ASSERT_CHARS} characters`);
  }
  let assertion: Assertion;
  try {
    assertion = readAssertion(new Cursor(text));
  } catch (error) {
    if (error instanceof Refusal) return invalid(error.message);
    throw error;
  }
  // The canonical text can be a little longer than the typed one (spaces, escapes, 1E5 → 100000); it has to
  // fit the limit too, or /export would write an assert that cannot be read back.
  const canonical = formatAssertion(assertion);
  if (canonical.length > MAX_ASSERT_CHARS && codePoints(canonical) > MAX_ASSERT_CHARS) {
    return invalid(`assert is longer than ${MAX_ASSERT_CHARS} characters when written the standard way (${clipText(canonical)})`);
  }
  return valid(assertion);
}

// ---------------------------------------------------------------- evaluating

type Resolved = { found: true; value: unknown } | { found: false; why: string };

/** Follows a path through a parsed body; never reads inherited properties. */
function resolve(root: unknown, path: readonly PathSegment[]): Resolved {
  let current = root;
  for (let i = 0; i < path.length; i++) {
    const segment = path[i]!;
    const here = () => clipText(formatPath(path.slice(0, i)), PATH_SHOW_MAX_CHARS);
    switch (segment.kind) {
      case 'key': {
        if (isObject(current)) {
          if (!Object.hasOwn(current, segment.key)) {
            const key = showString(segment.key);
            return { found: false, why: i === 0 ? `no ${key}` : `no ${key} in ${here()}` };
          }
          current = current[segment.key];
        } else if (Array.isArray(current)) {
          const hint = /^[0-9]+$/.test(segment.key) ? `; an element is written [${segment.key}]` : '';
          return { found: false, why: `${here()} is ${showJson(current)}, not an object${hint}` };
        } else {
          return { found: false, why: `${here()} is ${showJson(current)}, not an object` };
        }
        break;
      }
      case 'index': {
        if (!Array.isArray(current)) return { found: false, why: `${here()} is ${showJson(current)}, not an array` };
        const at = segment.index < 0 ? current.length + segment.index : segment.index;
        if (at < 0 || at >= current.length) return { found: false, why: `${here()} is ${showJson(current)}` };
        current = current[at];
        break;
      }
      case 'length': {
        if (Array.isArray(current)) current = current.length;
        else if (typeof current === 'string') current = codePoints(current);
        else if (isObject(current)) {
          if (!Object.hasOwn(current, 'length')) return { found: false, why: `${here()} is an object without a "length" key` };
          current = current.length;
        } else return { found: false, why: `${here()} is ${showJson(current)}, which has no length` };
        break;
      }
    }
  }
  return { found: true, value: current };
}

const isScalar = (value: unknown): value is AssertValue =>
  value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/** Why one assert fails on a parsed body, or undefined when it holds. */
function check(root: unknown, assertion: Assertion): string | undefined {
  const path = clipText(formatPath(assertion.path), PATH_SHOW_MAX_CHARS);
  const resolved = resolve(root, assertion.path);
  if (isPresence(assertion)) {
    if (assertion.op === 'exists') return resolved.found ? undefined : `${path} does not exist (${resolved.why})`;
    return resolved.found ? `${path} is ${showJson(resolved.value)}, expected it not to exist` : undefined;
  }
  return compare(path, resolved, assertion);
}

/** Why a comparison fails, or undefined when it holds. */
function compare(path: string, resolved: Resolved, assertion: ComparisonAssertion): string | undefined {

  const expected = assertion.op === '==' ? showLiteral(assertion.value) : `${assertion.op} ${showLiteral(assertion.value)}`;
  // A comparison is about a value: a missing one fails every operator, != too.
  if (!resolved.found) return `${path} does not exist (${resolved.why}), expected ${expected}`;
  const actual = resolved.value;
  let holds: boolean;
  switch (assertion.op) {
    case '==':
      // JSON equality of scalars: the string "5" is not the number 5; an object or array equals no literal.
      holds = isScalar(actual) && actual === assertion.value;
      break;
    case '!=':
      holds = !(isScalar(actual) && actual === assertion.value);
      break;
    case '<':
      holds = typeof actual === 'number' && actual < assertion.value;
      break;
    case '<=':
      holds = typeof actual === 'number' && actual <= assertion.value;
      break;
    case '>':
      holds = typeof actual === 'number' && actual > assertion.value;
      break;
    case '>=':
      holds = typeof actual === 'number' && actual >= assertion.value;
      break;
  }
  if (holds) return undefined;
  // Say the type when it is what differs: `"5" (a string), expected < 10`.
  const note =
    actual !== null && isScalar(actual) && (assertion.value === null || typeof actual !== typeof assertion.value) ? ` (${kindName(actual)})` : '';
  return `${path} is ${showJson(actual)}${note}, expected ${expected}`;
}

/** Whether a string takes more than `limit` bytes in UTF-8 (what was read off the wire), stopping early. */
function longerThanBytes(text: string, limit: number): boolean {
  if (text.length > limit) return true; // each UTF-16 unit is at least one byte
  if (text.length * 3 <= limit) return false; // each unit is at most three bytes (a pair is four for two)
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
    if (bytes > limit) return true;
  }
  return false;
}

/**
 * Checks asserts against a response body: undefined when every one holds, else why the first one fails,
 * in words (`$.status is "degraded", expected "ok"`). The body is parsed once, as JSON; a body that is not
 * JSON, or longer than {@link MAX_ASSERT_BODY_BYTES}, fails with the reason. No asserts: nothing to check.
 */
export function evaluate(body: string, assertions: readonly Assertion[]): string | undefined {
  if (assertions.length === 0) return undefined;
  if (longerThanBytes(body, MAX_ASSERT_BODY_BYTES)) return 'body is larger than 1 MiB, assertions not checked';
  const text = body.startsWith('\uFEFF') ? body.slice(1) : body;
  if (text.trim() === '') return 'body is empty, expected JSON';
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return `body is not JSON: ${clipText(message, 80)}`;
  }
  for (const assertion of assertions) {
    const reason = check(root, assertion);
    if (reason !== undefined) return reason;
  }
  return undefined;
}
