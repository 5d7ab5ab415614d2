import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { parseDocument } from 'yaml';
import { serverSideApply } from '../../../src/infra/kubernetes/server-side-apply';
import { verifyImage } from '../../../src/infra/registry/copy-image';
import { runCli } from '../../../src/client/main';
import { renderRegion } from '../../../src/client/render-region';
import { loadRelease } from '../../../src/infra/release-files/release-file';
import type { RegionSpec } from '../../../src/domain/release-spec';
import { rig, specFor } from '../../support/e2e';
import { uniqueName } from '../../support/rig';

const example = resolve(__dirname, '../../../examples/release.yaml');
const rigEnv = { ...process.env, KUBECONFIG: rig.layout.kubeconfig };
const tempDir = mkdtempSync(join(tmpdir(), 'meridian-diff-test-'));
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

/** Runs the CLI in-process, as a person on the rig would. */
async function cli(
  argv: string[],
  env: NodeJS.ProcessEnv = rigEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { out: (t) => void (stdout += t), err: (t) => void (stderr += t), env });
  return { code, stdout, stderr };
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Applies `change` to the region called `name` in a spec copy (specFor drops the staging region, so look it up by name). */
function editRegion(
  doc: ReturnType<typeof parseDocument>,
  name: string,
  change: (path: (string | number)[]) => void,
): void {
  const regions = doc.getIn(['spec', 'regions']) as { items: { get: (key: string) => unknown }[] };
  const index = regions.items.findIndex((r) => r.get('name') === name);
  if (index < 0) throw new Error(`no region ${name} in the spec copy`);
  change(['spec', 'regions', index]);
}

describe('meridian diff --regions A,B: how two regions render', () => {
  it("prints a unified diff of the regions' manifests: namespace, region and replicas of the canary against us-west", async () => {
    const { code, stdout, stderr } = await cli(['diff', '-f', example, '--regions', 'us-east-canary,us-west']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(/^--- us-east-canary\n\+\+\+ us-west\n@@ -\d+,\d+ \+\d+,\d+ @@\n/);
    expect(stdout).toContain('\n-  namespace: canary\n+  namespace: us-west\n');
    expect(stdout).toContain('\n-    meridian.dev/region: us-east-canary\n+    meridian.dev/region: us-west\n');
    expect(stdout).toContain('\n-  replicas: 2\n+  replicas: 3\n');
    // Lines the regions share are context, never changes.
    expect(stdout).not.toMatch(/^[-+]\s*(kind|apiVersion|image):/m);
  });

  it('prints the hunks `diff -u` prints for the same two renders', async () => {
    const render = async (region: string) => (await cli(['render', '-f', example, '--region', region])).stdout;
    const [canary, west] = [join(tempDir, 'canary.yaml'), join(tempDir, 'west.yaml')];
    writeFileSync(canary, await render('us-east-canary'));
    writeFileSync(west, await render('us-west'));
    const expected = await promisify(execFile)('diff', ['-u', canary, west]).catch(
      (err: { code?: number; stdout?: string }) => {
        if (err.code === 1) return { stdout: err.stdout! };
        throw err;
      },
    );
    const { stdout } = await cli(['diff', '-f', example, '--regions', 'us-east-canary,us-west']);
    const hunks = (text: string) => text.split('\n').slice(2).join('\n');
    expect(hunks(stdout)).toBe(hunks(expected.stdout));
  });

  it('shows the registry that differs between regions', async () => {
    const { code, stdout } = await cli(['diff', '-f', example, '--regions', 'us-west,eu-west']);
    expect(code).toBe(0);
    expect(stdout).toContain(
      '\n-          image: 127.0.0.1:5101/shop/api:2.4.0\n+          image: 127.0.0.1:5102/shop/api:2.4.0\n',
    );
  });

  it('says so when the regions render the same manifests, and exits 0', async () => {
    expect(await cli(['diff', '-f', example, '--regions', 'us-west,us-west'])).toEqual({
      code: 0,
      stdout: 'us-west and us-west render the same manifests\n',
      stderr: '',
    });
  });

  it('--json: each object with its change and diff', async () => {
    const { code, stdout } = await cli(['diff', '-f', example, '--regions', 'us-east-canary,us-west', '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report).toMatchObject({ mode: 'regions', regions: ['us-east-canary', 'us-west'], same: false });
    expect(report.changes.map((c: { object: string; change: string }) => [c.object, c.change])).toEqual([
      ['Service shop-api', 'changed'],
      ['Deployment shop-api', 'changed'],
    ]);
    expect(report.changes[1].diff).toMatch(
      /^--- us-east-canary Deployment shop-api\n\+\+\+ us-west Deployment shop-api\n/,
    );
    expect(report.changes[1].diff).toContain('\n-  replicas: 2\n+  replicas: 3\n');

    const same = JSON.parse((await cli(['diff', '-f', example, '--regions', 'us-west,us-west', '--json'])).stdout);
    expect(same).toMatchObject({
      mode: 'regions',
      same: true,
      changes: [
        { change: 'unchanged', diff: '' },
        { change: 'unchanged', diff: '' },
      ],
    });
  });
});

describe('meridian diff: bad input is refused with the option and the fix (exit 2)', () => {
  it.each([
    [['--regions', 'us-west,eu-west'], 'missing -f FILE: the release spec to diff'],
    [
      ['-f', example, '--regions', 'us-west'],
      '--regions: give two region names separated by a comma, e.g. --regions us-east-canary,us-west; got "us-west"',
    ],
    [['-f', example, '--regions', 'us-west,eu-west,sa-east'], '--regions: give two region names separated by a comma'],
    [
      ['-f', example, '--regions', 'us-west,eu-north'],
      '--regions: no region "eu-north"; use one of us-east-canary, us-west, ',
    ],
    [['-f', example, '--region', 'eu-north'], '--region: no region "eu-north"; use one of us-east-canary, us-west, '],
    [
      ['-f', example, '--region', 'us-west', '--regions', 'us-west,eu-west'],
      "option '--regions <a,b>' cannot be used with option '--region <name>'",
    ],
    [['-f', example], "missing --regions A,B (two regions' manifests) or --region NAME"],
    [['-f', example, '--context', 'x'], "unknown option '--context'"],
  ])('%j: %s', async (argv, message) => {
    const { code, stdout, stderr } = await cli(['diff', ...argv]);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toContain(message);
    expect(stderr).toMatch(/usage: meridian diff -f release\.yaml|use one of/);
  });
});

describe('meridian diff --region NAME: what a release would change in the cluster (the rig, dry runs only)', () => {
  let region: RegionSpec;
  const deployments = (r: RegionSpec) => rig.kube(r.cluster.context).makeApiClient(AppsV1Api);
  const liveVersion = async (r: RegionSpec) => {
    const d = await deployments(r).readNamespacedDeployment({ name: 'shop-api', namespace: r.cluster.namespace });
    return d.spec?.template.metadata?.labels?.['app.kubernetes.io/version'];
  };

  // The test's own namespace in us-west's cluster, running a release applied here for real (as a
  // deploy would), so the suite needs nothing else to have run on the rig first.
  const liveNamespace = uniqueName('diff-live');
  const runningVersion = uniqueName('9.9.8-diff-live');
  const specIn = (version: string, edit: (doc: ReturnType<typeof parseDocument>) => void = () => undefined) =>
    specFor(version, (doc) => {
      editRegion(doc, 'us-west', (path) => doc.setIn([...path, 'cluster', 'namespace'], liveNamespace));
      edit(doc);
    });
  const core = () => rig.kube(region.cluster.context).makeApiClient(CoreV1Api);

  beforeAll(async () => {
    const release = loadRelease(specIn(runningVersion));
    region = release.spec.spec.regions.find((r) => r.name === 'us-west')!;
    const { name, tag, source } = release.spec.spec.image;
    const { digest } = await verifyImage({ ref: { registry: source, repository: name, tag } });
    const objects = await renderRegion(release, region, rigEnv, digest);
    await core().createNamespace({ body: { metadata: { name: liveNamespace } } });
    await serverSideApply(
      rig.kube(region.cluster.context),
      objects.filter((o) => o.kind !== 'Namespace'),
    );
  });
  afterAll(async () => {
    await core()
      .deleteNamespace({ name: liveNamespace })
      .catch(() => undefined);
  });

  it('shows the version label, image and release annotation a new version changes, without server noise, and applies nothing', async () => {
    const version = uniqueName('9.9.9-diff');
    const spec = specIn(version, (doc) => doc.setIn(['spec', 'image', 'tag'], version));
    const { code, stdout, stderr } = await cli(['diff', '-f', spec, '--region', region.name]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const ns = region.cluster.namespace;
    expect(stdout).toContain(`--- live Deployment ${ns}/shop-api\n+++ after release Deployment ${ns}/shop-api\n@@ `);
    expect(stdout).toContain(`--- live Service ${ns}/shop-api\n+++ after release Service ${ns}/shop-api\n@@ `);
    expect(stdout).toMatch(
      new RegExp(
        `^-        app\\.kubernetes\\.io/version: \\S+\\n\\+        app\\.kubernetes\\.io/version: ${escape(version)}$`,
        'm',
      ),
    );
    expect(stdout).toMatch(
      new RegExp(
        `^-        - image: \\S+\\n\\+        - image: ${escape(`${region.registry}/shop/api:${version}`)}$`,
        'm',
      ),
    );
    expect(stdout).toMatch(new RegExp(`^\\+    meridian\\.dev/release: release-shop-api-${escape(version)}$`, 'm'));
    for (const noise of [
      'managedFields',
      'resourceVersion',
      'uid:',
      'creationTimestamp',
      'generation:',
      'status:',
      'last-applied-configuration',
    ]) {
      expect(stdout).not.toContain(noise);
    }
    expect(stdout).toMatch(
      new RegExp(
        `\\n${escape(region.name)}: 0 new, 2 changed, 0 unchanged \\(server-side dry run against context ${region.cluster.context}; nothing was applied\\)\\n$`,
      ),
    );
    expect(await liveVersion(region)).not.toBe(version);
  });

  it('--json: each object with its change and diff', async () => {
    const version = uniqueName('9.9.9-diff-json');
    const { code, stdout } = await cli(['diff', '-f', specIn(version), '--region', region.name, '--json']);
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    const ns = region.cluster.namespace;
    expect(report).toMatchObject({
      mode: 'cluster',
      region: region.name,
      context: region.cluster.context,
      namespace: ns,
      notes: [],
    });
    expect(report.changes.map((c: { object: string; change: string }) => [c.object, c.change])).toEqual([
      [`Service ${ns}/shop-api`, 'changed'],
      [`Deployment ${ns}/shop-api`, 'changed'],
    ]);
    expect(report.changes[1].diff).toContain(`+        app.kubernetes.io/version: ${version}\n`);
  });

  it('lists what the release that runs would leave as it is as unchanged, image digest included', async () => {
    const { code, stdout } = await cli(['diff', '-f', specIn(runningVersion), '--region', region.name]);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^unchanged: Service ${escape(liveNamespace)}/shop-api$`, 'm'));
    expect(stdout).toMatch(new RegExp(`^unchanged: Deployment ${escape(liveNamespace)}/shop-api$`, 'm'));
    expect(stdout).toContain(`${region.name}: 0 new, 0 changed, 2 unchanged `);
  });

  it('reports every object as new in a namespace where nothing runs, as the API server would create it', async () => {
    const spec = specIn(uniqueName('9.9.9-diff-empty'), (doc) =>
      editRegion(doc, region.name, (path) => doc.setIn([...path, 'cluster', 'namespace'], 'default')),
    );
    const { code, stdout } = await cli(['diff', '-f', spec, '--region', region.name]);
    expect(code).toBe(0);
    expect(stdout).toContain(
      '--- live Service default/shop-api (new object)\n+++ after release Service default/shop-api\n@@ -0,0 +1,',
    );
    expect(stdout).toContain(
      '--- live Deployment default/shop-api (new object)\n+++ after release Deployment default/shop-api\n@@ -0,0 +1,',
    );
    // Defaults only the API server fills in: the dry run's answer, not the template.
    expect(stdout).toContain('\n+      restartPolicy: Always\n');
    expect(stdout).toContain('\n+          imagePullPolicy: IfNotPresent\n');
    expect(stdout).toMatch(/\n\S+: 2 new, 0 changed, 0 unchanged /);
  });

  it('reports the namespace and its objects as new where the namespace does not exist yet, and does not create it', async () => {
    const namespace = uniqueName('diff-new');
    const spec = specIn(uniqueName('9.9.9-diff-new'), (doc) =>
      editRegion(doc, region.name, (path) => doc.setIn([...path, 'cluster', 'namespace'], namespace)),
    );
    const { code, stdout } = await cli(['diff', '-f', spec, '--region', region.name]);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^note: namespace ${namespace} does not exist yet: releasing creates it; `));
    expect(stdout).toContain(
      `--- live Namespace ${namespace} (new object)\n+++ after release Namespace ${namespace}\n`,
    );
    expect(stdout).toContain(`--- live Service ${namespace}/shop-api (new object)\n`);
    expect(stdout).toContain(`--- live Deployment ${namespace}/shop-api (new object)\n`);
    expect(stdout).toContain(`: 3 new, 0 changed, 0 unchanged `);
    const read = rig.kube(region.cluster.context).makeApiClient(CoreV1Api).readNamespace({ name: namespace });
    await expect(read).rejects.toMatchObject({ code: 404 });
  });

  it("fails with the object and the API server's message when the dry run rejects a manifest (exit 2)", async () => {
    const spec = specIn(uniqueName('9.9.9-diff-bad'), (doc) =>
      editRegion(doc, region.name, (path) => doc.setIn([...path, 'values'], doc.createNode({ replicas: -1 }))),
    );
    const { code, stdout, stderr } = await cli(['diff', '-f', spec, '--region', region.name]);
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toContain(
      `error: cluster ${region.cluster.context} (region ${region.name}) rejected Deployment ${region.cluster.namespace}/shop-api in a dry run (422): `,
    );
    expect(stderr).toContain('spec.replicas: Invalid value: -1: must be greater than or equal to 0');
    expect(stderr).toContain('fix the template or the values that produce it; nothing was applied');
  });

  it('exits 3 with what to check when the cluster does not answer', async () => {
    const kubeconfig = join(tempDir, 'unreachable-kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{ name: gone, cluster: { server: "https://127.0.0.1:1", insecure-skip-tls-verify: true } }]',
        'users: [{ name: nobody, user: {} }]',
        `contexts: [{ name: ${region.cluster.context}, context: { cluster: gone, user: nobody } }]`,
        `current-context: ${region.cluster.context}`,
      ].join('\n'),
    );
    const { code, stderr } = await cli(['diff', '-f', example, '--region', region.name], {
      ...process.env,
      KUBECONFIG: kubeconfig,
    });
    expect(code).toBe(3);
    expect(stderr).toContain(`error: cannot reach cluster ${region.cluster.context} (region ${region.name}): `);
    expect(stderr).toContain('ECONNREFUSED');
    expect(stderr).toContain(
      'is the cluster up (for the local rig: meridian dev up), and does KUBECONFIG point at it?',
    );
  });

  it('exits 2 when the kubeconfig has no context for the region', async () => {
    const spec = specIn(uniqueName('9.9.9-diff-ctx'), (doc) =>
      editRegion(doc, region.name, (path) => doc.setIn([...path, 'cluster', 'context'], 'meridian-nowhere')),
    );
    const { code, stderr } = await cli(['diff', '-f', spec, '--region', region.name]);
    expect(code).toBe(2);
    expect(stderr).toContain('kubeconfig context "meridian-nowhere" does not exist; known contexts: meridian-americas');
  });
});
