import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, GROUP, startAppRig, type AppRig } from '../support/app-rig.js';
import { DNS_RECORDS, dnsmasqTestsEnabled, startDnsmasq, type Dnsmasq } from '../support/dnsmasq.js';
import { textOf, type RecordedCall } from '../support/fake-telegram.js';
import { closedPort } from '../support/target-server.js';

// The four new kinds end to end, from the chat: /add (arguments), the first check, /status, /list,
// /check, /edit, alerts and resolutions, /export and /import, against real local peers (the real ping
// to 127.0.0.1, dnsmasq on 127.0.0.1, Lookout's own HTTP server for heartbeats, a local HTTP target).

const dnsEnabled = dnsmasqTestsEnabled(process.env);

let rig: AppRig;
let dns: Dnsmasq | undefined;
let port: number;
let pub: string;

/** One HTTP request to Lookout's own server. */
function call(method: string, path: string, body = ''): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The text of the /add reply once its first check is in (the reply is edited). */
async function added(command: string, name: string): Promise<string> {
  const before = rig.telegram.calls.length;
  await rig.say(command, `Added <b>${name}</b>`);
  const edit = await rig.telegram.waitFor(
    'editMessageText',
    (c) => rig.telegram.calls.indexOf(c) >= before && String(c.payload.text).includes(`Added <b>${name}</b>`),
    15_000,
  );
  return textOf(edit);
}

/** The first message sent or edited that matches, within 15 s (an alert may join a message already open). */
async function message(match: (c: RecordedCall) => boolean): Promise<RecordedCall> {
  for (const end = Date.now() + 15_000; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    const found = rig.telegram.calls.find((c) => (c.method === 'sendMessage' || c.method === 'editMessageText') && match(c));
    if (found) return found;
  }
  throw new Error('no such message within 15 s');
}

const alertAbout = (name: string, word: string, after: number) => (c: RecordedCall) =>
  rig.telegram.calls.indexOf(c) >= after && c.payload.chat_id === GROUP && String(c.payload.text).includes(name) && String(c.payload.text).includes(word);

beforeAll(async () => {
  port = await closedPort();
  pub = `http://127.0.0.1:${port}`;
  if (dnsEnabled) dns = await startDnsmasq();
  rig = await startAppRig({ HTTP_PORT: String(port), PUBLIC_URL: pub });
  await rig.app.chatReady;
}, 30_000);

afterAll(async () => {
  if (process.env.DEBUG_CALLS) for (const c of rig.telegram.calls) if (c.method !== 'getUpdates') console.log(c.method, JSON.stringify(c.payload).slice(0, 400));
  await rig?.close();
  await dns?.stop();
});

describe('ping', () => {
  it('adds a ping target to 127.0.0.1, checks it UP with the real ping, and shows it in /status and /list', async () => {
    const text = await added('/add ping 127.0.0.1 name=lo count=2', 'lo');
    expect(text).toContain('ping 127.0.0.1');
    expect(text).toContain('ping 2 echoes, DOWN at 100% loss');
    expect(text).toMatch(/First check: 🟢 2 of 2 replies in \d+ ms/);
    expect(textOf(await rig.say('/status lo', 'lo</b> is UP'))).toContain('ping 127.0.0.1');
    expect(textOf(await rig.say('/list', 'Targets'))).toContain('<b>lo</b>');
  });

  it('refuses a bad host, count and loss with their own words, and adds nothing', async () => {
    const reply = textOf(await rig.say('/add ping bad_host! count=0 loss=0%', '⚠️'));
    expect(reply).toContain('ping target must be a host name or an IP address');
    expect(reply).toContain('count must be a whole number between 1 and 20, got &quot;0&quot;');
    expect(reply).toContain('loss must be a packet loss from 1% to 100%');
    expect(reply).not.toContain('Added');
  });

  it('refuses a metadata address', async () => {
    expect(textOf(await rig.say('/add ping 169.254.169.254', '⚠️'))).toContain('metadata');
  });
});

describe.skipIf(!dnsEnabled)('dns', () => {
  it('resolves against dnsmasq, then fails in words when the expected answer changes', async () => {
    const server = `${dns!.server.host}:${dns!.server.port}`;
    const text = await added(`/add dns ${DNS_RECORDS.host} server=${server} expect=${DNS_RECORDS.hostV4} name=zone`, 'zone');
    expect(text).toContain(`dns A ${DNS_RECORDS.host} @${server}`);
    expect(text).toContain(`First check: 🟢 answer ${DNS_RECORDS.hostV4} in`);
    await rig.say('/edit zone expect=192.0.2.9', 'Updated <b>zone</b>');
    const checked = textOf(await rig.say('/check zone', 'zone</b>'));
    expect(checked).toContain(`answer ${DNS_RECORDS.hostV4} is not the expected 192.0.2.9`);
    const mx = await added(`/add dns ${DNS_RECORDS.apex} type=mx server=${server} expect="10 mail.lookout.test" name=mail`, 'mail');
    expect(mx).toMatch(/First check: 🟢/);
    const nx = await added(`/add dns ${DNS_RECORDS.missing} server=${server} name=gone`, 'gone');
    expect(nx).toContain('NXDOMAIN');
  });

  it('refuses an expected value that does not fit the type, whichever comes first', async () => {
    const reply = textOf(await rig.say(`/add dns ${DNS_RECORDS.host} expect=mail.example.com type=AAAA`, '⚠️'));
    expect(reply).toContain('expect for AAAA must be');
    expect(textOf(await rig.say('/add dns example.com type=SRV', '⚠️'))).toContain('type must be one of A, AAAA, CNAME, MX, TXT, NS, got &quot;SRV&quot;');
  });
});

describe('JSON assertions', () => {
  it('checks the body of an http target and reports a failing assertion as the DOWN reason', async () => {
    rig.server.setBody(JSON.stringify({ status: 'degraded', items: [1, 2] }));
    rig.server.setHeaders({ 'content-type': 'application/json' });
    const text = await added(`/add ${rig.server.url}health name=api assert='$.items.length >= 1' assert='$.status == "ok"'`, 'api');
    expect(text).toContain('First check: ⚪');
    expect(text).toContain('$.status is &quot;degraded&quot;, expected &quot;ok&quot;');
    rig.server.setBody(JSON.stringify({ status: 'ok', items: [1] }));
    expect(textOf(await rig.say('/check api', 'api</b>'))).not.toContain('failed');
    expect(textOf(await rig.say('/status api', 'api</b> is'))).toContain('Assert: $.status == &quot;ok&quot;');
  });

  it('refuses an assertion that is not one, without evaluating anything', async () => {
    const reply = textOf(await rig.say(`/add ${rig.server.url} assert='process.exit(1)'`, '⚠️'));
    expect(reply).toContain('assert');
    expect(reply).not.toContain('Added');
  });
});

describe('heartbeat', () => {
  let token = '';

  it('answers /add with the secret URL and takes pings on the HTTP server', async () => {
    const text = await added('/add heartbeat backup every=1h grace=10m', 'backup');
    const m = new RegExp(`${pub.replace(/[.:/]/g, '\\$&')}/ping/([A-Za-z0-9_-]{16,64})`).exec(text);
    expect(m).not.toBeNull();
    token = m![1]!;
    expect(text).toContain('push: a ping every 1h, grace 10m');
    expect(text).toContain('curl -fsS');
    expect((await call('GET', `/ping/${token}`)).status).toBe(200);
    expect((await call('POST', `/ping/${token}/start`)).status).toBe(200);
  });

  it('answers 404 to a wrong token (that it counts nothing is heartbeat.test.ts)', async () => {
    expect((await call('GET', `/ping/${'x'.repeat(22)}`)).status).toBe(404);
    expect((await call('GET', `/ping/${token.slice(0, -1)}${token.endsWith('Z') ? 'Y' : 'Z'}/fail`)).status).toBe(404);
    expect(rig.app.engine.state(`${GROUP}/backup`)?.state).not.toBe('DOWN');
  });

  it('a reported failure alerts at once; the next ping resolves it', async () => {
    const before = rig.telegram.calls.length;
    expect((await call('POST', `/ping/${token}/fail`, 'disk full')).status).toBe(200);
    const alert = await message(alertAbout('backup', 'reported a failure', before));
    expect(textOf(alert)).toContain('the job reported a failure');
    expect(textOf(alert)).toContain('disk full');
    expect(textOf(alert)).not.toContain(token);
    const later = rig.telegram.calls.length;
    expect((await call('GET', `/ping/${token}`)).status).toBe(200);
    await message((c) => rig.telegram.calls.indexOf(c) >= later && String(c.payload.text).includes('backup') && /UP again|resolved/.test(String(c.payload.text)));
  });

  it('/status masks the URL; the token never reaches the logs', async () => {
    const status = textOf(await rig.say('/status backup', 'backup</b> is'));
    expect(status).toContain(`…/ping/${token.slice(0, 2)}••••`);
    expect(status).not.toContain(token);
    expect(rig.logs.some((l) => l.includes(token))).toBe(false);
  });

  it('/export masks the token, /import of that file keeps it, and /edit token=new makes a new URL', async () => {
    rig.telegram.sendText({ chatId: GROUP, userId: ADMIN, text: '/export', username: 'admin' });
    const exported = await rig.telegram.waitFor('sendDocument');
    const doc = exported.files?.[0]?.content.toString('utf8') ?? '';
    expect(doc).toContain('"kind": "heartbeat"');
    expect(doc).toContain('"kind": "ping"');
    expect(doc).not.toContain(token);
    rig.telegram.sendDocument({ chatId: GROUP, userId: ADMIN, fileName: 'again.json', content: doc, caption: '/import' });
    await rig.telegram.waitFor('sendMessage', (c) => String(c.payload.text).includes('again.json') || String(c.payload.text).includes('Imported'), 10_000);
    expect((await call('GET', `/ping/${token}`)).status).toBe(200);
    const edited = textOf(await rig.say('/edit backup token=new', 'Updated <b>backup</b>'));
    expect(edited).not.toContain(token);
    // The new URL is shown once, in the reply, and works; the old one is gone.
    const fresh = new RegExp(`/ping/([A-Za-z0-9_-]{16,64})`).exec(edited)?.[1];
    expect(fresh).toBeDefined();
    expect((await call('GET', `/ping/${token}`)).status).toBe(404);
    expect((await call('GET', `/ping/${fresh!}`)).status).toBe(200);
    // An edit that keeps the token does not show it again.
    expect(textOf(await rig.say('/edit backup grace=20m', 'Updated <b>backup</b>'))).not.toContain(fresh!);
  });

  it('a heartbeat added by /import shows its new URL in the reply', async () => {
    const doc = JSON.stringify({ version: 1, targets: [{ kind: 'heartbeat', name: 'nightly', every: '1d' }] });
    rig.telegram.sendDocument({ chatId: GROUP, userId: ADMIN, fileName: 'new.json', content: doc, caption: '/import' });
    const reply = await message((c) => String(c.payload.text).includes('new.json'));
    expect(textOf(reply)).toMatch(new RegExp(`nightly: Ping URL \\(keep it secret\\): ${pub.replace(/[.:/]/g, '\\$&')}/ping/[A-Za-z0-9_-]{16,64}`));
  });
});

describe('every new kind in /list, /history, /report, /api/status and the guided /add', () => {
  it('lists and reports them, and /api/status shows their address without the heartbeat token', async () => {
    const list = textOf(await rig.say('/list', 'Targets'));
    for (const name of ['lo', 'api', 'backup']) expect(list).toContain(`<b>${name}</b>`);
    expect(list).toContain('last ping');
    expect(textOf(await rig.say('/report', 'backup'))).toContain('lo');
    const before = rig.telegram.calls.length;
    rig.telegram.sendText({ chatId: GROUP, userId: ADMIN, text: '/history backup', username: 'admin' });
    await rig.telegram.waitFor('sendPhoto', (c) => rig.telegram.calls.indexOf(c) >= before, 10_000);
    const status = await call('GET', '/api/status');
    expect(status.status).toBe(200);
    const targets = (JSON.parse(status.text) as { targets: Array<{ name: string; kind: string; address: string }> }).targets;
    expect(targets.find((t) => t.name === 'lo')).toMatchObject({ kind: 'ping', address: 'ping 127.0.0.1' });
    expect(targets.find((t) => t.name === 'backup')?.address).toMatch(/^heartbeat …\/ping\/..••••$/);
  });

  it('the guided /add asks for a ping address, then offers the ping options', async () => {
    await rig.say('/add', 'Which address should I check?');
    const options = textOf(await rig.say('ping 127.0.0.2', 'Options?'));
    expect(options).toContain('count=5 loss=20%');
    const done = await rig.say('name=lo2 count=1', 'Added <b>lo2</b>');
    expect(textOf(done)).toContain('ping 127.0.0.2');
  });
});

describe('a heartbeat with the HTTP server off', () => {
  it('is added with a warning that nothing can reach its URL', async () => {
    const off = await startAppRig({ HTTP_PORT: '0' });
    try {
      await off.app.chatReady;
      const reply = textOf(await off.say('/add heartbeat job every=1h', 'Added <b>job</b>'));
      expect(reply).toContain('HTTP_PORT=0');
    } finally {
      await off.close();
    }
  });
});
