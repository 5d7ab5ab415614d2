import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidInputError } from '../../../src/domain/errors';
import { authFilePath, credentialsFromEnv } from '../../../src/infra/registry/registry-auth';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meridian-auth-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const b64 = (text: string) => Buffer.from(text).toString('base64');
function authFile(content: unknown, name = 'auth.json'): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

/** The error credentialsFromEnv throws for an auth file, which must not quote the secret. */
function refusal(content: unknown, secret: string): Error {
  const file = authFile(content);
  try {
    credentialsFromEnv({ REGISTRY_AUTH_FILE: file });
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidInputError);
    const message = (err as Error).message;
    expect(message).toContain(file);
    expect(message).not.toContain(secret);
    return err as Error;
  }
  throw new Error('expected the auth file to be refused');
}

describe('credentialsFromEnv', () => {
  it('reads every entry form docker, podman and skopeo write', () => {
    const file = authFile({
      auths: {
        '127.0.0.1:5100': { auth: b64('ci:pa:ss') },
        'https://registry.example.com/v2/': { username: 'deploy', password: 's3cret' },
        'https://index.docker.io/v1/': { auth: b64('hubuser:hubpass') },
        'acr.example.io': { auth: b64('00000000-0000-0000-0000-000000000000:'), identitytoken: 'refresh-me' },
        'tokens.example.io': { registrytoken: 'bearer-me' },
        'helper.example.io': {},
      },
      credsStore: 'desktop',
    });
    const lookup = credentialsFromEnv({ REGISTRY_AUTH_FILE: file });
    expect(lookup('127.0.0.1:5100')).toEqual({ username: 'ci', password: 'pa:ss' });
    expect(lookup('registry.example.com')).toEqual({ username: 'deploy', password: 's3cret' });
    expect(lookup('docker.io')).toEqual({ username: 'hubuser', password: 'hubpass' });
    expect(lookup('acr.example.io')).toEqual({ token: 'refresh-me', kind: 'identity' });
    expect(lookup('tokens.example.io')).toEqual({ token: 'bearer-me', kind: 'registry' });
    expect(lookup('helper.example.io')).toBeUndefined();
    expect(lookup('127.0.0.1:5200')).toBeUndefined();
  });

  it('finds the file as docker does: REGISTRY_AUTH_FILE, then $DOCKER_CONFIG, then ~/.docker', () => {
    mkdirSync(join(dir, 'docker-config'));
    mkdirSync(join(dir, 'home', '.docker'), { recursive: true });
    writeFileSync(
      join(dir, 'docker-config', 'config.json'),
      JSON.stringify({ auths: { r1: { auth: b64('from:docker-config') } } }),
    );
    writeFileSync(
      join(dir, 'home', '.docker', 'config.json'),
      JSON.stringify({ auths: { r1: { auth: b64('from:home') } } }),
    );
    const explicit = authFile({ auths: { r1: { auth: b64('from:auth-file') } } });

    expect(
      credentialsFromEnv({
        REGISTRY_AUTH_FILE: explicit,
        DOCKER_CONFIG: join(dir, 'docker-config'),
        HOME: join(dir, 'home'),
      })('r1'),
    ).toEqual({ username: 'from', password: 'auth-file' });
    expect(credentialsFromEnv({ DOCKER_CONFIG: join(dir, 'docker-config'), HOME: join(dir, 'home') })('r1')).toEqual({
      username: 'from',
      password: 'docker-config',
    });
    expect(credentialsFromEnv({ HOME: join(dir, 'home') })('r1')).toEqual({ username: 'from', password: 'home' });
    expect(authFilePath({ HOME: '/home/ci' })).toBe('/home/ci/.docker/config.json');
  });

  it('goes anonymous when there is no auth file', () => {
    const lookup = credentialsFromEnv({ REGISTRY_AUTH_FILE: join(dir, 'missing.json') });
    expect(lookup('127.0.0.1:5100')).toBeUndefined();
    expect(credentialsFromEnv({ HOME: join(dir, 'nobody') })('docker.io')).toBeUndefined();
  });

  it('refuses a file that is not JSON, naming the file and not the secret', () => {
    const err = refusal('{"auths": {"r1": {"auth": "c2VjcmV0OnNlY3JldA=="}', 'c2VjcmV0OnNlY3JldA==');
    expect(err.message).toMatch(
      /is malformed: not valid JSON \(at character \d+\): fix it, log in again \(docker login\), or point REGISTRY_AUTH_FILE at another file$/,
    );
  });

  it('refuses entries of the wrong shape, naming the entry', () => {
    expect(refusal({ auths: { r1: { auth: 12345 } } }, '12345').message).toContain('.auths.r1.auth:');
    expect(refusal({ auths: ['hunter2'] }, 'hunter2').message).toContain('.auths:');
  });

  it('refuses an auth that is not base64 of user:password, without quoting it', () => {
    expect(refusal({ auths: { r1: { auth: b64('no-colon-secret') } } }, b64('no-colon-secret')).message).toContain(
      'auths["r1"] has an "auth" that is not base64 of username:password',
    );
    expect(refusal({ auths: { r1: { auth: 'hunter2!' } } }, 'hunter2!').message).toContain('not base64');
  });

  it('refuses a username without a password', () => {
    expect(refusal({ auths: { r1: { username: 'ci' } } }, 'ci"').message).toContain(
      'auths["r1"] needs both "username" and "password"',
    );
  });
});
