import { describe, expect, it } from 'vitest';
import { documentOf } from '../../src/targets/document-export.js';
import { MASKED, parseDocument, type DocumentContext } from '../../src/targets/document.js';
import type { Ec2Target } from '../../src/kinds/ec2/index.js';
import type { HttpTarget } from '../../src/kinds/http/index.js';
import type { Target } from '../../src/kinds/index.js';

const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);
const CHAT = -1001234567890;
const ctx: DocumentContext = { now: NOW, allowMetadata: false, defaultChatId: CHAT };

function parse(data: unknown, extra: Partial<DocumentContext> = {}) {
  return parseDocument(data, { ...ctx, ...extra });
}

function errorsOf(data: unknown, extra: Partial<DocumentContext> = {}): string[] {
  const parsed = parse(data, extra);
  if (parsed.ok) throw new Error('expected errors');
  return parsed.errors;
}

describe('parseDocument: valid documents', () => {
  it('reads targets of every kind with the /add defaults and values', () => {
    const parsed = parse({
      version: 1,
      targets: [
        { name: 'api', url: 'https://api.example.com/health', every: '30s', expect: 200, latency: 800, headers: { Authorization: 'Bearer x' } },
        { host: 'db.internal:5432' },
        { name: 'cloud', endpoint: 'https://ec2.example.com', region: 'eu-1', key: 'AKIAIOSFODNN7EXAMPLE', secret: 's3cret' },
        { name: 'quiet', url: 'http://10.0.0.1/', paused: true, remind: 0, errorrate: '5%', chat: 42, thread: 7 },
      ],
    });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const [api, db, cloud, quiet] = parsed.value.targets as [HttpTarget, Target, Ec2Target, HttpTarget];
    expect(api).toMatchObject({ id: `${CHAT}/api`, kind: 'http', everyMs: 30_000, timeoutMs: 10_000, expect: [{ from: 200, to: 200 }], latencyMs: 800 });
    expect(api.headers).toEqual([{ name: 'Authorization', value: 'Bearer x' }]);
    expect(db).toMatchObject({ kind: 'tcp', name: 'db-internal', host: 'db.internal', port: 5432, everyMs: 60_000, confirm: 2 });
    expect(cloud).toMatchObject({ kind: 'ec2', region: 'eu-1', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 's3cret' });
    expect(quiet).toMatchObject({ id: '42/quiet', chatId: 42, threadId: 7, paused: true, remindMs: 0, errorRatePct: 5 });
  });

  it('marks what it creates when asked (TARGETS_FILE)', () => {
    const parsed = parse({ version: 1, targets: [{ url: 'http://a.example/' }], windows: [{ target: 'all', cron: '0 2 * * SUN', duration: '1h' }] }, { managed: 'file' });
    expect(parsed.ok && parsed.value.targets[0]!.managed).toBe('file');
    expect(parsed.ok && parsed.value.windows[0]!.managed).toBe('file');
  });

  it('reads windows: recurring, one-off, mutes, for one target or all; drops the ones already over', () => {
    const parsed = parse({
      version: 1,
      targets: [{ name: 'api', url: 'http://a.example/' }],
      windows: [
        { target: 'api', cron: '0 2 * * SUN', duration: '2h', tz: 'europe/berlin', reason: 'deploy' },
        { target: 'all', start: '2026-12-24T00:00Z', duration: '1d' },
        { target: 'API', kind: 'mute', start: '2026-12-01T11:30:00Z', duration: '1h' },
        { target: 'all', start: '2026-01-01T00:00Z', duration: '1h' },
      ],
    });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.value.windows.map((w) => [w.id, w.targetId ?? 'all', w.kind, w.cron ?? new Date(w.start!).toISOString(), w.durationMs, w.tz])).toEqual([
      ['w1', `${CHAT}/api`, 'maintenance', '0 2 * * SUN', 7_200_000, 'Europe/Berlin'],
      ['w2', 'all', 'maintenance', '2026-12-24T00:00:00.000Z', 86_400_000, 'UTC'],
      ['w3', `${CHAT}/api`, 'mute', '2026-12-01T11:30:00.000Z', 3_600_000, 'UTC'],
    ]);
    expect(parsed.value.windows[0]!.reason).toBe('deploy');
  });

  it('an empty document is valid and declares nothing', () => {
    expect(parse({ version: 1 })).toEqual({ ok: true, value: { targets: [], windows: [], channels: [], given: new Map() } });
  });

  it('puts every entry in the importing chat when the chat is forced (/import)', () => {
    const parsed = parse({ version: 1, chat: 99, targets: [{ name: 'a', url: 'http://a.example/', thread: 3 }] }, { forceChatId: CHAT });
    expect(parsed.ok && parsed.value.targets[0]).toMatchObject({ id: `${CHAT}/a`, chatId: CHAT });
    expect(parsed.ok && parsed.value.targets[0]!.threadId).toBeUndefined();
  });
});

describe('parseDocument: every problem, with where it is', () => {
  const cases: Array<[string, unknown, string[], Partial<DocumentContext>?]> = [
    ['not an object', [1, 2], ['the document: Invalid input: expected object, received array']],
    ['no version', { targets: [] }, ['version: 1 is missing at the top of the document']],
    ['a future version', { version: 2 }, ['version must be 1']],
    ['an unknown top-level key', { version: 1, target: [] }, ['the document: unknown key "target"']],
    ['an unknown target key', { version: 1, targets: [{ url: 'http://a.example/', evry: '30s' }] }, ['targets[0]: unknown key "evry"']],
    ['a wrong type', { version: 1, targets: [{ url: 'http://a.example/', paused: 'yes' }] }, ['targets[0].paused: Invalid input: expected boolean, received string']],
    ['no address', { version: 1, targets: [{ name: 'x', every: '30s' }] }, ['targets[0] (x): give the address as url: (url: for http, host: host:port for tcp, endpoint: for ec2, host: for ping, query: (the name) for dns, kind: heartbeat with name:)']],
    ['the wrong address key', { version: 1, targets: [{ kind: 'tcp', url: 'http://a.example/' }] }, ['targets[0]: a tcp target takes host:, not url:']],
    [
      'option values, all reported',
      { version: 1, targets: [{ name: 'api', url: 'http://a.example/', every: '5s', confirm: 20 }] },
      ['targets[0] (api): every must be between 10s and 1d, got "5s"', 'targets[0] (api): confirm must be a whole number between 1 and 10, got "20"'],
    ],
    ['a metadata address', { version: 1, targets: [{ url: 'http://169.254.169.254/latest' }] }, ['targets[0]: ']],
    [
      'a duplicate name',
      { version: 1, targets: [{ name: 'a', url: 'http://a.example/' }, { name: 'a', host: 'b.example:1' }] },
      [`targets[1] (a): the name "a" is already used by targets[0] (a) in chat ${CHAT}`],
    ],
    ['no chat anywhere', { version: 1, targets: [{ url: 'http://a.example/' }] }, ['targets[0]: give chat: (the id of the chat that gets its alerts), here or at the top of the document'], { defaultChatId: undefined }],
    ['a chat that is not allowed', { version: 1, chat: 5, targets: [{ url: 'http://a.example/' }] }, ['targets[0]: chat 5 is not one of ALLOWED_CHAT_IDS (-100, -200)'], { allowedChatIds: [-100, -200] }],
    ['a masked secret with nothing stored', { version: 1, targets: [{ name: 'c', endpoint: 'https://ec2.example.com', region: 'r', key: 'AKIAIOSFODNN7EXAMPLE', secret: MASKED }] }, [`targets[0] (c).secret is masked (${MASKED}): write the real value`]],
    ['a masked header with nothing stored', { version: 1, targets: [{ name: 'h', url: 'http://a.example/', headers: { 'X-Key': MASKED } }] }, [`targets[0] (h).headers.X-Key is masked (${MASKED}): write the real value`]],
    ['a header Lookout controls', { version: 1, targets: [{ name: 'h', url: 'http://a.example/', headers: { 'Transfer-Encoding': 'chunked' } }] }, ['targets[0] (h).headers: header "Transfer-Encoding" cannot be set: Lookout sets Transfer-Encoding itself (checks send no body)']],
    ['a header value with an emoji', { version: 1, targets: [{ name: 'h', url: 'http://a.example/', headers: { 'X-E': '🔥' } }] }, ['targets[0] (h): header "X-E" has a character outside ASCII in its value (an emoji or a letter like é): header values may hold printable ASCII only (letters, digits, punctuation, spaces)']],
    ['a header value over two lines', { version: 1, targets: [{ name: 'h', url: 'http://a.example/', headers: { 'X-E': 'a\nHost: evil' } }] }, ['targets[0] (h): header "X-E" has a control character or a line break in its value: header values may hold printable ASCII only (letters, digits, punctuation, spaces)']],
    ['a header name with a colon', { version: 1, targets: [{ name: 'h', url: 'http://a.example/', headers: { 'X:Host': 'v' } }] }, ["targets[0] (h).headers: header names may hold only letters, digits and !#$%&'*+-.^_`|~ (at most 64 characters), like X-Api-Key"]],
    ['a long header name, not repeated', { version: 1, targets: [{ name: 'h', url: 'http://a.example/', headers: { ['N'.repeat(5_000)]: MASKED } }] }, ["targets[0] (h).headers: header names may hold only letters, digits and !#$%&'*+-.^_`|~ (at most 64 characters), like X-Api-Key"]],
    ['a long entry name, clipped', { version: 1, targets: [{ name: 'n'.repeat(5_000), url: 'http://a.example/' }] }, [`targets[0] (${'n'.repeat(40)}…): name must be 1-32 characters of a-z, 0-9, "_" or "-", starting with a letter or digit, got "${'n'.repeat(40)}…"`]],
    ['many long unknown keys, clipped and counted', { version: 1, targets: [Object.fromEntries([['url', 'http://a.example/'], ...Array.from({ length: 8 }, (_, i) => [`${i}${'k'.repeat(5_000)}`, 1])])] }, [`targets[0]: unknown keys ${Array.from({ length: 5 }, (_, i) => `"${i}${'k'.repeat(39)}…"`).join(', ')} and 3 more`]],
    ['a window for an unknown target', { version: 1, windows: [{ target: 'nope', cron: '0 2 * * *', duration: '1h' }] }, [`windows[0].target: no target "nope" for chat ${CHAT} in this document (or write all)`]],
    ['a window without start or cron', { version: 1, windows: [{ target: 'all', duration: '1h' }] }, ['windows[0]: give either start: (a date like 2026-12-01T02:00Z) or cron: ("0 2 * * SUN"), not both or neither']],
    ['a window with both', { version: 1, windows: [{ target: 'all', start: '2026-12-24T00:00Z', cron: '0 2 * * *', duration: '1h' }] }, ['windows[0]: give either start: (a date like 2026-12-01T02:00Z) or cron: ("0 2 * * SUN"), not both or neither']],
    ['a window starting "now"', { version: 1, windows: [{ target: 'all', start: 'now', duration: '1h' }] }, ['windows[0]: start must be a date like 2026-12-01T02:00Z, got "now"']],
    ['a bad cron, zone and duration', { version: 1, windows: [{ target: 'all', cron: 'every day', duration: '5s', tz: 'Mars/Base' }] }, [
      'windows[0].tz: unknown time zone "Mars/Base"; use an IANA name like Europe/Berlin or UTC',
      'windows[0]: duration must be between 1m and 30d, got "5s"',
      'windows[0]: cron must be a cron expression like "0 2 * * SUN" (minute hour day month weekday), got "every day"',
    ]],
    ['a window without duration', { version: 1, windows: [{ target: 'all', cron: '0 2 * * *' }] }, ['windows[0].duration is missing']],
    ['a list where a duration belongs', { version: 1, windows: [{ target: 'all', cron: '0 2 * * *', duration: ['1h'] }] }, ['windows[0].duration: expected text or a number']],
  ];

  it.each(cases)('%s', (_label, data, expected, extra) => {
    const errors = errorsOf(data, extra);
    if (expected.length === 1 && expected[0]!.endsWith(': ')) {
      expect(errors).toHaveLength(1);
      expect(errors[0]!.startsWith(expected[0]!)).toBe(true);
    } else {
      expect(errors).toEqual(expected);
    }
  });
});

describe('documentOf → parseDocument', () => {
  const parsed = parse({
    version: 1,
    targets: [
      { name: 'api', url: 'https://api.example.com/health', every: '30s', timeout: '5s', retry: '2s', confirm: 3, recover: 2, remind: '30m', errorrate: '20%', sla: 99.9, method: 'POST', expect: '200,204,301-302', keyword: 'OK', maintenance: 'be right back', latency: 800, headers: { Authorization: 'Bearer x', 'X-Team': 'sre' }, note: 'call Bob', thread: 12 },
      { name: 'db', host: '[::1]:5432', every: '1m', remind: 0 },
      { name: 'cloud', endpoint: 'https://ec2.example.com/', region: 'eu-1', key: 'AKIAIOSFODNN7EXAMPLE', secret: 's3cret', token: 'sessiontok123', paused: true },
    ],
    windows: [
      { target: 'api', cron: '0 2 * * SUN', duration: '2h', tz: 'Europe/Berlin', reason: 'deploy' },
      { target: 'all', kind: 'mute', start: '2026-12-01T11:30:00.000Z', duration: '1h' },
    ],
  });
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const { targets, windows } = parsed.value;
  const comparable = (t: Target): Target => ({ ...t, createdAt: 0, updatedAt: 0 });

  it('with secrets: gives back the same targets and windows', () => {
    const doc = documentOf(CHAT, targets, windows, true);
    const again = parse(JSON.parse(JSON.stringify(doc)));
    expect(again.ok).toBe(true);
    if (!again.ok) return;
    expect(again.value.targets.map(comparable)).toEqual([...targets].sort((a, b) => a.name.localeCompare(b.name)).map(comparable));
    expect(again.value.windows.map((w) => ({ ...w, id: '' }))).toEqual(windows.map((w) => ({ ...w, id: '' })));
  });

  it('without secrets: masks header values and credentials, and takes them from the stored target on the way back', () => {
    const doc = documentOf(CHAT, targets, windows, false);
    const text = JSON.stringify(doc);
    for (const secret of ['Bearer x', 'sre', 's3cret', 'sessiontok123', 'AKIAIOSFODNN7EXAMPLE']) expect(text).not.toContain(secret);
    expect(errorsOf(JSON.parse(text))).toHaveLength(5);
    const byId = new Map(targets.map((t) => [t.id, t]));
    const again = parse(JSON.parse(text), { existing: (id) => byId.get(id) });
    expect(again.ok && again.value.targets.map(comparable)).toEqual([...targets].sort((a, b) => a.name.localeCompare(b.name)).map(comparable));
  });

  it('leaves defaults out of nothing it needs: the export is the whole truth', () => {
    const doc = documentOf(CHAT, targets, windows, true);
    expect(doc.targets!.find((t) => t.name === 'db')).toEqual({ name: 'db', kind: 'tcp', host: '[::1]:5432', every: '1m', timeout: '10s', retry: '5s', confirm: 2, recover: 1, remind: 0 });
  });
});
