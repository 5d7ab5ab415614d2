import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { writeDemoSpec } from '../../../src/infra/release-files/demo-spec';
import { runCli } from '../../../src/client/main';
import { pushDemoImage } from '../../../src/rig/demo-image';
import { freePort, startTestRegistry, type TestRegistry } from '../../support/registry';

const example = resolve(__dirname, '../../../examples/release.yaml');
let registry: TestRegistry;

beforeAll(async () => {
  registry = await startTestRegistry();
}, 30_000);
afterAll(async () => {
  await registry?.stop();
});

/** The example release with its image coming from `source`. */
function specWithSource(source: string, tag = '2.4.0'): string {
  const file = writeDemoSpec(example, '2.4.0', mkdtempSync(join(tmpdir(), 'meridian-start-')));
  const doc = parseDocument(readFileSync(file, 'utf8'));
  doc.setIn(['spec', 'image', 'source'], source);
  doc.setIn(['spec', 'image', 'tag'], tag);
  writeFileSync(file, doc.toString());
  return file;
}

/** Runs `meridian start` in-process with Temporal pointing at a closed port: reaching it would exit 3. */
async function start(file: string): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const env = { ...process.env, TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` };
  const code = await runCli(['start', '-f', file], { out: () => undefined, err: (t) => void (stderr += t), env });
  return { code, stderr };
}

describe('meridian start: the image must be in the source registry', () => {
  it('refuses a release whose image is not in the source registry, before reaching Temporal', async () => {
    const { code, stderr } = await start(specWithSource(registry.host, '9.9.9'));
    expect(code).toBe(2);
    expect(stderr).toContain(
      `spec.image: no image shop/api:9.9.9 in ${registry.host}: push it there first, or fix spec.image (name, tag, source); nothing started`,
    );
  });

  it('goes on to Temporal when the image is there', async () => {
    await pushDemoImage({ registry: registry.host, repository: 'shop/api', tag: '2.4.0' });
    const { code, stderr } = await start(specWithSource(registry.host));
    expect(stderr).not.toContain('spec.image');
    expect(code).toBe(3); // Temporal is not there: the image check passed
    expect(stderr).toContain('cannot reach Temporal');
  });

  it('only warns when this machine cannot reach the source registry: the workers may', async () => {
    const down = `127.0.0.1:${await freePort()}`;
    const { code, stderr } = await start(specWithSource(down));
    expect(stderr).toContain(`warning: could not check that shop/api:2.4.0 is in ${down} from here`);
    expect(code).toBe(3);
  });
});
