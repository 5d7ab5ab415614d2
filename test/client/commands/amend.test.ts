import { resolve } from 'node:path';
import { runCli } from '../../../src/client/main';

/** Runs the CLI in-process against no server: every case here is refused before connecting. */
async function cli(...argv: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const code = await runCli(argv, {
    out: () => undefined,
    err: (t) => void (stderr += t),
    env: { TEMPORAL_ADDRESS: '127.0.0.1:1' },
  });
  return { code, stderr };
}

const spec = resolve(__dirname, '../../../examples/release.yaml');

describe('meridian skip | retry | move | add-region: bad input is refused before anything is sent', () => {
  it.each([
    [['skip', 'release-x'], "missing required argument 'region'"],
    [['skip', 'release-x', 'eu-west'], '--reason: say why'],
    [['retry', 'release-x', 'eu-west', '--reason', ' '], '--reason: say why'],
    [['move', 'release-x', 'eu-west', '--reason', 'r'], '--to-wave: give the later wave'],
    [
      ['move', 'release-x', 'eu-west', '--reason', 'r', '--to-wave', 'two'],
      '--to-wave: expected a wave number from 1 to 100000, got "two"',
    ],
    [['skip', 'release-x', 'eu-west', '--reason', 'r', '--to-wave', '3'], "unknown option '--to-wave'"],
    [['retry', 'release-x', 'eu-west', '--reason', 'r', '-f', spec], "unknown option '-f'"],
    [
      ['skip', 'release-x', 'EU_West', '--reason', 'r'],
      '<region>: expected lowercase letters, digits and dashes (a DNS label), such as eu-west, got "EU_West"',
    ],
    [['add-region', 'release-x', 'eu-north', '--reason', 'r'], 'missing -f FILE'],
    [
      ['add-region', 'release-x', 'eu-north', '--reason', 'r', '-f', spec],
      `${spec}: no region eu-north in spec.regions (it has us-east-canary, `,
    ],
  ])('%j: %s', async (argv, message) => {
    const { code, stderr } = await cli(...argv);
    expect(code).toBe(2);
    expect(stderr).toContain(`error: ${message}`);
    expect(stderr).toContain(`\n  usage: meridian ${argv[0]} <release-id> <region> `);
  });
});
