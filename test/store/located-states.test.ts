import { describe, expect, it } from 'vitest';
import type { StateRecord } from '../../src/domain/state.js';
import { openStore } from '../../src/store/keyv.js';
import { createLocatedStateRepository, createStateRepository, locationNamespace } from '../../src/store/states.js';

const rec = (targetId: string, state: StateRecord['state'] = 'UP'): StateRecord => ({ targetId, state, since: 1, consecutiveFailures: 0, consecutiveSuccesses: 1, checks: 1, failures: 0, lastCheckAt: 1 });

describe('the states of one place when targets are checked from several', () => {
  it('keeps a target checked per location in its place\'s namespace, the others in `states`, and writes nothing for a target checked elsewhere', async () => {
    const store = await openStore({ kind: 'memory' });
    const perLocation = new Set(['1/a', '1/b']);
    // 1/b is checked per location, but not from fra (locations=nyc): a copy of its verdict is not fra's view.
    const here = createLocatedStateRepository(store, 'fra', (id) => perLocation.has(id), (id) => id !== '1/b');
    await here.put(rec('1/a', 'DOWN'));
    await here.put(rec('1/b', 'DOWN'));
    await here.put(rec('1/c'));
    await here.putMany([rec('1/b', 'UP'), rec('1/d')]);
    const fra = createStateRepository(store, locationNamespace('fra'));
    const plain = createStateRepository(store);
    expect([...(await fra.all()).keys()].sort()).toEqual(['1/a']);
    expect([...(await plain.all()).keys()].sort()).toEqual(['1/c', '1/d']);
    expect((await here.get('1/a'))?.state).toBe('DOWN');
    expect([...(await here.all()).keys()].sort()).toEqual(['1/a', '1/c', '1/d']);
    expect(await here.delete('1/a')).toBe(true);
    expect(await fra.get('1/a')).toBeUndefined();
  });
});
