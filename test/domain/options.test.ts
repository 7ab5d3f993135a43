import { describe, expect, it } from 'vitest';
import { parseArgs, tokenize } from '../../src/domain/options.js';

const UNCLOSED = 'a quoted value is not closed: add the missing "';

describe('tokenize', () => {
  it.each<[string, string[]]>([
    ['', []],
    ['   ', []],
    ['one', ['one']],
    ['one two', ['one', 'two']],
    ['  one \t two\n three  ', ['one', 'two', 'three']],
    ['keyword="Service OK"', ['keyword=Service OK']],
    ['cron="0 2 * * SUN" for=2h', ['cron=0 2 * * SUN', 'for=2h']],
    ['"a b"c', ['a bc']],
    ['a"b c"d', ['ab cd']],
    ['note=""', ['note=']],
    ['""', ['']],
    [`assert='$.status == "ok"'`, ['assert=$.status == "ok"']],
    [`'a b' c`, ['a b', 'c']],
    [`note=don't stop`, ["note=don't", 'stop']],
    [`"it's" x`, ["it's", 'x']],
    [`"a='b c'"`, ["a='b c'"]],
    [`k='' v`, ['k=', 'v']],
    ['"" x', ['', 'x']],
    ['keyword="say \\"hi\\""', ['keyword=say "hi"']],
    ['"back\\slash"', ['back\\slash']],
    ['"multi\nline"', ['multi\nline']],
  ])('splits %j into %j', (text, words) => {
    expect(tokenize(text)).toEqual({ ok: true, value: words });
  });

  it.each(['"open', 'keyword="Service OK', 'a "b', '"escaped \\"', 'x="a" y="b', 'a\\"b'])('refuses the unclosed quote in %j', (text) => {
    expect(tokenize(text)).toEqual({ ok: false, errors: [UNCLOSED] });
  });

  it.each([`assert='$.a == 1`, `'open`])('refuses the unclosed single quote in %j', (text) => {
    expect(tokenize(text)).toEqual({ ok: false, errors: ["a quoted value is not closed: add the missing '"] });
  });
});

describe('parseArgs', () => {
  it.each<[string, string[], Array<{ key: string; value: string }>]>([
    ['', [], []],
    ['https://api.example.com/health', ['https://api.example.com/health'], []],
    [
      'https://api.example.com/health every=30s',
      ['https://api.example.com/health'],
      [{ key: 'every', value: '30s' }],
    ],
    ['EVERY=30s Name=Api', [], [{ key: 'every', value: '30s' }, { key: 'name', value: 'Api' }]],
    ['https://x.example/?a=b&c=d', ['https://x.example/?a=b&c=d'], []],
    ['x.example/path?a=b', ['x.example/path?a=b'], []],
    ['=value', ['=value'], []],
    ['1a=b', ['1a=b'], []],
    ['tcp db.internal:5432', ['tcp', 'db.internal:5432'], []],
    ['key=', [], [{ key: 'key', value: '' }]],
    ['header="X-Token: a=b"', [], [{ key: 'header', value: 'X-Token: a=b' }]],
    ['header=A:1 header=B:2', [], [{ key: 'header', value: 'A:1' }, { key: 'header', value: 'B:2' }]],
    ['my_key-2=v', [], [{ key: 'my_key-2', value: 'v' }]],
    ['keyword="Service OK" url', ['url'], [{ key: 'keyword', value: 'Service OK' }]],
  ])('parses %j', (text, positional, options) => {
    expect(parseArgs(text)).toEqual({ ok: true, value: { positional, options } });
  });

  it('passes a tokenize error through', () => {
    expect(parseArgs('https://x.example keyword="oops')).toEqual({ ok: false, errors: [UNCLOSED] });
  });
});
