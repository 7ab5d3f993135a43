import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/domain/options.js';
import { KIND_LIST, KIND_NAMES, KINDS, startKinds, targetAddress, traceTarget, type Target } from '../../src/kinds/index.js';
import type { KindRuntime } from '../../src/kinds/kind.js';
import { createHttpAgent } from '../../src/kinds/http/probe.js';
import { documentOf } from '../../src/targets/document-export.js';
import { MASKED, parseDocument } from '../../src/targets/document.js';
import { buildTarget, editTarget, optionKeys } from '../../src/targets/options.js';
import { systemClock } from '../../src/lib/clock.js';

// The kinds as modules: every kind registered is complete (a probe, a usage, an address), the grammar,
// the document and the export are built from them, and each new kind reads and writes as the old ones do.

const CHAT = -100123;
const ctx = { chatId: CHAT, now: 1_000, allowMetadata: false, secret: () => 'T'.repeat(24) };

function build(text: string): Target {
  const args = parseArgs(text);
  if (!args.ok) throw new Error(args.errors.join('; '));
  const built = buildTarget(args.value, ctx);
  if (!built.ok) throw new Error(built.errors.join('; '));
  return built.value;
}

function errors(text: string): string[] {
  const args = parseArgs(text);
  if (!args.ok) return args.errors;
  const built = buildTarget(args.value, ctx);
  return built.ok ? [] : built.errors;
}

const runtime = (): KindRuntime => {
  const data = new Map<string, unknown>();
  return {
    allowMetadata: false,
    httpAgent: createHttpAgent(),
    clock: systemClock,
    storage: () => ({ get: async (k) => data.get(k), set: async (k, v) => data.set(k, v), delete: async (k) => data.delete(k) }),
    checkNow: () => undefined,
    targets: () => [],
    publicUrl: 'http://127.0.0.1:1',
  };
};

describe('the list of kinds', () => {
  it('keys every module by its own kind, in registration order, http first (the default of /add)', () => {
    expect(KIND_NAMES).toEqual(['http', 'tcp', 'ec2', 'ping', 'dns', 'heartbeat']);
    for (const [name, module] of Object.entries(KINDS)) expect(module.kind).toBe(name);
  });

  it('gives every kind a probe at start, so a missing one fails here and not at the first check', async () => {
    const kinds = startKinds(runtime());
    try {
      expect(kinds.probes.kinds().sort()).toEqual([...KIND_NAMES].sort());
    } finally {
      await kinds.close();
    }
  });

  it('gives every kind a usage starting with /add and its name, and an address key', () => {
    for (const m of KIND_LIST.slice(1)) expect(m.usage.startsWith(`/add ${m.kind} `)).toBe(true);
    for (const m of KIND_LIST) expect(m.address.key).toMatch(/^[a-z]+$/);
  });
});

describe('ping targets', () => {
  it('are built from /add arguments with their defaults and shown without a port', () => {
    const t = build('ping db.internal');
    expect(t).toMatchObject({ kind: 'ping', name: 'db-internal', host: 'db.internal', count: 3, lossPct: 100, confirm: 2 });
    expect(targetAddress(t)).toBe('ping db.internal');
    expect(traceTarget(t)).toEqual({ host: 'db.internal' });
    expect(build('ping [::1] count=5 loss=40%')).toMatchObject({ host: '::1', count: 5, lossPct: 40 });
  });

  it('refuse options of other kinds, naming the ones they take', () => {
    expect(errors('ping db.internal method=GET')).toEqual([`unknown option "method" for a ping target; expected one of ${optionKeys('ping').join(', ')}`]);
    expect(optionKeys('ping')).toEqual(expect.arrayContaining(['count', 'loss', 'every', 'timeout']));
  });
});

describe('dns targets', () => {
  it('read expect= against the type whichever comes first, normalised', () => {
    expect(build('dns Example.COM. expect=2001:DB8:0:0::1 type=aaaa')).toMatchObject({ query: 'example.com', recordType: 'AAAA', expect: ['2001:db8::1'] });
    expect(build('dns example.com type=MX expect="10 Mail.Example.com."')).toMatchObject({ recordType: 'MX', expect: ['10 mail.example.com'] });
    expect(errors('dns example.com type=A expect=mail.example.com')[0]).toContain('expect for A must be');
  });

  it('refuse a type change that the expected values do not fit, and keep the target as it was', () => {
    const t = build('dns example.com expect=192.0.2.1');
    const edited = editTarget(t, [{ key: 'type', value: 'AAAA' }], { now: 2_000 });
    expect(edited.ok).toBe(false);
    expect(t).toMatchObject({ recordType: 'A', expect: ['192.0.2.1'] });
  });

  it('trace to the server asked, and to nothing with the system resolver', () => {
    expect(traceTarget(build('dns example.com server=127.0.0.1:5353'))).toEqual({ host: '127.0.0.1', port: 5353 });
    expect(traceTarget(build('dns example.com'))).toBeUndefined();
  });

  it('refuse a metadata address as the server', () => {
    expect(errors('dns example.com server=169.254.169.254')[0]).toContain('metadata');
  });
});

describe('heartbeat targets', () => {
  it('are named by the word after heartbeat, need every=, and get a token', () => {
    const t = build('heartbeat nightly every=1d');
    expect(t).toMatchObject({ kind: 'heartbeat', name: 'nightly', periodMs: 86_400_000, graceMs: 300_000, token: 'T'.repeat(24), confirm: 1 });
    expect(targetAddress(t)).not.toContain('T'.repeat(24));
    expect(traceTarget(t)).toBeUndefined();
    expect(errors('heartbeat nightly')).toEqual(['a heartbeat needs every=, how often the job pings, like every=1h']);
  });

  it('refuse the check timing options that mean nothing for them, and name= (the name is the word after heartbeat)', () => {
    expect(errors('heartbeat job every=1h timeout=5s')[0]).toContain('unknown option "timeout" for a heartbeat target');
    expect(errors('heartbeat job every=1h name=other')[0]).toContain("a heartbeat target's name is the word after heartbeat");
    expect(optionKeys('heartbeat')).not.toContain('timeout');
    expect(optionKeys('heartbeat')).not.toContain('name');
  });

  it('take interval= as every= (the same alias as everywhere), and say which key was wrong', () => {
    expect(build('heartbeat job interval=2h')).toMatchObject({ periodMs: 7_200_000 });
    expect(errors('heartbeat job interval=5s')).toEqual(['interval must be between 1m and 30d, got "5s"']);
    expect(errors('heartbeat job every=5s')).toEqual(['every must be between 1m and 30d, got "5s"']);
  });
});

describe('the document, built from the kinds', () => {
  const targets = [
    build('https://api.example.com/health name=api assert=\'$.status == "ok"\' assert=\'$.items.length >= 1\''),
    build('tcp db.internal:5432 name=db'),
    build('ping 192.0.2.10 name=edge count=5 loss=40%'),
    build('dns example.com type=MX expect="10 mail.example.com" server=192.0.2.53 name=mx'),
    build('heartbeat backup every=1d grace=1h'),
  ];

  it('round-trips every kind through /export and /import (secrets given)', () => {
    const doc = JSON.parse(JSON.stringify(documentOf(CHAT, targets, [], true))) as unknown;
    const read = parseDocument(doc, { now: 1_000, allowMetadata: false, forceChatId: CHAT });
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    const strip = (t: Target) => ({ ...t, createdAt: 0, updatedAt: 0 });
    expect(read.value.targets.map(strip)).toEqual([...targets].sort((a, b) => a.name.localeCompare(b.name)).map(strip));
  });

  it('masks a heartbeat token in an export and keeps the stored one when the masked file comes back', () => {
    const doc = JSON.parse(JSON.stringify(documentOf(CHAT, targets, [], false))) as { targets: Array<Record<string, unknown>> };
    expect(doc.targets.find((e) => e.name === 'backup')).toMatchObject({ kind: 'heartbeat', every: '1d', grace: '1h', token: MASKED });
    expect(doc.targets.find((e) => e.name === 'backup')).not.toHaveProperty('timeout');
    const stored = targets.find((t) => t.name === 'backup')!;
    const read = parseDocument(doc, { now: 1_000, allowMetadata: false, forceChatId: CHAT, existing: (id) => targets.find((t) => t.id === id) });
    expect(read.ok && read.value.targets.find((t) => t.name === 'backup')).toMatchObject({ token: (stored as { token: string }).token });
  });

  it('keeps a heartbeat token when a targets file without one is read again', () => {
    const stored = { ...build('heartbeat backup every=1d'), token: 'kept-token-0123456789' } as Target;
    const file = { version: 1, chat: CHAT, targets: [{ kind: 'heartbeat', name: 'backup', every: '1d' }] };
    const read = parseDocument(file, { now: 1_000, allowMetadata: false, existing: (id) => (id === stored.id ? stored : undefined) });
    expect(read.ok && read.value.targets[0]).toMatchObject({ token: 'kept-token-0123456789' });
  });

  it('takes the same aliases as the chat and names the key written (interval: in a file)', () => {
    const file = { version: 1, chat: CHAT, targets: [{ name: 'a', url: 'https://a.example/', interval: '30s' }, { name: 'b', url: 'https://b.example/', interval: '5s' }] };
    const read = parseDocument(file, { now: 1_000, allowMetadata: false });
    expect(read).toEqual({ ok: false, errors: ['targets[1] (b): interval must be between 10s and 1d, got "5s"'] });
    const good = parseDocument({ ...file, targets: [file.targets[0]] }, { now: 1_000, allowMetadata: false });
    expect(good.ok && good.value.targets[0]!.everyMs).toBe(30_000);
  });

  it('needs kind: for a ping entry (host: alone is a tcp target), and says what each kind takes', () => {
    const tcpish = parseDocument({ version: 1, chat: CHAT, targets: [{ name: 'p', host: '192.0.2.1' }] }, { now: 1_000, allowMetadata: false });
    expect(tcpish.ok).toBe(false);
    const ping = parseDocument({ version: 1, chat: CHAT, targets: [{ name: 'p', kind: 'ping', host: '192.0.2.1' }] }, { now: 1_000, allowMetadata: false });
    expect(ping.ok && ping.value.targets[0]).toMatchObject({ kind: 'ping', host: '192.0.2.1' });
    const wrong = parseDocument({ version: 1, chat: CHAT, targets: [{ name: 'd', kind: 'dns', url: 'https://x.example/' }] }, { now: 1_000, allowMetadata: false });
    expect(wrong).toEqual({ ok: false, errors: ['targets[0] (d): a dns target takes query:, not url:'] });
  });

  it('lists repeated assertions as a list and reads a single one as text', () => {
    const doc = documentOf(CHAT, targets, [], true) as { targets: Array<Record<string, unknown>> };
    expect(doc.targets.find((e) => e.name === 'api')!.assert).toEqual(['$.status == "ok"', '$.items.length >= 1']);
    const one = parseDocument({ version: 1, chat: CHAT, targets: [{ name: 'a', url: 'https://a.example/', assert: '$.ok == true' }] }, { now: 1_000, allowMetadata: false });
    expect(one.ok && one.value.targets[0]).toMatchObject({ asserts: ['$.ok == true'] });
  });
});
