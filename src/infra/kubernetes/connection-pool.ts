/**
 * Kept-alive connections to API servers, shared by every client built from a kubeconfig in this
 * process. The Kubernetes client makes a new agent, and so a new TCP connection and TLS handshake, for
 * every request; a deploy sends a handful of requests to the same server, and a worker deploys to the
 * same clusters all day. One agent per server and TLS identity lets them reuse connections.
 */
import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';

/**
 * How long an idle connection is kept: well under any API server's or load balancer's idle timeout
 * (kube-apiserver keeps them for minutes), so a request never lands on a connection the server is
 * closing.
 */
export const IDLE_CONNECTION_MS = 4_000;

/** Distinct agents kept; past this the oldest is closed (a worker talks to tens of clusters). */
export const MAX_AGENTS = 64;

type Agent = HttpAgent | HttpsAgent;
type AgentOptions = Record<string, unknown>;
type CreateAgent = (cluster: Cluster | null, options: AgentOptions) => Agent;

const agents = new Map<string, Agent>();

/**
 * Makes every request of `kc`'s clients go through the process's shared, kept-alive agent for its
 * server and TLS identity (CA, client certificate and key, server name, verification). Proxied
 * clusters keep the client's own agent. Returns `kc`.
 */
export function shareConnections(kc: KubeConfig): KubeConfig {
  // The client builds its agent in one method, `createAgent`, for both its fetch and its https paths.
  // It is private in the typings; test/infra/kubernetes/connection-pool.test.ts fails if it is renamed.
  const target = kc as unknown as { createAgent: CreateAgent };
  const own = target.createAgent.bind(kc);
  target.createAgent = (cluster, options) => {
    if (!cluster || cluster.proxyUrl) return own(cluster, options);
    const key = agentKey(cluster, options);
    const known = agents.get(key);
    if (known) {
      agents.delete(key);
      agents.set(key, known);
      return known;
    }
    const agent = own(cluster, { ...options, keepAlive: true, timeout: IDLE_CONNECTION_MS });
    agents.set(key, agent);
    if (agents.size > MAX_AGENTS) {
      const [oldestKey, oldest] = agents.entries().next().value as [string, Agent];
      agents.delete(oldestKey);
      oldest.destroy();
    }
    return agent;
  };
  return kc;
}

/** Closes every shared connection (a process that is done with its clusters). */
export function closeSharedConnections(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

/** The server and everything in the options that decides which connection may be reused. */
function agentKey(cluster: Cluster, options: AgentOptions): string {
  const hash = createHash('sha256');
  hash.update(cluster.server);
  for (const name of ['ca', 'cert', 'key', 'pfx', 'passphrase', 'servername', 'rejectUnauthorized']) {
    const value = options[name];
    hash.update(`\0${name}=`);
    if (value === undefined) continue;
    hash.update(Buffer.isBuffer(value) || typeof value === 'string' ? value : JSON.stringify(value));
  }
  return hash.digest('hex');
}
