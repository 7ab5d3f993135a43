import { describe, expect, it } from 'vitest';
import type { Channel } from '../../src/alerts/channel.js';
import type { ChannelSpec } from '../../src/alerts/channels/spec.js';
import { carriesSecret, createDestinations, parseDestination, type Destination } from '../../src/alerts/destinations.js';
import { eventClass, parseEvents } from '../../src/alerts/routing.js';
import { invalid, valid } from '../../src/domain/result.js';
import { openStore } from '../../src/store/keyv.js';
import { degraded, down, NOTE_CHAT, reminder, up } from '../support/notifications.js';

/** A kind for tests: the address must start with `ok:`, `key=` is a secret option. */
const fakeSpec: ChannelSpec<{ address: string; key?: string }> = {
  kind: 'fake',
  usage: '/notify add fake NAME ok:ADDRESS [key=K]',
  options: [{ key: 'key', help: 'a secret key', secret: true }],
  env: [],
  defaultEvents: ['down', 'up'],
  parse: (address, options) => (address.startsWith('ok:') ? valid({ address, ...(options.get('key') ? { key: options.get('key')! } : {}) }) : invalid('address must start with ok:')),
  describe: (s) => s.address,
  secrets: (s) => (s.key ? [s.key] : []),
  format: (s) => ({ address: s.address, options: s.key ? { key: s.key } : ({} as Record<string, string>) }),
  create: () => ({}) as Channel,
};
const specs = [fakeSpec as ChannelSpec];
const parse = (name: string, address: string, options: Array<{ key: string; value: string }> = [], known?: Set<string>) =>
  parseDestination(NOTE_CHAT, { kind: 'fake', name, address, options }, specs, {}, 1_000, known);

describe('parseDestination', () => {
  it('builds a destination with the default events of its kind', () => {
    expect(parse('ops', 'ok:x')).toEqual({
      ok: true,
      value: { id: `fake:${NOTE_CHAT}:ops`, chatId: NOTE_CHAT, name: 'ops', kind: 'fake', settings: { address: 'ok:x' }, events: ['down', 'up'], createdAt: 1_000 },
    });
  });

  it.each<[string, Parameters<typeof parse>, string]>([
    ['an unknown kind', ['ops', 'ok:x'], ''],
    ['a bad name', ['Ops Team!', 'ok:x'], 'name must be 1-32 characters'],
    ['a bad address', ['ops', 'nope'], 'address must start with ok:'],
    ['unknown events', ['ops', 'ok:x', [{ key: 'events', value: 'down,explosions' }]], 'events must be a list of down, up, ack'],
    ['an unknown target', ['ops', 'ok:x', [{ key: 'targets', value: 'api,nosuch' }], new Set(['api'])], 'targets: no target named "nosuch"'],
    ['an option of no kind', ['ops', 'ok:x', [{ key: 'colour', value: 'red' }]], 'colour is not an option of fake: use events=, targets=, key='],
  ])('refuses %s with a clear error', (what, args, error) => {
    const result = what === 'an unknown kind' ? parseDestination(NOTE_CHAT, { kind: 'carrier-pigeon', name: 'ops', address: 'x', options: [] }, specs, {}, 0) : parse(...args);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join(' ')).toContain(what === 'an unknown kind' ? 'unknown kind "carrier-pigeon": one of fake' : error);
  });

  it('never echoes a long value whole', () => {
    const result = parse('x'.repeat(5_000), 'ok:x', [{ key: 'targets', value: 'y'.repeat(5_000) }], new Set());
    expect(result.ok).toBe(false);
    if (!result.ok) for (const e of result.errors) expect(e.length).toBeLessThan(200);
  });

  it('events=all, targets=a,b, and a secret option that makes the message go', () => {
    const input = { kind: 'fake', name: 'ops', address: 'ok:x', options: [{ key: 'events', value: 'all' }, { key: 'targets', value: 'api,web' }, { key: 'key', value: 'sekrit-value' }] };
    const result = parseDestination(NOTE_CHAT, input, specs, {}, 0, new Set(['api', 'web']));
    expect(result.ok && result.value.events).toEqual(['down', 'up', 'ack', 'degraded', 'maintenance', 'warning', 'trace']);
    expect(result.ok && result.value.targets).toEqual(['api', 'web']);
    expect(result.ok && carriesSecret(input, specs, result.value.settings)).toBe(true);
    expect(carriesSecret({ ...input, options: [] }, specs, { address: 'ok:x' })).toBe(false);
  });
});

describe('routing', () => {
  it('puts every kind in a class; escalations and Lookout notices stay in the chat', () => {
    expect(eventClass('down')).toBe('down');
    expect(eventClass('closed')).toBe('up');
    expect(eventClass('normal')).toBe('degraded');
    expect(eventClass('window-started')).toBe('maintenance');
    expect(eventClass('escalation')).toBe('chat');
    expect(eventClass('destination-paused')).toBe('chat');
    expect(parseEvents('down,up').ok).toBe(true);
  });

  it("sends a chat's notifications to its destinations that asked for them, not paused, within targets= and the target's notify=", async () => {
    const store = await openStore({ kind: 'memory' });
    const book = createDestinations(store);
    const mk = (name: string, over: Partial<Destination> = {}): Destination => ({ id: `fake:${NOTE_CHAT}:${name}`, chatId: NOTE_CHAT, name, kind: 'fake', settings: {}, events: ['down', 'up'], createdAt: 0, ...over });
    await book.put(mk('all'));
    await book.put(mk('web-only', { targets: ['web'] }));
    await book.put(mk('degraded', { events: ['degraded'] }));
    await book.put(mk('paused', { paused: { at: 0, why: 'HTTP 410' } }));
    await book.put({ ...mk('elsewhere'), chatId: 42, id: 'fake:42:elsewhere' });
    const ids = (n: Parameters<typeof book.route>[0], target: Parameters<typeof book.route>[1]) => book.route(n, target).map((id) => id.split(':')[2]);
    expect(ids(down('api'), { name: 'api' })).toEqual(['all']);
    expect(ids(up('web'), { name: 'web' })).toEqual(['all', 'web-only']);
    expect(ids(degraded('api'), { name: 'api' })).toEqual(['degraded']);
    expect(ids(reminder('api'), { name: 'api' })).toEqual([]);
    // A target's own notify= picks among the destinations.
    expect(ids(down('web'), { name: 'web', notify: ['web-only'] })).toEqual(['web-only']);
    await store.close();
  });
});

describe('the notify= target option', () => {
  it('picks destinations by name; all clears it; bad names are refused', async () => {
    const { buildTarget, editTarget } = await import('../../src/targets/options.js');
    const ctx = { chatId: NOTE_CHAT, now: 0, allowMetadata: false };
    const built = buildTarget({ positional: ['https://api.example.com/'], options: [{ key: 'notify', value: 'ops,PagerDuty' }] }, ctx);
    expect(built.ok && built.value.notify).toEqual(['ops', 'pagerduty']);
    if (!built.ok) return;
    const cleared = editTarget(built.value, [{ key: 'notify', value: 'all' }], ctx);
    expect(cleared.ok && cleared.value.notify).toBeUndefined();
    const bad = buildTarget({ positional: ['https://api.example.com/'], options: [{ key: 'notify', value: 'ops,no way' }] }, ctx);
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.errors[0]).toContain('notify must be destination names from /notify');
  });
});
