import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { compareCliStartup, describeCliStartup } from '../../src/bench/cli-startup';

const root = resolve(__dirname, '..', '..');
const example = join(root, 'examples', 'release.yaml');

/** The node_modules packages a CLI run loaded, read from its module cache as it exits. */
function packagesLoaded(args: string[]): Set<string> {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-cli-load-'));
  const out = join(dir, 'loaded.json');
  const hook = join(dir, 'hook.js');
  writeFileSync(
    hook,
    `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache))));\n`,
  );
  const run = spawnSync(process.execPath, ['-r', hook, join(root, 'bin', 'meridian'), ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, HOME: dir },
  });
  expect(run.status).toBe(0);
  const files = JSON.parse(readFileSync(out, 'utf8')) as string[];
  return new Set(files.flatMap((f) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(f)?.[1] ?? []));
}

describe('CLI start (the built CLI, as `npm test` builds it)', () => {
  it('loads only what the command runs: validate and plan load neither the Temporal worker nor the Kubernetes client', () => {
    for (const args of [['validate', '-f', example], ['plan', '-f', example], ['--help']]) {
      const loaded = packagesLoaded(args);
      expect(
        [...loaded].filter((p) => ['@temporalio/worker', '@temporalio/client', '@kubernetes/client-node'].includes(p)),
      ).toEqual([]);
    }
    expect(packagesLoaded(['validate', '-f', example]).has('zod')).toBe(true);
  });

  it('compares lazy loading with every command loaded up front (quick form of the bench section)', () => {
    const c = compareCliStartup({ commands: [['--help'], ['validate', '-f', example]], rounds: 1 });
    expect(c.commands.map((s) => [s.command, s.exitCode])).toEqual([
      ['--help', 0],
      ['validate -f examples/release.yaml', 0],
    ]);
    for (const s of c.commands) {
      expect(s.lazyMs).toBeGreaterThan(0);
      // Memory does not vary with a busy machine the way time does: the baseline holds the worker and clients too.
      expect(s.eagerRssKiB).toBeGreaterThan(s.lazyRssKiB);
    }
    expect(describeCliStartup(c)).toMatch(
      /^CLI start to exit, median of 1 fresh processes each way, taking turns:\n  meridian --help: \d+ ms, \d+ MiB peak RSS; every command loaded up front \d+ ms, \d+ MiB; ratio [\d.]+x/,
    );
  });
});
