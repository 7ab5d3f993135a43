import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { latencyBucket, type StoredBucket } from '../domain/history.js';

// How a history row is stored: its buckets as columns (start offsets, counts, min, max, histogram,
// reasons) in JSON, deflated and base64-encoded. A month of 1,000 targets is ~65 MB this way instead
// of ~300 MB as plain JSON objects (measured with npm run bench:history).

/** A row: the buckets of one hour (per minute) or one day (per hour) of a target. */
export interface Row {
  t: number;
  b: StoredBucket[];
}

interface Columns {
  t: number;
  /** Bucket starts as offsets from `t` in bucket spans. */
  o: number[];
  n: number[];
  f: number[];
  lo: number[];
  hi: number[];
  /** Histograms; empty for a bucket of one successful check (its histogram is the bucket of `lo`). */
  h: number[][];
  /** Failure reasons by bucket position, only where there were any. */
  r?: Record<number, Record<string, number>>;
}

const VERSION = '1:';

/** Encodes a row for the store. */
export function encodeRow(row: Row, spanMs: number): string {
  const c: Columns = { t: row.t, o: [], n: [], f: [], lo: [], hi: [], h: [] };
  row.b.forEach((b, i) => {
    c.o.push(Math.round((b.t - row.t) / spanMs));
    c.n.push(b.n);
    c.f.push(b.f);
    c.lo.push(b.lo);
    c.hi.push(b.hi);
    c.h.push(b.n - b.f === 1 ? [] : b.h);
    if (b.r) (c.r ??= {})[i] = b.r;
  });
  return VERSION + deflateRawSync(JSON.stringify(c)).toString('base64');
}

/** Decodes a stored row; anything it cannot read is no row (a slot is then simply reused). */
export function decodeRow(stored: unknown, spanMs: number): Row | undefined {
  if (typeof stored !== 'string' || !stored.startsWith(VERSION)) return undefined;
  let c: Columns;
  try {
    c = JSON.parse(inflateRawSync(Buffer.from(stored.slice(VERSION.length), 'base64')).toString('utf8')) as Columns;
  } catch {
    return undefined;
  }
  const b: StoredBucket[] = c.o.map((offset, i) => {
    const n = c.n[i]!;
    const f = c.f[i]!;
    const bucket: StoredBucket = { t: c.t + offset * spanMs, n, f, lo: c.lo[i]!, hi: c.hi[i]!, h: n - f === 1 ? [latencyBucket(c.lo[i]!), 1] : c.h[i]! };
    const reasons = c.r?.[i];
    if (reasons) bucket.r = reasons;
    return bucket;
  });
  return { t: c.t, b };
}
