import { describe, expect, it } from 'vitest';
import {
  evaluate,
  formatAssertion,
  MAX_ASSERT_BODY_BYTES,
  MAX_ASSERT_CHARS,
  MAX_ASSERT_PATH_SEGMENTS,
  MAX_ASSERTIONS_PER_TARGET,
  parseAssertion,
  type Assertion,
} from '../../../src/kinds/http/assert.js';

function parsed(text: string): Assertion {
  const result = parseAssertion(text);
  if (!result.ok) throw new Error(`${text}: ${result.errors.join('; ')}`);
  return result.value;
}

function refusal(text: string): string {
  const result = parseAssertion(text);
  if (result.ok) throw new Error(`${text} was accepted as ${JSON.stringify(result.value)}`);
  expect(result.errors).toHaveLength(1);
  return result.errors[0]!;
}

const check = (body: string, ...asserts: string[]): string | undefined => evaluate(body, asserts.map(parsed));

const HEALTH = JSON.stringify({
  status: 'ok',
  version: '1.2.0',
  count: '5',
  total: 12,
  ratio: 0.25,
  big: 1.5e300,
  tiny: -2.5e-7,
  enabled: true,
  disabled: false,
  missing: null,
  items: [{ id: 1, name: 'a' }, { id: 2, name: 'b' }, { id: 3, name: 'c' }],
  empty: [],
  data: { id: 'abc', nested: { deep: { deeper: [10, 20, 30] } } },
  'a.b': 'dotted',
  'with space': 'spaced',
  "it's": 'apostrophe',
  'quote"d': 'q',
  '': 'empty key',
  ключ: 'значение',
  '🔥': 'fire',
  sized: { length: 7 },
  unsized: { size: 3 },
  name: 'héllo 🔥',
  obj: {},
  __proto__x: 1,
});

/** name, body, assert, the reason it fails (undefined: it holds). */
const EVAL_CASES: readonly [string, string, string, string | undefined][] = [
    // plain equality
    ['string ==', HEALTH, '$.status == "ok"', undefined],
    ['string == fails', JSON.stringify({ status: 'degraded' }), '$.status == "ok"', '$.status is "degraded", expected "ok"'],
    ['single quotes', HEALTH, "$.status == 'ok'", undefined],
    ['!= holds', HEALTH, '$.version != "1.3.0"', undefined],
    ['!= fails', HEALTH, '$.version != "1.2.0"', '$.version is "1.2.0", expected != "1.2.0"'],
    ['no spaces', HEALTH, '$.status=="ok"', undefined],
    ['lots of spaces', HEALTH, '   $.status   ==   "ok"   ', undefined],
    // numbers
    ['number ==', HEALTH, '$.total == 12', undefined],
    ['decimal ==', HEALTH, '$.ratio == 0.25', undefined],
    ['decimal written with exponent', HEALTH, '$.ratio == 25e-2', undefined],
    ['1.0 equals 1', '{"n":1}', '$.n == 1.0', undefined],
    ['big exponent >', HEALTH, '$.big > 1E299', undefined],
    ['tiny negative <', HEALTH, '$.tiny < 0', undefined],
    ['tiny negative == exponent', HEALTH, '$.tiny == -2.5e-7', undefined],
    ['>= fails', HEALTH, '$.total >= 13', '$.total is 12, expected >= 13'],
    ['<= holds at equality', HEALTH, '$.total <= 12', undefined],
    ['> fails at equality', HEALTH, '$.total > 12', '$.total is 12, expected > 12'],
    ['< on a string', HEALTH, '$.count < 10', '$.count is "5" (a string), expected < 10'],
    ['string "5" is not 5', HEALTH, '$.count == 5', '$.count is "5" (a string), expected 5'],
    ['number 12 is not "12"', HEALTH, '$.total == "12"', '$.total is 12 (a number), expected "12"'],
    ['< on null', HEALTH, '$.missing < 1', '$.missing is null, expected < 1'],
    ['< on an object', HEALTH, '$.data < 1', '$.data is an object, expected < 1'],
    // true / false / null
    ['true', HEALTH, '$.enabled == true', undefined],
    ['false', HEALTH, '$.disabled == false', undefined],
    ['true is not "true"', HEALTH, '$.enabled == "true"', '$.enabled is true (a boolean), expected "true"'],
    ['null ==', HEALTH, '$.missing == null', undefined],
    ['null != fails', HEALTH, '$.missing != null', '$.missing is null, expected != null'],
    ['false is not null', HEALTH, '$.disabled == null', '$.disabled is false (a boolean), expected null'],
    // nested objects and arrays
    ['nested', HEALTH, '$.data.nested.deep.deeper[1] == 20', undefined],
    ['array element key', HEALTH, '$.items[0].name == "a"', undefined],
    ['last element', HEALTH, '$.items[-1].id == 3', undefined],
    ['negative from end', HEALTH, '$.items[-3].id == 1', undefined],
    ['index out of range', HEALTH, '$.items[3] exists', '$.items[3] does not exist ($.items is an array of 3)'],
    ['negative out of range', HEALTH, '$.items[-4].id == 1', '$.items[-4].id does not exist ($.items is an array of 3), expected 1'],
    ['index into an empty array', HEALTH, '$.empty[0] exists', '$.empty[0] does not exist ($.empty is an empty array)'],
    ['index into an object', HEALTH, '$.data[0] exists', '$.data[0] does not exist ($.data is an object, not an array)'],
    ['key of an array', HEALTH, '$.items.0 exists', '$.items.0 does not exist ($.items is an array of 3, not an object; an element is written [0])'],
    ['key of a string', HEALTH, '$.status.x exists', '$.status.x does not exist ($.status is "ok", not an object)'],
    ['a whole array compared', HEALTH, '$.items == 3', '$.items is an array of 3, expected 3'],
    ['an object is != anything', HEALTH, '$.data != "x"', undefined],
    ['an empty object', HEALTH, '$.obj == 1', '$.obj is an empty object, expected 1'],
    // .length
    ['array length', HEALTH, '$.items.length >= 1', undefined],
    ['empty array length', HEALTH, '$.empty.length >= 1', '$.empty.length is 0, expected >= 1'],
    ['string length in code points', HEALTH, '$.name.length == 7', undefined],
    ['object key "length" through .length', HEALTH, '$.sized.length == 7', undefined],
    ['object key "length" in brackets', HEALTH, '$.sized["length"] == 7', undefined],
    ['object without "length"', HEALTH, '$.unsized.length > 0', '$.unsized.length does not exist ($.unsized is an object without a "length" key), expected > 0'],
    ['["length"] of an array is a key', HEALTH, '$.items["length"] exists', '$.items["length"] does not exist ($.items is an array of 3, not an object)'],
    ['length of a number', HEALTH, '$.total.length == 2', '$.total.length does not exist ($.total is 12, which has no length), expected 2'],
    ['length of length', HEALTH, '$.items.length.length exists', '$.items.length.length does not exist ($.items.length is 3, which has no length)'],
    // quoted keys and unicode
    ['dotted key', HEALTH, '$["a.b"] == "dotted"', undefined],
    ['spaced key, single quotes', HEALTH, "$['with space'] == 'spaced'", undefined],
    ['apostrophe key', HEALTH, "$['it\\'s'] == \"apostrophe\"", undefined],
    ['double quote in key', HEALTH, '$["quote\\"d"] == "q"', undefined],
    ['double quote in single-quoted key', HEALTH, `$['quote"d'] == "q"`, undefined],
    ['empty key', HEALTH, '$[""] == "empty key"', undefined],
    ['cyrillic key and value', HEALTH, '$["ключ"] == "значение"', undefined],
    ['emoji key', HEALTH, '$["🔥"] == "fire"', undefined],
    ['unicode escape in value', HEALTH, '$.name == "h\\u00e9llo \\ud83d\\udd25"', undefined],
    ['brackets with spaces inside', HEALTH, '$[ "data" ][ "id" ] == "abc"', undefined],
    ['name with digits, _ and -', '{"x-1_y":2}', '$.x-1_y == 2', undefined],
    ['no inherited properties', HEALTH, '$.constructor exists', '$.constructor does not exist (no "constructor")'],
    ['no __proto__', HEALTH, '$.data.__proto__ exists', '$.data.__proto__ does not exist (no "__proto__" in $.data)'],
    ['own __proto__ key is read', '{"__proto__":{"a":1}}', '$.__proto__.a == 1', undefined],
    // exists / not exists
    ['exists', HEALTH, '$.data.id exists', undefined],
    ['null exists', HEALTH, '$.missing exists', undefined],
    ['does not exist', JSON.stringify({ data: {} }), '$.data.id exists', '$.data.id does not exist (no "id" in $.data)'],
    ['missing first key', '{}', '$.a.b exists', '$.a.b does not exist (no "a")'],
    ['missing key compared', '{}', '$.status == "ok"', '$.status does not exist (no "status"), expected "ok"'],
    ['missing key != fails too', '{}', '$.version != "1.2.0"', '$.version does not exist (no "version"), expected != "1.2.0"'],
    ['not exists holds', HEALTH, '$.error not exists', undefined],
    ['not exists fails', '{"error":"boom"}', '$.error not exists', '$.error is "boom", expected it not to exist'],
    ['not exists fails on an object', '{"error":{"code":1}}', '$.error   not    exists', '$.error is an object, expected it not to exist'],
    // the body itself
    ['scalar body number', '42', '$ == 42', undefined],
    ['scalar body string', '"ok"', '$ == "ok"', undefined],
    ['scalar body length', '"ok"', '$.length == 2', undefined],
    ['scalar body, key', 'true', '$.status == "ok"', '$.status does not exist ($ is true, not an object), expected "ok"'],
    ['null body', 'null', '$ == null', undefined],
    ['array body', '[1,2,3]', '$[2] == 3', undefined],
    ['array body length', '[1,2,3]', '$.length == 3', undefined],
    ['whole body exists', '{}', '$ exists', undefined],
    ['byte order mark', '\uFEFF{"status":"ok"}', '$.status == "ok"', undefined],
    ['empty body', '', '$.status == "ok"', 'body is empty, expected JSON'],
    ['blank body', ' \r\n ', '$ exists', 'body is empty, expected JSON'],
    // long values are clipped
    ['long string clipped', JSON.stringify({ s: 'x'.repeat(500) }), '$.s == "y"', `$.s is "${'x'.repeat(60)}…", expected "y"`],
    ['control characters shown escaped', JSON.stringify({ s: 'a\nb\u0085' }), '$.s == "y"', '$.s is "a\\nb\\u0085", expected "y"'],
];

describe('evaluate: bodies × asserts', () => {
  it.each(EVAL_CASES)('%s', (_name, body, assert, reason) => {
    expect(check(body, assert)).toBe(reason);
  });

  it('returns the first failing assert, in order', () => {
    expect(check(HEALTH, '$.status == "ok"', '$.total > 100', '$.nope exists')).toBe('$.total is 12, expected > 100');
    expect(check(HEALTH, '$.status == "ok"', '$.items.length == 3', '$.data.id exists')).toBeUndefined();
  });

  it('checks nothing when there are no asserts', () => {
    expect(evaluate('not json', [])).toBeUndefined();
  });

  it('says why a body is not JSON, clipped', () => {
    const reason = check(`<html>${'x'.repeat(10_000)}</html>`, '$ exists')!;
    expect(reason).toMatch(/^body is not JSON: /);
    expect(reason.length).toBeLessThanOrEqual('body is not JSON: '.length + 81);
    expect(check('{"a":1', '$.a == 1')).toMatch(/^body is not JSON: /);
    expect(check('{"a":1} trailing', '$.a == 1')).toMatch(/^body is not JSON: /);
    expect(check("{'a':1}", '$.a == 1')).toMatch(/^body is not JSON: /);
  });

  it('refuses a body larger than 1 MiB, counted in UTF-8 bytes', () => {
    const fits = JSON.stringify({ s: 'x'.repeat(MAX_ASSERT_BODY_BYTES - 8) });
    expect(fits.length).toBe(MAX_ASSERT_BODY_BYTES);
    expect(check(fits, '$.s exists')).toBeUndefined();
    expect(check(`${fits} `, '$.s exists')).toBe('body is larger than 1 MiB, assertions not checked');
    // 400 Ki characters of é are 800 KiB; of 🔥 (two units each) 1.6 MiB.
    expect(check(JSON.stringify({ s: 'é'.repeat(400 * 1024) }), '$.s exists')).toBeUndefined();
    expect(check(JSON.stringify({ s: '🔥'.repeat(400 * 1024) }), '$.s exists')).toBe('body is larger than 1 MiB, assertions not checked');
    expect(check('x'.repeat(5 * MAX_ASSERT_BODY_BYTES), '$ exists')).toBe('body is larger than 1 MiB, assertions not checked');
  });

  it('reads deeply nested bodies, and paths as deep as allowed', () => {
    const depth = 100_000;
    const deep = `${'['.repeat(depth)}1${']'.repeat(depth)}`;
    expect(check(deep, '$[0][0][0] exists')).toBeUndefined();
    expect(check(deep, '$[1] exists')).toBe('$[1] does not exist ($ is an array of 1)');
    let body: unknown = 'bottom';
    for (let i = 0; i < MAX_ASSERT_PATH_SEGMENTS; i++) body = { k: body };
    const path = `$${'.k'.repeat(MAX_ASSERT_PATH_SEGMENTS)}`;
    expect(check(JSON.stringify(body), `${path} == "bottom"`)).toBeUndefined();
    expect(check(JSON.stringify(body), `${path} == "top"`)).toBe(`${path} is "bottom", expected "top"`);
  });

  it('clips a long path in a reason', () => {
    const key = 'k'.repeat(250);
    const reason = check('{}', `$.${key} exists`)!;
    expect(reason.length).toBeLessThan(300);
    expect(reason).toMatch(/^\$\.k+… does not exist \(no "k+…"\)$/);
  });
});

describe('parseAssertion refuses', () => {
  it.each<[string, string, string | RegExp]>([
    ['empty', '', 'assert must be like $.status == "ok", $.items.length >= 1 or $.data.id exists'],
    ['blank', '   ', /^assert must be like \$\.status == "ok"/],
    ['missing $', 'status == "ok"', 'assert must be like $.status == "ok", $.items.length >= 1 or $.data.id exists; the path starts with $ (the whole body), like $.status, got "status == "ok""'],
    ['a dot path without $', '.status == "ok"', /^assert must be like .*the path starts with \$/],
    ['unknown operator =~', '$.status =~ "ok"', 'unknown operator "=~" at character 10 in assert; use == != < <= > >= or exists'],
    ['single =', '$.status = "ok"', 'unknown operator "=" at character 10 in assert; use == != < <= > >= or exists (== compares)'],
    ['===', '$.status === "ok"', /^unknown operator "===" at character 10 in assert; .* \(== compares exactly already\)$/],
    ['word operator', '$.status is "ok"', /^unknown operator "is" at character 10 in assert; use == != < <= > >= or exists$/],
    ['a key with a space', '$.first name == "x"', /^unknown operator "name" at character 9 in assert; .* \(a key with spaces is written in brackets, like \$\["first name"\]\)$/],
    ['symbol operator', '$.status ~ "ok"', /^unknown operator "~" at character 10/],
    ['< with a string', '$.status < "ok"', '< needs a number, got "ok"; strings, true, false and null are compared with == or !='],
    ['>= with true', '$.a >= true', /^>= needs a number, got true;/],
    ['> with null', '$.a > null', /^> needs a number, got null;/],
    ['no operator', '$.status', 'assert needs an operator and a value after the path $.status, like $.status == "ok", or the word exists'],
    ['no value', '$.status ==', '== at character 12 in assert needs a value after it, like "ok", 1, true or null'],
    ['unquoted string', '$.status == ok', 'value "ok" at character 13 in assert needs quotes to be a string, like "ok" (or write a number, true, false or null)'],
    ['True is not true', '$.a == True', /^value "True" at character 8 in assert needs quotes/],
    ['unterminated string', '$.status == "ok', 'unterminated string at character 13 in assert: the closing " is missing'],
    ['unterminated single', "$.status == 'ok", "unterminated string at character 13 in assert: the closing ' is missing"],
    ['unterminated key', '$["status == 1', /^unterminated string at character 3 in assert/],
    ['string ending in a backslash', '$.a == "x\\', /^unterminated string at character 8/],
    ['bad escape', '$.a == "\\x"', /^bad escape "\\x" at character 9 in assert; strings take JSON escapes/],
    ['short \\u', '$.a == "\\u12"', 'bad escape at character 9 in assert: \\u needs 4 hex digits, like \\u00e9'],
    ['raw control character', '$.a == "a\tb"', /^string at character 8 in assert holds a control character at character 10/],
    ['trailing garbage after value', '$.status == "ok" && $.x == 1', 'unexpected "&& $.x == 1" at character 18 in assert after the value; one assert checks one thing (repeat assert= for more)'],
    ['trailing garbage after exists', '$.a exists now', /^unexpected "now" at character 12 in assert after exists;/],
    ['existsX', '$.a existsX', /^unknown operator "existsX"/],
    ['not without exists', '$.a not 1', /^"not" at character 5 in assert must be followed by exists, got "1"/],
    ['not at the end', '$.a not', /^"not" at character 5 in assert must be followed by exists, got nothing/],
    ['version as a number', '$.version == 1.2.0', 'not a number'],
    ['leading zero', '$.a == 01', /^"01" at character 8 in assert is not a number/],
    ['number with letters', '$.a == 5ms', /^"5ms" at character 8 in assert is not a number/],
    ['lone minus', '$.a == -', /^"-" at character 8 in assert is not a number/],
    ['plus sign', '$.a == +1', /^unexpected "\+1" at character 8 in assert where a value belongs/],
    ['infinite number', '$.a == 1e999', 'number "1e999" at character 8 in assert is too large'],
    ['empty name', '$. == 1', 'a name must follow "." at character 2 in assert, like .status (letters, digits, _ and -; write ["a key"] for any other key), got nothing'],
    ['bad name char', '$.a.$b == 1', /^a name must follow "\." at character 4 in assert.*got "\$b"$/],
    ['unicode name without quotes', '$.ключ == 1', /^a name must follow "\."/],
    ['bad char in path', '$.a/b == 1', /^unexpected "\/b" at character 4 in the assert path \$\.a: parts are written/],
    ['$ glued to a name', '$status == 1', /^unexpected "status" at character 2 in the assert path \$:/],
    ['empty brackets', '$[] == 1', /^\[ at character 2 in assert must hold an index like \[0\]/],
    ['wildcard', '$.items[*] exists', /^\[ at character 8 in assert must hold an index/],
    ['filter expression', '$.items[?(@.id == 1)] exists', /^\[ at character 8 in assert must hold an index/],
    ['script expression', '$[(process.exit())] exists', /^\[ at character 2 in assert must hold an index/],
    ['unclosed bracket', '$.items[0 == 1', 'missing "]" at character 11 in assert to close the [ at character 8, got "=="'],
    ['unclosed at end', '$.items[0', 'missing "]" at character 10 in assert to close the [ at character 8, got the end'],
    ['slice', '$.items[0:2] exists', /^missing "\]" at character 10/],
    ['huge index', '$.items[99999999999999999999] exists', /^index "99999999999999999999" at character 8 in assert is too large/],
    ['too long', `$.a == "${'x'.repeat(300)}"`, `assert is longer than ${MAX_ASSERT_CHARS} characters`],
    ['too many segments', `$${'.a'.repeat(MAX_ASSERT_PATH_SEGMENTS + 1)} exists`, `assert path has more than ${MAX_ASSERT_PATH_SEGMENTS} parts`],
  ])('%s', (_name, text, message) => {
    const error = refusal(text);
    if (typeof message === 'string') expect(error).toContain(message);
    else expect(error).toMatch(message);
  });

  it('never repeats a long value whole', () => {
    const error = refusal(`$.a == ${'z'.repeat(280)}`);
    expect(error.length).toBeLessThan(200);
    expect(error).toContain('…');
  });

  it('counts characters in code points', () => {
    const value = '🔥'.repeat(MAX_ASSERT_CHARS - 9); // `$.a == ""` is 9 characters
    expect(parseAssertion(`$.a == "${value}"`).ok).toBe(true);
    expect(refusal(`$.a == "${value}🔥"`)).toBe(`assert is longer than ${MAX_ASSERT_CHARS} characters`);
  });

  it('refuses an assert whose standard form is longer than the limit', () => {
    // 297 characters typed; written the standard way (spaces around ==, \" for each quote) it is 303.
    const text = `$.a=='${'"'.repeat(4)}${'x'.repeat(286)}'`;
    expect(text.length).toBe(297);
    expect(formatAssertion({ path: [{ kind: 'key', key: 'a' }], op: '==', value: `${'"'.repeat(4)}${'x'.repeat(286)}` })).toHaveLength(303);
    expect(refusal(text)).toMatch(/^assert is longer than 300 characters when written the standard way/);
  });

  it('allows exactly 32 segments and 20 asserts per target', () => {
    expect(parseAssertion(`$${'[0]'.repeat(MAX_ASSERT_PATH_SEGMENTS)} exists`).ok).toBe(true);
    expect(MAX_ASSERT_PATH_SEGMENTS).toBe(32);
    expect(MAX_ASSERTIONS_PER_TARGET).toBe(20);
    expect(MAX_ASSERT_CHARS).toBe(300);
    expect(MAX_ASSERT_BODY_BYTES).toBe(1_048_576);
  });
});

describe('parseAssertion reads', () => {
  it.each<[string, Assertion]>([
    ['$.status == "ok"', { path: [{ kind: 'key', key: 'status' }], op: '==', value: 'ok' }],
    ['$.items.length >= 1', { path: [{ kind: 'key', key: 'items' }, { kind: 'length' }], op: '>=', value: 1 }],
    ['$.data.id exists', { path: [{ kind: 'key', key: 'data' }, { kind: 'key', key: 'id' }], op: 'exists' }],
    ['$.error not exists', { path: [{ kind: 'key', key: 'error' }], op: 'not exists' }],
    ["$['a.b'][-1] != null", { path: [{ kind: 'key', key: 'a.b' }, { kind: 'index', index: -1 }], op: '!=', value: null }],
    ['$["length"] < -0', { path: [{ kind: 'key', key: 'length' }], op: '<', value: 0 }],
    ['$[-0] == 1E2', { path: [{ kind: 'index', index: 0 }], op: '==', value: 100 }],
    ['$ == false', { path: [], op: '==', value: false }],
  ])('%s', (text, assertion) => {
    expect(parsed(text)).toEqual(assertion);
  });
});

describe('formatAssertion', () => {
  it.each([
    ['$.status == "ok"', '$.status == "ok"'],
    ["  $.status=='ok'  ", '$.status == "ok"'],
    ["$['with space'] == 'it\\'s'", '$["with space"] == "it\'s"'],
    ['$["simple"]', '$.simple'],
    ['$["length"]', '$["length"]'],
    ['$.length', '$.length'],
    ['$[ 007 ]', '$[7]'],
    ['$["a\\u0000b"]', '$["a\\u0000b"]'],
    ['$["\\u00e9"]', '$["é"]'],
  ])('writes %j as %j', (text, canonical) => {
    const assertion = text.includes('==') ? parsed(text) : parsed(`${text} exists`);
    expect(formatAssertion(assertion)).toBe(text.includes('==') ? canonical : `${canonical} exists`);
  });

  it('writes numbers the JSON way', () => {
    expect(formatAssertion(parsed('$.a == 1E5'))).toBe('$.a == 100000');
    expect(formatAssertion(parsed('$.a == 1e21'))).toBe('$.a == 1e+21');
    expect(formatAssertion(parsed('$.a < -2.5e-7'))).toBe('$.a < -2.5e-7');
    expect(formatAssertion(parsed('$.a > 0.10'))).toBe('$.a > 0.1');
  });
});

describe('round trip: parseAssertion(formatAssertion(a)) equals a', () => {
  // Every assert of the evaluate table, and more that are awkward to write back.
  const source = [
    ...EVAL_CASES.map(([, , assert]) => assert),
    '$.status == "ok"',
    "$.status == 'ok'",
    '$.version != "1.2.0"',
    '$.data.id exists',
    '$.error not exists',
    '$.items.length >= 1',
    '$.items[-1].id == 3',
    '$.total <= 12',
    '$.big > 1E299',
    '$.tiny == -2.5e-7',
    '$.a == 1e21',
    '$.a == 5e-324',
    '$.a == 1.7976931348623157e308',
    '$.a == -0',
    '$.enabled == true',
    '$.disabled == false',
    '$.missing == null',
    '$["a.b"] == "dotted"',
    "$['with space'] == 'spaced'",
    "$['it\\'s'] == \"apostrophe\"",
    '$["quote\\"d"] == "q"',
    `$['quote"d'] == "q"`,
    '$[""] == ""',
    '$["ключ"] == "значение"',
    '$["🔥"] == "fire"',
    '$.name == "h\\u00e9llo \\ud83d\\udd25"',
    '$["\\ud800"] == "\\udfff"',
    '$["\\u2028\\u0085\\u007f"] == "\\\\ \\/ \\b \\f \\n \\r \\t"',
    '$.sized["length"] == 7',
    '$["length"].length == 7',
    '$.x-1_y == 2',
    '$.0 exists',
    '$ == 42',
    '$ exists',
    `$${'[0]'.repeat(MAX_ASSERT_PATH_SEGMENTS)} exists`,
    `$${'.k'.repeat(MAX_ASSERT_PATH_SEGMENTS)} == "bottom"`,
  ];

  it.each(source)('%s', (text) => {
    const assertion = parsed(text);
    const canonical = formatAssertion(assertion);
    const again = parseAssertion(canonical);
    expect(again).toEqual({ ok: true, value: assertion });
    if (again.ok) expect(formatAssertion(again.value)).toBe(canonical);
  });
});
