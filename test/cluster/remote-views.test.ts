import { afterEach, describe, expect, it } from 'vitest';
import { createBus, type Bus } from '../../src/cluster/bus.js';
import { createRemoteViews, type RemoteViews } from '../../src/cluster/remote-views.js';
import type { LocationView } from '../../src/domain/locations.js';
import { useTestCluster } from '../support/postgres.js';

// /status NAME asks each place what it sees now (its last check), over the bus on a real PostgreSQL.

const { enabled, cluster } = useTestCluster();
let parts: Array<{ stop(): unknown }> = [];
afterEach(async () => {
  for (const p of parts.splice(0).reverse()) await p.stop();
});

async function place(url: string, own: (id: string) => LocationView | undefined): Promise<{ bus: Bus; views: RemoteViews }> {
  const bus = createBus({ url, retryMs: 100, checkMs: 500, timeoutMs: 2_000 });
  await bus.start();
  const views = createRemoteViews({ bus, own });
  views.start();
  parts.push(bus, views);
  return { bus, views };
}

describe.runIf(enabled)('the places\' views of a target, asked over the bus', () => {
  it('each place that checks it answers with its last check; a place that does not answer is left out after the timeout; a bad answer is ignored', async () => {
    const url = await cluster.createDatabase();
    const fra = await place(url, (id) => (id === '1/api' ? { location: 'fra', state: 'UP', latencyMs: 12, since: 5 } : undefined));
    await place(url, (id) => (id === '1/api' ? { location: 'nyc', state: 'DOWN', reason: 'HTTP 503', latencyMs: 30, since: 7 } : undefined));
    // sgp's instance runs but does not check 1/api (its owner there died): it does not answer.
    await place(url, () => undefined);
    const asker = await place(url, () => undefined);
    // Somebody answers nonsense to every question: it is not a view.
    asker.bus.subscribe('views', (p) => void fra.bus.publish('viewed', { req: (p as { req: string }).req, view: { location: 'sgp', state: 'ON FIRE', since: 'yesterday' } }));

    const two = await asker.views.collect('1/api', ['fra', 'nyc'], 5_000);
    expect([...two.values()]).toEqual(
      expect.arrayContaining([
        { location: 'fra', state: 'UP', latencyMs: 12, since: 5 },
        { location: 'nyc', state: 'DOWN', reason: 'HTTP 503', latencyMs: 30, since: 7 },
      ]),
    );
    const three = await asker.views.collect('1/api', ['fra', 'nyc', 'sgp'], 400);
    expect([...three.keys()].sort()).toEqual(['fra', 'nyc']);
    // Its own view needs no question.
    const self = await fra.views.collect('1/api', ['fra'], 5_000);
    expect(self.get('fra')?.latencyMs).toBe(12);
  });
});
