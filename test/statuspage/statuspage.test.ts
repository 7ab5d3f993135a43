import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, GROUP, MEMBER, startAppRig, type AppRig } from '../support/app-rig.js';
import { textOf } from '../support/fake-telegram.js';
import { closedPort } from '../support/target-server.js';

// /statuspage in the chat, /status/<slug> and /badge/… on the real HTTP server of the whole app.

const GROUP2 = -1009876543210;
let rig: AppRig;
let port: number;

const get = async (path: string, headers: Record<string, string> = {}) => {
  const res = await request(`http://127.0.0.1:${port}${path}`, { headers });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
};

beforeAll(async () => {
  port = await closedPort();
  rig = await startAppRig({ HTTP_PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ALLOWED_CHAT_IDS: `${GROUP},${GROUP2}` });
  await rig.say(`/add ${rig.server.url}/health name=api`, 'Added');
  await rig.say(`/add ${rig.server.url}/secret-internal-path name=db`, 'Added');
  await rig.telegram.waitForCount('editMessageText', 2);
});
afterAll(async () => {
  await rig?.close();
});

describe('/statuspage', () => {
  it('only admins publish; bad options and unknown targets are refused with nothing stored', async () => {
    expect(textOf(await rig.say('/statuspage', 'no public status page'))).toContain('/statuspage on');
    expect(textOf(await rig.say('/statuspage on', 'Only chat administrators', MEMBER))).toContain('publish the status page');
    expect(textOf(await rig.say('/statuspage on targets=api,nope', 'no target named'))).toContain('&quot;nope&quot;');
    expect(textOf(await rig.say('/statuspage on colour=red', 'unknown option'))).toContain('&quot;colour&quot;');
    expect((await get('/status/acme')).status).toBe(404);
  });

  it('publishes the chosen targets with their state, addresses hidden; ETag answers 304; off removes it', async () => {
    const reply = textOf(await rig.say('/statuspage on title="Acme <APIs>" targets=api slug=acme', 'Status page'));
    expect(reply).toContain(`http://127.0.0.1:${port}/status/acme`);
    expect(reply).toContain('Acme &lt;APIs&gt;');
    const page = await get('/status/acme');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(String(page.headers['content-security-policy'])).toContain("default-src 'none'");
    expect(page.text).toContain('Acme &lt;APIs&gt;');
    expect(page.text).toContain('api');
    expect(page.text).not.toMatch(/\bdb\b/);
    expect(page.text).not.toContain(rig.server.url);
    expect(page.text).not.toContain('secret-internal-path');
    expect(page.text).toMatch(/operational|up/i);
    const etag = String(page.headers.etag);
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await get('/status/acme', { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.text).toBe('');
    expect(String(again.headers['cache-control'])).toContain('max-age=');

    const badge = await get('/badge/acme/api.svg');
    expect(badge.status).toBe(200);
    expect(badge.headers['content-type']).toContain('image/svg+xml');
    expect(badge.text).toContain('up');
    const uptime = await get('/badge/acme/api.svg?type=uptime&period=30d');
    expect(uptime.text).toMatch(/%|no data/);
    expect((await get('/badge/acme/db.svg')).status).toBe(404);
    expect((await get('/badge/acme/api.svg?type=weird')).status).toBe(400);
    const metrics = await get('/metrics?name=lookout_status_page_requests_total');
    expect(metrics.text).toContain('result="not_modified"');

    // show-urls: the addresses appear.
    await rig.say('/statuspage on title=Acme targets=api,db slug=acme show-urls', 'Status page');
    // The page is served from a 5 s cache; a new ETag comes with the next render.
    await expect.poll(async () => (await get('/status/acme')).text, { timeout: 15_000, interval: 500 }).toContain(`${rig.server.url}/secret-internal-path`);

    expect(textOf(await rig.say('/statuspage off', 'is gone'))).toContain('/status/acme');
    await expect.poll(async () => (await get('/status/acme')).status, { timeout: 15_000, interval: 500 }).toBe(404);
  });

  it('a slug taken by another chat is refused', async () => {
    await rig.say('/statuspage on slug=taken-here', 'Status page');
    rig.telegram.setMember(GROUP2, ADMIN, 'administrator');
    expect(textOf(await rig.say('/statuspage on slug=taken-here', 'is taken', ADMIN, GROUP2))).toContain('choose another with slug=');
    expect((await get('/status/taken-here')).status).toBe(200);
    await rig.say('/statuspage off', 'is gone');
  });
});
