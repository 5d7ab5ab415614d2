import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { InvalidInputError } from '../../domain/errors';
import {
  isPowerDnsTraffic,
  type PowerDnsTrafficSpec,
  resolveLocation,
  route53LatencyRegions,
  type Route53ProviderSpec,
  type TrafficSpec,
} from '../../domain/traffic-spec';
import type { SteeredRegion } from '../../domain/traffic-policy';
import { kubeConfigForContext } from '../kubernetes/kube-config';
import { PowerDnsTraffic } from './powerdns-traffic';
import { type Route53Endpoint, Route53Traffic } from './route53-traffic';
import type { SteeringTarget, TrafficProvider } from './traffic-provider';

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
    // Route 53's own nameservers may not be reachable from the worker: without nameservers, no questions.
    nameservers: traffic.provider.powerdns?.nameservers ?? traffic.provider.route53?.nameservers ?? [],
  };
}

/** How long to wait for the DNS provider's API. */
const apiTimeoutMs = 10_000;

/**
 * The provider of a spec's traffic section, with its credentials read now from where the spec says
 * (PowerDNS: the worker's environment or a Kubernetes Secret; Route 53: the worker's AWS default chain):
 * never from the spec, and never kept anywhere else.
 */
export async function trafficProvider(traffic: PowerDnsTrafficSpec, env: NodeJS.ProcessEnv): Promise<PowerDnsTraffic>;
export async function trafficProvider(traffic: TrafficSpec, env: NodeJS.ProcessEnv): Promise<TrafficProvider>;
export async function trafficProvider(traffic: TrafficSpec, env: NodeJS.ProcessEnv): Promise<TrafficProvider> {
  if (!isPowerDnsTraffic(traffic)) return new Route53Traffic(steeringTarget(traffic), route53Endpoint(traffic, env));
  const { powerdns } = traffic.provider;
  const apiKey = await apiKeyOf(powerdns.apiKey, env);
  return new PowerDnsTraffic(steeringTarget(traffic), {
    api: powerdns.api,
    server: powerdns.server,
    apiKey,
    timeoutMs: apiTimeoutMs,
  });
}

/**
 * Where the Route 53 API is and the worker's credentials for it: the keys of `env` when it holds them
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), else its AWS_PROFILE or the rest of the
 * SDK's default chain (shared config files, web identity, container or instance role).
 */
export function route53Endpoint(traffic: TrafficSpec, env: NodeJS.ProcessEnv): Route53Endpoint {
  const route53 = traffic.provider.route53 as Route53ProviderSpec;
  const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN } = env;
  return {
    hostedZoneId: route53.hostedZoneId,
    region: route53.region,
    ...(route53.endpoint ? { endpoint: route53.endpoint } : {}),
    ...(accessKeyId && secretAccessKey
      ? {
          credentials: {
            accessKeyId,
            secretAccessKey,
            ...(AWS_SESSION_TOKEN ? { sessionToken: AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
    ...(env.AWS_PROFILE ? { profile: env.AWS_PROFILE } : {}),
    latencyRegions: route53LatencyRegions({ regions: traffic.regions, provider: { route53 } }),
    timeoutMs: apiTimeoutMs,
  };
}

type ApiKeyRef = PowerDnsTrafficSpec['provider']['powerdns']['apiKey'];

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
