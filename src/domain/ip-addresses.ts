/**
 * IPv4 and IPv6 literals and CIDR subnets, parsed strictly and without Node's `net` (domain code is
 * pure): dotted quads without leading zeros, IPv6 in full or `::` form (an IPv4 tail allowed), no zone
 * ids (`%eth0`), no brackets. Parsed to bytes, so that `::1` and `0:0::1` are seen as one address.
 */

/** An address as bytes: 4 for IPv4, 16 for IPv6. */
export interface IpAddress {
  version: 4 | 6;
  bytes: readonly number[];
}

/** A CIDR subnet: its network address and prefix length. */
export interface IpSubnet {
  address: IpAddress;
  prefix: number;
}

/** Longest IPv6 literal (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`): longer text is no address. */
const maxLiteralChars = 45;

const octet = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const ipv4Literal = new RegExp(`^${octet}(\\.${octet}){3}$`);
const hexGroup = /^[0-9a-fA-F]{1,4}$/;

function parseIpv4(text: string): number[] | undefined {
  return ipv4Literal.test(text) ? text.split('.').map(Number) : undefined;
}

/** Groups of one side of `::` as 16-bit numbers; the last may be an IPv4 tail (two groups). */
function groupsOf(side: string, tailAllowed: boolean): number[] | undefined {
  if (side === '') return [];
  const parts = side.split(':');
  const groups: number[] = [];
  for (const [i, part] of parts.entries()) {
    if (tailAllowed && i === parts.length - 1 && part.includes('.')) {
      const v4 = parseIpv4(part);
      if (!v4) return undefined;
      groups.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else if (hexGroup.test(part)) groups.push(parseInt(part, 16));
    else return undefined;
  }
  return groups;
}

function parseIpv6(text: string): number[] | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  let groups: number[];
  if (halves.length === 1) {
    const all = groupsOf(text, true);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  } else {
    const head = groupsOf(halves[0], false);
    const tail = groupsOf(halves[1], true);
    // `::` stands for at least one group of zeros.
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  return groups.flatMap((g) => [g >> 8, g & 0xff]);
}

/** The address `text` is, or undefined when it is not an IPv4 or IPv6 literal. */
export function parseIpAddress(text: string): IpAddress | undefined {
  if (text.length > maxLiteralChars) return undefined;
  const v4 = parseIpv4(text);
  if (v4) return { version: 4, bytes: v4 };
  const v6 = text.includes(':') ? parseIpv6(text) : undefined;
  return v6 ? { version: 6, bytes: v6 } : undefined;
}

/** One text for each address, however it was written: the key to compare addresses by. */
export function ipKey(address: IpAddress): string {
  return formatIpAddress(address);
}

/** The address as RFC 5952 writes it: dotted quad, or lowercase IPv6 with the longest run of zero groups as `::`. */
export function formatIpAddress({ version, bytes }: IpAddress): string {
  if (version === 4) return bytes.join('.');
  const groups = Array.from({ length: 8 }, (_, i) => (bytes[2 * i] << 8) | bytes[2 * i + 1]);
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.length < 2) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

/** Why `address` cannot be given to clients as a DNS answer, or undefined when it can. */
export function unusableAddressProblem({ version, bytes }: IpAddress): string | undefined {
  if (bytes.every((b) => b === 0)) return 'is the unspecified address, which no client can reach';
  if (version === 4 ? bytes[0] >= 224 && bytes[0] <= 239 : bytes[0] === 0xff)
    return 'is a multicast address, which no DNS answer can point to';
  return undefined;
}

/**
 * The subnet `text` is (`198.18.1.0/24`, `2001:db8::/32`), or why it is not one, said of the text
 * (`"10.0.0.1/8" has bits set past its /8 prefix: ...`): the prefix in range, and no bits set past it
 * (the network address is suggested).
 */
export function parseSubnet(text: string): IpSubnet | { problem: string } {
  const slash = text.indexOf('/');
  const example = 'such as 198.18.1.0/24 or 2001:db8:1::/48';
  if (slash < 0) return { problem: `is not a subnet in CIDR notation (address/prefix): give one ${example}` };
  const address = parseIpAddress(text.slice(0, slash));
  if (!address) return { problem: `does not start with an IPv4 or IPv6 address: give a subnet ${example}` };
  const bits = address.bytes.length * 8;
  const prefixText = text.slice(slash + 1);
  const prefix = /^(0|[1-9]\d{0,2})$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!(prefix <= bits))
    return { problem: `has no valid prefix: an IPv${address.version} subnet's is a whole number from 0 to ${bits}` };
  const network = { version: address.version, bytes: masked(address.bytes, prefix) };
  if (network.bytes.some((b, i) => b !== address.bytes[i])) {
    return {
      problem: `has bits set past its /${prefix} prefix: give the network address, ${formatIpAddress(network)}/${prefix}`,
    };
  }
  return { address: network, prefix };
}

function masked(bytes: readonly number[], prefix: number): number[] {
  return bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
}

/** Whether two subnets share an address (one holds the other, or they are the same). */
export function subnetsOverlap(a: IpSubnet, b: IpSubnet): boolean {
  if (a.address.version !== b.address.version) return false;
  const prefix = Math.min(a.prefix, b.prefix);
  const x = masked(a.address.bytes, prefix);
  const y = masked(b.address.bytes, prefix);
  return x.every((byte, i) => byte === y[i]);
}

/** The subnet in CIDR notation, with its address as RFC 5952 writes it. */
export function formatSubnet(subnet: IpSubnet): string {
  return `${formatIpAddress(subnet.address)}/${subnet.prefix}`;
}
