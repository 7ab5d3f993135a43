import { describe, expect, it } from 'vitest';
import {
  isMetadataHostName,
  matchMetadataAddress,
  metadataError,
  parseIpv4,
  parseIpv6,
  showMetadataAddress,
} from '../../src/domain/metadata-address.js';

describe('matchMetadataAddress', () => {
  it.each([
    // The instance metadata service of AWS, Azure, GCP, OCI, OpenStack…, in every spelling the resolver reads.
    ['169.254.169.254', 'cloud metadata', undefined],
    ['169.254.169.254.', 'cloud metadata', undefined],
    ['2852039166', 'cloud metadata', undefined],
    ['0xa9fea9fe', 'cloud metadata', undefined],
    ['0xA9FEA9FE', 'cloud metadata', undefined],
    ['0251.0376.0251.0376', 'cloud metadata', undefined],
    ['169.254.43518', 'cloud metadata', undefined],
    ['169.16689662', 'cloud metadata', undefined],
    // ECS task credentials, EKS Pod Identity, Alibaba.
    ['169.254.170.2', 'cloud metadata', undefined],
    ['169.254.170.23', 'cloud metadata', undefined],
    ['100.100.100.200', 'cloud metadata', undefined],
    // The rest of 169.254.0.0/16.
    ['169.254.0.0', 'link-local', undefined],
    ['169.254.0.1', 'link-local', undefined],
    ['169.254.169.253', 'link-local', undefined],
    ['169.254.255.255', 'link-local', undefined],
    // IPv6 metadata addresses, in any form.
    ['fd00:ec2::254', 'cloud metadata', undefined],
    ['FD00:EC2::254', 'cloud metadata', undefined],
    ['fd00:ec2:0:0:0:0:0:254', 'cloud metadata', undefined],
    ['[fd00:ec2::254]', 'cloud metadata', undefined],
    ['fd00:ec2::23', 'cloud metadata', undefined],
    ['fd20:ce::254', 'cloud metadata', undefined],
    // fe80::/10.
    ['fe80::1', 'link-local', undefined],
    ['fe80::1%eth0', 'link-local', undefined],
    ['[fe80::a9fe:a9fe]', 'link-local', undefined],
    ['FEBF:ffff::1', 'link-local', undefined],
    // IPv6 addresses that carry a refused IPv4 address.
    ['::ffff:169.254.169.254', 'cloud metadata', '169.254.169.254'],
    ['::ffff:a9fe:a9fe', 'cloud metadata', '169.254.169.254'],
    ['0:0:0:0:0:ffff:a9fe:a9fe', 'cloud metadata', '169.254.169.254'],
    ['::169.254.169.254', 'cloud metadata', '169.254.169.254'],
    ['::a9fe:a9fe', 'cloud metadata', '169.254.169.254'],
    ['::ffff:0:169.254.169.254', 'cloud metadata', '169.254.169.254'],
    ['64:ff9b::a9fe:a9fe', 'cloud metadata', '169.254.169.254'],
    ['64:ff9b::169.254.169.254', 'cloud metadata', '169.254.169.254'],
    ['[64:ff9b::a9fe:a9fe]', 'cloud metadata', '169.254.169.254'],
    ['64:ff9b::a9fe:aa02', 'cloud metadata', '169.254.170.2'],
    ['::ffff:100.100.100.200', 'cloud metadata', '100.100.100.200'],
    ['2002:a9fe:a9fe::', 'cloud metadata', '169.254.169.254'],
    ['2002:a9fe:a9fe:1::1', 'cloud metadata', '169.254.169.254'],
    ['::ffff:169.254.1.1', 'link-local', '169.254.1.1'],
    ['64:ff9b::a9fe:0101', 'link-local', '169.254.1.1'],
  ])('refuses %j as a %s address', (address, kind, ipv4) => {
    expect(matchMetadataAddress(address)).toEqual(ipv4 === undefined ? { kind } : { kind, ipv4 });
  });

  it.each([
    // Private and loopback addresses: monitoring internal services is a main use.
    '10.0.0.1',
    '172.16.0.1',
    '192.168.1.1',
    '127.0.0.1',
    '100.64.0.1',
    '100.100.100.199',
    '100.100.100.201',
    '169.253.255.255',
    '169.255.0.0',
    '8.8.8.8',
    '0.0.0.0',
    '::1',
    '::',
    'fd00::1',
    'fd00:ec2::253',
    'fc00::1',
    'fec0::1',
    '2001:db8::1',
    '::ffff:10.0.0.1',
    '::ffff:127.0.0.1',
    '64:ff9b::a00:1',
    '64:ff9b:1::a9fe:a9fe',
    '2002:a00:1::',
    // Not addresses at all.
    'api.example.com',
    'metadata',
    '',
    '1.2.3.4.5',
    '256.1.1.1',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '::ffff:169.254.169.256',
    '08.1.1.1',
  ])('allows %j', (address) => {
    expect(matchMetadataAddress(address)).toBeUndefined();
  });
});

describe('parseIpv4', () => {
  it.each([
    ['10.0.0.1', 0x0a000001],
    ['0x7f.1', 0x7f000001],
    ['017700000001', 0x7f000001],
    ['4294967295', 0xffffffff],
    ['0', 0],
  ])('reads %j', (text, value) => {
    expect(parseIpv4(text)).toBe(value);
  });

  it.each(['4294967296', '1.256.0.0', '1.2.65536', 'a.b.c.d', '1..2', '09'])('refuses %j', (text) => {
    expect(parseIpv4(text)).toBeUndefined();
  });
});

describe('parseIpv6', () => {
  it.each([
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['1::', '00010000000000000000000000000000'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008'],
    ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
    ['::ffff:1.2.3.4', '00000000000000000000ffff01020304'],
  ])('reads %j', (text, hex) => {
    expect(Buffer.from(parseIpv6(text) ?? []).toString('hex')).toBe(hex);
  });

  it.each(['1:2:3:4:5:6:7:8:9', '1::2::3', ':1', '1:', '12345::', '1.2.3.4::', '::1.2.3', 'g::1', '1:2:3:4:5:6:7:8::'])('refuses %j', (text) => {
    expect(parseIpv6(text)).toBeUndefined();
  });
});

describe('isMetadataHostName', () => {
  it.each(['metadata.google.internal', 'METADATA.GOOGLE.INTERNAL', 'metadata.google.internal.', 'metadata', 'Metadata.', 'instance-data', 'instance-data.'])(
    'is true for %j',
    (name) => {
      expect(isMetadataHostName(name)).toBe(true);
    },
  );

  it.each(['metadata.example.com', 'google.internal', 'my-metadata', 'instance-data.example.com', 'metadata..'])('is false for %j', (name) => {
    expect(isMetadataHostName(name)).toBe(false);
  });
});

describe('showMetadataAddress', () => {
  it('names the IPv4 address an IPv6 one carries', () => {
    expect(showMetadataAddress('64:ff9b::a9fe:a9fe', { kind: 'cloud metadata', ipv4: '169.254.169.254' })).toBe('64:ff9b::a9fe:a9fe (169.254.169.254)');
    expect(showMetadataAddress('169.254.170.2', { kind: 'cloud metadata' })).toBe('169.254.170.2');
  });
});

describe('metadataError', () => {
  it.each([
    ['169.254.170.2', '169.254.170.2 is a cloud metadata address; Lookout refuses it unless ALLOW_METADATA_TARGETS=true'],
    ['[::169.254.169.254]', '::a9fe:a9fe (169.254.169.254) is a cloud metadata address; Lookout refuses it unless ALLOW_METADATA_TARGETS=true'],
    ['169.254.7.7', '169.254.7.7 is a link-local address; Lookout refuses it unless ALLOW_METADATA_TARGETS=true'],
    ['Metadata.Google.Internal', 'metadata.google.internal is the name of a cloud metadata service; Lookout refuses it unless ALLOW_METADATA_TARGETS=true'],
  ])('words the refusal of %j', (host, error) => {
    expect(metadataError(host, false)).toBe(error);
    expect(metadataError(host, true)).toBeUndefined();
  });

  it.each(['10.0.0.1', 'db.internal', '::1'])('has nothing to say about %j', (host) => {
    expect(metadataError(host, false)).toBeUndefined();
  });
});
