import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import pino from 'pino';
import { createActivities } from '../../src/activities/region-activities';
import { packTemplate } from '../../src/infra/render/template-bundle';
import { loadRelease, releaseIdOf } from '../../src/infra/release-files/release-file';
import { requireTool } from '../../src/rig/toolchain';

// The renderRegion activity as the worker runs it: input a retry cannot fix fails at once, naming the place.
const example = loadRelease(join(__dirname, '../../examples/release.yaml'));
const { spec } = example;
const region = spec.spec.regions.find((r) => r.name === 'eu-west')!;
const activities = createActivities({ helmPath: requireTool('helm'), logger: pino({ level: 'silent' }) });
const folder = mkdtempSync(join(tmpdir(), 'meridian-render-activity-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

async function failureOf(
  files: Record<string, string>,
  values: Record<string, unknown> = {},
  { worker = activities, kind = 'manifests' as 'manifests' | 'helm' } = {},
): Promise<ApplicationFailure> {
  const dir = mkdtempSync(join(folder, 'manifests-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const template = packTemplate(dir, kind, 'shop-api', `spec.template.${kind}.path`);
  const release = {
    releaseId: releaseIdOf(spec),
    app: spec.metadata.app,
    version: spec.metadata.version,
    image: spec.spec.image,
  };
  let thrown: unknown;
  try {
    await new MockActivityEnvironment().run(worker.renderRegion, { release, region, template, values });
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ApplicationFailure);
  return thrown as ApplicationFailure;
}

const deployment =
  'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: shop-api }\nspec:\n  template:\n    spec:\n      containers: [{ name: api, image: "shop/api:1" }]\n';

describe('renderRegion activity with hostile input', () => {
  it('fails a manifest file with an alias to no anchor as non-retryable invalid input naming file:line:col', async () => {
    const failure = await failureOf({
      'deployment.yaml': `${deployment}---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: x }\ndata: { a: *nope }\n`,
    });
    expect(failure).toMatchObject({ nonRetryable: true, type: 'InvalidInput' });
    expect(failure.message).toMatch(
      /^deployment\.yaml is not valid YAML: deployment\.yaml:12:12: alias "nope" names no anchor defined before it/,
    );
  });

  it('fails a value path through __proto__ as non-retryable invalid input, and Object.prototype stays clean', async () => {
    const failure = await failureOf(
      { 'deployment.yaml': deployment },
      { 'Deployment/shop-api:spec.__proto__.polluted': 'yes' },
    );
    expect(failure).toMatchObject({ nonRetryable: true, type: 'InvalidInput' });
    expect(failure.message).toMatch(
      /^template value "Deployment\/shop-api:spec.__proto__.polluted": the field path names "__proto__"/,
    );
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('renderRegion activity on a worker without helm', () => {
  it('fails retryably as a missing prerequisite, so another worker (or this one, fixed) renders the region', async () => {
    const helmless = createActivities({ helmPath: join(folder, 'no-helm'), logger: pino({ level: 'silent' }) });
    const chart = {
      'Chart.yaml': 'apiVersion: v2\nname: shop-api\nversion: 1.0.0\n',
      'templates/deployment.yaml': deployment,
    };
    const failure = await failureOf(chart, {}, { worker: helmless, kind: 'helm' });
    expect(failure).toMatchObject({ nonRetryable: false, type: 'MissingPrerequisite' });
    expect(failure.message).toMatch(/no-helm" does not exist: run `npm run setup`/);
  });
});
