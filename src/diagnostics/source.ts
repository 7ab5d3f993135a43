import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { withTimeout } from '../lib/timeout.js';

/** Where Lookout runs, as alerts and traces name it. */
export interface SourceResolver {
  readonly label: string;
  /** The local address the system would use to reach `host` (cached; undefined when unknown). */
  addressFor(host: string): Promise<string | undefined>;
}

/**
 * The local address for a destination: a UDP socket is "connected" to it, which makes the kernel pick
 * the route and source address without sending a single packet.
 */
export async function localAddressFor(host: string, timeoutMs = 500): Promise<string | undefined> {
  try {
    const address = isIP(host) ? host : (await withTimeout(lookup(host), timeoutMs))?.address;
    if (!address) return undefined;
    const socket = createSocket(isIP(address) === 6 ? 'udp6' : 'udp4');
    try {
      await withTimeout(new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.connect(9, address, () => resolve());
      }), timeoutMs);
      return socket.address().address;
    } finally {
      socket.close();
    }
  } catch {
    return undefined;
  }
}

/** A resolver with the label of `SOURCE_LABEL` and a per-host cache of local addresses. */
export function createSourceResolver(label: string, ttlMs = 600_000, find = localAddressFor): SourceResolver {
  const cache = new Map<string, { address: string | undefined; until: number }>();
  return {
    label,
    async addressFor(host) {
      const now = Date.now();
      const hit = cache.get(host);
      if (hit && hit.until > now) return hit.address;
      const address = await find(host);
      if (cache.size > 1_000) cache.clear();
      cache.set(host, { address, until: now + ttlMs });
      return address;
    },
  };
}
