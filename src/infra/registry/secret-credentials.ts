import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { InvalidInputError } from '../../domain/errors';
import { type CredentialLookup, credentialsFromAuthJson } from './registry-auth';

/** Where a worker finds registry credentials in a cluster: `MERIDIAN_REGISTRY_SECRET=context/namespace/name`. */
export interface SecretRef {
  context: string;
  namespace: string;
  name: string;
}

/** The secret the worker's environment names, if any; a malformed value stops the worker at start. */
export function registrySecretFromEnv(env: NodeJS.ProcessEnv): SecretRef | undefined {
  const value = env.MERIDIAN_REGISTRY_SECRET;
  if (!value) return undefined;
  const parts = value.split('/');
  if (parts.length !== 3 || parts.some((p) => p.length === 0)) {
    throw new InvalidInputError(
      `MERIDIAN_REGISTRY_SECRET: expected context/namespace/name of a kubernetes.io/dockerconfigjson Secret, got ${JSON.stringify(value)}`,
    );
  }
  const [context, namespace, name] = parts;
  return { context, namespace, name };
}

/**
 * Registry credentials from a Secret of type kubernetes.io/dockerconfigjson (as `kubectl create secret
 * docker-registry` makes it). Read at each use, so a rotated secret is picked up without a restart.
 */
export async function credentialsFromSecret(kc: KubeConfig, ref: SecretRef): Promise<CredentialLookup> {
  const where = `Secret ${ref.namespace}/${ref.name} in context ${ref.context}`;
  const secret = await kc.makeApiClient(CoreV1Api).readNamespacedSecret({ name: ref.name, namespace: ref.namespace });
  const encoded = secret.data?.['.dockerconfigjson'] ?? secret.data?.['.dockercfg'];
  if (!encoded)
    throw new InvalidInputError(
      `${where} has no .dockerconfigjson: create it with kubectl create secret docker-registry`,
    );
  const text = Buffer.from(encoded, 'base64').toString('utf8');
  // Old .dockercfg secrets hold the auths map itself.
  const json = secret.data?.['.dockerconfigjson'] ? text : JSON.stringify({ auths: safeParse(text) });
  return credentialsFromAuthJson(where, json);
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text; // the auth parser reports it as malformed, without quoting it
  }
}
