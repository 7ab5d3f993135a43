import { Gauge, type Registry } from 'prom-client';
import type { ClusterInfo } from './report.js';

// Where an instance stands among several on one database, as /healthz and /metrics tell it.

/** The fields /healthz adds to its answer. */
export const clusterHealthz = (c: ClusterInfo, now: number): Record<string, unknown> => ({
  role: c.role,
  instance: c.instance,
  location: c.location,
  peers: c.peers.map((p) => p.id),
  checking: c.checking,
  roleSinceS: Math.round((now - c.roleSince) / 1_000),
  locations: locationsOf(c),
});

/** The locations with their instances and how long ago each was last heard from: `{ fra: [{ id, seenAgoS }] }`. */
export function locationsOf(c: ClusterInfo): Record<string, Array<{ id: string; seenAgoS: number }>> {
  const out: Record<string, Array<{ id: string; seenAgoS: number }>> = {};
  for (const p of c.peers) (out[p.location ?? 'unknown'] ??= []).push({ id: p.id, seenAgoS: Math.round(p.seenAgoMs / 100) / 10 });
  return out;
}

/** `lookout_leader`, `lookout_leadership_change_seconds`, `lookout_cluster_members` and `lookout_targets_checked`, read at each scrape. */
export function registerClusterMetrics(registry: Registry, info: () => ClusterInfo, now: () => number): void {
  const gauge = (name: string, help: string, value: (c: ClusterInfo) => number): void =>
    void new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value(info()));
      },
    });
  gauge('lookout_leader', '1 when this instance leads', (c) => (c.role === 'leader' ? 1 : 0));
  gauge('lookout_leadership_change_seconds', "Seconds since this instance's role last changed", (c) => (now() - c.roleSince) / 1_000);
  gauge('lookout_cluster_members', 'Live instances on the database, as this one last read them', (c) => c.peers.length);
  gauge('lookout_targets_checked', 'Targets this instance checks (its share)', (c) => c.checking);
}
