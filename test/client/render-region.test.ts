import { resolve } from 'node:path';
import { runCli } from '../../src/client/main';
import { loadRelease } from '../../src/infra/release-files/release-file';
import { manifestsYaml, regionNamed, renderRegion } from '../../src/client/render-region';
import { InvalidInputError } from '../../src/domain/errors';

const release = loadRelease(resolve(__dirname, '../../examples/release.yaml'));

describe('regionNamed', () => {
  it('finds a region of the spec', () => {
    expect(regionNamed(release, 'eu-west', '--region').cluster).toEqual({
      context: 'meridian-europe',
      namespace: 'eu-west',
    });
  });

  it('names the option and the regions there are when the name is wrong or missing', () => {
    expect(() => regionNamed(release, 'eu-north', '--regions')).toThrow(
      new InvalidInputError(
        '--regions: no region "eu-north"; use one of us-east-canary, us-west, us-east, eu-west, ap-northeast-2, me-central, sa-east, ap-south, staging',
      ),
    );
    expect(() => regionNamed(release, undefined, '--region')).toThrow(
      /^--region: missing; use one of us-east-canary, /,
    );
  });
});

describe('renderRegion', () => {
  it('renders what `meridian render` prints for the region', async () => {
    const objects = await renderRegion(release, regionNamed(release, 'us-east-canary', '--region'), process.env);
    expect(objects.map((o) => `${o.kind} ${o.metadata?.namespace}/${o.metadata?.name}`)).toEqual([
      'Service canary/shop-api',
      'Deployment canary/shop-api',
    ]);

    let printed = '';
    const code = await runCli(['render', '-f', release.file, '--region', 'us-east-canary'], {
      out: (t) => void (printed += t),
      err: () => undefined,
      env: process.env,
    });
    expect(code).toBe(0);
    expect(printed).toBe(manifestsYaml(objects));
    expect(printed).toMatch(/^---\napiVersion: v1\nkind: Service\n/);
  });
});
