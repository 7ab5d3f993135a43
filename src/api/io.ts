import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiProblem, problems } from './problem.js';

/** The most a request body may hold (a target, a window or a destination is a few hundred bytes). */
export const MAX_BODY_BYTES = 65_536;

/** Reads a JSON body: 415 unless it is JSON, 413 past `maxBytes` (read no further), 400 when it does not parse. */
export async function readJson(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json' && type !== 'application/merge-patch+json') {
    throw problems.unsupported(`send the body as application/json${type === '' ? '' : `, not ${type.slice(0, 60)}`}`);
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) throw problems.tooLarge(maxBytes);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw problems.tooLarge(maxBytes);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw problems.badRequest('the body is empty: send a JSON object');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw problems.badRequest(`the body is not JSON: ${(err as Error).message.slice(0, 120)}`);
  }
}

/** Sends a JSON answer. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** Sends a problem (`application/problem+json`). */
export function sendProblem(res: ServerResponse, p: ApiProblem): void {
  const text = JSON.stringify(p.problem);
  res.writeHead(p.problem.status, { 'content-type': 'application/problem+json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...p.headers });
  res.end(text);
}

/** A body that must be a JSON object. */
export function objectBody(body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw problems.validation(['the body must be a JSON object']);
  return body as Record<string, unknown>;
}
