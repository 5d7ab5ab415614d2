import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { InvalidInputError } from '../domain/errors';
import { durationField } from '../domain/schema-helpers';
import { parseYaml } from '../domain/yaml-document';
import { formatZodIssues } from '../domain/zod-issues';

/** How the demo service behaves while a given version is rolled out in its region. */
export const versionBehaviourSchema = z
  .object({
    /** Why this version misbehaves, shown by the demo service. */
    reason: z.string().optional(),
    /** Share of requests answered with a 500, from 0 to 1. */
    errorRate: z.number().min(0).max(1).default(0),
    /** Latency added to every response. */
    latency: durationField().default(0),
    /** Input in these scripts (e.g. Hangul, Arabic) is mangled, as by a broken text encoder. */
    brokenScripts: z.array(z.string()).default([]),
    /** The version behaves well for this long after it became ready, then misbehaves. */
    after: durationField().default(0),
    /** Misbehaves only in these regions (default: in every region). */
    regions: z.array(z.string().min(1)).optional(),
  })
  .strict();
export type VersionBehaviour = z.infer<typeof versionBehaviourSchema>;

/** The misbehaving versions as one region's demo service sees them: those limited to other regions left out. */
export function versionsInRegion(
  versions: Record<string, VersionBehaviour>,
  region: string,
): Record<string, VersionBehaviour> {
  return Object.fromEntries(Object.entries(versions).filter(([, b]) => !b.regions || b.regions.includes(region)));
}

/** The rig's Prometheus, which scrapes every demo service. */
export const rigPrometheusSchema = z
  .object({
    /** Port of its HTTP API and UI on 127.0.0.1. */
    port: z.number().int().positive().default(9090),
    /** Where Meridian workers on this machine serve metrics (MERIDIAN_METRICS_ADDRESS), scraped as job `meridian-workers`. */
    workerMetrics: z
      .array(z.string().regex(/^127\.0\.0\.1:\d{1,5}$/, 'expected 127.0.0.1:PORT'))
      .max(16)
      .default(['127.0.0.1:9464', '127.0.0.1:9465']),
  })
  .strict();

/** The rig's authoritative DNS server (PowerDNS), which answers for the release's spec.traffic zone. */
export const rigDnsSchema = z
  .object({
    /** DNS port (UDP and TCP) on 127.0.0.1. */
    port: z.number().int().positive().max(65535).default(5354),
    /** Port of its HTTP API (and webserver) on 127.0.0.1. */
    apiPort: z.number().int().positive().max(65535).default(8281),
  })
  .strict()
  .refine((dns) => dns.port !== dns.apiPort, {
    error: 'dns.port and dns.apiPort must differ (DNS and the HTTP API cannot share a TCP port)',
    path: ['apiPort'],
  });
export type RigDnsConfig = z.infer<typeof rigDnsSchema>;

/** How synthetic users find the service they call. */
export const userTrafficResolves = ['dns', 'direct'] as const;

/** Synthetic users: a steady trickle of requests the demo services send to each region's service. */
export const userTrafficSchema = z
  .object({
    /** Whether synthetic users send requests at all. */
    enabled: z.boolean().default(true),
    /** Factor on each region's rate (traits.traffic: low 2, medium 4, high 8 requests per second, or a number). */
    scale: z.number().nonnegative().default(1),
    /** Upper bound of any region's rate, in requests per second. */
    maxRps: z.number().positive().max(200).default(50),
    /** Rate per region name, in requests per second, instead of its traits (0: no users at all). */
    regions: z.record(z.string(), z.number().nonnegative()).default({}),
    /**
     * `dns` (the default): when the release has spec.traffic, each production region behind its hostname
     * has users that resolve the hostname at the rig's DNS server as their client population (EDNS Client
     * Subnet) and call the region it answers with; other regions' users, and all with `direct`, call their
     * region's endpoint.
     */
    resolve: z.enum(userTrafficResolves).default('dns'),
  })
  .strict();
export type UserTrafficConfig = z.infer<typeof userTrafficSchema>;

/** The local rig: what `meridian dev up` starts. */
export const rigConfigSchema = z
  .object({
    /** The Temporal dev server. */
    temporal: z
      .object({
        /** gRPC port of the frontend. */
        port: z.number().int().positive().default(7233),
        /** Port of the Web UI. */
        uiPort: z.number().int().positive().default(8233),
        /** Namespace created at start. */
        namespace: z.string().min(1).default('default'),
      })
      .strict()
      .default({ port: 7233, uiPort: 8233, namespace: 'default' }),
    /** Ports of the production profile's own parts (`meridian dev up --profile production`), on 127.0.0.1. */
    production: z
      .object({
        /** PostgreSQL, the Temporal server's database. */
        postgresPort: z.number().int().positive().max(65535).default(5433),
        /** The standalone Web UI server, behind the identity gateway on temporal.uiPort. */
        uiServerPort: z.number().int().positive().max(65535).default(8234),
        /** The key set that the Temporal server checks API keys against. */
        jwksPort: z.number().int().positive().max(65535).default(8239),
        /** Meridian's codec server (`meridian codec-server`), which the Web UI and the temporal CLI decode with. */
        codecServerPort: z.number().int().positive().max(65535).default(8888),
      })
      .strict()
      .default({ postgresPort: 5433, uiServerPort: 8234, jwksPort: 8239, codecServerPort: 8888 }),
    /** KWOK clusters standing in for continents; each is reached through its kubeconfig context. */
    clusters: z
      .array(
        z
          .object({
            /** Kubeconfig context name, e.g. meridian-americas. */
            context: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'expected a lowercase name such as meridian-americas'),
            /** Simulated nodes (32 CPUs, 256 GiB each). */
            nodes: z.number().int().min(1).max(50).default(3),
          })
          .strict(),
      )
      .min(1),
    /** The release whose regions get one demo HTTP service each, on their endpoint ports. */
    release: z.string().min(1),
    /** Versions that misbehave in the demo services, keyed by version. Others behave well. */
    versions: z.record(z.string(), versionBehaviourSchema).default({}),
    /** The Prometheus that scrapes the demo services. */
    prometheus: rigPrometheusSchema.default({ port: 9090, workerMetrics: ['127.0.0.1:9464', '127.0.0.1:9465'] }),
    /** The authoritative DNS server that steers the release's hostname (PowerDNS, on 127.0.0.1). */
    dns: rigDnsSchema.default({ port: 5354, apiPort: 8281 }),
    /** Synthetic user requests to every region's service while the rig runs. */
    userTraffic: userTrafficSchema.default({ enabled: true, scale: 1, maxRps: 50, regions: {}, resolve: 'dns' }),
  })
  .strict();
export type RigConfig = z.infer<typeof rigConfigSchema> & {
  /** Absolute path of the file it was read from. */
  file: string;
};

/** Reads and validates a rig config; relative paths in it are relative to the file. */
export function loadRigConfig(file: string): RigConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InvalidInputError(`rig config ${path} cannot be read: pass an existing file with --rig`);
  }
  const parsed = rigConfigSchema.safeParse(parseYaml(text, path), { reportInput: true });
  if (!parsed.success) {
    throw new InvalidInputError(`rig config ${path} is invalid`, formatZodIssues(parsed.error, '', rigConfigSchema));
  }
  return { ...parsed.data, release: resolve(dirname(path), parsed.data.release), file: path };
}

/** The default rig config shipped with the project. */
export function defaultRigConfigFile(): string {
  return resolve(__dirname, '..', '..', 'examples', 'rig.yaml');
}

/** Where the rig keeps its state: pid files, logs, the SQLite file, the clusters, the kubeconfig. */
export interface RigLayout {
  dir: string;
  kubeconfig: string;
  temporalDb: string;
  kwokWorkdir: string;
  /** Extra kwok Stages every cluster's kwok controller loads (e.g. Job pods that fail on purpose). */
  kwokStages: string;
  /** Prometheus' generated config file. */
  prometheusConfig: string;
  /** Prometheus' TSDB folder. */
  prometheusData: string;
  /** One folder per registry (config and storage), named by port. */
  registries: string;
  logs: string;
}

export function rigLayout(env: NodeJS.ProcessEnv = process.env): RigLayout {
  const dir = env.MERIDIAN_RIG_DIR ?? join(homedir(), '.meridian', 'rig');
  return {
    dir,
    kubeconfig: join(dir, 'kubeconfig'),
    temporalDb: join(dir, 'temporal.db'),
    kwokWorkdir: join(dir, 'kwok'),
    kwokStages: join(dir, 'kwok-stages.yaml'),
    prometheusConfig: join(dir, 'prometheus.yml'),
    prometheusData: join(dir, 'prometheus'),
    registries: join(dir, 'registries'),
    logs: join(dir, 'logs'),
  };
}
