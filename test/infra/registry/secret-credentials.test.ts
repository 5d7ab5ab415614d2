import { CoreV1Api } from '@kubernetes/client-node';
import { copyImage } from '../../../src/infra/registry/copy-image';
import { RegistryError } from '../../../src/infra/registry/registry-client';
import { credentialsFromSecret, registrySecretFromEnv } from '../../../src/infra/registry/secret-credentials';
import { pushDemoImage } from '../../../src/rig/demo-image';
import { bcryptHash, startTestRegistry, type TestRegistry } from '../../support/registry';
import { theRig, uniqueName } from '../../support/rig';

describe('registrySecretFromEnv', () => {
  it('reads context/namespace/name, and refuses anything else with the expected form', () => {
    expect(registrySecretFromEnv({})).toBeUndefined();
    expect(registrySecretFromEnv({ MERIDIAN_REGISTRY_SECRET: 'meridian-europe/registries/regcred' })).toEqual({
      context: 'meridian-europe',
      namespace: 'registries',
      name: 'regcred',
    });
    expect(() => registrySecretFromEnv({ MERIDIAN_REGISTRY_SECRET: 'regcred' })).toThrow(
      'MERIDIAN_REGISTRY_SECRET: expected context/namespace/name',
    );
  });
});

// A registry that wants a login, and the login in a Secret of the rig's Europe cluster.
(bcryptHash('probe') ? describe : describe.skip)(
  'credentialsFromSecret (a real cluster and a registry with htpasswd)',
  () => {
    const rig = theRig();
    const context = 'meridian-europe';
    const namespace = uniqueName('registry-secret');
    const login = { username: 'ci', password: `pw-${Date.now()}` };
    const core = () => rig.kube(context).makeApiClient(CoreV1Api);
    let source: TestRegistry;
    let locked: TestRegistry;

    beforeAll(async () => {
      [source, locked] = await Promise.all([startTestRegistry(), startTestRegistry({ htpasswd: login })]);
      await pushDemoImage({ registry: source.host, repository: 'shop/api', tag: '2.4.0', seed: 'secret test' });
      const auth = Buffer.from(`${login.username}:${login.password}`).toString('base64');
      const dockerconfig = JSON.stringify({ auths: { [locked.host]: { auth } } });
      await core().createNamespace({ body: { metadata: { name: namespace } } });
      await core().createNamespacedSecret({
        namespace,
        body: {
          metadata: { name: 'regcred' },
          type: 'kubernetes.io/dockerconfigjson',
          data: { '.dockerconfigjson': Buffer.from(dockerconfig).toString('base64') },
        },
      });
    }, 60_000);
    afterAll(async () => {
      await core()
        .deleteNamespace({ name: namespace })
        .catch(() => undefined);
      await Promise.all([source?.stop(), locked?.stop()]);
    });

    const copy = (credentials?: Parameters<typeof copyImage>[0]['credentials']) =>
      copyImage({
        source: { registry: source.host, repository: 'shop/api', tag: '2.4.0' },
        target: { registry: locked.host, repository: 'shop/api', tag: '2.4.0' },
        credentials,
      });

    it('copies into a registry that wants a login with the credentials of the Secret', async () => {
      const credentials = await credentialsFromSecret(rig.kube(context), { context, namespace, name: 'regcred' });
      expect((await copy(credentials)).blobs.copied).toBeGreaterThan(0);
    });

    it('without them the registry refuses, not retryable, and no password appears in the message', async () => {
      const failure = await copy().catch((err) => err);
      expect(failure).toBeInstanceOf(RegistryError);
      expect(failure.retryable).toBe(false);
      expect(failure.message).toContain(locked.host);
      expect(failure.message).not.toContain(login.password);
    });

    it('names the Secret when it holds no registry login', async () => {
      await core().createNamespacedSecret({
        namespace,
        body: { metadata: { name: 'not-docker' }, stringData: { token: 'x' } },
      });
      await expect(
        credentialsFromSecret(rig.kube(context), { context, namespace, name: 'not-docker' }),
      ).rejects.toThrow(`Secret ${namespace}/not-docker in context ${context} has no .dockerconfigjson`);
    });
  },
);
