import { loadRigConfig, defaultRigConfigFile, rigLayout } from '../../rig/rig-config';
import { type RigProfile, profileNames } from '../../rig/production-profile';
import { type RigStatus, rigDown, rigStatus, rigUp } from '../../rig/rig';
import { quoteExcerpt } from '../../domain/excerpt';
import { UsageError } from '../cli-errors';
import type { CommandContext } from '../command';

/** `meridian dev up | down | status`: the local rig of real servers. */
export async function devCommand(
  values: { rig?: string; json?: boolean; purge?: boolean; profile?: string },
  [action]: string[],
  ctx: CommandContext,
): Promise<number> {
  // The profiles are the rig's (checked here: loading the rig's modules to list them would slow every command line).
  const profile = values.profile;
  if (profile !== undefined && !(profileNames as readonly string[]).includes(profile)) {
    throw new UsageError(`--profile: expected one of ${profileNames.join(', ')}, got ${quoteExcerpt(profile)}`);
  }
  if (profile !== undefined && action !== 'up') throw new UsageError('--profile applies to `dev up` only');
  const config = loadRigConfig(values.rig ?? defaultRigConfigFile());
  const layout = rigLayout(ctx.env);
  const report = (line: string) => ctx.err(`${line}\n`);

  if (action === 'up') {
    const started = Date.now();
    const status = await rigUp(config, layout, report, profile as RigProfile | undefined);
    printStatus(status, ctx, values.json);
    report(`rig ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
    return status.healthy ? 0 : 3;
  }
  if (action === 'down') {
    await rigDown(layout, values.purge ?? false, report);
    report('rig down');
    return 0;
  }
  const status = await rigStatus(config, layout);
  printStatus(status, ctx, values.json);
  return status.healthy ? 0 : 3;
}

/** Where a region's synthetic users' requests went: `users      seoul users (DNS) -> ap-northeast-2 812, ap-south 40`. */
function usersLine(s: RigStatus['services'][number]): string[] {
  const users = s.users;
  if (!users || (users.resolve === 'direct' && Object.keys(users.sentTo).length === 0)) return [];
  const sent = Object.entries(users.sentTo)
    .sort((a, b) => b[1] - a[1])
    .map(([region, n]) => `${region} ${n}`)
    .join(', ');
  const who =
    users.resolve === 'dns' ? `${s.region}'s users as ${users.population} (DNS)` : `${s.region}'s users (direct)`;
  const failures = users.dnsFailures ? `; ${users.dnsFailures} DNS lookups failed` : '';
  return [`users      ${who} -> ${sent || 'none sent yet'}${failures}`];
}

function printStatus(status: RigStatus, ctx: CommandContext, json: boolean | undefined): void {
  if (json) {
    ctx.out(`${JSON.stringify(status, null, 2)}\n`);
    return;
  }
  const mark = (ok: boolean) => (ok ? 'up  ' : 'DOWN');
  const lines = [
    `Temporal   ${mark(status.temporal.up)} ${status.temporal.address} namespace ${status.temporal.namespace} (${status.temporal.profile === 'production' ? 'production profile: PostgreSQL, mTLS, API keys' : 'dev server'})`,
    ...(status.temporal.postgresUp === undefined ? [] : [`PostgreSQL ${mark(status.temporal.postgresUp)}`]),
    ...(status.temporal.codecServerUp === undefined
      ? []
      : [`codec      ${mark(status.temporal.codecServerUp)} codec server (payloads are encrypted)`]),
    `Web UI     ${mark(status.temporal.uiUp)} ${status.temporal.uiUrl}`,
    ...status.clusters.map(
      (c) =>
        `cluster    ${mark(c.reachable && c.readyNodes >= c.wantedNodes)} ${c.context} ${c.server ?? ''} nodes ${c.readyNodes}/${c.wantedNodes}${c.error ? ` (${c.error})` : ''}`,
    ),
    ...status.services.flatMap((s) => [
      `service    ${mark(s.up)} ${s.region} http://127.0.0.1:${s.port} version ${s.version ?? '-'}${
        s.traffic?.length
          ? ` traffic ${s.traffic.map((t) => (t.up ? t.address : `${t.address} (not answering)`)).join(' ')}`
          : ''
      }`,
      ...usersLine(s),
    ]),
    ...status.registries.map((r) => `registry   ${mark(r.up)} ${r.host} for ${r.usedBy.join(', ')}`),
    `Prometheus ${mark(status.prometheus.up)} ${status.prometheus.url} targets up ${status.prometheus.targetsUp}/${status.prometheus.targets}`,
    `DNS        ${mark(status.dns.up)} ${status.dns.address} (PowerDNS ${status.dns.version ?? '-'}, API ${status.dns.api}, zone ${status.dns.zone})`,
    `kubeconfig ${status.kubeconfig}   (export KUBECONFIG=${status.kubeconfig})`,
    ...Object.entries(status.temporal.clientEnv).map(([k, v]) => `client     export ${k}=${v}`),
    `client     export MERIDIAN_POWERDNS_API_KEY=$(cat ${status.dns.apiKeyFile})`,
    `state      ${status.dir}`,
    status.healthy ? 'rig healthy' : 'rig NOT healthy',
  ];
  ctx.out(`${lines.join('\n')}\n`);
}
