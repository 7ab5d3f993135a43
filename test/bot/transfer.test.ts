import { afterEach, describe, expect, it } from 'vitest';
import { createTargetRepository } from '../../src/store/targets.js';
import { ADMIN, GROUP, MEMBER, startAppRig, type AppRig } from '../support/app-rig.js';
import { textOf, type RecordedCall } from '../support/fake-telegram.js';

let rig: AppRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const GROUP2 = -1009876543210;
const SECRET = 'Bearer sk_live_transfer_123';

/** The JSON document a sendDocument call uploaded. */
function uploaded(call: RecordedCall): { text: string; doc: Record<string, unknown> } {
  const text = call.files![0]!.content.toString('utf8');
  return { text, doc: JSON.parse(text) as Record<string, unknown> };
}

async function start(): Promise<AppRig> {
  const r = await startAppRig({ ALLOWED_CHAT_IDS: `${GROUP},${GROUP2}`, ADMIN_USER_IDS: String(ADMIN) });
  r.telegram.setMember(GROUP2, ADMIN, 'administrator');
  r.telegram.setMember(GROUP2, MEMBER, 'member');
  return r;
}

/** Sends `content` as a document with `caption` and waits for the reply that contains `expect`. */
async function sendFile(r: AppRig, chatId: number, fileName: string, content: string, expect: string, userId = ADMIN): Promise<string> {
  const before = r.telegram.calls.length;
  r.telegram.sendDocument({ chatId, userId, fileName, content, caption: '/import' });
  const reply = await r.telegram.waitFor('sendMessage', (c) => r.telegram.calls.indexOf(c) >= before && c.payload.chat_id === chatId && textOf(c).includes(expect));
  return textOf(reply);
}

const storedOf = async (r: AppRig, chatId: number): Promise<string> =>
  JSON.stringify((await createTargetRepository(r.app.store).listByChat(chatId)).map((t) => ({ ...t, updatedAt: 0 })));

describe('/export and /import', () => {
  it('round trip: export masks secrets, import into the same chat changes what differs and keeps the stored secrets', async () => {
    rig = await start();
    await rig.say(`/add ${rig.server.url}/health name=api header="Authorization: ${SECRET}" sla=99.9`, 'Added');
    await rig.say(`/add tcp 127.0.0.1:${rig.server.port} name=db every=30s`, 'Added');
    await rig.say('/maintenance db cron="0 2 * * SUN" 1h weekly', 'Maintenance window added');

    rig.telegram.sendText({ chatId: GROUP, userId: MEMBER, text: '/export' });
    const exported = await rig.telegram.waitFor('sendDocument');
    expect(String(exported.payload.caption)).toContain('2 targets and 1 window; secrets masked');
    expect(exported.files?.[0]?.filename).toMatch(new RegExp(`^lookout-${GROUP}-\\d{4}-\\d{2}-\\d{2}\\.json$`));
    const { text, doc } = uploaded(exported);
    expect(text).not.toContain('sk_live');
    expect(doc).toMatchObject({ version: 1, chat: GROUP, windows: [{ target: 'db', cron: '0 2 * * SUN', duration: '1h', reason: 'weekly' }] });
    expect((doc.targets as Array<Record<string, unknown>>)[0]).toMatchObject({ name: 'api', headers: { Authorization: '••••' }, sla: 99.9 });

    await rig.say('/edit db every=2m', 'Updated');
    const before = rig.app.engine.state(`${GROUP}/db`);
    const reply = await sendFile(rig, GROUP, 'lookout.json', text, 'Imported');
    expect(reply).toContain('added none');
    expect(reply).toContain('changed <b>db</b>');
    expect(reply).toContain('left alone <b>api</b>');
    expect(reply).toContain('windows: 0 added, 1 already there');
    expect(rig.app.engine.target(`${GROUP}/db`)?.everyMs).toBe(30_000);
    expect(rig.app.engine.state(`${GROUP}/db`)?.checks).toBe(before?.checks);
    const api = rig.app.engine.target(`${GROUP}/api`);
    expect(api?.kind === 'http' && api.headers[0]?.value).toBe(SECRET);
    expect(rig.telegram.downloads.length).toBe(1);
  });

  it('into another chat: masked secrets are refused and nothing is imported; the admin\'s private export with secrets goes in whole', async () => {
    rig = await start();
    await rig.say(`/add ${rig.server.url}/health name=api header="Authorization: ${SECRET}"`, 'Added');
    await rig.say('/maintenance all cron="0 3 * * *" 30m', 'Maintenance window added');
    rig.telegram.sendText({ chatId: GROUP, userId: ADMIN, text: '/export' });
    const masked = uploaded(await rig.telegram.waitFor('sendDocument')).text;
    const refused = await sendFile(rig, GROUP2, 'masked.json', masked, 'Nothing was imported');
    expect(refused).toContain('masked.json: targets[0] (api).headers.Authorization is masked (••••): write the real value');
    expect(await storedOf(rig, GROUP2)).toBe('[]');

    // /export secrets: refused in a group, served to an admin in a private chat (that chat's targets).
    expect(textOf(await rig.say('/export secrets', 'private chat'))).toContain('secrets are only exported in a private chat');
    await rig.say(`/add ${rig.server.url}/health name=api header="Authorization: ${SECRET}"`, 'Added', ADMIN, ADMIN);
    const before = rig.telegram.callsOf('sendDocument').length;
    rig.telegram.sendText({ chatId: ADMIN, userId: ADMIN, text: '/export secrets' });
    await rig.telegram.waitForCount('sendDocument', before + 1);
    const withSecrets = rig.telegram.callsOf('sendDocument')[before]!;
    expect(String(withSecrets.payload.caption)).toContain('with secrets');
    const full = uploaded(withSecrets).text;
    expect(full).toContain(SECRET);
    const imported = await sendFile(rig, GROUP2, 'full.json', full, 'Imported');
    expect(imported).toContain('added <b>api</b>');
    const copy = rig.app.engine.target(`${GROUP2}/api`);
    expect(copy?.kind === 'http' && copy.headers[0]?.value).toBe(SECRET);
    // The secret never reached a log line.
    expect(rig.logs.join('\n')).not.toContain('sk_live');
  });

  it('a bad file changes nothing and says why; only admins import; a YAML file works too', async () => {
    rig = await start();
    await rig.say(`/add ${rig.server.url}/health name=api`, 'Added');
    const stored = await storedOf(rig, GROUP);
    const bad = JSON.stringify({ version: 1, targets: [{ name: 'api', url: 'http://127.0.0.1:1/', every: '5s' }, { name: 'new', host: 'nope' }] });
    const reply = await sendFile(rig, GROUP, 'bad.json', bad, 'Nothing was imported');
    expect(reply).toContain('bad.json: targets[0] (api): every must be between 10s and 1d, got &quot;5s&quot;');
    expect(reply).toContain('bad.json: targets[1] (new): ');
    expect(await sendFile(rig, GROUP, 'x.json', '{"version": 1,', 'not valid JSON')).toContain('x.json is not valid JSON');
    expect(await sendFile(rig, GROUP, 'notes.txt', 'hello', 'is not a .json')).toContain('"notes.txt" is not a .json, .yaml or .yml file'.replace(/"/g, '&quot;'));
    expect(await sendFile(rig, GROUP, 'a.json', '{"version":1}', 'Only chat administrators', MEMBER)).toContain('⛔');
    expect(textOf(await rig.say('/import', 'send the file'))).toContain('with /import as its caption');
    expect(await storedOf(rig, GROUP)).toBe(stored);

    const yaml = `version: 1\ntargets:\n  - name: db\n    host: "127.0.0.1:${rig.server.port}"\n    every: 1m\n`;
    expect(await sendFile(rig, GROUP, 'more.yaml', yaml, 'Imported')).toContain('added <b>db</b>');
    expect(rig.app.engine.target(`${GROUP}/db`)?.everyMs).toBe(60_000);
  });
});

describe('/import refuses what it must not take', () => {
  it('a document with 8,000 targets is refused at once with the counts; the chat limit counts the targets already there', async () => {
    rig = await startAppRig({ MAX_TARGETS_PER_CHAT: '3' });
    const entries = Array.from({ length: 8_000 }, (_, i) => ({ name: `t${i}`, url: `http://127.0.0.1:1/${i}` }));
    const big = await sendFile(rig, GROUP, 'big.json', JSON.stringify({ version: 1, targets: entries }), 'Nothing was imported');
    expect(big).toContain('the document declares 8000 targets for this chat; a chat may have at most 3 (MAX_TARGETS_PER_CHAT)');
    await rig.say(`/add ${rig.server.url}/a name=a`, 'Added');
    await rig.say(`/add ${rig.server.url}/b name=b`, 'Added');
    const two = await sendFile(rig, GROUP, 'two.json', JSON.stringify({ version: 1, targets: entries.slice(0, 2) }), 'Nothing was imported');
    expect(two).toContain('adds 2 targets to the 2 of this chat; a chat may have at most 3');
    await rig.say(`/add ${rig.server.url}/c name=c`, 'Added');
    const full = await rig.say(`/add ${rig.server.url}/d name=d`, 'MAX_TARGETS_PER_CHAT');
    expect(textOf(full)).toContain('this chat has 3 targets, the most it may have (MAX_TARGETS_PER_CHAT is 3)');
    expect(rig.app.engine.targets()).toHaveLength(3);
  });

  it.each([
    ['a key given twice in JSON', 'dup.json', '{"version":1,"targets":[{"name":"a","url":"http://127.0.0.1:1/","name":"b"}]}', 'a key is given twice (&quot;name&quot;) on line 1'],
    ['a key given twice in YAML', 'dup.yaml', 'version: 1\ntargets:\n  - name: a\n    url: http://127.0.0.1:1/\n    name: b\n', 'a key is given twice (&quot;name&quot;) on line 5'],
    ['another chat named by an entry', 'other.json', `{"version":1,"targets":[{"name":"a","url":"http://127.0.0.1:1/","chat":${GROUP2}}]}`, `chat ${GROUP2} is not this chat`],
    ['a 5,000-deep YAML', 'deep.yaml', `version: 1\ntargets: ${'['.repeat(5_000)}${']'.repeat(5_000)}\n`, 'nested too deeply (more than 64 levels)'],
  ])('%s is refused with a clear message, and nothing changes', async (_what, file, content, error) => {
    rig = await startAppRig();
    const reply = await sendFile(rig, GROUP, file, content, 'Nothing was imported');
    expect(reply).toContain(error);
    expect(reply.length).toBeLessThan(600);
    expect(rig.app.engine.targets()).toEqual([]);
  });
});

describe('/export and /import carry the destinations', () => {
  it('export masks a destination secret; importing it back keeps the stored secret; into another chat a masked one is refused', async () => {
    rig = await start();
    const url = 'https://hooks.example.com/lookout?token=sekret-token-1';
    await rig.say(`/notify add webhook ops ${url} secret=webhook-secret-1 events=down,up,degraded`, 'Added');
    rig.telegram.sendText({ chatId: GROUP, userId: MEMBER, text: '/export' });
    const exported = await rig.telegram.waitFor('sendDocument');
    const { text, doc } = uploaded(exported);
    expect(text).not.toContain('sekret-token-1');
    expect(text).not.toContain('webhook-secret-1');
    expect(doc.channels).toEqual([{ name: 'ops', kind: 'webhook', address: '••••', secret: '••••', events: ['down', 'up', 'degraded'] }]);

    const back = await sendFile(rig, GROUP, 'lookout.json', text, 'Imported');
    expect(back).not.toContain('Nothing was imported');
    expect(rig.app.engine.targets()).toEqual([]);
    const listed = await rig.say('/notify', 'Destinations');
    expect(textOf(listed)).toContain('events down, up, degraded');

    const elsewhere = await sendFile(rig, GROUP2, 'lookout.json', text.replace(`"chat": ${GROUP}`, `"chat": ${GROUP2}`), 'Nothing was imported');
    expect(elsewhere).toContain('a masked secret (••••) can only keep the secret of a destination of this chat');
  });
});
