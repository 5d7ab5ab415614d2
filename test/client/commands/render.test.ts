import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { meridianBin } from '../../support/cli';

const example = resolve(__dirname, '../../../examples/release.yaml');
const empty = mkdtempSync(join(tmpdir(), 'meridian-no-helm-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

/**
 * Runs the built CLI (node named by its path, so PATH may hold nothing) with an environment of only
 * `env`: no helm on PATH, and a toolchain cache without it.
 */
function meridianWithout(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, [meridianBin, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (err as { code?: unknown }).code : 0;
      done({ code: typeof code === 'number' ? code : -1, stdout, stderr });
    });
  });
}

describe('render and diff without helm: exit 2, saying how to get it', () => {
  const noHelm = { PATH: empty, MERIDIAN_CACHE: empty, HOME: empty };

  it.each([
    [['render', '-f', example, '--region', 'us-west']],
    [['diff', '-f', example, '--regions', 'us-east-canary,us-west']],
  ])('%j', async (args) => {
    const { code, stdout, stderr } = await meridianWithout(args, noHelm);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toBe(
      'error: helm is not in the toolchain cache nor on PATH: run `npm run setup` (or `MERIDIAN_ONLY=helm bash scripts/setup-toolchain.sh` for helm alone), ' +
        'which builds it into ~/.cache/meridian/bin ($MERIDIAN_CACHE/bin), or put helm on PATH, or set MERIDIAN_HELM to its path\n',
    );
  });

  it('names a MERIDIAN_HELM that is not there', async () => {
    const helm = join(empty, 'bin', 'helm');
    const { code, stderr } = await meridianWithout(['render', '-f', example, '--region', 'us-west'], {
      ...noHelm,
      MERIDIAN_HELM: helm,
    });
    expect(code).toBe(2);
    expect(stderr).toMatch(
      new RegExp(
        `^error: helm at ${JSON.stringify(helm).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} does not exist: run \`npm run setup\``,
      ),
    );
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});

/** A stand-in helm in `dir`/helm that renders one Deployment named `name`, so a test can see which helm ran. */
function fakeHelm(dir: string, name: string): void {
  mkdirSync(dir, { recursive: true });
  const manifest = [
    'apiVersion: apps/v1',
    'kind: Deployment',
    `metadata: { name: ${name} }`,
    'spec: { template: { spec: { containers: [{ name: api, image: "shop/api:0" }] } } }',
  ];
  // Shell builtins only: PATH may hold nothing.
  writeFileSync(join(dir, 'helm'), `#!/bin/sh\n${manifest.map((line) => `echo '${line}'`).join('\n')}\n`);
  chmodSync(join(dir, 'helm'), 0o755);
}

describe('which helm render and diff run', () => {
  const cache = join(empty, 'cache');
  const onPath = join(empty, 'path-bin');
  fakeHelm(join(cache, 'bin'), 'rendered-by-cache-helm');
  fakeHelm(onPath, 'rendered-by-path-helm');

  it("the toolchain cache's ($MERIDIAN_CACHE/bin) before the one on PATH", async () => {
    const { code, stdout, stderr } = await meridianWithout(['render', '-f', example, '--region', 'us-west'], {
      PATH: onPath,
      MERIDIAN_CACHE: cache,
      HOME: empty,
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('name: rendered-by-cache-helm');
  });

  it('the one on PATH when the cache has none', async () => {
    const { code, stdout } = await meridianWithout(['render', '-f', example, '--region', 'us-west'], {
      PATH: onPath,
      MERIDIAN_CACHE: empty,
      HOME: empty,
    });
    expect(code).toBe(0);
    expect(stdout).toContain('name: rendered-by-path-helm');
  });
});
