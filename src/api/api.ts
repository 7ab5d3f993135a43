import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Destinations } from '../alerts/destinations.js';
import type { IncidentBook } from '../alerts/incidents.js';
import type { Outbox } from '../alerts/outbox.js';
import type { AlertPolicy } from '../alerts/policy.js';
import type { ChannelEnv, ChannelSpec } from '../alerts/channels/spec.js';
import type { ChangeFacts, Tell } from '../domain/notification.js';
import type { Catalog } from '../engine/catalog.js';
import type { Engine } from '../engine/engine.js';
import type { Clock } from '../lib/clock.js';
import type { Logger, SecretRegistry } from '../lib/logger.js';
import type { ChatSettingsRepository } from '../store/chats.js';
import type { History } from '../store/history.js';
import type { WindowRegistry } from '../store/windows.js';
import { readJson, sendJson, sendProblem } from './io.js';
import { ApiProblem, problems } from './problem.js';
import { createRateLimiter } from './rate-limit.js';
import { authenticate, tokenSees, type ApiToken } from './tokens.js';

// The REST API (/api/v1): the routes, the bearer tokens, the rate limit and the problem answers. The
// resources' handlers (targets-routes.ts, other-routes.ts) change things through the same catalog,
// grammar and registries as the chat commands, and tell the chat what they changed.

/** What the API works with: the chat's own pieces, passed in. */
export interface ApiDeps {
  tokens: readonly ApiToken[];
  ratePerMinute: number;
  /** The chats the deployment serves (headless: the file's chat 0). */
  chats: readonly number[];
  catalog: Catalog;
  engine: Pick<Engine, 'targets' | 'target' | 'state' | 'checkNow'>;
  policy: Pick<AlertPolicy, 'acknowledge' | 'windowsChanged'>;
  incidents: Pick<IncidentBook, 'allOpen' | 'recent'>;
  windows: WindowRegistry;
  settings: Pick<ChatSettingsRepository, 'get'>;
  history: History;
  destinations: Destinations;
  outbox: Pick<Outbox, 'discard'>;
  channels: { specs: readonly ChannelSpec[]; env: ChannelEnv; secrets: SecretRegistry };
  /** Tells a chat what a token changed (durably, like any notification). */
  tell: Tell;
  clock: Clock;
  allowMetadata: boolean;
  maxTargetsPerChat: number;
  /** `PUBLIC_URL` (a heartbeat's ping URL starts with it); undefined when the HTTP server is off. */
  publicUrl?: string;
  /** Several places: the places whose history a target has (its stats are over all of them). */
  placeNames?(targetId: string): readonly string[];
  /** Why the API cannot answer here now (an instance that does not lead), or undefined. */
  unavailable?(): string | undefined;
  /** Counts answers by status, and refused tokens. */
  count?(status: number, route: string): void;
  logger?: Logger;
}

/** One request as a handler sees it. */
export interface ApiRequest {
  token: ApiToken;
  chatId: number;
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  body(): Promise<unknown>;
  /** Tells the chat about a change made by this token. */
  announce(change: Omit<ChangeFacts, 'by'>): Promise<void>;
}

/** A handler's answer. */
export interface ApiAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Raw bytes instead of JSON (the chart). */
  raw?: { type: string; data: string | Buffer };
}

/** One route: a method, a path pattern (`{name}` segments), the scope it needs and its handler. */
export interface ApiRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  scope: 'read' | 'write';
  summary: string;
  handle(req: ApiRequest): Promise<ApiAnswer>;
}

const PREFIX = '/api/v1';

/** `/targets/{name}/check` → a regex with one group per `{…}` segment. */
function compile(path: string): { re: RegExp; names: string[] } {
  const names: string[] = [];
  const parts = path.split('/').map((seg) => {
    const m = /^\{(\w+)\}$/.exec(seg);
    if (!m) return seg.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
    names.push(m[1]!);
    return '([^/]+)';
  });
  return { re: new RegExp(`^${parts.join('/')}$`), names };
}

/** The chat a request is about: `?chat=`, else the token's chat, else the only chat served. */
function chatOf(token: ApiToken, query: URLSearchParams, chats: readonly number[]): number {
  const given = query.get('chat');
  if (given !== null) {
    if (!/^-?\d{1,20}$/.test(given)) throw problems.validation([`chat must be a chat id, got "${given.slice(0, 24)}"`], new Set(['chat']));
    const id = Number(given);
    if (!chats.includes(id)) throw problems.notFound(`chat ${id} is not served here`);
    if (!tokenSees(token, id)) throw problems.forbidden(`the token ${token.name} is limited to chat ${token.chatId}`);
    return id;
  }
  if (token.chatId !== undefined) {
    // A token may name a chat this deployment does not serve: it reaches nothing.
    if (!chats.includes(token.chatId)) throw problems.forbidden(`the token ${token.name} is limited to chat ${token.chatId}, which is not served here (ALLOWED_CHAT_IDS)`);
    return token.chatId;
  }
  if (chats.length === 1) return chats[0]!;
  throw problems.validation([`chat is missing: this token serves several chats, give ?chat=ID (one of ${chats.join(', ')})`], new Set(['chat']));
}

/** Creates the API's request handler over its routes; it answers only under /api/v1 (else returns false). */
export function createApi(deps: ApiDeps, routes: readonly ApiRoute[], publicRoutes: Readonly<Record<string, () => unknown>>): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const compiled = routes.map((r) => ({ route: r, ...compile(r.path) }));
  const limiter = createRateLimiter(deps.ratePerMinute, deps.clock.now);
  let changes = 0;
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://lookout');
    if (url.pathname !== PREFIX && !url.pathname.startsWith(`${PREFIX}/`)) return false;
    const path = url.pathname.slice(PREFIX.length) || '/';
    let label = 'unknown';
    const answer = (status: number): void => deps.count?.(status, label);
    try {
      const open = publicRoutes[path];
      if (open && (req.method === 'GET' || req.method === 'HEAD')) {
        label = path;
        sendJson(res, 200, open(), { 'cache-control': 'public, max-age=60' });
        answer(200);
        return true;
      }
      if (deps.tokens.length === 0) throw problems.notFound('the REST API is off: set API_TOKENS to turn it on');
      const token = authenticate(req.headers.authorization, deps.tokens);
      if (!token) throw problems.unauthorized();
      const wait = limiter.take(token.name);
      if (wait !== undefined) throw problems.tooMany(wait);
      const matching = compiled.map((c) => ({ c, m: c.re.exec(path) })).filter((x) => x.m !== null);
      if (matching.length === 0) throw problems.notFound(`no such resource: ${path.slice(0, 80)}`);
      const hit = matching.find((x) => x.c.route.method === req.method || (req.method === 'HEAD' && x.c.route.method === 'GET'));
      if (!hit) throw problems.methodNotAllowed([...new Set(matching.map((x) => x.c.route.method))]);
      const { route, names } = hit.c;
      label = `${route.method} ${route.path}`;
      if (route.scope === 'write' && token.scope !== 'write') throw problems.forbidden(`the token ${token.name} may only read`);
      // Of several instances the leader holds the incidents and tells the chat: it serves the API.
      const why = deps.unavailable?.();
      if (why) throw problems.unavailable(why);
      const params: Record<string, string> = {};
      names.forEach((n, i) => {
        let v: string;
        try {
          v = decodeURIComponent(hit.m![i + 1]!);
        } catch {
          throw problems.badRequest(`the path segment ${n} is not valid percent-encoding`);
        }
        params[n] = v;
      });
      const chatId = chatOf(token, url.searchParams, deps.chats);
      const result = await route.handle({
        token,
        chatId,
        params,
        query: url.searchParams,
        body: () => readJson(req),
        announce: (change) =>
          deps.tell({ kind: 'change', change: { ...change, by: token.name }, id: `api:${token.name}:${change.action}:${change.subject}:${deps.clock.now()}:${++changes}`, at: deps.clock.now(), chatId }),
      });
      if (route.scope === 'write') deps.logger?.info({ event: 'api_change', route: label, chat: chatId, by: token.name, status: result.status }, 'changed through the API');
      if (result.raw) {
        res.writeHead(result.status, { 'content-type': result.raw.type, 'content-length': Buffer.byteLength(result.raw.data), 'cache-control': 'no-store', ...result.headers });
        res.end(req.method === 'HEAD' ? undefined : result.raw.data);
      } else if (result.body === undefined) {
        res.writeHead(result.status, { 'cache-control': 'no-store', ...result.headers });
        res.end();
      } else sendJson(res, result.status, result.body, result.headers);
      answer(result.status);
      return true;
    } catch (err) {
      if (!(err instanceof ApiProblem)) throw err;
      // The rest of a refused body is not read: the connection is closed after the answer.
      if (!req.complete) res.setHeader('connection', 'close');
      sendProblem(res, err);
      answer(err.problem.status);
      return true;
    }
  };
}
