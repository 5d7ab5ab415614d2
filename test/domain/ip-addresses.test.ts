import { isIP } from 'node:net';
import fc from 'fast-check';
import {
  formatIpAddress,
  formatSubnet,
  type IpSubnet,
  ipKey,
  parseIpAddress,
  parseSubnet,
  subnetsOverlap,
  unusableAddressProblem,
} from '../../src/domain/ip-addresses';

describe('parseIpAddress', () => {
  it.each([
    ['127.0.1.1', 4],
    ['0.0.0.0', 4],
    ['255.255.255.255', 4],
    ['::1', 6],
    ['::', 6],
    ['2001:db8::1', 6],
    ['2001:DB8:0:0:0:0:0:1', 6],
    ['1:2:3:4:5:6:7::', 6],
    ['::ffff:127.0.0.1', 6],
    ['64:ff9b::192.0.2.33', 6],
  ])('reads %s as IPv%d', (text, version) => {
    expect(parseIpAddress(text)?.version).toBe(version);
  });

  it.each([
    '',
    '127.0.1',
    '127.0.1.1.1',
    '256.0.0.1',
    '01.2.3.4',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '1.2.3.-4',
    '0x7f.0.0.1',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    '1:2:3:4:5:6:7:8::',
    '12345::1',
    'fe80::1%eth0',
    '[::1]',
    '::1.2.3',
    '1.2.3.4::',
    'g::1',
    'localhost',
  ])('refuses %j', (text) => {
    expect(parseIpAddress(text)).toBeUndefined();
  });

  it('agrees with node:net isIP on addresses and near misses (property)', () => {
    const group = fc.oneof(fc.constantFrom('0', '1', 'ffff', 'db8', '00a', '12345', 'g'), fc.nat(0xffff).map(String));
    const octet = fc.oneof(fc.nat(300).map(String), fc.constantFrom('01', '00', '255'));
    const v4 = fc.array(octet, { minLength: 3, maxLength: 5 }).map((o) => o.join('.'));
    const v6 = fc
      .tuple(fc.array(group, { maxLength: 9 }), fc.boolean(), fc.array(group, { maxLength: 8 }), fc.option(v4))
      .map(([head, gap, tail, four]) =>
        [head.join(':'), gap ? '::' : head.length && tail.length ? ':' : '', tail.join(':')]
          .join('')
          .concat(four ? `:${four}` : ''),
      );
    fc.assert(
      fc.property(fc.oneof(v4, v6), (text) => {
        const expected = isIP(text);
        expect([text, parseIpAddress(text)?.version ?? 0]).toEqual([text, expected]);
      }),
      { seed: 7, numRuns: 5_000 },
    );
  });
});

describe('formatIpAddress and ipKey', () => {
  it.each([
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['0:0::1', '::1'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
    ['1:0:0:2:0:0:3:4', '1::2:0:0:3:4'],
    ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
    ['::ffff:127.0.0.1', '::ffff:7f00:1'],
    ['127.0.1.1', '127.0.1.1'],
  ])('writes %s as %s (RFC 5952)', (text, formatted) => {
    expect(formatIpAddress(parseIpAddress(text)!)).toBe(formatted);
  });

  it('gives one key to every spelling of an address', () => {
    expect(ipKey(parseIpAddress('::1')!)).toBe(ipKey(parseIpAddress('0:0:0:0:0:0:0:1')!));
    expect(ipKey(parseIpAddress('127.0.0.1')!)).not.toBe(ipKey(parseIpAddress('::ffff:127.0.0.1')!));
  });

  it('refuses the unspecified and multicast addresses as answers', () => {
    expect(unusableAddressProblem(parseIpAddress('0.0.0.0')!)).toMatch(/unspecified/);
    expect(unusableAddressProblem(parseIpAddress('::')!)).toMatch(/unspecified/);
    expect(unusableAddressProblem(parseIpAddress('224.0.0.1')!)).toMatch(/multicast/);
    expect(unusableAddressProblem(parseIpAddress('ff02::1')!)).toMatch(/multicast/);
    expect(unusableAddressProblem(parseIpAddress('127.0.1.1')!)).toBeUndefined();
  });
});

describe('parseSubnet', () => {
  const subnet = (text: string) => parseSubnet(text) as IpSubnet;

  it.each([
    ['198.18.1.0/24', '198.18.1.0/24'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['10.1.2.3/32', '10.1.2.3/32'],
    ['2001:DB8:1::/48', '2001:db8:1::/48'],
    ['::/0', '::/0'],
  ])('reads %s', (text, formatted) => {
    expect(formatSubnet(subnet(text))).toBe(formatted);
  });

  it.each([
    [
      '198.18.1.0',
      'is not a subnet in CIDR notation (address/prefix): give one such as 198.18.1.0/24 or 2001:db8:1::/48',
    ],
    [
      '198.18.1/24',
      'does not start with an IPv4 or IPv6 address: give a subnet such as 198.18.1.0/24 or 2001:db8:1::/48',
    ],
    ['198.18.1.0/33', "has no valid prefix: an IPv4 subnet's is a whole number from 0 to 32"],
    ['198.18.1.0/024', "has no valid prefix: an IPv4 subnet's is a whole number from 0 to 32"],
    ['198.18.1.0/', "has no valid prefix: an IPv4 subnet's is a whole number from 0 to 32"],
    ['2001:db8::/129', "has no valid prefix: an IPv6 subnet's is a whole number from 0 to 128"],
    ['198.18.1.7/24', 'has bits set past its /24 prefix: give the network address, 198.18.1.0/24'],
    ['2001:db8::1/64', 'has bits set past its /64 prefix: give the network address, 2001:db8::/64'],
    ['10.0.0.0/8/8', "has no valid prefix: an IPv4 subnet's is a whole number from 0 to 32"],
  ])('refuses %s: it %s', (text, problem) => {
    expect(parseSubnet(text)).toEqual({ problem });
  });

  it('finds subnets that overlap, and only those', () => {
    expect(subnetsOverlap(subnet('198.18.1.0/24'), subnet('198.18.1.128/25'))).toBe(true);
    expect(subnetsOverlap(subnet('198.18.0.0/16'), subnet('198.18.20.0/24'))).toBe(true);
    expect(subnetsOverlap(subnet('198.18.1.0/24'), subnet('198.18.2.0/24'))).toBe(false);
    expect(subnetsOverlap(subnet('0.0.0.0/0'), subnet('::/0'))).toBe(false);
    expect(subnetsOverlap(subnet('2001:db8::/32'), subnet('2001:db8:1::/48'))).toBe(true);
    expect(subnetsOverlap(subnet('2001:db8::/48'), subnet('2001:db8:1::/48'))).toBe(false);
  });
});
