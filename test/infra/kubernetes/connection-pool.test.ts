import { Agent } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import { closeSharedConnections, MAX_AGENTS, shareConnections } from '../../../src/infra/kubernetes/connection-pool';

/** A kubeconfig for one cluster, with a client certificate and key that name the identity. */
function kubeConfig(server: string, identity = 'a', proxyUrl?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server, skipTLSVerify: false, proxyUrl }],
    users: [
      {
        name: 'u',
        certData: Buffer.from(`cert-${identity}`).toString('base64'),
        keyData: Buffer.from(`key-${identity}`).toString('base64'),
      },
    ],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return shareConnections(kc);
}

const agentOf = async (kc: KubeConfig) => (await kc.applyToFetchOptions({})).agent;

afterEach(() => closeSharedConnections());

describe('shared API server connections', () => {
  it('gives every client of one server and identity the same kept-alive agent', async () => {
    const first = await agentOf(kubeConfig('https://10.0.0.1:6443'));
    const again = await agentOf(kubeConfig('https://10.0.0.1:6443'));
    expect(first).toBeInstanceOf(Agent);
    expect(again).toBe(first);
    expect((first as unknown as { keepAlive: boolean }).keepAlive).toBe(true);
    // The generated clients' path (applySecurityAuthentication) builds its agent the same way.
    const context = { setAgent: jest.fn(), setHeaderParam: jest.fn() };
    await kubeConfig('https://10.0.0.1:6443').applySecurityAuthentication(context as never);
    expect(context.setAgent).toHaveBeenCalledWith(first);
  });

  it('never shares a connection across servers or client identities', async () => {
    const a = await agentOf(kubeConfig('https://10.0.0.1:6443', 'a'));
    expect(await agentOf(kubeConfig('https://10.0.0.2:6443', 'a'))).not.toBe(a);
    expect(await agentOf(kubeConfig('https://10.0.0.1:6443', 'b'))).not.toBe(a);
  });

  it('leaves proxied clusters their own agent', async () => {
    const proxied = () => agentOf(kubeConfig('https://10.0.0.1:6443', 'a', 'http://proxy.internal:3128'));
    expect(await proxied()).not.toBe(await proxied());
  });

  it(`keeps at most ${MAX_AGENTS} agents, closing the least recently used`, async () => {
    const agents: Agent[] = [];
    for (let i = 0; i < MAX_AGENTS; i++) agents.push((await agentOf(kubeConfig(`https://10.1.0.${i}:6443`))) as Agent);
    const destroyed = agents.map((a) => jest.spyOn(a, 'destroy'));
    // Using the first again makes the second the least recently used.
    expect(await agentOf(kubeConfig('https://10.1.0.0:6443'))).toBe(agents[0]);
    await agentOf(kubeConfig('https://10.2.0.0:6443'));
    expect(destroyed.map((d) => d.mock.calls.length)).toEqual(agents.map((_, i) => (i === 1 ? 1 : 0)));
    expect(await agentOf(kubeConfig('https://10.1.0.1:6443'))).not.toBe(agents[1]);
  });
});
