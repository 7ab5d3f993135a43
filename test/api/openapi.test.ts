import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_SCHEMAS } from '../../src/api/openapi.js';
import { startAppRig, type AppRig } from '../support/app-rig.js';
import { closedPort } from '../support/target-server.js';

const TOKEN = 'script-0123456789abcdef';
let rig: AppRig;
let port: number;

beforeAll(async () => {
  port = await closedPort();
  rig = await startAppRig({ HTTP_PORT: String(port), API_TOKENS: `script:${TOKEN}:write`, API_RATE_LIMIT: '3' });
});
afterAll(async () => {
  await rig?.close();
});

const get = async (path: string, token?: string) => {
  const res = await request(`http://127.0.0.1:${port}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
};

/** Every `$ref` in a JSON value. */
function refsOf(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsOf(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsOf(v, out);
    }
  }
  return out;
}

describe('OpenAPI document', () => {
  it('is public, OpenAPI 3.1, lists every route with the schemas the handlers use, and every $ref resolves', async () => {
    const res = await get('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = JSON.parse(res.text) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe('3.1.0');
    const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path.replace('/api/v1', '')}`));
    expect(operations.sort()).toEqual(Object.keys(ROUTE_SCHEMAS).sort());
    for (const ref of refsOf(doc)) expect(doc.components.schemas[ref.replace('#/components/schemas/', '')], ref).toBeDefined();
    // The target body is the targets-document entry: its keys are the /add options.
    const input = doc.components.schemas.TargetInput as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(Object.keys(input.properties)).toEqual(expect.arrayContaining(['url', 'every', 'timeout', 'expect', 'name', 'kind', 'host']));
    expect(input.additionalProperties).toBe(false);
    expect(Object.keys(doc.paths['/api/v1/targets']!.post!.responses)).toEqual(expect.arrayContaining(['201', '401', '409', '413', '415', '422', '429']));
    const problems = await get('/api/v1/problems');
    expect(JSON.parse(problems.text)).toHaveProperty('validation');
  });

  it('a token past its rate limit gets 429 with retry-after', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await get('/api/v1/targets', TOKEN)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await get('/api/v1/targets', TOKEN);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(limited.text)).toMatchObject({ status: 429, type: '/api/v1/problems#rate-limited' });
  });
});
