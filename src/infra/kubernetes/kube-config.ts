import { KubeConfig } from '@kubernetes/client-node';
import { InvalidInputError } from '../../domain/errors';

/**
 * A client config for one kubeconfig context. The kubeconfig comes from the worker's environment
 * (KUBECONFIG or ~/.kube/config), never from the spec or workflow history.
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
  return kc;
}
