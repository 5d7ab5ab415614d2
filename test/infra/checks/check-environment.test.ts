import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandEnvironment, scrubSecrets, workerSecrets } from '../../../src/infra/checks/check-environment';

const dir = mkdtempSync(join(tmpdir(), 'meridian-secrets-'));
const valuesOf = (secrets: { value: string }[]) => secrets.map((s) => s.value);

describe('workerSecrets', () => {
  it('holds the values of secret-looking variables, not of paths or ordinary settings', () => {
    const secrets = workerSecrets(
      {
        SHOP_API_TOKEN: 'tok-5f3a9c',
        AWS_SECRET_ACCESS_KEY: 'aws-secret-1',
        STRIPE_KEY: 'sk_live_abc',
        TEMPORAL_TLS_CLIENT_KEY_DATA: 'pem-data-xyz',
        REGISTRY_AUTH_FILE: join(dir, 'missing.json'),
        MERIDIAN_CODEC_KEYS_FILE: '/etc/meridian/keys',
        MERIDIAN_REGION: 'eu-west',
        PATH: '/usr/bin',
        SHORT_TOKEN: 'abc',
      },
      { kubeconfigFile: join(dir, 'none') },
    );
    expect(secrets).toEqual([
      { name: 'SHOP_API_TOKEN', value: 'tok-5f3a9c' },
      { name: 'AWS_SECRET_ACCESS_KEY', value: 'aws-secret-1' },
      { name: 'STRIPE_KEY', value: 'sk_live_abc' },
      { name: 'TEMPORAL_TLS_CLIENT_KEY_DATA', value: 'pem-data-xyz' },
    ]);
  });

  it('holds the codec keys, the Temporal API key and client key, the registry auth file and the kubeconfig users', () => {
    const key = Buffer.alloc(32, 7);
    const authFile = join(dir, 'auth.json');
    writeFileSync(
      authFile,
      JSON.stringify({
        auths: {
          'ghcr.io': { auth: Buffer.from('bot:ghp_registrypass').toString('base64') },
          'quay.io': { identitytoken: 'quay-identity-1' },
        },
      }),
    );
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]',
        'users: [{name: u, user: {token: kube-token-123}}, {name: p, user: {username: admin, password: kube-pass-456}}]',
        'contexts: [{name: x, context: {cluster: c, user: u}}]',
        'current-context: x',
      ].join('\n'),
    );
    const pem =
      '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n';
    const values = valuesOf(
      workerSecrets(
        { MERIDIAN_CODEC_KEYS: `k1:${key.toString('base64')}`, REGISTRY_AUTH_FILE: authFile },
        { temporalApiKey: 'temporal-api-key-1', temporalClientKey: Buffer.from(pem), kubeconfigFile: kubeconfig },
      ),
    );
    expect(values).toEqual(
      expect.arrayContaining([
        `k1:${key.toString('base64')}`,
        key.toString('base64'),
        key.toString('hex'),
        'temporal-api-key-1',
        'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7',
        'ghp_registrypass',
        'quay-identity-1',
        'kube-token-123',
        'kube-pass-456',
      ]),
    );
  });
});

describe('scrubSecrets', () => {
  const secrets = [{ name: 'SHOP_API_TOKEN', value: 'tok-5f3a9c-77' }];

  it.each([
    ['as given', 'tok-5f3a9c-77'],
    ['reversed', '77-c9a3f5-kot'],
    ['base64', Buffer.from('tok-5f3a9c-77').toString('base64')],
    ['base64 without padding', Buffer.from('tok-5f3a9c-77').toString('base64').replace(/=+$/, '')],
    ['hex', Buffer.from('tok-5f3a9c-77').toString('hex')],
    ['hex in capitals', Buffer.from('tok-5f3a9c-77').toString('hex').toUpperCase()],
  ])('masks a secret %s', (_, form) => {
    expect(scrubSecrets(`got ${form}!`, secrets)).toBe('got ***SHOP_API_TOKEN***!');
  });

  it('masks a percent-encoded secret, and a longer secret holding a shorter one whole', () => {
    expect(scrubSecrets('p=a%2Fb%3Dc%26d%2Fe', [{ name: 'P', value: 'a/b=c&d/e' }])).toBe('p=***P***');
    expect(
      scrubSecrets('x abcd-efgh-ijkl x', [
        { name: 'SHORT', value: 'efgh' },
        { name: 'LONG', value: 'abcd-efgh-ijkl' },
      ]),
    ).toBe('x ***LONG*** x');
  });
});

describe('commandEnvironment', () => {
  it("takes the basics and the passed variables of the worker's environment, then the check's, then the region's", () => {
    const worker = {
      PATH: '/bin',
      HOME: '/home/w',
      TEMPORAL_API_KEY: 'k',
      SMOKE_TOKEN: 't',
      NODE_OPTIONS: '--require x',
    };
    expect(
      commandEnvironment(
        worker,
        { env: { A: '1', MERIDIAN_REGION: 'fake' }, passEnv: ['SMOKE_TOKEN'] },
        { MERIDIAN_REGION: 'eu-west' },
      ),
    ).toEqual({
      PATH: '/bin',
      HOME: '/home/w',
      SMOKE_TOKEN: 't',
      A: '1',
      MERIDIAN_REGION: 'eu-west',
    });
  });
});
