import { KubeConfig } from '@kubernetes/client-node';
import { InvalidInputError } from '../../domain/errors';
import { shareConnections } from './connection-pool';

/**
 * A client config for one kubeconfig context. The kubeconfig comes from the worker's environment
 * (KUBECONFIG or ~/.kube/config), never from the spec or workflow history. It is read again each
 * time (credentials rotate); its clients share the process's kept-alive connections.
 */
export function kubeConfigForContext(context: string, kubeconfigFile?: string): KubeConfig {
  const kc = new KubeConfig();
  if (kubeconfigFile) kc.loadFromFile(kubeconfigFile);
  else kc.loadFromDefault();
  if (!kc.getContextObject(context)) {
    const known = kc.getContexts().map((c) => c.name);
    throw new InvalidInputError(
      `kubeconfig context "${context}" does not exist; known contexts: ${known.join(', ') || 'none'} (set KUBECONFIG to the file that has it)`,
    );
  }
  kc.setCurrentContext(context);
  return shareConnections(kc);
}
