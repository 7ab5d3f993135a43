import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, Socket, type LookupFunction } from 'node:net';

/** A net that keeps every socket of the test process on loopback, and what it stopped. */
export interface LoopbackOnly {
  /** Every non-loopback address a socket was about to connect to; none of them was reached. */
  readonly blocked: string[];
  /** Puts `Socket.prototype.connect` back. */
  restore(): void;
}

const isLoopback = (address: string): boolean =>
  /^127\.\d+\.\d+\.\d+$/.test(address) || address === '::1' || /^::ffff:127\.\d+\.\d+\.\d+$/i.test(address);

const unreachable = (address: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`connect ENETUNREACH ${address} (stopped by the test: loopback only)`), { code: 'ENETUNREACH' });

type ConnectOptions = { host?: unknown; path?: unknown; lookup?: LookupFunction };

/**
 * Wraps `Socket.prototype.connect` (which net.connect, tls.connect, http agents and undici all reach) so
 * that a socket only ever connects to 127.0.0.0/8 or ::1: an IP literal elsewhere, or a name that resolves
 * anywhere else, fails at once with ENETUNREACH before any packet is sent, and the address is recorded.
 * It sits after the code under test: a guard that lets an address through shows up in `blocked`.
 */
export function loopbackOnly(): LoopbackOnly {
  const blocked: string[] = [];
  const original = Socket.prototype.connect;
  function guarded(this: Socket, ...args: unknown[]): Socket {
    const first = args[0];
    const options = (Array.isArray(first) ? first[0] : first) as ConnectOptions | undefined;
    if (options !== null && typeof options === 'object' && options.path == null) {
      const host = typeof options.host === 'string' ? options.host : 'localhost';
      if (isIP(host) !== 0) {
        if (!isLoopback(host)) {
          blocked.push(host);
          options.host = 'stopped.invalid';
          options.lookup = (_name, _opts, callback) => setImmediate(() => callback(unreachable(host), '', 0));
        }
      } else {
        const inner = options.lookup ?? (dnsLookup as LookupFunction);
        options.lookup = (name, opts, callback) =>
          inner(name, opts, (err, answer, family) => {
            if (err) return callback(err, answer, family);
            const addresses = typeof answer === 'string' ? [answer] : answer.map((a: LookupAddress) => a.address);
            const outside = addresses.filter((a) => !isLoopback(a));
            if (outside.length > 0) {
              blocked.push(...outside);
              return callback(unreachable(outside[0] ?? name), '', 0);
            }
            callback(null, answer, family);
          });
      }
    } else if (typeof first === 'number' || typeof first === 'string') {
      // connect(port, host) and IPC paths are not used by the code under test: refuse them outright.
      throw new Error('loopbackOnly: only connect(options) is supported in tests');
    }
    return original.apply(this, args as Parameters<Socket['connect']>);
  }
  Socket.prototype.connect = guarded as Socket['connect'];
  return {
    blocked,
    restore: () => {
      Socket.prototype.connect = original;
    },
  };
}
