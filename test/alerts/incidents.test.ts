import { describe, expect, it } from 'vitest';
import { createIncidentBook } from '../../src/alerts/incidents.js';
import { untold, type Incident } from '../../src/domain/incident.js';
import { openStore } from '../../src/store/keyv.js';

const DAY = 86_400_000;
const incident = (id: string, openedAt: number, resolvedAt?: number, told: Incident['told'] = ['down', 'end']): Incident => ({
  id,
  targetId: `1/${id}`,
  chatId: 1,
  name: id,
  openedAt,
  reason: 'HTTP 503',
  facts: { id, target: { id: `1/${id}`, name: id, address: 'http://x' }, reason: 'HTTP 503', openedAt, failedChecks: 2, source: { label: 's' } },
  told,
  ...(resolvedAt !== undefined ? { resolvedAt, resolution: 'recovered' as const } : {}),
});

describe('incident retention', () => {
  it('prunes incidents resolved before the cutoff; open ones and recent ones stay', async () => {
    const store = await openStore({ kind: 'memory' });
    const book = createIncidentBook(store);
    await book.open(incident('old', 0, DAY));
    await book.open(incident('recent', 99 * DAY, 99 * DAY + 5));
    await book.open(incident('open', 0, undefined, ['down']));
    await book.flush();

    expect(await book.pruneResolved(90 * DAY)).toBe(1);
    expect(await book.get('old')).toBeUndefined();
    expect(await book.get('recent')).toBeDefined();
    expect(book.openFor('1/open')?.id).toBe('open');
    await store.close();
  });
});

describe('the decision journal', () => {
  it.each<[string, Partial<Incident>, string[]]>([
    ['an alert decided, not queued', { told: [] }, ['down']],
    ['held back by a window', { told: [], suppressed: true }, []],
    ['queued', { told: ['down'] }, []],
    ['acknowledged, not queued', { told: ['down'], ack: { userId: 1, name: 'a', at: 1 } }, ['ack']],
    ['resolved, not queued', { told: ['down'], resolvedAt: 5, resolution: 'recovered' }, ['end']],
    ['resolved inside its window: nothing to tell', { told: [], suppressed: true, resolvedAt: 5 }, []],
    ['everything at once, in order', { told: [], ack: { userId: 1, name: 'a', at: 1 }, resolvedAt: 5 }, ['down', 'ack', 'end']],
  ])('%s', (_name, fields, due) => {
    expect(untold({ ...incident('x', 0), ...fields })).toEqual(due);
  });

  it('keeps a resolved incident with its end untold in memory and loads it again after a restart', async () => {
    const store = await openStore({ kind: 'memory' });
    const book = createIncidentBook(store);
    await book.open(incident('a', 0, undefined, ['down']));
    await book.update('a', (i) => {
      i.resolvedAt = 10;
      i.resolution = 'recovered';
    });
    expect(book.pending().map((i) => i.id)).toEqual(['a']);
    expect(book.allOpen()).toEqual([]);
    const again = createIncidentBook(store);
    await again.load();
    expect(again.pending().map((i) => i.id)).toEqual(['a']);
    await again.update('a', (i) => {
      i.told = ['down', 'end'];
    });
    expect(again.pending()).toEqual([]);
    await store.close();
  });
});
