import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { matchMetadataAddress, showMetadataAddress } from '../domain/metadata-address.js';

/**
 * How a probe guards the addresses it connects to. A target's host was judged as typed when it was
 * added; a name is judged again here by what it resolves to, each time a connection is opened.
 */
export interface AddressGuardOptions {
  /** Name resolution; node's `dns.lookup` when absent. Tests pass one that never leaves the machine. */
  lookup?: LookupFunction;
  /** `ALLOW_METADATA_TARGETS`: nothing is refused. */
  allowMetadata?: boolean;
}

/**
 * The error a guarded lookup or connector fails with when an address is refused; no connection has been
 * opened. `describeNetworkError` turns it into a DOWN result whose reason is this message.
 */
export class RefusedAddressError extends Error {
  override readonly name = 'RefusedAddressError';
  readonly code = 'ERR_LOOKOUT_REFUSED_ADDRESS';
}

/** The refusal of `address` (what `host` resolved to, or `host` itself when it is an IP literal), or undefined when it may be connected to. */
function refusal(host: string, address: string): RefusedAddressError | undefined {
  const match = matchMetadataAddress(address);
  if (match === undefined) return undefined;
  const shown = showMetadataAddress(address, match);
  return new RefusedAddressError(
    host === address ? `refused: ${shown} is a ${match.kind} address` : `refused: ${host} resolves to ${shown}, a ${match.kind} address`,
  );
}

/**
 * The refusal of a host that is an IP literal (bracketed or not), or undefined. A socket connects to
 * a literal without asking the lookup, so probes check literals themselves before connecting.
 */
export function literalRefusal(host: string, options: AddressGuardOptions): RefusedAddressError | undefined {
  if (options.allowMetadata) return undefined;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  return isIP(bare) === 0 ? undefined : refusal(bare, bare);
}

/**
 * A lookup for `net.connect`, `tls.connect` and http agents that resolves every address of a name and
 * fails with {@link RefusedAddressError} when any of them is refused, so nothing is connected to. One
 * refused address refuses the name even when others are fine: connecting only to the good ones would
 * make the check's result depend on which address the resolver put first. With `allowMetadata` it is
 * the plain lookup.
 */
export function guardedLookup(options: AddressGuardOptions): LookupFunction {
  const lookup = options.lookup ?? (dnsLookup as LookupFunction);
  if (options.allowMetadata) return lookup;
  return (hostname, lookupOptions, callback) => {
    const all: LookupOptions = { ...lookupOptions, all: true };
    lookup(hostname, all, (err, answer, family) => {
      if (err) {
        callback(err, '', 0);
        return;
      }
      const addresses: LookupAddress[] = typeof answer === 'string' ? [{ address: answer, family: family ?? isIP(answer) }] : answer;
      for (const { address } of addresses) {
        const refused = refusal(hostname, address);
        if (refused) {
          callback(refused, '', 0);
          return;
        }
      }
      if (lookupOptions?.all === true) {
        callback(null, addresses);
        return;
      }
      const first = addresses[0];
      if (first === undefined) callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }), '', 0);
      else callback(null, first.address, first.family);
    });
  };
}

/** The {@link RefusedAddressError} in an error or its causes, if any. */
export function findRefusal(err: unknown, depth = 0): RefusedAddressError | undefined {
  if (err instanceof RefusedAddressError) return err;
  if (depth > 5 || err === null || typeof err !== 'object') return undefined;
  const e = err as { cause?: unknown; errors?: unknown };
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const found = findRefusal(inner, depth + 1);
      if (found) return found;
    }
  }
  return findRefusal(e.cause, depth + 1);
}
