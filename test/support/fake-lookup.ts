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
