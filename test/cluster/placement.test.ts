import { describe, expect, it } from 'vitest';
import { ownerOf, placeTarget } from '../../src/cluster/assignment.js';
import { buildTarget } from '../../src/targets/options.js';
import { parseArgs } from '../../src/domain/options.js';
import { targetEntryOf } from '../../src/targets/document-export.js';

const T = '-100/api';
const three = [
  { id: 'fra-1', location: 'fra' },
  { id: 'fra-2', location: 'fra' },
  { id: 'nyc-1', location: 'nyc' },
  { id: 'sgp-1', location: 'sgp' },
];

describe('placeTarget: who checks a target among live instances in several places', () => {
  it('one place (or locations=one): one check by the owner among all, as before', () => {
    const one = [{ id: 'a', location: 'lab' }, { id: 'b', location: 'lab' }];
    expect(placeTarget(T, undefined, one)).toEqual({ perLocation: false, locations: [], owners: [ownerOf(T, ['a', 'b'])] });
    expect(placeTarget(T, { kind: 'one' }, three)).toEqual({ perLocation: false, locations: [], owners: [ownerOf(T, three.map((m) => m.id))] });
    expect(placeTarget(T, undefined, [])).toEqual({ perLocation: false, locations: [], owners: [] });
  });

  it('several places: each live place it asks for checks it, by the owner among that place\'s instances', () => {
    const p = placeTarget(T, undefined, three);
    expect(p.perLocation).toBe(true);
    expect(p.locations).toEqual(['fra', 'nyc', 'sgp']);
    expect(p.owners).toEqual([ownerOf(T, ['fra-1', 'fra-2']), 'nyc-1', 'sgp-1']);
    expect(placeTarget(T, { kind: 'named', names: ['fra', 'tok'] }, three)).toEqual({ perLocation: true, locations: ['fra'], owners: [ownerOf(T, ['fra-1', 'fra-2'])] });
  });

  it('named places that are all gone: checked once among all, never left unchecked', () => {
    expect(placeTarget(T, { kind: 'named', names: ['tok'] }, three)).toEqual({ perLocation: false, locations: [], owners: [ownerOf(T, three.map((m) => m.id))] });
  });
});

describe('locations= and quorum= options', () => {
  const ctx = { chatId: -100, now: 1_000, allowMetadata: false };
  const add = (text: string) => {
    const args = parseArgs(text);
    if (!args.ok) throw new Error(args.errors.join('\n'));
    return buildTarget(args.value, ctx);
  };
  it('are read, written back to the document, and refused with a short reason', () => {
    const t = add('https://api.example.com/ locations=nyc,fra quorum=all');
    if (!t.ok) throw new Error(t.errors.join('\n'));
    expect(t.value.locations).toEqual({ kind: 'named', names: ['fra', 'nyc'] });
    expect(t.value.quorum).toEqual({ kind: 'all' });
    expect(targetEntryOf(t.value, false)).toMatchObject({ locations: 'fra,nyc', quorum: 'all' });
    const d = add('https://api.example.com/ quorum=majority locations=all');
    expect(d.ok && [d.value.locations, d.value.quorum]).toEqual([undefined, undefined]);
    const bad = add(`https://api.example.com/ locations=Frankfurt${'x'.repeat(200)} quorum=0`);
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.errors.join('\n')).toContain('is not a location name');
    expect(bad.errors.join('\n')).toContain('quorum must be majority, all, any or a number 1-16');
    expect(bad.errors.join('\n').length).toBeLessThan(300);
  });
});
