import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporalProcess } from '../../../src/rig/temporal-dev-server';
import { meridian } from '../../support/cli';
import { theRig } from '../../support/rig';

const rig = theRig();

describe('meridian dev', () => {
  it('status reports every component of the running rig as healthy', async () => {
    const { code, stdout } = await meridian(['dev', 'status', '--json']);
    expect(code).toBe(0);
    const status = JSON.parse(stdout);
    expect(status.healthy).toBe(true);
    expect(status.temporal).toMatchObject({
      up: true,
      uiUp: true,
      address: '127.0.0.1:7233',
      uiUrl: 'http://127.0.0.1:8233',
    });
    expect(status.clusters.map((c: { context: string }) => c.context)).toEqual([
      'meridian-americas',
      'meridian-europe',
      'meridian-asia',
    ]);
    for (const c of status.clusters) expect(c.readyNodes).toBeGreaterThanOrEqual(3);
    expect(status.services).toHaveLength(rig.regions.length);
    expect(status.services.every((s: { up: boolean }) => s.up)).toBe(true);
    expect(status.prometheus).toMatchObject({ up: true, url: 'http://127.0.0.1:9090', targetsUp: rig.regions.length });
    // Synthetic users: Seoul's resolve the hostname as the seoul population, staging has none of its own.
    const users = (region: string) => status.services.find((s: { region: string }) => s.region === region)?.users;
    expect(users('ap-northeast-2')).toMatchObject({ resolve: 'dns', population: 'seoul' });
    expect(users('staging')).toMatchObject({ resolve: 'direct' });
  });

  it('up is idempotent: a second up keeps what runs and says so', async () => {
    const pidBefore = readFileSync(temporalProcess(rig.layout).pidFile, 'utf8');
    const { code, stdout, stderr } = await meridian(['dev', 'up']);
    expect(code).toBe(0);
    expect(stderr).toContain('Temporal dev server already running');
    expect(stderr).toContain('clusters already running: meridian-americas, meridian-europe, meridian-asia');
    expect(stderr).toContain('demo services already running');
    expect(stderr).toContain('Prometheus already running');
    expect(stderr).toContain("shop.example.test answers for the release's 8 regions (recorded drains kept)");
    expect(readFileSync(temporalProcess(rig.layout).pidFile, 'utf8')).toBe(pidBefore);
    // It reports where everything is.
    expect(stdout).toContain('http://127.0.0.1:8233');
    expect(stdout).toContain(rig.layout.kubeconfig);
    expect(stdout).toContain('http://127.0.0.1:18101');
    expect(stdout).toMatch(/^users {6}ap-northeast-2's users as seoul \(DNS\) -> /m);
  });

  it('refuses a bad rig config, naming the field and starting nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rig-'));
    const file = join(dir, 'rig.yaml');
    writeFileSync(
      file,
      'clusters:\n  - { context: Meridian_Americas, nodes: 0 }\nrelease: ./release.yaml\nversions: { "1.0": { errorRate: 2 } }\n',
    );
    const { code, stderr } = await meridian(['dev', 'up', '--rig', file], {
      env: { MERIDIAN_RIG_DIR: join(dir, 'state') },
    });
    expect(code).toBe(2);
    expect(stderr).toContain('clusters[0].context: expected a lowercase name such as meridian-americas');
    expect(stderr).toContain('clusters[0].nodes');
    expect(stderr).toContain('versions["1.0"].errorRate');
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(() => readFileSync(join(dir, 'state', 'temporal.pid'))).toThrow();
  });

  it('names the line of a YAML syntax error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rig-'));
    const file = join(dir, 'rig.yaml');
    writeFileSync(file, 'temporal:\n  port: 7233\n clusters: [\n');
    const { code, stderr } = await meridian(['dev', 'status', '--rig', file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/rig\.yaml:3:\d+/);
  });

  it('rejects an unknown action with usage and exit code 2', async () => {
    const { code, stderr } = await meridian(['dev', 'sideways']);
    expect(code).toBe(2);
    expect(stderr).toContain('usage: meridian dev up [--profile dev|production] | down');
  });

  it('refuses an unknown profile, and a profile for anything but up, starting nothing', async () => {
    const unknown = await meridian(['dev', 'up', '--profile', 'staging']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('--profile: expected one of dev, production, got "staging"');
    const down = await meridian(['dev', 'down', '--profile', 'production']);
    expect(down.code).toBe(2);
    expect(down.stderr).toContain('--profile applies to `dev up` only');
  });
});
