import { Keyv } from 'keyv';
import { describe, expect, it } from 'vitest';
import { deserialize, serialize } from '../../src/store/codec.js';

// Keyv's own functions: what every stored row has been written with.
const keyv = new Keyv<unknown>();
const keyvSerialize = keyv.serialize!;
const keyvDeserialize = keyv.deserialize!;

const CASES: unknown[] = [
  { value: { id: '0/t1', chatId: -100, name: 't1', everyMs: 10_000, paused: false, url: 'http://127.0.0.1:8080/x?a=1&b=":"' }, expires: undefined },
  { value: ':starts with a colon', expires: 5 },
  { value: '::two colons' },
  { value: ':base64:not a buffer' },
  { value: { nested: [':a', 'b', [':c', { d: ':e' }]], ':key': ':value', plain: 'x:y', quote: '\\":', comma: ',":' } },
  { value: Buffer.from('bytes') },
  { value: { inner: Buffer.from([0, 1, 2]), list: [Buffer.from('x')] } },
  { value: { type: 'Buffer', data: [1, 2] } },
  { value: 'text with "type":"Buffer" in it' },
  { value: [1, undefined, null, 'a', ':b'] },
  { value: { a: undefined, b: null, c: Number.NaN, d: new Date(0) } },
  { value: 'ünïcødé ☃ :' },
  { value: null },
  { value: [] },
  { value: {} },
  ':top',
  'top',
];

describe('the store codec', () => {
  it('writes exactly what Keyv writes', async () => {
    for (const c of CASES) expect(await serialize(c as never), JSON.stringify(c)).toBe(await keyvSerialize(c as never));
  });

  it('reads what Keyv wrote as Keyv reads it', async () => {
    for (const c of CASES) {
      const text = await keyvSerialize(c as never);
      expect(await deserialize(text)).toEqual(await keyvDeserialize(text));
    }
  });

  it('agrees with Keyv on random values made of JSON punctuation and colons', async () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed % n;
    };
    const alphabet = [':', '"', ',', '[', ']', '{', '}', '\\', 'a', ' ', '\n'];
    const text = (): string => Array.from({ length: rand(6) }, () => alphabet[rand(alphabet.length)]).join('');
    const value = (depth: number): unknown => {
      const pick = rand(depth > 2 ? 3 : 5);
      if (pick === 0) return text();
      if (pick === 1) return rand(100);
      if (pick === 2) return rand(2) === 0;
      if (pick === 3) return Array.from({ length: rand(4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: rand(4) }, () => [text(), value(depth + 1)]));
    };
    for (let i = 0; i < 2_000; i++) {
      const data = { value: value(0), expires: rand(2) === 0 ? undefined : rand(1_000) };
      const written = await serialize(data as never);
      expect(written).toBe(await keyvSerialize(data as never));
      expect(await deserialize(written)).toEqual(await keyvDeserialize(written));
    }
  });
});
