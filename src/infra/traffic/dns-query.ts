import { randomInt } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import * as dnsPacket from 'dns-packet';
import { InvalidInputError, UnreachableError } from '../../domain/errors';

/** Where DNS queries go: a nameserver's address and port. */
export interface Nameserver {
  host: string;
  port: number;
}

/** What one question got back. */
export interface DnsAnswer {
  /** The response code: NOERROR, NXDOMAIN, SERVFAIL, ... */
  rcode: string;
  /** The addresses of the A or AAAA records answered, in the order the server gave them. */
  addresses: string[];
  /** The strings of the TXT records answered (a TXT question). */
  texts: string[];
  /** The smallest TTL among them, in seconds (undefined without answers). */
  ttl?: number;
}

export interface DnsQuestion {
  name: string;
  type?: 'A' | 'AAAA' | 'TXT';
  /**
   * The client's subnet (EDNS Client Subnet, RFC 7871) the server should answer for, as a resolver
   * would send it: `198.18.1.0/24`. Without it, the server answers for the querying address.
   */
  clientSubnet?: string;
  /** How long to wait for the answer; default 2 s. */
  timeoutMs?: number;
}

/** Reads `host:port`, `[v6]:port` or a bare address (port 53). */
export function parseNameserver(text: string): Nameserver {
  const bracketed = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text);
  const plain = /^([^:]+)(?::(\d{1,5}))?$/.exec(text);
  const match = bracketed ?? plain ?? (isIP(text) === 6 ? [text, text, undefined] : null);
  const port = match?.[2] === undefined ? 53 : Number(match[2]);
  if (!match || isIP(match[1]) === 0 || port < 1 || port > 65535) {
    throw new InvalidInputError(
      `nameserver ${JSON.stringify(text.slice(0, 80))}: expected an address with an optional port (127.0.0.1:5354 or [::1]:53)`,
    );
  }
  return { host: match[1], port };
}

/** One question over UDP; a server that does not answer in time is unreachable. */
export async function queryDns(server: Nameserver, question: DnsQuestion): Promise<DnsAnswer> {
  const type = question.type ?? 'A';
  const id = randomInt(0, 65_536);
  const additionals: dnsPacket.Answer[] = [];
  if (question.clientSubnet) {
    const [ip, prefix] = subnetParts(question.clientSubnet);
    const opt: dnsPacket.OptAnswer = {
      type: 'OPT',
      name: '.',
      udpPayloadSize: 1232,
      extendedRcode: 0,
      ednsVersion: 0,
      flags: 0,
      flag_do: false,
      // Option 8: EDNS Client Subnet (RFC 7871).
      options: [{ code: 8, family: isIP(ip) === 6 ? 2 : 1, sourcePrefixLength: prefix, ip }],
    };
    additionals.push(opt);
  }
  const query = dnsPacket.encode({ type: 'query', id, questions: [{ type, name: question.name }], additionals });
  const socket = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
  const timeoutMs = question.timeoutMs ?? 2_000;
  try {
    const response = await new Promise<dnsPacket.Packet>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new UnreachableError(`DNS server ${server.host}:${server.port} did not answer within ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      socket.on('error', (err) => {
        clearTimeout(timer);
        reject(new UnreachableError(`DNS server ${server.host}:${server.port}: ${err.message}`));
      });
      socket.on('message', (message) => {
        let packet: dnsPacket.Packet;
        try {
          packet = dnsPacket.decode(message);
        } catch {
          return; // not a DNS message: keep waiting for the answer
        }
        if (packet.id !== id) return; // a late answer to an earlier question
        clearTimeout(timer);
        resolve(packet);
      });
      socket.send(query, server.port, server.host);
    });
    const records = (response.answers ?? []).filter((a) => a.type === type) as Array<{
      data: string | Buffer | (string | Buffer)[];
      ttl?: number;
    }>;
    const ttls = records.map((r) => r.ttl ?? 0);
    const asText = (d: string | Buffer) => d.toString();
    return {
      rcode: (response as { rcode?: string }).rcode ?? 'NOERROR',
      addresses: type === 'TXT' ? [] : records.map((r) => asText(r.data as string)),
      texts: type === 'TXT' ? records.flatMap((r) => ([] as (string | Buffer)[]).concat(r.data).map(asText)) : [],
      ttl: ttls.length ? Math.min(...ttls) : undefined,
    };
  } finally {
    socket.close();
  }
}

function subnetParts(subnet: string): [string, number] {
  const [ip, prefixText] = subnet.split('/');
  const prefix = Number(prefixText ?? (isIP(ip) === 6 ? 128 : 32));
  const max = isIP(ip) === 6 ? 128 : 32;
  if (isIP(ip) === 0 || !Number.isInteger(prefix) || prefix < 0 || prefix > max) {
    throw new InvalidInputError(
      `client subnet ${JSON.stringify(subnet.slice(0, 60))}: expected an address and prefix (198.18.1.0/24)`,
    );
  }
  return [ip, prefix];
}
