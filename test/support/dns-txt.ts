import { createSocket } from 'node:dgram';
import * as dnsPacket from 'dns-packet';

/**
 * The TXT strings a DNS server answers for a name, asked over UDP with an EDNS Client Subnet when given
 * (src/infra/traffic/dns-query.ts asks for addresses only). Undefined when nothing answers in time.
 */
export async function queryTxt(
  server: { host: string; port: number },
  name: string,
  clientSubnet?: string,
  timeoutMs = 2_000,
): Promise<{ rcode: string; strings: string[] } | undefined> {
  const id = Math.floor(Math.random() * 65_536);
  const additionals: dnsPacket.Answer[] = [];
  if (clientSubnet) {
    const [ip, prefix] = clientSubnet.split('/');
    additionals.push({
      type: 'OPT',
      name: '.',
      udpPayloadSize: 1232,
      extendedRcode: 0,
      ednsVersion: 0,
      flags: 0,
      flag_do: false,
      // 8: EDNS Client Subnet (RFC 7871)
      options: [{ code: 8, family: ip.includes(':') ? 2 : 1, sourcePrefixLength: Number(prefix), ip }],
    });
  }
  const socket = createSocket('udp4');
  try {
    const packet = await new Promise<dnsPacket.Packet | undefined>((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      socket.on('message', (message) => {
        const decoded = dnsPacket.decode(message);
        if (decoded.id !== id) return;
        clearTimeout(timer);
        resolve(decoded);
      });
      socket.send(
        dnsPacket.encode({ type: 'query', id, questions: [{ type: 'TXT', name }], additionals }),
        server.port,
        server.host,
      );
    });
    if (!packet) return undefined;
    const strings = (packet.answers ?? []).flatMap((a) =>
      a.type === 'TXT' ? ([] as (string | Buffer)[]).concat(a.data).map((d) => d.toString()) : [],
    );
    return { rcode: (packet as { rcode?: string }).rcode ?? 'NOERROR', strings };
  } finally {
    socket.close();
  }
}
