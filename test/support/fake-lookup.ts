import type { LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';

/**
 * A resolver that never leaves the machine: `localhost` is 127.0.0.1 (and ::1), every other name fails
 * as an unknown host would (ENOTFOUND). Probe tests use it so no DNS query goes to the network.
 */
export const loopbackLookup: LookupFunction = (hostname, options, callback) => {
  const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
  if (hostname === 'localhost') {
    const addresses: LookupAddress[] = [{ address: '127.0.0.1', family: 4 }];
    if (all) (callback as unknown as (err: null, a: LookupAddress[]) => void)(null, addresses);
    else callback(null, '127.0.0.1', 4);
    return;
  }
  const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname, syscall: 'getaddrinfo' });
  setImmediate(() => callback(err, '', 0));
};

/** A resolver with fixed answers that never leaves the machine, and the names it was asked for. */
export interface ScriptedLookup {
  lookup: LookupFunction;
  /** Every name asked, in order. */
  readonly asked: string[];
}

/**
 * A resolver that answers each name of `answers` with its addresses (in that order) and every other
 * name with ENOTFOUND. Like dns.lookup it honours `all` and `family`.
 */
export function scriptedLookup(answers: Record<string, readonly string[]>): ScriptedLookup {
  const asked: string[] = [];
  const lookup: LookupFunction = (hostname, options, callback) => {
    asked.push(hostname);
    const family = typeof options === 'object' && options !== null ? Number((options as { family?: unknown }).family ?? 0) : 0;
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
    const addresses: LookupAddress[] = (Object.hasOwn(answers, hostname) ? (answers[hostname] ?? []) : [])
      .map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
      .filter((a) => family === 0 || a.family === family);
    setImmediate(() => {
      const first = addresses[0];
      if (first === undefined) {
        callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname, syscall: 'getaddrinfo' }), '', 0);
      } else if (all) {
        (callback as unknown as (err: null, a: LookupAddress[]) => void)(null, addresses);
      } else {
        callback(null, first.address, first.family);
      }
    });
  };
  return { lookup, asked };
}
