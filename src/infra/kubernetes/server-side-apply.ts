import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ApiException, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { resourceFor } from './object-api';

/** The field manager Meridian applies as; fields it owns are its to change. */
export const fieldManager = 'meridian';

/** How long one PATCH may take before it fails (and the activity's retry policy takes over). */
export const APPLY_REQUEST_TIMEOUT_MS = 60_000;

/** Bytes of an API server's answer kept; a Status or an applied object is far smaller. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

export interface ApplyOptions {
  /** Validate on the server without persisting anything. */
  dryRun?: boolean;
  /** Namespace for objects that name none. */
  namespace?: string;
}

/**
 * Server-side applies each object, in order, the same way `kubectl apply --server-side --force-conflicts`
 * does: idempotent, so applying the same manifests again changes nothing.
 *
 * The Kubernetes client supplies the credentials (tokens, exec plugins, client certificates) and the
 * shared connection; the PATCH itself is sent directly, since the generic client's per-request work
 * cost about as much as the request (bench section 3 compares it with the bare requests). A refusal
 * throws the client's ApiException, with the HTTP status as `code` and the server's Status as `body`.
 */
export async function serverSideApply(
  kc: KubeConfig,
  objects: readonly KubernetesObject[],
  options: ApplyOptions = {},
): Promise<KubernetesObject[]> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig context names no cluster');
  const server = new URL(cluster.server);
  const defaultNamespace = options.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const connection = await kc.applyToFetchOptions({});
  const headers: Record<string, string> = {};
  // node-fetch's Headers, holding what the credentials add (a bearer token, basic auth).
  (connection.headers as { forEach(each: (value: string, name: string) => void): void } | undefined)?.forEach(
    (value, name) => (headers[name] = value),
  );
  const query = `?fieldManager=${fieldManager}&force=true${options.dryRun ? '&dryRun=All' : ''}`;
  const applied: KubernetesObject[] = [];
  for (const object of objects) {
    const path = await pathOf(kc, object, defaultNamespace);
    const body = Buffer.from(JSON.stringify(withNamespace(object, defaultNamespace, path.namespaced)));
    const send = server.protocol === 'http:' ? httpRequest : httpsRequest;
    applied.push(
      await new Promise<KubernetesObject>((resolve, reject) => {
        const req = send(
          {
            protocol: server.protocol,
            hostname: server.hostname,
            port: server.port,
            method: 'PATCH',
            path: `${server.pathname.replace(/\/$/, '')}${path.path}${query}`,
            agent: connection.agent as never,
            timeout: APPLY_REQUEST_TIMEOUT_MS,
            headers: {
              ...headers,
              accept: 'application/json',
              'content-type': 'application/apply-patch+yaml',
              'content-length': body.length,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            let size = 0;
            res.on('data', (chunk: Buffer) => {
              size += chunk.length;
              if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
            });
            res.on('error', reject);
            res.on('end', () => {
              const status = res.statusCode ?? 0;
              const text = Buffer.concat(chunks).toString();
              let answer: unknown = text;
              try {
                answer = JSON.parse(text);
              } catch {
                // not JSON: keep the text (a proxy's error page, a truncated answer)
              }
              if (status >= 200 && status < 300 && typeof answer === 'object' && answer !== null)
                resolve(answer as KubernetesObject);
              else reject(new ApiException(status, `PATCH ${path.path}`, answer, {}));
            });
          },
        );
        req.on('timeout', () => {
          const err = new Error(
            `PATCH ${path.path}: no answer in ${APPLY_REQUEST_TIMEOUT_MS} ms`,
          ) as NodeJS.ErrnoException;
          err.code = 'ETIMEDOUT';
          req.destroy(err);
        });
        req.on('error', reject);
        req.end(body);
      }),
    );
  }
  return applied;
}

/** The object's REST path, from the server's (cached) discovery. */
async function pathOf(
  kc: KubeConfig,
  object: KubernetesObject,
  defaultNamespace: string,
): Promise<{ path: string; namespaced: boolean }> {
  const apiVersion = object.apiVersion ?? '';
  const kind = object.kind ?? '';
  const name = object.metadata?.name;
  if (!apiVersion || !kind || !name) throw new Error('an object to apply needs apiVersion, kind and metadata.name');
  const resource = await resourceFor(kc, apiVersion, kind);
  // The generic client's wording, which callers recognise.
  if (!resource) throw new Error(`Unrecognized API version and kind: ${apiVersion} ${kind}`);
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const namespace = object.metadata?.namespace ?? defaultNamespace;
  const scope = resource.namespaced ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return { path: `${base}${scope}/${resource.name}/${encodeURIComponent(name)}`, namespaced: resource.namespaced };
}

/** The object with the namespace it is applied in, when its kind has one. */
function withNamespace(object: KubernetesObject, namespace: string, namespaced: boolean): KubernetesObject {
  if (!namespaced || object.metadata?.namespace) return object;
  return { ...object, metadata: { ...object.metadata, namespace } };
}
