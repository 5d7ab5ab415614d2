import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { InvalidInputError } from '../../domain/errors';
import { shareConnections } from './connection-pool';

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
  const version = fileVersions(kubeconfigFile);
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
 * The files a kubeconfig is read from, each with its size, modification time and inode; undefined
 * when there is no file to stat (in-cluster credentials), which is then read every time.
 */
function fileVersions(kubeconfigFile: string | undefined): string | undefined {
  const files = kubeconfigFile
    ? [kubeconfigFile]
    : process.env.KUBECONFIG
      ? process.env.KUBECONFIG.split(delimiter).filter(Boolean)
      : [join(homedir(), '.kube', 'config')];
  const versions: string[] = [];
  for (const file of files) {
    try {
      const s = statSync(file);
      versions.push(`${file}:${s.size}:${s.mtimeMs}:${s.ino}`);
    } catch {
      // Missing: the client decides what that means (a merged KUBECONFIG skips it; in-cluster needs none).
      versions.push(`${file}:missing`);
    }
  }
  return files.length > 0 && versions.some((v) => !v.endsWith(':missing')) ? versions.join('\0') : undefined;
}
