import { describe, expect, it } from 'vitest';
import { addCheck, emptySummary, encodeBucket, latencyBucket } from '../../src/domain/history.js';
import { decodeRow, encodeRow, type Row } from '../../src/store/history-codec.js';

const T = Date.UTC(2026, 10, 1, 10);
const MIN = 60_000;

describe('history row codec', () => {
  it('gives back the buckets it was given, single-check buckets included', () => {
    const one = emptySummary();
    addCheck(one, { ok: true, latencyMs: 123.4 });
    const many = emptySummary();
    for (const ms of [5, 50, 500, 5_000]) addCheck(many, { ok: ms < 5_000, latencyMs: ms, reason: 'timeout after 5s' });
    const row: Row = { t: T, b: [encodeBucket(T, one), encodeBucket(T + 7 * MIN, many)] };
    const text = encodeRow(row, MIN);
    expect(text.startsWith('1:')).toBe(true);
    const back = decodeRow(text, MIN);
    expect(back).toEqual(row);
    expect(back?.b[0]?.h).toEqual([latencyBucket(123.4), 1]);
  });

  it('is much smaller than the JSON of the buckets', () => {
    const b = Array.from({ length: 60 }, (_, i) => {
      const s = emptySummary();
      addCheck(s, { ok: true, latencyMs: 20 + ((i * 37) % 300) });
      return encodeBucket(T + i * MIN, s);
    });
    expect(encodeRow({ t: T, b }, MIN).length * 5).toBeLessThan(JSON.stringify({ t: T, b }).length);
  });

  it.each([undefined, 42, 'plain text', '1:not-base64-deflate', { t: 1, b: [] }])('reads %j as no row', (stored) => {
    expect(decodeRow(stored, MIN)).toBeUndefined();
  });
});
