import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { InvalidInputError, MissingPrerequisiteError } from '../../../src/domain/errors';
import { kubeConfigForContext } from '../../../src/infra/kubernetes/kube-config';

const dir = mkdtempSync(join(tmpdir(), 'meridian-kubeconfig-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeKubeconfig(file: string, server: string): void {
  writeFileSync(
    file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'c', cluster: { server } }],
      users: [{ name: 'u', user: { token: 'not-a-real-token' } }],
      contexts: [
        { name: 'one', context: { cluster: 'c', user: 'u' } },
        { name: 'two', context: { cluster: 'c', user: 'u', namespace: 'apps' } },
      ],
      'current-context': 'one',
    }),
  );
}

describe('kubeconfig per context', () => {
  it('parses a file once per context and reads it again when it changes on disk', () => {
    const file = join(dir, 'changing');
    writeKubeconfig(file, 'https://10.0.0.1:6443');
    const first = kubeConfigForContext('two', file);
    expect(first.getCurrentContext()).toBe('two');
    expect(kubeConfigForContext('two', file)).toBe(first);
    expect(kubeConfigForContext('one', file)).not.toBe(first);
    expect(kubeConfigForContext('one', file).getCurrentContext()).toBe('one');

    writeKubeconfig(file, 'https://10.0.0.22:6443');
    const rotated = kubeConfigForContext('two', file);
    expect(rotated).not.toBe(first);
    expect(rotated.getCurrentCluster()?.server).toBe('https://10.0.0.22:6443');
  });

  it('names the contexts the file has when asked for one it lacks', () => {
    const file = join(dir, 'lacking');
    writeKubeconfig(file, 'https://10.0.0.1:6443');
    expect(() => kubeConfigForContext('three', file)).toThrow(InvalidInputError);
    expect(() => kubeConfigForContext('three', file)).toThrow(
      'kubeconfig context "three" does not exist; known contexts: one, two (set KUBECONFIG to the file that has it)',
    );
  });
});

describe('a kubeconfig that is not one', () => {
  it.each([
    [
      'a missing file',
      () => join(dir, 'missing'),
      /kubeconfig .*missing does not exist; point KUBECONFIG at the kubeconfig that has context one/,
    ],
    ['a directory', () => dir, /is not a regular file; point KUBECONFIG at the kubeconfig that has context one/],
    ['a device', () => '/dev/zero', /kubeconfig \/dev\/zero is not a regular file/],
  ])('refuses %s, naming it, before reading anything', (_what, path, message) => {
    expect(() => kubeConfigForContext('one', path())).toThrow(MissingPrerequisiteError);
    expect(() => kubeConfigForContext('one', path())).toThrow(message);
  });
});
