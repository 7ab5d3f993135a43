import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One item of an envelope: its header (`type`: event, transaction, ...) and its payload. */
export interface EnvelopeItem {
  header: Record<string, unknown>;
  payload: unknown;
}

/** One envelope POST the receiver got, decompressed. */
export interface Envelope {
  path: string;
  headers: IncomingHttpHeaders;
  /** The body as sent, after gzip: what a secret must not appear in. */
  raw: string;
  header: Record<string, unknown>;
  items: EnvelopeItem[];
}

/** A loopback stand-in for Sentry's ingest: it takes envelope POSTs and keeps them. */
export interface SentryReceiver {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** A DSN pointing here, for project `project`. */
  dsn(project?: number): string;
  readonly envelopes: Envelope[];
  /** The payloads of every `event` item so far. */
  events(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Envelope = newline-separated JSON: a header, then per item a header and a payload (of `length` bytes when given). */
export function parseEnvelope(body: Buffer): { header: Record<string, unknown>; items: EnvelopeItem[] } {
  let at = 0;
  const line = (): Buffer => {
    const end = body.indexOf(0x0a, at);
    const out = body.subarray(at, end === -1 ? body.length : end);
    at = end === -1 ? body.length : end + 1;
    return out;
  };
  const header = JSON.parse(line().toString('utf8')) as Record<string, unknown>;
  const items: EnvelopeItem[] = [];
  while (at < body.length) {
    const text = line().toString('utf8');
    if (text.trim() === '') continue;
    const itemHeader = JSON.parse(text) as Record<string, unknown>;
    let payload: Buffer;
    if (typeof itemHeader.length === 'number') {
      payload = body.subarray(at, at + itemHeader.length);
      at += itemHeader.length + 1;
    } else payload = line();
    const s = payload.toString('utf8');
    let parsed: unknown = s;
    try {
      parsed = JSON.parse(s);
    } catch {
      // An attachment: kept as text.
    }
    items.push({ header: itemHeader, payload: parsed });
  }
  return { header, items };
}

/** Starts a receiver on a free port of 127.0.0.1; it answers 200 to `/api/<project>/envelope/`, 404 to anything else. */
export async function startSentryReceiver(): Promise<SentryReceiver> {
  const envelopes: Envelope[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      if (req.method !== 'POST' || !/^\/api\/\d+\/envelope\/(\?|$)/.test(path)) {
        res.writeHead(404).end();
        return;
      }
      const sent = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(sent) : sent;
      envelopes.push({ path, headers: req.headers, raw: body.toString('utf8'), ...parseEnvelope(body) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    dsn: (project = 42) => `http://publickey@127.0.0.1:${port}/${project}`,
    envelopes,
    events: () => envelopes.flatMap((e) => e.items.filter((i) => i.header.type === 'event').map((i) => i.payload as Record<string, unknown>)),
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
