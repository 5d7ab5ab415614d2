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
  })
  .strict();
export type VersionBehaviour = z.infer<typeof versionBehaviourSchema>;

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
  logs: string;
}

export function rigLayout(env: NodeJS.ProcessEnv = process.env): RigLayout {
  const dir = env.MERIDIAN_RIG_DIR ?? join(homedir(), '.meridian', 'rig');
  return {
    dir,
    kubeconfig: join(dir, 'kubeconfig'),
    temporalDb: join(dir, 'temporal.db'),
    kwokWorkdir: join(dir, 'kwok'),
    logs: join(dir, 'logs'),
  };
}
