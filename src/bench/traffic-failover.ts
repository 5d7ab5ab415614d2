/**
 * How fast traffic steering reacts, measured against a private PowerDNS (the rig's server, in a temporary
 * folder of its own on spare ports) with three regions on loopback traffic addresses whose health
 * endpoints the bench can turn bad:
 *
 *   - failover: a client's closest region starts answering its health check with 503; the time until
 *     the DNS answer for that client names another region, and, once the region is healthy again, until
 *     it answers with it again. PowerDNS checks health itself every interval, so the ratio to the
 *     interval is the figure to watch.
 *   - drain propagation: `setRegion(drained)` through the provider, from the start of the write and from
 *     its return to the first answer without the region. The authoritative server answers the change at
 *     once (no caches); a resolver may hold the old answer for up to one TTL, which is what a release
 *     waits after draining a region, so the ratio to the TTL is the figure to watch.
 *
 * Answers are asked as a resolver would ask them for each client: with its subnet (EDNS Client Subnet).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { trafficAt } from '../domain/traffic-policy';
import { type Nameserver, queryDns } from '../infra/traffic/dns-query';
import type { PowerDnsTraffic } from '../infra/traffic/powerdns-traffic';
import { trafficProvider } from '../infra/traffic/steering-target';
import { startSteeredWorld } from '../rig/steered-world';

/** Three regions on loopback traffic addresses nothing else of Meridian's uses (127.0.91.0/24). */
const regions = {
  'us-east': { address: '127.0.91.1', latitude: 39.0, longitude: -77.5 },
  'eu-west': { address: '127.0.91.2', latitude: 53.3, longitude: -6.3 },
  'ap-northeast-2': { address: '127.0.91.3', latitude: 37.6, longitude: 127.0 },
} as const;
type RegionName = keyof typeof regions;

/** A client population near each region (benchmark subnets: they only travel inside EDNS Client Subnet). */
const clients: { name: string; subnet: string; closest: RegionName; latitude: number; longitude: number }[] = [
  { name: 'new-york', subnet: '198.18.1.0/24', closest: 'us-east', latitude: 40.7, longitude: -74.0 },
  { name: 'london', subnet: '198.18.2.0/24', closest: 'eu-west', latitude: 51.5, longitude: -0.1 },
  { name: 'tokyo', subnet: '198.18.3.0/24', closest: 'ap-northeast-2', latitude: 35.7, longitude: 139.7 },
];

const regionAt = new Map<string, string>(Object.entries(regions).map(([name, r]) => [r.address, name]));
const hostname = 'shop.example.test';

/** PowerDNS's own check interval (powerDnsBehaviour: lua-health-checks-interval=1), which the spec must match. */
const intervalMs = 1000;
const healthTimeoutMs = 500;
const ttlMs = 2000;
const failoverPollMs = 20;
const drainPollMs = 10;
/** The longest one wait for an answer to change may take before the bench gives up saying so. */
const waitLimitMs = 30_000;

/** One failover trial: a client's closest region lost its health, then got it back. */
export interface FailoverTrial {
  client: string;
  /** The region that lost its health (the client's closest). */
  region: string;
  /** The region the client was answered with instead. */
  answeredBy: string;
  /** From the health endpoint answering 503 to the first answer naming another region. */
  failoverMs: number;
  /** From the health endpoint answering 200 again to the first answer naming the region again. */
  recoveryMs: number;
}

/** One drain trial: a client's closest region drained through the provider. */
export interface DrainTrial {
  client: string;
  region: string;
  /** How long `setRegion` took. */
  writeMs: number;
  /** From the start of `setRegion` to the first answer without the region. */
  fromWriteStartMs: number;
  /** From the return of `setRegion` to the first answer without the region asked after it (one round trip at least). */
  fromWriteReturnMs: number;
}

export interface TrafficFailover {
  /** Trials of each kind. */
  trials: number;
  intervalMs: number;
  healthTimeoutMs: number;
  ttlMs: number;
  failoverPollMs: number;
  drainPollMs: number;
  failovers: FailoverTrial[];
  drains: DrainTrial[];
  failoverMedianMs: number;
  failoverMaxMs: number;
  recoveryMedianMs: number;
  recoveryMaxMs: number;
  drainFromStartMedianMs: number;
  drainFromStartMaxMs: number;
  drainFromReturnMedianMs: number;
  drainFromReturnMaxMs: number;
  writeMedianMs: number;
  /** failoverMedianMs / intervalMs. */
  failoverRatio: number;
  /** recoveryMedianMs / intervalMs. */
  recoveryRatio: number;
  /** drainFromStartMedianMs / ttlMs. */
  drainFromStartRatio: number;
  /** drainFromReturnMedianMs / ttlMs. */
  drainFromReturnRatio: number;
}

export interface TrafficFailoverOptions {
  /** Trials of failover and of drain each. Default 10; the quick form takes 2. */
  trials?: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Runs the trials against a private PowerDNS and health endpoints it starts, and stops them all again. */
export async function measureTrafficFailover(options: TrafficFailoverOptions = {}): Promise<TrafficFailover> {
  const trials = options.trials ?? 10;
  const world = await startSteeredWorld({
    regions,
    clients,
    ttl: `${ttlMs / 1000}s`,
    interval: `${intervalMs / 1000}s`,
    timeout: `${healthTimeoutMs}ms`,
    overrides: { duringDeploy: 'drain', ramp: ['100%'] },
  });
  try {
    const { traffic, dnsPort } = world;
    const provider = await trafficProvider(traffic, world.env);
    await provider.preflight();
    await provider.publish('bench: traffic failover');
    const server = { host: '127.0.0.1', port: dnsPort };
    // PowerDNS counts an address as down until its first check: wait until every client has its closest.
    for (const client of clients)
      await answerUntil(
        server,
        client.subnet,
        (r) => r === client.closest,
        50,
        `${client.name} answered by ${client.closest}`,
      );

    const failovers: FailoverTrial[] = [];
    for (let i = 0; i < trials; i++) {
      const client = clients[i % clients.length];
      // A random phase against the server's checker, which the previous recovery lined the bench up with.
      await sleep(Math.random() * intervalMs);
      const lost = performance.now();
      world.setHealthy(client.closest, false);
      const other = await answerUntil(
        server,
        client.subnet,
        (r) => r !== undefined && r !== client.closest,
        failoverPollMs,
        `${client.name} answered by another region than ${client.closest} once its health check fails`,
      );
      const failoverMs = other.at - lost;
      // The failover was seen just after a check: without a random wait, the recovery would always start
      // one whole interval before the next.
      await sleep(Math.random() * intervalMs);
      const back = performance.now();
      world.setHealthy(client.closest, true);
      const again = await answerUntil(
        server,
        client.subnet,
        (r) => r === client.closest,
        failoverPollMs,
        `${client.name} answered by ${client.closest} again once it is healthy`,
      );
      failovers.push({
        client: client.name,
        region: client.closest,
        answeredBy: other.region!,
        failoverMs,
        recoveryMs: again.at - back,
      });
    }

    const drains: DrainTrial[] = [];
    for (let i = 0; i < trials; i++) drains.push(await drainTrial(provider, server, clients[i % clients.length]));

    const failoverMs = failovers.map((t) => t.failoverMs);
    const recoveryMs = failovers.map((t) => t.recoveryMs);
    const fromStart = drains.map((t) => t.fromWriteStartMs);
    const fromReturn = drains.map((t) => t.fromWriteReturnMs);
    return {
      trials,
      intervalMs,
      healthTimeoutMs,
      ttlMs,
      failoverPollMs,
      drainPollMs,
      failovers,
      drains,
      failoverMedianMs: median(failoverMs),
      failoverMaxMs: Math.max(...failoverMs),
      recoveryMedianMs: median(recoveryMs),
      recoveryMaxMs: Math.max(...recoveryMs),
      drainFromStartMedianMs: median(fromStart),
      drainFromStartMaxMs: Math.max(...fromStart),
      drainFromReturnMedianMs: median(fromReturn),
      drainFromReturnMaxMs: Math.max(...fromReturn),
      writeMedianMs: median(drains.map((t) => t.writeMs)),
      failoverRatio: median(failoverMs) / intervalMs,
      recoveryRatio: median(recoveryMs) / intervalMs,
      drainFromStartRatio: median(fromStart) / ttlMs,
      drainFromReturnRatio: median(fromReturn) / ttlMs,
    };
  } finally {
    await world.stop();
  }
}

/** Drains the client's closest region while asking for the client's answer, then restores it. */
async function drainTrial(
  provider: PowerDnsTraffic,
  server: Nameserver,
  client: (typeof clients)[number],
): Promise<DrainTrial> {
  const note = (reason: string) => ({ by: 'bench', reason, at: new Date().toISOString() });
  const without = (r: string | undefined) => r !== undefined && r !== client.closest;
  const what = `${client.name} answered without ${client.closest} once it is drained`;
  const stop = new AbortController();
  const started = performance.now();
  const watching = answerUntil(server, client.subnet, without, drainPollMs, what, stop.signal);
  let returned: number;
  try {
    await provider.setRegion(client.closest, trafficAt(0, note('bench: drain propagation')));
    returned = performance.now();
  } catch (err) {
    stop.abort();
    await watching.catch(() => undefined);
    throw err;
  }
  const first = await watching;
  const afterReturn = await answerUntil(server, client.subnet, without, drainPollMs, what);
  await provider.setRegion(client.closest, trafficAt(1, note('bench: drain propagation over')));
  await answerUntil(
    server,
    client.subnet,
    (r) => r === client.closest,
    drainPollMs,
    `${client.name} back on ${client.closest}`,
  );
  return {
    client: client.name,
    region: client.closest,
    writeMs: returned - started,
    fromWriteStartMs: first.at - started,
    fromWriteReturnMs: afterReturn.at - returned,
  };
}

/**
 * Asks for the client's answer every `everyMs` (from one question's start to the next's) until the
 * region it names passes `done`; returns that region and when its answer arrived. A question lost or
 * unanswered counts as no answer yet.
 */
async function answerUntil(
  server: Nameserver,
  subnet: string,
  done: (region: string | undefined) => boolean,
  everyMs: number,
  what: string,
  signal?: AbortSignal,
): Promise<{ region: string | undefined; at: number }> {
  const deadline = performance.now() + waitLimitMs;
  let last = 'no answer';
  for (;;) {
    if (signal?.aborted) throw new Error(`stopped waiting for ${what}`);
    const asked = performance.now();
    const region = await queryDns(server, { name: hostname, clientSubnet: subnet, timeoutMs: 500 }).then(
      (a) => {
        last = a.addresses.length ? a.addresses.join(', ') : a.rcode;
        return a.addresses.map((address) => regionAt.get(address)).find(Boolean);
      },
      () => undefined,
    );
    const at = performance.now();
    if (done(region)) return { region, at };
    if (at > deadline) throw new Error(`waited ${waitLimitMs / 1000} s for ${what}; the last answer was ${last}`);
    await sleep(Math.max(0, asked + everyMs - performance.now()));
  }
}

const ms = (x: number) => `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`;
const ratio = (x: number) => `${x < 0.1 ? x.toFixed(3) : x.toFixed(2)}x`;

/** A heading and a line per figure, for the bench's output. */
export function describeTrafficFailover(r: TrafficFailover): string {
  const interval = `${r.intervalMs / 1000} s`;
  const ttl = `${r.ttlMs / 1000} s`;
  return [
    `traffic steering through a private PowerDNS, 3 regions on loopback (health checked by the server every ${interval}, ` +
      `${r.healthTimeoutMs} ms timeout; answers' TTL ${ttl}), ${r.trials} trials each, each client's answer asked with its subnet (EDNS Client Subnet):`,
    `  failover, health lost to answer changed (polled every ${r.failoverPollMs} ms, each trial at a random phase of the checks): median ${ms(r.failoverMedianMs)}, max ${ms(r.failoverMaxMs)}; ` +
      `ratio ${ratio(r.failoverRatio)} the ${interval} check interval`,
    `  recovery, health back to answered again: median ${ms(r.recoveryMedianMs)}, max ${ms(r.recoveryMaxMs)}; ` +
      `ratio ${ratio(r.recoveryRatio)} the check interval`,
    `  drain propagation, setRegion(drained) started to the first answer without the region (polled every ${r.drainPollMs} ms): ` +
      `median ${ms(r.drainFromStartMedianMs)}, max ${ms(r.drainFromStartMaxMs)}; ratio ${ratio(r.drainFromStartRatio)} the ${ttl} TTL ` +
      `(the write took median ${ms(r.writeMedianMs)})`,
    `  drain propagation, setRegion returned to the first answer without the region asked after it: ` +
      `median ${ms(r.drainFromReturnMedianMs)}, max ${ms(r.drainFromReturnMaxMs)}; ratio ${ratio(r.drainFromReturnRatio)} the TTL`,
    `  the authoritative server answers the drain at once; resolvers may hold the old answer for up to one TTL (${ttl}), which is what a release waits after draining a region`,
  ].join('\n');
}
