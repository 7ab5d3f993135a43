import { networkInterfaces } from 'node:os';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createSourceResolver, localAddressFor } from '../../src/diagnostics/source.js';

// The system resolver here is not on loopback: name lookups are answered by this stand-in so that no
// DNS query leaves the machine. Addresses never reach it (localAddressFor skips the lookup for them).
const lookup = vi.hoisted(() => vi.fn());
vi.mock('node:dns/promises', () => ({ lookup }));

const notFound = (host: string): Error => Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND', hostname: host });

lookup.mockImplementation(async (host: string) => {
  if (host === 'localhost') return { address: '127.0.0.1', family: 4 };
  if (host === 'ip6-localhost') return { address: '::1', family: 6 };
  if (host === 'slow.example') return new Promise(() => {});
  throw notFound(host);
});

const HAS_IPV6_LOOPBACK = Object.values(networkInterfaces())
  .flat()
  .some((i) => i?.address === '::1');

describe('localAddressFor', () => {
  afterEach(() => {
    lookup.mockClear();
  });

  it('is 127.0.0.1 for 127.0.0.1, without a lookup', async () => {
    expect(await localAddressFor('127.0.0.1')).toBe('127.0.0.1');
    expect(lookup).not.toHaveBeenCalled();
  });

  it('is a loopback address for another address in 127.0.0.0/8', async () => {
    expect(await localAddressFor('127.0.0.2')).toMatch(/^127\./);
  });

  it.skipIf(!HAS_IPV6_LOOPBACK)('is ::1 for ::1', async () => {
    expect(await localAddressFor('::1')).toBe('::1');
    expect(lookup).not.toHaveBeenCalled();
  });

  it('resolves a host name first', async () => {
    expect(await localAddressFor('localhost')).toBe('127.0.0.1');
    expect(lookup).toHaveBeenCalledWith('localhost');
  });

  it.skipIf(!HAS_IPV6_LOOPBACK)('opens an IPv6 socket for a name that resolves to IPv6', async () => {
    expect(await localAddressFor('ip6-localhost')).toBe('::1');
  });

  it('is undefined for a name that does not resolve', async () => {
    expect(await localAddressFor('lookout-test.invalid')).toBeUndefined();
    expect(lookup).toHaveBeenCalledWith('lookout-test.invalid');
  });

  it('is undefined when the lookup takes longer than the timeout', async () => {
    const started = performance.now();
    expect(await localAddressFor('slow.example', 50)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('createSourceResolver', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('carries the label', () => {
    expect(createSourceResolver('eu-west-1', 1_000, async () => undefined).label).toBe('eu-west-1');
  });

  it('asks once per host and answers the second call from its cache', async () => {
    const find = vi.fn(async (host: string) => (host === 'a.example' ? '10.0.0.2' : undefined));
    const resolver = createSourceResolver('vm', 60_000, find);

    expect(await resolver.addressFor('a.example')).toBe('10.0.0.2');
    expect(await resolver.addressFor('a.example')).toBe('10.0.0.2');
    expect(find).toHaveBeenCalledTimes(1);

    expect(await resolver.addressFor('b.example')).toBeUndefined();
    expect(await resolver.addressFor('b.example')).toBeUndefined();
    expect(find).toHaveBeenCalledTimes(2);
    expect(find.mock.calls).toEqual([['a.example'], ['b.example']]);
  });

  it('asks again once the ttl has passed', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-01-15T10:00:00Z') });
    const answers = ['10.0.0.2', '10.0.0.3'];
    const find = vi.fn(async () => answers.shift());
    const resolver = createSourceResolver('vm', 60_000, find);

    expect(await resolver.addressFor('a.example')).toBe('10.0.0.2');
    vi.advanceTimersByTime(59_999);
    expect(await resolver.addressFor('a.example')).toBe('10.0.0.2');
    expect(find).toHaveBeenCalledTimes(1);

    vi.advanceTimersByTime(1);
    expect(await resolver.addressFor('a.example')).toBe('10.0.0.3');
    expect(find).toHaveBeenCalledTimes(2);
  });

  it('uses localAddressFor by default', async () => {
    expect(await createSourceResolver('vm').addressFor('127.0.0.1')).toBe('127.0.0.1');
  });
});
