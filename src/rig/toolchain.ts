import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { MissingPrerequisiteError } from '../domain/errors';

/**
 * The binaries the local rig and the tests run; each is built, fetched or installed (Debian packages, PyPI)
 * by scripts/setup-toolchain.sh.
 */
export type ToolName =
  | 'temporal'
  | 'temporal-test-server'
  | 'temporal-server'
  | 'temporal-sql-tool'
  | 'temporal-ui-server'
  | 'kwokctl'
  | 'kwok'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'etcd'
  | 'helm'
  | 'geoip-db'
  | 'kubectl'
  | 'prometheus'
  | 'docker-registry'
  | 'skopeo'
  | 'moto_server';

/** Where setup-toolchain.sh keeps what it built: outside git, reused across checkouts. */
export function toolchainCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MERIDIAN_CACHE) return env.MERIDIAN_CACHE;
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'meridian');
}

/** Finds a tool in the toolchain cache first, then on PATH. */
export function findTool(name: ToolName, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const cached = join(toolchainCacheDir(env), 'bin', name);
  if (existsSync(cached)) return cached;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Like findTool, but a missing tool is an error that says how to get it. */
export function requireTool(name: ToolName, env: NodeJS.ProcessEnv = process.env): string {
  const found = findTool(name, env);
  if (!found) {
    throw new MissingPrerequisiteError(
      `missing '${name}': run \`npm run setup\` (scripts/setup-toolchain.sh) to build it into ${join(toolchainCacheDir(env), 'bin')}`,
    );
  }
  return found;
}
