import { CoreV1Api } from '@kubernetes/client-node';
import { InvalidInputError } from '../../../src/domain/errors';
import { trafficAt } from '../../../src/domain/traffic-policy';
import { apiKeyOf, trafficProvider } from '../../../src/infra/traffic/steering-target';
import { type PowerDnsRig, startPowerDnsRig } from '../../support/powerdns';
import { theRig, uniqueName } from '../../support/rig';

/**
 * The DNS API key read from a Kubernetes Secret (spec.traffic.provider.powerdns.apiKey.secret), as a
 * worker in a cluster would: a real API server (the rig's Europe cluster) holds the Secret, and a real
 * PowerDNS accepts the key read from it.
 */
const cluster = theRig();
const context = 'meridian-europe';
const namespace = uniqueName('dns-key');
const core = () => cluster.kube(context).makeApiClient(CoreV1Api);
let dns: PowerDnsRig;
let savedKubeconfig: string | undefined;

beforeAll(async () => {
  dns = await startPowerDnsRig();
  // The worker finds its clusters through KUBECONFIG, as `meridian worker` does.
  savedKubeconfig = process.env.KUBECONFIG;
  process.env.KUBECONFIG = cluster.layout.kubeconfig;
  await core().createNamespace({ body: { metadata: { name: namespace } } });
  // As `kubectl create secret generic powerdns-api --from-file=api-key=FILE` stores a key file: with its newline.
  await core().createNamespacedSecret({
    namespace,
    body: {
      metadata: { name: 'powerdns-api' },
      data: { 'api-key': Buffer.from(`${dns.apiKey}\n`).toString('base64') },
    },
  });
}, 60_000);

afterAll(async () => {
  if (savedKubeconfig === undefined) delete process.env.KUBECONFIG;
  else process.env.KUBECONFIG = savedKubeconfig;
  await core()
    .deleteNamespace({ name: namespace })
    .catch(() => undefined);
  await dns?.stop();
});

const secretRef = (secret: { name: string; key: string; namespace?: string; context?: string }) => ({ secret });

describe('the DNS API key from a Kubernetes Secret', () => {
  it('reads the key (without the newline a key file leaves) from the Secret in the named context and namespace', async () => {
    expect(await apiKeyOf(secretRef({ name: 'powerdns-api', key: 'api-key', namespace, context }), {})).toBe(
      dns.apiKey,
    );
  });

  it('steers with it: the provider passes its preflight and writes a state on the real PowerDNS', async () => {
    const spec = {
      ...dns.traffic,
      provider: {
        powerdns: {
          ...dns.traffic.provider.powerdns,
          apiKey: secretRef({ name: 'powerdns-api', key: 'api-key', namespace, context }),
        },
      },
    };
    // No key in the environment: only the Secret can give it.
    const provider = await trafficProvider(spec, {});
    await provider.preflight();
    await provider.setRegion(
      'eu-west',
      trafficAt(1, { by: 'test', reason: 'key from a Secret', at: new Date().toISOString() }),
    );
    expect((await provider.states())['eu-west']).toMatchObject({ mode: 'in', reason: 'key from a Secret' });
  });

  it('says how to create a Secret that is not there, and names a key the Secret lacks, never printing a key', async () => {
    const missing = await apiKeyOf(secretRef({ name: 'nope', key: 'api-key', namespace, context }), {}).catch(
      (err: unknown) => err,
    );
    expect(missing).toBeInstanceOf(InvalidInputError);
    expect((missing as Error).message).toContain(`cannot read Secret ${namespace}/nope in context ${context} (404)`);
    expect((missing as Error).message).toContain('kubectl create secret generic nope --from-literal=api-key=...');

    const lacking = await apiKeyOf(secretRef({ name: 'powerdns-api', key: 'token', namespace, context }), {}).catch(
      (err: unknown) => err,
    );
    expect(lacking).toBeInstanceOf(InvalidInputError);
    expect((lacking as Error).message).toBe(
      `spec.traffic.provider.powerdns.apiKey: Secret ${namespace}/powerdns-api in context ${context} has no key token`,
    );
    for (const err of [missing, lacking]) expect((err as Error).message).not.toContain(dns.apiKey);
  });

  it('names a kubeconfig context that does not exist', async () => {
    await expect(
      apiKeyOf(secretRef({ name: 'powerdns-api', key: 'api-key', namespace, context: 'meridian-mars' }), {}),
    ).rejects.toThrow(/kubeconfig context "meridian-mars" does not exist; known contexts: .*meridian-europe/);
  });
});
