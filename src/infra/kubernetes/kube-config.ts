import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { InvalidInputError, MissingPrerequisiteError } from '../../domain/errors';
import { shareConnections } from './connection-pool';

/** A kubeconfig bigger than this is refused: real ones are kilobytes. */
export const MAX_KUBECONFIG_BYTES = 16 * 1024 * 1024;

/** Contexts kept parsed; past this the oldest is dropped. */
const MAX_PARSED = 64;

const parsed = new Map<string, KubeConfig>();

/**
 * A client config for one kubeconfig context. The kubeconfig comes from the worker's environment
 * (KUBECONFIG or ~/.kube/config), never from the spec or workflow history. A parsed file is reused
 * until it changes on disk (its size, modification time or inode), so rotated credentials are read
 * on the next call; its clients share the process's kept-alive connections. Callers must not change
 * the config they get.
 */
export function kubeConfigForContext(context: string, kubeconfigFile?: string): KubeConfig {
  const version = fileVersions(kubeconfigFile, context);
  const key = version && `${context}\0${version}`;
  const known = key ? parsed.get(key) : undefined;
  if (known) return known;
  const kc = new KubeConfig();
  if (kubeconfigFile) kc.loadFromFile(kubeconfigFile);
  else kc.loadFromDefault();
  if (!kc.getContextObject(context)) {
    const contexts = kc.getContexts().map((c) => c.name);
    throw new InvalidInputError(
      `kubeconfig context "${context}" does not exist; known contexts: ${contexts.join(', ') || 'none'} (set KUBECONFIG to the file that has it)`,
    );
  }
  kc.setCurrentContext(context);
  shareConnections(kc);
  if (key) {
    parsed.set(key, kc);
    if (parsed.size > MAX_PARSED) parsed.delete(parsed.keys().next().value as string);
  }
  return kc;
}

/**
 * A kubeconfig that is missing, not a regular file or too big is the worker's environment at fault, not
 * the release: MissingPrerequisiteError, which an activity retries (another worker, or this one once
 * fixed) and the CLI exits 2 for.
 *
 * The files a kubeconfig is read from, each with its size, modification time and inode; undefined
 * when there is no file to stat (in-cluster credentials), which is then read every time.
 */
function fileVersions(kubeconfigFile: string | undefined, context: string): string | undefined {
  const files = kubeconfigFile
    ? [kubeconfigFile]
    : process.env.KUBECONFIG
      ? process.env.KUBECONFIG.split(delimiter).filter(Boolean)
      : [join(homedir(), '.kube', 'config')];
  const versions: string[] = [];
  for (const file of files) {
    const s = statSync(file, { throwIfNoEntry: false });
    if (!s) {
      // An explicit file must be there; a merged KUBECONFIG skips a missing one, in-cluster needs none.
      if (kubeconfigFile)
        throw new MissingPrerequisiteError(
          `kubeconfig ${kubeconfigFile} does not exist; point KUBECONFIG at the kubeconfig that has context ${context}`,
        );
      versions.push(`${file}:missing`);
      continue;
    }
    if (!s.isFile())
      throw new MissingPrerequisiteError(
        `kubeconfig ${file} is not a regular file; point KUBECONFIG at the kubeconfig that has context ${context}`,
      );
    if (s.size > MAX_KUBECONFIG_BYTES)
      throw new MissingPrerequisiteError(
        `kubeconfig ${file} is ${s.size} bytes, more than ${MAX_KUBECONFIG_BYTES}; point KUBECONFIG at the kubeconfig that has context ${context}`,
      );
    versions.push(`${file}:${s.size}:${s.mtimeMs}:${s.ino}`);
  }
  return files.length > 0 && versions.some((v) => !v.endsWith(':missing')) ? versions.join('\0') : undefined;
}
