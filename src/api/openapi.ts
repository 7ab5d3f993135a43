import { z } from 'zod';
import type { ApiRoute } from './api.js';
import {
  AckOutcome,
  ChannelInput,
  ChannelList,
  ChannelView,
  CheckOutcome,
  IncidentList,
  ProblemSchema,
  Stats,
  TargetInput,
  TargetList,
  TargetView,
  WindowInput,
  WindowList,
  WindowView,
} from './schemas.js';

// The OpenAPI 3.1 document of /api/v1, generated from the routes and the zod schemas the handlers read
// and answer with (z.toJSONSchema); test/api/openapi.test.ts holds real answers to the same schemas.

/** What each route reads and answers, by `METHOD /path`. */
export const ROUTE_SCHEMAS: Readonly<Record<string, { request?: z.ZodType; response?: z.ZodType; status: number; media?: string }>> = {
  'GET /targets': { response: TargetList, status: 200 },
  'POST /targets': { request: TargetInput, response: TargetView, status: 201 },
  'GET /targets/{name}': { response: TargetView, status: 200 },
  'PUT /targets/{name}': { request: TargetInput, response: TargetView, status: 200 },
  'PATCH /targets/{name}': { request: TargetInput, response: TargetView, status: 200 },
  'DELETE /targets/{name}': { status: 204 },
  'POST /targets/{name}/check': { response: CheckOutcome, status: 200 },
  'POST /targets/{name}/pause': { response: TargetView, status: 200 },
  'POST /targets/{name}/resume': { response: TargetView, status: 200 },
  'GET /targets/{name}/stats': { response: Stats, status: 200 },
  'GET /targets/{name}/chart.svg': { status: 200, media: 'image/svg+xml' },
  'GET /targets/{name}/chart.png': { status: 200, media: 'image/png' },
  'GET /windows': { response: WindowList, status: 200 },
  'POST /windows': { request: WindowInput, response: WindowView, status: 201 },
  'DELETE /windows/{id}': { status: 204 },
  'GET /channels': { response: ChannelList, status: 200 },
  'POST /channels': { request: ChannelInput, response: ChannelView, status: 201 },
  'DELETE /channels/{name}': { status: 204 },
  'GET /incidents': { response: IncidentList, status: 200 },
  'POST /incidents/{id}/ack': { response: AckOutcome, status: 200 },
};

/** The problem types the API answers with, for `GET /api/v1/problems` (where each `type` points). */
export const PROBLEM_TYPES: Readonly<Record<string, string>> = {
  'bad-request': 'the body is not JSON, or a path segment is not valid',
  unauthorized: 'no bearer token, or one that is not in API_TOKENS (counted in lookout_api_unauthorized_total)',
  forbidden: 'the token may only read, or is limited to another chat',
  'not-found': 'no such target, window, destination, incident or route (or the API is off)',
  'method-not-allowed': 'the resource does not take this method (see allow)',
  conflict: 'the name is taken, the chat is full, or the object is managed by TARGETS_FILE',
  'too-large': 'the body is larger than 64 KiB',
  'unsupported-media-type': 'the body is not application/json (or application/merge-patch+json)',
  validation: 'the body was read and refused: errors[] lists each problem, with its field when it is about one',
  'rate-limited': "the token's rate limit (API_RATE_LIMIT per minute) is reached; retry-after says when to try again",
  unavailable: 'this instance does not serve the API now (it does not lead); retry-after says when to try again',
};

const PARAMS: Readonly<Record<string, string>> = { name: 'a target or destination name', id: 'a window or incident id' };

/** The OpenAPI 3.1 document of the routes. */
export function openApiDocument(routes: readonly ApiRoute[], version: string): Record<string, unknown> {
  // Every schema with an id (`.meta({ id })`) in one pass, so that nested ones are references too.
  const all = z.toJSONSchema(z.globalRegistry, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` }) as { schemas: Record<string, Record<string, unknown>> };
  const schemas: Record<string, unknown> = {};
  for (const [id, json] of Object.entries(all.schemas)) {
    const { $schema: _drop, id: _id, $id: _ref, ...rest } = json;
    schemas[id] = rest;
  }
  const ref = (schema: z.ZodType): Record<string, unknown> => {
    const id = z.globalRegistry.get(schema)?.id;
    if (id === undefined) throw new Error('every schema of the API has an id (.meta({ id }))');
    return { $ref: `#/components/schemas/${id}` };
  };
  const problem = { description: 'a problem (RFC 9457)', content: { 'application/problem+json': { schema: ref(ProblemSchema) } } };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const key = `${route.method} ${route.path}`;
    const s = ROUTE_SCHEMAS[key];
    if (!s) throw new Error(`no schemas for ${key}`);
    const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
    const parameters = [
      ...names.map((n) => ({ name: n, in: 'path', required: true, description: PARAMS[n] ?? n, schema: { type: 'string' } })),
      { name: 'chat', in: 'query', required: false, description: 'the chat (needed when the token and the deployment serve several)', schema: { type: 'integer' } },
      ...(route.path.endsWith('/stats') || route.path.includes('/chart.') ? [{ name: 'period', in: 'query', required: false, schema: { type: 'string', enum: ['24h', '7d', '30d'] } }] : []),
      ...(route.path === '/incidents' ? [{ name: 'days', in: 'query', required: false, description: 'resolved in the last N days (1-90, default 7)', schema: { type: 'integer', minimum: 1, maximum: 90 } }] : []),
    ];
    const ok = s.response
      ? { description: 'OK', content: { 'application/json': { schema: ref(s.response) } } }
      : s.media
        ? { description: 'OK', content: { [s.media]: { schema: { type: 'string', ...(s.media === 'image/png' ? { contentEncoding: 'binary' } : {}) } } } }
        : { description: 'done (no body)' };
    const operation: Record<string, unknown> = {
      summary: route.summary,
      operationId: `${route.method.toLowerCase()}${route.path.replace(/\{(\w+)\}/g, 'By-$1').replace(/[^a-zA-Z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      security: [{ bearer: [] }],
      'x-scope': route.scope,
      parameters,
      ...(s.request
        ? { requestBody: { required: true, content: { 'application/json': { schema: ref(s.request) }, ...(route.method === 'PATCH' ? { 'application/merge-patch+json': { schema: ref(s.request) } } : {}) } } }
        : {}),
      responses: {
        [String(s.status)]: ok,
        ...(route.method === 'PUT' ? { '201': { description: 'created', content: { 'application/json': { schema: ref(TargetView) } } } } : {}),
        ...(s.request ? { '400': problem, '413': problem, '415': problem } : {}),
        '401': problem,
        '403': problem,
        '404': problem,
        '405': problem,
        ...(route.scope === 'write' ? { '409': problem } : {}),
        '422': problem,
        '429': problem,
        '503': problem,
      },
    };
    const path = `/api/v1${route.path}`;
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Lookout REST API', version, description: 'Manage targets, windows, destinations and incidents with the same rules as the chat. Bearer tokens from API_TOKENS.' },
    servers: [{ url: '/' }],
    paths,
    components: { schemas, securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a token of API_TOKENS' } } },
  };
}
