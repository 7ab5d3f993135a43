import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProblemSchema, Stats, TargetList, TargetView, WindowView, IncidentList, ChannelView } from '../../src/api/schemas.js';
import { GROUP, MEMBER, startAppRig, type AppRig } from '../support/app-rig.js';
import { textOf, type RecordedCall } from '../support/fake-telegram.js';
import { closedPort } from '../support/target-server.js';

// The REST API against the whole app: the real HTTP server, the fake Telegram chat (announcements,
// /export), the real catalog and store.

const GROUP2 = -1009876543210;
const WRITE = 'ci-deploy-0123456789abcdef';
const READ = 'grafana-0123456789abcdef';
const OTHER = 'other-chat-0123456789abc';

let rig: AppRig;
let port: number;

interface Answer {
  status: number;
  json: unknown;
  text: string;
  headers: Record<string, string | string[] | undefined>;
}

async function call(method: string, path: string, body?: unknown, token: string | null = WRITE, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await request(`http://127.0.0.1:${port}/api/v1${path}`, {
    method: method as 'GET',
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, json, text, headers: res.headers };
}

/** The chat message that contains `text`, sent after the API call. */
const announced = (text: string): Promise<RecordedCall> => rig.telegram.waitFor('sendMessage', (c) => c.payload.chat_id === GROUP && textOf(c).includes(text), 10_000);

beforeAll(async () => {
  port = await closedPort();
  rig = await startAppRig({
    HTTP_PORT: String(port),
    ALLOWED_CHAT_IDS: `${GROUP},${GROUP2}`,
    API_TOKENS: `ci-deploy:${WRITE}:write:${GROUP},grafana:${READ}:read,other:${OTHER}:write:${GROUP2}`,
    API_RATE_LIMIT: '600',
  }, undefined, { groupWindowMs: 100 });
  rig.telegram.setMember(GROUP2, MEMBER, 'member');
});
afterAll(async () => {
  await rig?.close();
});

describe('REST API: targets', () => {
  it('add, list, get, edit, check, pause, resume, remove: each told to the chat and seen by /export', async () => {
    const added = await call('POST', '/targets', { url: `${rig.server.url}/health`, name: 'api', every: '30s', expect: '200-299' });
    expect(added.status).toBe(201);
    expect(added.headers.location).toBe('/api/v1/targets/api');
    const view = TargetView.parse(added.json);
    expect(view).toMatchObject({ name: 'api', chat: GROUP, kind: 'http', address: `${rig.server.url}/health`, paused: false, managedBy: 'chat' });
    expect(textOf(await announced('added by token ci-deploy'))).toContain('➕ <b>api</b> added by token ci-deploy');

    const list = TargetList.parse((await call('GET', `/targets?chat=${GROUP}`, undefined, READ)).json);
    expect(list.targets.map((t) => t.name)).toEqual(['api']);

    const checked = await call('POST', '/targets/api/check');
    expect(checked.status).toBe(200);
    expect(checked.json).toMatchObject({ target: 'api', state: 'UP', ok: true });

    const edited = await call('PATCH', '/targets/api', { every: '1m', name: 'api2' });
    expect(edited.status).toBe(200);
    expect(TargetView.parse(edited.json)).toMatchObject({ name: 'api2', entry: expect.objectContaining({ every: '1m' }) });
    expect(textOf(await announced('edited by token'))).toContain('renamed from api');
    expect((await call('GET', '/targets/api')).status).toBe(404);

    // /export in the chat shows what the API made.
    rig.telegram.sendText({ chatId: GROUP, userId: MEMBER, text: '/export' });
    const exported = await rig.telegram.waitFor('sendDocument');
    const doc = JSON.parse(exported.files![0]!.content.toString('utf8')) as { targets: Array<{ name: string; every: string }> };
    expect(doc.targets).toContainEqual(expect.objectContaining({ name: 'api2', every: '1m' }));

    expect(TargetView.parse((await call('POST', '/targets/api2/pause')).json).state).toBe('PAUSED');
    await announced('⏸ <b>api2</b> paused by token ci-deploy');
    expect(TargetView.parse((await call('POST', '/targets/api2/resume')).json).paused).toBe(false);

    expect((await call('DELETE', '/targets/api2')).status).toBe(204);
    await announced('🗑 <b>api2</b> removed by token ci-deploy');
    expect((await call('GET', '/targets/api2')).status).toBe(404);
  });

  it('PUT is an idempotent upsert: created, then unchanged (no second announcement), then replaced', async () => {
    const body = { url: `${rig.server.url}/health`, every: '45s' };
    const first = await call('PUT', '/targets/web', body);
    expect(first.status).toBe(201);
    await announced('<b>web</b> added by token');
    const again = await call('PUT', '/targets/web', body);
    expect(again.status).toBe(200);
    const changed = await call('PUT', '/targets/web', { ...body, every: '2m' });
    expect(changed.status).toBe(200);
    expect(TargetView.parse(changed.json).entry.every).toBe('2m');
    await announced('<b>web</b> edited by token');
    const told = rig.telegram.callsOf('sendMessage').filter((c) => textOf(c).includes('<b>web</b> ') && textOf(c).includes('by token'));
    expect(told).toHaveLength(2);
    const named = await call('PUT', '/targets/web', { ...body, name: 'other' });
    expect(named.status).toBe(422);
    await call('DELETE', '/targets/web');
  });

  it('the chat\'s own words for a bad value, as 422 problem details with the field; nothing stored', async () => {
    const bad = await call('POST', '/targets', { url: `${rig.server.url}/`, every: '5s', timeout: 'soon', bogus: 1 });
    expect(bad.status).toBe(422);
    expect(bad.headers['content-type']).toContain('application/problem+json');
    const problem = ProblemSchema.parse(bad.json);
    expect(problem.type).toBe('/api/v1/problems#validation');
    expect(problem.errors).toContainEqual({ detail: expect.stringContaining('"bogus"') });
    const again = await call('POST', '/targets', { url: `${rig.server.url}/`, every: '5s', timeout: 'soon' });
    const errors = ProblemSchema.parse(again.json).errors!;
    // The same text /add answers with.
    expect(errors.find((e) => e.field === 'every')?.detail).toMatch(/^every must be/);
    expect(errors.find((e) => e.field === 'timeout')?.detail).toMatch(/^timeout/);
    const reply = textOf(await rig.say(`/add ${rig.server.url}/ every=5s`, 'every must be'));
    expect(reply).toContain(errors.find((e) => e.field === 'every')!.detail.replace(/"/g, '&quot;').slice(0, 30).replace(/&quot;/g, '"'));
    expect(TargetList.parse((await call('GET', '/targets')).json).targets).toHaveLength(0);

    const metadata = await call('POST', '/targets', { url: 'http://169.254.169.254/latest/meta-data/' });
    expect(metadata.status).toBe(422);
    expect(ProblemSchema.parse(metadata.json).errors?.[0]?.detail).toMatch(/metadata/i);
  });

  it('409 for a taken name, 404, 415, 413, 400, 405', async () => {
    expect((await call('POST', '/targets', { url: `${rig.server.url}/`, name: 'dup' })).status).toBe(201);
    const taken = await call('POST', '/targets', { url: `${rig.server.url}/x`, name: 'dup' });
    expect(taken.status).toBe(409);
    expect(ProblemSchema.parse(taken.json).detail).toContain('already exists');
    expect((await call('GET', '/targets/nope')).status).toBe(404);
    expect((await call('GET', '/nothing-here')).status).toBe(404);
    expect((await call('POST', '/targets', 'url=x', WRITE, { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await call('POST', '/targets', { note: 'x'.repeat(70_000) })).status).toBe(413);
    expect((await call('POST', '/targets', '{not json')).status).toBe(400);
    const wrong = await call('PATCH', '/targets');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET, POST');
    await call('DELETE', '/targets/dup');
  });
});

describe('REST API: what the review found', () => {
  it('a heartbeat: its ping URL shown once on create, renamed by PATCH name, no interval in the announcement', async () => {
    const made = await call('POST', '/targets', { kind: 'heartbeat', name: 'nightly', every: '1h' });
    expect(made.status, made.text).toBe(201);
    const body = made.json as { once?: string[]; entry: Record<string, unknown> };
    expect(body.once?.join('\n')).toMatch(new RegExp(`/ping/[A-Za-z0-9_-]{16,}`));
    expect(JSON.stringify(body.entry)).not.toMatch(/\/ping\/[A-Za-z0-9_-]{16,}/);
    const told = textOf(await announced('<b>nightly</b> added by token'));
    expect(told).not.toContain('every 10s');
    // As /edit in the chat: a heartbeat's name is its address, refused with the chat's words (not "nothing to change").
    const renamed = await call('PATCH', '/targets/nightly', { name: 'nightly2' });
    expect(renamed.status, renamed.text).toBe(422);
    expect(ProblemSchema.parse(renamed.json).detail).toContain("a heartbeat target's name");
    const edited = await call('PATCH', '/targets/nightly', { every: '2h' });
    expect(edited.status, edited.text).toBe(200);
    expect((edited.json as { once?: string[] }).once).toBeUndefined();
    expect((await call('DELETE', '/targets/nightly')).status).toBe(204);
  });

  it('PUT does not change a kind; a bad paused changes nothing; Bearer in any case', async () => {
    expect((await call('PUT', '/targets/kinded', { url: `${rig.server.url}/health` })).status).toBe(201);
    const other = await call('PUT', '/targets/kinded', { kind: 'tcp', host: '127.0.0.1:1' });
    expect(other.status).toBe(409);
    expect(ProblemSchema.parse(other.json).detail).toContain('cannot be changed');
    const bad = await call('PATCH', '/targets/kinded', { every: '2m', paused: 'yes' });
    expect(bad.status).toBe(422);
    expect(TargetView.parse((await call('GET', '/targets/kinded')).json).entry.every).not.toBe('2m');
    expect((await call('PUT', '/targets/kinded', { url: `${rig.server.url}/health`, paused: null })).status).toBe(422);
    const lower = await request(`http://127.0.0.1:${port}/api/v1/targets/kinded`, { headers: { authorization: `bearer ${WRITE}` } });
    expect(lower.statusCode).toBe(200);
    await lower.body.text();
    await call('DELETE', '/targets/kinded');
  });

  it('windows made in the same second by the chat and the API get different ids', async () => {
    await call('PUT', '/targets/idem', { url: `${rig.server.url}/health` });
    await rig.say('/maintenance idem now 1h', 'Maintenance window added');
    const api = WindowView.parse((await call('POST', '/windows', { target: 'idem', duration: '1h' })).json);
    const listed = (await call('GET', '/windows')).json as { windows: Array<{ id: string }> };
    expect(listed.windows).toHaveLength(2);
    expect(new Set(listed.windows.map((w) => w.id)).size).toBe(2);
    for (const w of listed.windows) await call('DELETE', `/windows/${w.id}`);
    expect(api.id).toBeDefined();
    expect((await call('POST', '/windows', { target: 'idem', kind: 'mute', duration: '1h', untilUp: true })).status).toBe(422);
    await call('DELETE', '/targets/idem');
  });
});

describe('REST API: tokens', () => {
  it('401 without or with a wrong token (counted), 403 to write with a read token or to another chat', async () => {
    const none = await call('GET', '/targets', undefined, null);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    expect((await call('GET', '/targets', undefined, 'wrong-token-0123456789')).status).toBe(401);
    expect((await call('POST', '/targets', { url: `${rig.server.url}/` }, READ)).status).toBe(403);
    expect((await call('GET', `/targets?chat=${GROUP2}`, undefined, WRITE)).status).toBe(403);
    // A token of another chat sees only its own.
    expect((await call('GET', '/targets', undefined, OTHER)).json).toEqual({ targets: [] });
    // A `*` read token over two chats must say which.
    const which = await call('GET', '/targets', undefined, READ);
    expect(which.status).toBe(422);
    expect(ProblemSchema.parse(which.json).errors?.[0]).toMatchObject({ field: 'chat' });
    const metrics = await request(`http://127.0.0.1:${port}/metrics?name=lookout_api_unauthorized_total`);
    expect(await metrics.body.text()).toMatch(/lookout_api_unauthorized_total [1-9]/);
    expect(rig.logs.join('\n')).not.toContain(WRITE);
    expect(rig.logs.join('\n')).not.toContain('wrong-token-0123456789');
  });
});

describe('REST API: windows, channels, incidents, stats, chart', () => {
  it('a maintenance window and a mute, as /maintenance and /mute take them', async () => {
    expect((await call('PUT', '/targets/db', { url: `${rig.server.url}/health` })).status).toBe(201);
    const w = await call('POST', '/windows', { target: 'db', start: 'now', duration: '2h', reason: 'upgrade' });
    expect(w.status).toBe(201);
    const view = WindowView.parse(w.json);
    expect(view).toMatchObject({ kind: 'maintenance', target: 'db', durationSeconds: 7_200, active: true, reason: 'upgrade' });
    await announced('window added by token ci-deploy');
    const bad = await call('POST', '/windows', { target: 'db', start: 'now', duration: '90d' });
    expect(bad.status).toBe(422);
    const mute = await call('POST', '/windows', { target: 'all', kind: 'mute', duration: '30m' });
    expect(mute.status).toBe(201);
    expect(((await call('GET', '/windows')).json as { windows: unknown[] }).windows).toHaveLength(2);
    expect((await call('DELETE', `/windows/${view.id}`)).status).toBe(204);
    expect((await call('DELETE', `/windows/${view.id}`)).status).toBe(404);
    expect((await call('DELETE', `/windows/${WindowView.parse(mute.json).id}`)).status).toBe(204);
  });

  it('a webhook destination: added as /notify add would, listed without its secret, removed', async () => {
    const added = await call('POST', '/channels', { kind: 'webhook', name: 'hooks', address: `${rig.server.url}/hook`, events: ['down', 'up'] });
    expect(added.status, added.text).toBe(201);
    expect(ChannelView.parse(added.json)).toMatchObject({ name: 'hooks', kind: 'webhook', events: ['down', 'up'] });
    expect((await call('POST', '/channels', { kind: 'webhook', name: 'hooks', address: `${rig.server.url}/hook` })).status).toBe(409);
    expect((await call('POST', '/channels', { kind: 'carrier-pigeon', name: 'p', address: 'x' })).status).toBe(422);
    expect((await call('DELETE', '/channels/hooks')).status).toBe(204);
  });

  it('incidents open and acknowledged through the API; stats and the chart', async () => {
    rig.server.setStatus(500);
    await call('PUT', '/targets/flaky', { url: `${rig.server.url}/health`, confirm: 1 });
    expect((await call('POST', '/targets/flaky/check')).json).toMatchObject({ state: 'DOWN', ok: false, status: 500 });
    const alert = await rig.telegram.waitFor('sendMessage', (c) => textOf(c).includes('flaky') && textOf(c).includes('DOWN'), 30_000);
    expect(alert).toBeDefined();
    const list = IncidentList.parse((await call('GET', '/incidents')).json);
    const open = list.open.find((i) => i.target === 'flaky');
    expect(open).toBeDefined();
    const ack = await call('POST', `/incidents/${encodeURIComponent(open!.id)}/ack`);
    expect(ack.json).toEqual({ incident: open!.id, outcome: 'acknowledged' });
    expect((await call('POST', `/incidents/${encodeURIComponent(open!.id)}/ack`)).json).toMatchObject({ outcome: 'already' });
    expect((await call('POST', '/incidents/nope/ack')).status).toBe(404);
    rig.server.setStatus(200);

    const stats = await call('GET', '/targets/flaky/stats?period=24h');
    expect(stats.status).toBe(200);
    const s = Stats.parse(stats.json);
    expect(s.period).toBe('24h');
    expect(s.checks).toBeGreaterThanOrEqual(1);
    expect((await call('GET', '/targets/flaky/stats?period=1y')).status).toBe(422);
    const svg = await call('GET', '/targets/flaky/chart.svg');
    expect(svg.headers['content-type']).toBe('image/svg+xml');
    expect(svg.text).toMatch(/^<svg /);
    const png = await request(`http://127.0.0.1:${port}/api/v1/targets/flaky/chart.png`, { headers: { authorization: `Bearer ${READ}` }, query: { chat: GROUP } });
    expect(png.headers['content-type']).toBe('image/png');
    expect((await png.body.arrayBuffer()).byteLength).toBeGreaterThan(1_000);
  });
});
