import { describe, expect, it } from 'vitest';
import { createIncidentBook } from '../../src/alerts/incidents.js';
import type { Incident } from '../../src/domain/incident.js';
import { openStore } from '../../src/store/keyv.js';

const DAY = 86_400_000;
const incident = (id: string, openedAt: number, resolvedAt?: number): Incident => ({
  id,
  targetId: `1/${id}`,
  chatId: 1,
  name: id,
  openedAt,
  reason: 'HTTP 503',
  alertText: 'x',
  line: 'x',
  alertKey: `m-${id}`,
  ...(resolvedAt !== undefined ? { resolvedAt, resolution: 'recovered' as const } : {}),
});

describe('incident retention', () => {
  it('prunes incidents resolved before the cutoff and their alert messages; open ones and recent ones stay', async () => {
    const store = await openStore({ kind: 'memory' });
    const book = createIncidentBook(store);
    await book.open(incident('old', 0, DAY));
    await book.open(incident('recent', 99 * DAY, 99 * DAY + 5));
    await book.open(incident('open', 0));
    for (const id of ['old', 'recent', 'open']) await book.messages.put({ id: `m-${id}`, chatId: 1, incidentIds: [id], createdAt: id === 'recent' ? 99 * DAY : 0 });
    await book.flush();

    expect(await book.pruneResolved(90 * DAY)).toBe(1);
    expect(await book.get('old')).toBeUndefined();
    expect(await book.get('recent')).toBeDefined();
    expect(book.openFor('1/open')?.id).toBe('open');
    expect(await book.messages.get('m-old')).toBeUndefined();
    expect(await book.messages.get('m-open')).toBeDefined();
    expect(await book.messages.get('m-recent')).toBeDefined();
    await store.close();
  });
});
