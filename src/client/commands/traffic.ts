import { formatDuration } from '../../domain/duration';
import { InvalidInputError } from '../../domain/errors';
import { type RegionHealth, type RegionTraffic, servingOrder, stateOf, trafficAt } from '../../domain/traffic-policy';
import { resolveLocation, type TrafficSpec } from '../../domain/traffic-spec';
import { queryDns } from '../../infra/traffic/dns-query';
import { loadRelease } from '../../infra/release-files/release-file';
import { steeringTarget, trafficProvider } from '../../infra/traffic/steering-target';
import { printable, UsageError } from '../cli-errors';
import type { CommandContext } from '../command';
import { requireFile } from '../options';
import { operatorName } from '../temporal';

/** Where one client location's users go now, and where the policy says they should. */
export interface ClientView {
  name: string;
  subnet: string;
  /** The region whose address the DNS server answered with (null: none of ours, or no answer). */
  answered: string | null;
  addresses: string[];
  /**
   * Who should answer this client's users: the closest healthy region in service, and any healthy
   * ramping region closer than it (which answers for a share of them).
   */
  expected: string[];
}

export interface RegionView {
  name: string;
  mode: RegionTraffic['mode'];
  share: number;
  health: RegionHealth;
  by?: string;
  reason?: string;
  at?: string;
  release?: string;
}

export interface TrafficView {
  hostname: string;
  ttlSeconds: number;
  regions: RegionView[];
  clients: ClientView[];
  /** Why the clients' answers were not asked (no nameserver to ask), when they were not. */
  clientsNotAsked?: string;
}

/**
 * `meridian traffic -f release.yaml [--json]`: each region's state, its health as the DNS server sees
 * it, and for each client location of the spec which region answers now; `traffic drain <region>` and
 * `traffic restore <region>`, each recorded with who and why.
 */
export async function trafficCommand(
  values: { file?: string; json?: boolean; reason?: string },
  args: string[],
  ctx: CommandContext,
): Promise<number> {
  const [action, region] = args;
  const traffic = trafficOf(requireFile('steer traffic for', values.file));
  if (action === undefined) {
    const view = await trafficView(traffic, ctx.env);
    ctx.out(values.json ? `${JSON.stringify(view, null, 2)}\n` : renderView(view));
    return 0;
  }
  if (action !== 'drain' && action !== 'restore')
    throw new UsageError(`unknown traffic action ${JSON.stringify(action.slice(0, 40))}: give drain or restore`);
  if (!region) throw new UsageError(`missing <region>: the region to ${action}`);
  if (!Object.hasOwn(traffic.regions, region))
    throw new UsageError(
      `region ${JSON.stringify(region.slice(0, 64))} is not behind ${traffic.hostname}: spec.traffic.regions lists ${Object.keys(traffic.regions).join(', ')}`,
    );
  if (!values.reason?.trim())
    throw new UsageError(`missing --reason TEXT: every ${action} is recorded with who asked and why`);
  const provider = await trafficProvider(traffic, ctx.env);
  await provider.preflight();
  const note = { by: operatorName(ctx.env), reason: values.reason.trim().slice(0, 1000), at: new Date().toISOString() };
  if (action === 'drain') {
    const states = await provider.states();
    const others = Object.keys(traffic.regions).filter((r) => r !== region && stateOf(states, r).mode !== 'drained');
    if (others.length === 0)
      ctx.err(
        `warning: ${region} is the last region in service: with every region drained, ${traffic.hostname} answers with all of them\n`,
      );
  }
  await provider.setRegion(region, trafficAt(action === 'drain' ? 0 : 1, note));
  const ttl = formatDuration(traffic.ttl);
  ctx.out(
    action === 'drain'
      ? `${region} drained from ${traffic.hostname} by ${note.by}: ${printable(note.reason)}\n  resolvers may keep answering with it for one TTL (${ttl})\n`
      : `${region} restored to ${traffic.hostname} by ${note.by}: ${printable(note.reason)}\n  answered again once the DNS server sees it healthy (every ${formatDuration(traffic.healthCheck.interval)})\n`,
  );
  return 0;
}

function trafficOf(file: string): TrafficSpec {
  const { spec } = loadRelease(file);
  if (!spec.spec.traffic)
    throw new InvalidInputError(
      `spec.traffic: ${file} steers no traffic: add a traffic section (hostname, zone, provider, regions) to use meridian traffic`,
    );
  return spec.spec.traffic;
}

/** The view: states and health from the provider, answers from real DNS questions with each client's subnet. */
export async function trafficView(traffic: TrafficSpec, env: NodeJS.ProcessEnv): Promise<TrafficView> {
  const provider = await trafficProvider(traffic, env);
  const target = steeringTarget(traffic);
  const [states, health] = await Promise.all([provider.states(), provider.health()]);
  const owner = new Map<string, string>();
  for (const region of target.regions) for (const a of region.addresses) owner.set(a, region.name);
  // Route 53 needs no nameservers in the spec: without one, the view shows states and health only.
  const server = target.nameservers.at(0);
  const clients = !server
    ? []
    : await Promise.all(
        traffic.clients.map(async (client): Promise<ClientView> => {
          const answer = await queryDns(server, { name: traffic.hostname, clientSubnet: client.subnet });
          const answered = answer.addresses.map((a) => owner.get(a)).find((r) => r !== undefined) ?? null;
          const order = servingOrder(target.regions, states, resolveLocation(client.location));
          const healthy = order.filter((c) => c.share > 0 && health[c.region] === 'up');
          const full = healthy.findIndex((c) => c.share >= 1);
          const expected = (full < 0 ? healthy : healthy.slice(0, full + 1)).map((c) => c.region);
          return { name: client.name, subnet: client.subnet, answered, addresses: answer.addresses, expected };
        }),
      );
  const regions = target.regions.map((r): RegionView => {
    const state = stateOf(states, r.name);
    const recorded = Object.hasOwn(states, r.name);
    return {
      name: r.name,
      mode: state.mode,
      share: state.share,
      health: health[r.name] ?? 'down',
      ...(recorded ? { by: state.by, reason: state.reason, at: state.at } : {}),
      ...(state.release ? { release: state.release } : {}),
    };
  });
  const notAsked =
    !server && traffic.clients.length > 0
      ? `spec.traffic.provider.${provider.kind} lists no nameservers, so Meridian cannot ask what each client is answered: add nameservers (host:port of DNS servers answering ${traffic.hostname}) to see it`
      : undefined;
  return {
    hostname: traffic.hostname,
    ttlSeconds: target.ttlSeconds,
    regions,
    clients,
    ...(notAsked ? { clientsNotAsked: notAsked } : {}),
  };
}

function renderView(view: TrafficView): string {
  const lines = [`${view.hostname} (TTL ${view.ttlSeconds}s)`, '', 'regions'];
  const width = Math.max(...view.regions.map((r) => r.name.length), 6);
  for (const r of view.regions) {
    const mode =
      r.mode === 'ramp' ? `ramp ${Math.round(r.share * 1000) / 10}%` : r.mode === 'in' ? 'in service' : 'drained';
    const who = r.by && r.mode !== 'in' ? `  ${r.release ? `by release ${r.release}` : `by ${r.by}`}: ${r.reason}` : '';
    lines.push(`  ${r.name.padEnd(width)}  ${mode.padEnd(10)}  ${r.health.padEnd(4)}${printable(who)}`);
  }
  if (view.clientsNotAsked) lines.push('', 'clients', `  not asked: ${view.clientsNotAsked}`);
  if (view.clients.length > 0) {
    lines.push('', 'clients');
    const cw = Math.max(...view.clients.map((c) => c.name.length), 6);
    for (const c of view.clients) {
      const got = c.answered ?? (c.addresses.length ? `not a region (${c.addresses.join(', ')})` : 'no answer');
      const note =
        c.answered === null || !c.expected.includes(c.answered)
          ? `  (expected ${c.expected.join(' or ') || 'none: no region is healthy and in service'})`
          : '';
      lines.push(`  ${c.name.padEnd(cw)}  ${c.subnet.padEnd(18)}  → ${got}${note}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
