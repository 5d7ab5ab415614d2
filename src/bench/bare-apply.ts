/**
 * The floor for a server-side apply: the same PATCH requests Meridian sends, prepared in advance (paths
 * resolved, bodies serialised, credentials loaded) and sent bare over one kept-alive connection, one
 * after another, with no client library in between. Whatever Meridian spends above this is its own.
 */
import { Agent, request } from 'node:https';
import { Agent as PlainAgent, request as plainRequest } from 'node:http';
import { type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { fieldManager } from '../infra/kubernetes/server-side-apply';

/** One prepared PATCH. */
interface PreparedPatch {
  path: string;
  body: Buffer;
}

/** Requests ready to send, and the connection to send them on. */
export interface BareApply {
  /** Sends every PATCH in order; rejects on the first answer that is not 2xx. */
  send(): Promise<void>;
  /** Closes the kept-alive connection. */
  close(): void;
}

/**
 * Resolves each object's REST path once (a discovery request per group version, not timed), loads the
 * kubeconfig's credentials once and opens nothing until the first send.
 */
export async function prepareBareApply(kc: KubeConfig, objects: readonly KubernetesObject[]): Promise<BareApply> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster');
  const tls: { ca?: Buffer; cert?: Buffer; key?: Buffer; headers?: Record<string, string>; auth?: string } = {};
  await kc.applyToHTTPSOptions(tls);
  const headers: Record<string, string> = { ...(tls.headers ?? {}) };
  if (tls.auth) headers.authorization = `Basic ${Buffer.from(tls.auth).toString('base64')}`;
  const server = new URL(cluster.server);
  const secure = server.protocol === 'https:';
  const agent = secure
    ? new Agent({
        keepAlive: true,
        maxSockets: 1,
        ca: tls.ca,
        cert: tls.cert,
        key: tls.key,
        rejectUnauthorized: !cluster.skipTLSVerify,
      })
    : new PlainAgent({ keepAlive: true, maxSockets: 1 });
  const send = secure ? request : plainRequest;

  const defaultNamespace = kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
  const plurals = new Map<string, Map<string, { name: string; namespaced: boolean }>>();
  const get = (path: string) => call('GET', path);
  const patches: PreparedPatch[] = [];
  for (const object of objects) {
    const apiVersion = object.apiVersion ?? '';
    const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    let kinds = plurals.get(apiVersion);
    if (!kinds) {
      const list = JSON.parse((await get(base)).toString()) as {
        resources: { name: string; kind: string; namespaced: boolean }[];
      };
      kinds = new Map(list.resources.filter((r) => !r.name.includes('/')).map((r) => [r.kind, r]));
      plurals.set(apiVersion, kinds);
    }
    const resource = kinds.get(object.kind ?? '');
    if (!resource) throw new Error(`the API server does not serve ${object.kind} in ${apiVersion}`);
    const namespace = object.metadata?.namespace ?? defaultNamespace;
    const scope = resource.namespaced ? `/namespaces/${encodeURIComponent(namespace)}` : '';
    const name = encodeURIComponent(object.metadata?.name ?? '');
    const body = {
      ...object,
      metadata: { ...object.metadata, namespace: resource.namespaced ? namespace : undefined },
    };
    patches.push({
      path: `${base}${scope}/${resource.name}/${name}?fieldManager=${fieldManager}&force=true`,
      body: Buffer.from(JSON.stringify(body)),
    });
  }

  function call(method: string, path: string, body?: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const req = send(
        {
          host: server.hostname,
          port: server.port,
          method,
          path,
          agent,
          headers: {
            ...headers,
            accept: 'application/json',
            ...(body ? { 'content-type': 'application/apply-patch+yaml', 'content-length': body.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const answer = Buffer.concat(chunks);
            if ((res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300) resolve(answer);
            else reject(new Error(`${method} ${path}: HTTP ${res.statusCode}: ${answer.toString().slice(0, 200)}`));
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  return {
    async send() {
      for (const p of patches) await call('PATCH', p.path, p.body);
    },
    close() {
      agent.destroy();
    },
  };
}
