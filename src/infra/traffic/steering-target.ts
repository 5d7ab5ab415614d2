import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { InvalidInputError } from '../../domain/errors';
import { resolveLocation, type TrafficSpec } from '../../domain/traffic-spec';
import type { SteeredRegion } from '../../domain/traffic-policy';
import { kubeConfigForContext } from '../kubernetes/kube-config';
import { PowerDnsTraffic } from './powerdns-traffic';
import type { SteeringTarget } from './traffic-provider';

/** What the providers need of a spec's traffic section: names, regions with their health URLs, timings. */
export function steeringTarget(traffic: TrafficSpec): SteeringTarget {
  const regions: SteeredRegion[] = Object.entries(traffic.regions).map(([name, region]) => {
    const check = { ...traffic.healthCheck, ...region.healthCheck };
    return {
      name,
      addresses: region.addresses,
      ...resolveLocation(region.location),
      weight: region.weight,
      healthUrl: (address: string) =>
        `${check.scheme}://${address.includes(':') ? `[${address}]` : address}:${check.port}${check.path}`,
    };
  });
  return {
    hostname: traffic.hostname,
    zone: traffic.zone,
    ttlSeconds: Math.round(traffic.ttl / 1000),
    regions,
    healthTimeoutSeconds: traffic.healthCheck.timeout / 1000,
    healthIntervalSeconds: traffic.healthCheck.interval / 1000,
    nameservers: traffic.provider.powerdns.nameservers,
  };
}

/** How long to wait for the DNS provider's API. */
const apiTimeoutMs = 10_000;

/**
 * The provider of a spec's traffic section, with its credentials read now from where the spec says
 * (the worker's environment or a Kubernetes Secret): never from the spec, and never kept anywhere else.
 */
export async function trafficProvider(traffic: TrafficSpec, env: NodeJS.ProcessEnv): Promise<PowerDnsTraffic> {
  const { powerdns } = traffic.provider;
  const apiKey = await apiKeyOf(powerdns.apiKey, env);
  return new PowerDnsTraffic(steeringTarget(traffic), {
    api: powerdns.api,
    server: powerdns.server,
    apiKey,
    timeoutMs: apiTimeoutMs,
  });
}

type ApiKeyRef = TrafficSpec['provider']['powerdns']['apiKey'];

/** Reads the API key from the worker's environment or a Secret; says where it looked when it is not there. */
export async function apiKeyOf(ref: ApiKeyRef, env: NodeJS.ProcessEnv): Promise<string> {
  if ('env' in ref) {
    const value = env[ref.env];
    if (!value)
      throw new InvalidInputError(
        `spec.traffic.provider.powerdns.apiKey: the environment variable ${ref.env} is not set where this runs: set it to the PowerDNS api-key (for the local rig: meridian dev status prints how)`,
      );
    return value.trim();
  }
  const { name, key, namespace, context } = ref.secret;
  const kc = context ? kubeConfigForContext(context) : defaultKubeConfig();
  const ns = namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const where = `Secret ${ns}/${name}${context ? ` in context ${context}` : ''}`;
  let data: Record<string, string> | undefined;
  try {
    data = (await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name, namespace: ns })).data;
  } catch (err) {
    const code = (err as { code?: number }).code;
    throw new InvalidInputError(
      `spec.traffic.provider.powerdns.apiKey: cannot read ${where}${code ? ` (${code})` : ''}: create it (kubectl create secret generic ${name} --from-literal=${key}=...) and let the worker read it`,
    );
  }
  const encoded = data?.[key];
  if (!encoded) throw new InvalidInputError(`spec.traffic.provider.powerdns.apiKey: ${where} has no key ${key}`);
  return Buffer.from(encoded, 'base64').toString('utf8').trim();
}

function defaultKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return kc;
}
