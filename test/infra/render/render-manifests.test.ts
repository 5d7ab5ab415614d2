import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  deepMerge,
  type RenderedManifests,
  renderManifests,
  type RenderRequest,
  repositoryOf,
} from '../../../src/infra/render/render-manifests';
import { packTemplate } from '../../../src/infra/render/template-bundle';
import { loadRelease, packReleaseTemplate, releaseIdOf } from '../../../src/infra/release-files/release-file';
import { InvalidInputError, MissingPrerequisiteError } from '../../../src/domain/errors';
import type { ReleaseRef, TemplateBundle } from '../../../src/domain/release-input';
import type { RegionSpec } from '../../../src/domain/release-spec';
import { requireTool } from '../../../src/rig/toolchain';
import { yamlLimits } from '../../../src/domain/yaml-document';

// The real helm from the toolchain cache (or PATH); a missing helm fails with how to install it.
const helm = requireTool('helm');
const example = loadRelease(join(__dirname, '../../../examples/release.yaml'));
const { spec } = example;
const chart = packReleaseTemplate(example);
// As the workflow renders it: with the digest the region's registry holds.
const digest = `sha256:${'5e'.repeat(32)}`;
const release: ReleaseRef = {
  releaseId: releaseIdOf(spec),
  app: spec.metadata.app,
  version: spec.metadata.version,
  image: { ...spec.spec.image, digest },
};
const regions = spec.spec.regions;

const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function region(name: string): RegionSpec {
  const found = regions.find((r) => r.name === name);
  if (!found) throw new Error(`no region ${name} in examples/release.yaml`);
  return found;
}

function requestFor(r: RegionSpec, change: Partial<RenderRequest> = {}): RenderRequest {
  return { release, region: r, template: chart, values: spec.spec.template.values, ...change };
}

type Deployment = KubernetesObject & {
  spec: {
    replicas: number;
    template: {
      metadata: { labels: Record<string, string> };
      spec: { containers: { name: string; image: string; resources: { requests: Record<string, string> } }[] };
    };
  };
};

function deploymentOf(rendered: RenderedManifests): Deployment {
  const deployments = rendered.objects.filter((o) => o.kind === 'Deployment');
  expect(deployments).toHaveLength(1);
  return deployments[0] as Deployment;
}

/** A helm chart written to a temporary folder and packed as a release would pack it. */
function chartOf(templates: Record<string, string>): TemplateBundle {
  const dir = tempDir('meridian-chart-');
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: other\nversion: 0.1.0\n');
  for (const [name, text] of Object.entries(templates)) writeFileSync(join(dir, 'templates', name), text);
  return packTemplate(dir, 'helm', 'shop-api', 'spec.template.helm.chart');
}

/** A folder of plain manifests, packed as a release would pack it. */
function manifestsOf(files: Record<string, string>): TemplateBundle {
  const dir = tempDir('meridian-manifests-');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return packTemplate(dir, 'manifests', 'shop-api', 'spec.template.manifests.path');
}

const plainDeployment = `apiVersion: apps/v1
kind: Deployment
metadata: { name: shop-api }
spec:
  replicas: 1
  selector: { matchLabels: { app: shop-api } }
  template:
    metadata: { labels: { app: shop-api } }
    spec:
      initContainers: [{ name: migrate, image: "registry.invalid/shop/api:old" }]
      containers:
        - { name: api, image: "shop/api:latest" }
        - { name: proxy, image: "docker.io/envoyproxy/envoy:v1.30" }
`;

describe('renderManifests with the example chart', () => {
  const rendered = new Map<string, RenderedManifests>();

  beforeAll(async () => {
    const results = await Promise.all(regions.map((r) => renderManifests(helm, requestFor(r))));
    regions.forEach((r, i) => rendered.set(r.name, results[i]));
  });

  it.each(regions.map((r) => r.name))('renders %s as in its snapshot', (name) => {
    expect(rendered.get(name)!.objects).toMatchSnapshot();
  });

  it.each(regions.map((r) => [r.name, r.registry, r.cluster.namespace]))(
    'runs the release image from the registry of %s and deploys to its namespace',
    (name, registry, namespace) => {
      const { objects } = rendered.get(name)!;
      const deployment = deploymentOf(rendered.get(name)!);
      expect(deployment.spec.template.spec.containers.map((c) => c.image)).toEqual([
        `${registry}/shop/api:2.4.0@${digest}`,
      ]);
      expect(objects.map((o) => o.metadata?.namespace)).toEqual(objects.map(() => namespace));
    },
  );

  it('takes replicas from the region values over the shared values', () => {
    const replicas = Object.fromEntries(
      regions.map((r) => [r.name, deploymentOf(rendered.get(r.name)!).spec.replicas]),
    );
    expect(replicas).toEqual({
      'us-east-canary': 2,
      'us-west': 3,
      'us-east': 12,
      staging: 3,
      'eu-west': 3,
      'ap-northeast-2': 3,
      'me-central': 3,
      'sa-east': 3,
      'ap-south': 3,
    });
  });

  it('labels the pod template with the release version and marks every object as managed by Meridian', () => {
    for (const r of regions) {
      const result = rendered.get(r.name)!;
      expect(deploymentOf(result).spec.template.metadata.labels['app.kubernetes.io/version']).toBe('2.4.0');
      for (const o of result.objects) {
        expect(o.metadata?.labels?.['app.kubernetes.io/managed-by']).toBe('meridian');
        expect(o.metadata?.annotations).toMatchObject({
          'meridian.dev/release': 'release-shop-api-2.4.0',
          'meridian.dev/region': r.name,
        });
      }
    }
  });

  it('orders objects for applying: the Service before the Deployment', () => {
    expect(rendered.get('us-west')!.objects.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      'Service/shop-api',
      'Deployment/shop-api',
    ]);
  });

  it('gives the same digest for the same inputs', async () => {
    const again = await renderManifests(helm, requestFor(region('us-east')));
    expect(again.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(again.digest).toBe(rendered.get('us-east')!.digest);
    expect(again.objects).toEqual(rendered.get('us-east')!.objects);
  });

  it('gives every region its own digest', () => {
    const digests = regions.map((r) => rendered.get(r.name)!.digest);
    expect(new Set(digests).size).toBe(regions.length);
  });
});

describe('renderManifests values', () => {
  it('merges region values over shared values field by field', async () => {
    const canary = region('us-east-canary');
    const withValues = { ...canary, values: { resources: { cpu: '500m' } } };
    const result = await renderManifests(
      helm,
      requestFor(withValues, { values: { replicas: 5, resources: { cpu: '250m', memory: '512Mi' } } }),
    );
    const deployment = deploymentOf(result);
    expect(deployment.spec.replicas).toBe(5);
    expect(deployment.spec.template.spec.containers[0].resources.requests).toEqual({ cpu: '500m', memory: '512Mi' });
  });

  it('changes the digest when a value changes', async () => {
    const usWest = region('us-west');
    const before = await renderManifests(helm, requestFor(usWest));
    const after = await renderManifests(
      helm,
      requestFor(usWest, { values: { ...spec.spec.template.values, replicas: 4 } }),
    );
    expect(deploymentOf(after).spec.replicas).toBe(4);
    expect(after.digest).not.toBe(before.digest);
  });
});

describe('renderManifests refusals', () => {
  it.each([
    [
      'runs another image',
      {
        'deployment.yaml':
          'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\nspec:\n  template:\n    spec:\n      containers: [{ name: web, image: "nginx:1.27" }]\n',
      },
    ],
    [
      'has no workload at all',
      { 'config.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings }\ndata: { a: "1" }\n' },
    ],
  ])('refuses a chart that %s', async (_what, templates) => {
    const request = requestFor(region('us-west'), { template: chartOf(templates) });
    const attempt = renderManifests(helm, request);
    await expect(attempt).rejects.toThrow(InvalidInputError);
    await expect(attempt).rejects.toThrow(
      'the template renders no container running shop/api: use that image in a Deployment so Meridian can set it per region',
    );
  });

  it("reports a chart helm cannot render as invalid input, with helm's reason", async () => {
    const request = requestFor(region('us-west'), {
      template: chartOf({ 'broken.yaml': 'kind: {{ .Values.missing.deeper }}\n' }),
    });
    const attempt = renderManifests(helm, request);
    await expect(attempt).rejects.toThrow(InvalidInputError);
    await expect(attempt).rejects.toThrow(
      /^helm could not render the chart: .*nil pointer evaluating interface \{\}\.deeper/,
    );
  });

  it("quotes helm's reason in one line of at most 1000 characters", async () => {
    // A raw Go string (backquoted) may span lines.
    const long = `{{ fail \`second line\u001b[31m\n${'x'.repeat(5_000)}\` }}`;
    const err = await refusalOfRender(requestFor(region('us-west'), { template: chartOf({ 'broken.yaml': long }) }));
    expect(err.message).toMatch(/^helm could not render the chart: .*x… \(\d{4} characters\)$/);
    expect(err.message).not.toMatch(/[\u0000-\u001f]/);
    expect(err.message.length).toBeLessThan(1_100);
  });

  it('reports a missing helm binary as a missing prerequisite that says how to get it, not invalid input', async () => {
    const attempt = renderManifests(join(tmpdir(), 'no-such-helm'), requestFor(region('us-west')));
    await expect(attempt).rejects.toThrow(
      `helm at "${join(tmpdir(), 'no-such-helm')}" does not exist: run \`npm run setup\``,
    );
    await expect(attempt).rejects.toThrow('or set MERIDIAN_HELM to its path');
    await expect(attempt).rejects.toBeInstanceOf(MissingPrerequisiteError);
    await expect(attempt).rejects.not.toBeInstanceOf(InvalidInputError);
  });
});

describe('renderManifests with plain manifests', () => {
  it('sets the region image on every container of the release repository and applies values by path', async () => {
    const template = manifestsOf({ 'deployment.yaml': plainDeployment, 'notes.txt': 'not a manifest' });
    const result = await renderManifests(
      helm,
      requestFor(region('eu-west'), { template, values: { 'Deployment/shop-api:spec.replicas': 4 } }),
    );
    const deployment = result.objects[0] as Deployment & {
      spec: { template: { spec: { initContainers: { image: string }[] } } };
    };
    expect(result.objects).toHaveLength(1);
    expect(deployment.metadata?.namespace).toBe('eu-west');
    expect(deployment.spec.replicas).toBe(4);
    expect(deployment.spec.template.spec.initContainers[0].image).toBe(`127.0.0.1:5102/shop/api:2.4.0@${digest}`);
    expect(deployment.spec.template.spec.containers.map((c) => c.image)).toEqual([
      `127.0.0.1:5102/shop/api:2.4.0@${digest}`,
      'docker.io/envoyproxy/envoy:v1.30',
    ]);
  });

  it.each([
    [
      'replicas',
      'template value "replicas": a plain-manifest value is addressed as Kind/name:field.path, e.g. Deployment/shop-api:spec.replicas',
    ],
    [
      'Deployment/other:spec.replicas',
      'template value "Deployment/other:spec.replicas": no Deployment named other in the manifests',
    ],
  ])('refuses the value %j', async (key, message) => {
    const template = manifestsOf({ 'deployment.yaml': plainDeployment });
    const attempt = renderManifests(helm, requestFor(region('eu-west'), { template, values: { [key]: 4 } }));
    await expect(attempt).rejects.toThrow(InvalidInputError);
    await expect(attempt).rejects.toThrow(message);
  });
});

describe('repositoryOf', () => {
  it.each<[string | undefined, string | undefined]>([
    ['shop/api', 'shop/api'],
    ['shop/api:2.4.0', 'shop/api'],
    ['127.0.0.1:5101/shop/api:2.4.0', 'shop/api'],
    ['reg:5000/shop/api:1.0@sha256:0123abcd', 'shop/api'],
    ['shop/api@sha256:0123abcd', 'shop/api'],
    ['eu.registry.example.com/shop/api', 'shop/api'],
    ['localhost/shop/api:dev', 'shop/api'],
    ['localhost:5000/shop/api', 'shop/api'],
    // A first part without a dot, colon or "localhost" is part of the repository, as Docker reads it.
    ['team/shop/api:1', 'team/shop/api'],
    ['nginx', 'nginx'],
    ['nginx:1.27', 'nginx'],
    ['', undefined],
    [undefined, undefined],
  ])('reads %j as %j', (image, repository) => {
    expect(repositoryOf(image)).toBe(repository);
  });
});

describe('deepMerge', () => {
  it('merges nested objects and lets the later value win', () => {
    expect(deepMerge({ a: 1, nested: { x: 1, y: 2 }, keep: true }, { a: 2, nested: { y: 3, z: 4 } })).toEqual({
      a: 2,
      nested: { x: 1, y: 3, z: 4 },
      keep: true,
    });
  });

  it('replaces lists instead of merging them', () => {
    expect(deepMerge({ args: ['a', 'b'] }, { args: ['c'] })).toEqual({ args: ['c'] });
  });

  it('replaces a scalar with an object, an object with a scalar, and an object with null', () => {
    expect(deepMerge({ a: 1, b: { x: 1 }, c: { x: 1 } }, { a: { x: 1 }, b: 2, c: null })).toEqual({
      a: { x: 1 },
      b: 2,
      c: null,
    });
  });

  it('leaves both inputs unchanged', () => {
    const base = { nested: { x: 1 }, list: [1] };
    const over = { nested: { y: 2 } };
    deepMerge(base, over);
    expect(base).toEqual({ nested: { x: 1 }, list: [1] });
    expect(over).toEqual({ nested: { y: 2 } });
  });

  it('returns a copy of base when there is nothing to merge', () => {
    const base = { a: 1 };
    const merged = deepMerge(base, {});
    expect(merged).toEqual(base);
    expect(merged).not.toBe(base);
  });
});

/** The refusal a render throws; fails the test if it throws anything else or nothing. */
async function refusalOfRender(request: RenderRequest): Promise<InvalidInputError> {
  let thrown: unknown;
  try {
    await renderManifests(helm, request);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(InvalidInputError);
  return thrown as InvalidInputError;
}

describe('renderManifests with hostile YAML', () => {
  const deep = `${Array.from({ length: yamlLimits.depth + 1 }, (_, i) => `${'  '.repeat(i)}k${i}:\n`).join('')}${'  '.repeat(yamlLimits.depth + 1)}x: 1\n`;
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    .concat(
      Array.from(
        { length: 8 },
        (_, i) =>
          `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(9)
            .fill(`*${String.fromCharCode(97 + i)}`)
            .join(',')}]`,
      ),
    )
    .join('\n');

  it.each([
    [
      'an alias to no anchor',
      `${plainDeployment}---\nkind: ConfigMap\napiVersion: v1\nmetadata: { name: x }\ndata: { a: *nope }\n`,
      /^deployment\.yaml is not valid YAML: deployment\.yaml:18:12: alias "nope" names no anchor defined before it/,
    ],
    [
      'more than the limit of aliases',
      `${plainDeployment}---\nkind: ConfigMap\napiVersion: v1\nmetadata: { name: &n x }\ndata:\n${Array.from({ length: yamlLimits.aliases + 1 }, (_, i) => `  k${i}: *n\n`).join('')}`,
      /^deployment\.yaml is not valid YAML: deployment\.yaml:\d+:\d+: more than 100 aliases/,
    ],
    [
      'a billion laughs',
      `${plainDeployment}---\n${laughs}\n`,
      /^deployment\.yaml is not valid YAML: deployment\.yaml:\d+:\d+: the document expands to more than 8 MiB here/,
    ],
    [
      'nesting deeper than the limit',
      `${plainDeployment}---\n${deep}`,
      /^deployment\.yaml is not valid YAML: deployment\.yaml:\d+:\d+: nested too deeply: at most 64 levels/,
    ],
    [
      'a syntax error',
      `${plainDeployment}---\nkind: [ConfigMap\n`,
      /^deployment\.yaml is not valid YAML: deployment\.yaml:\d+:\d+: /,
    ],
    [
      'a duplicate key',
      `${plainDeployment}---\nkind: ConfigMap\nkind: Secret\n`,
      /^deployment\.yaml is not valid YAML: deployment\.yaml:16:1: Map keys must be unique/,
    ],
  ])('refuses a manifest file with %s, naming file:line:col', async (_what, text, message) => {
    const template = manifestsOf({ 'deployment.yaml': text });
    const err = await refusalOfRender(requestFor(region('eu-west'), { template, values: {} }));
    expect(err.message).toMatch(message);
    expect(err.message.length).toBeLessThan(1000);
  });

  it('holds all files of a folder to one expansion budget', async () => {
    // Each file expands to about 5 MB (under the 8 MiB of one document); the seventh passes the 32 MiB of a render.
    const big = `a: &a "${'x'.repeat(100_000)}"\nb: [${Array(50).fill('*a').join(',')}]\n`;
    const files = Object.fromEntries(
      Array.from({ length: 8 }, (_, i) => [
        `big-${i}.yaml`,
        `kind: ConfigMap\napiVersion: v1\nmetadata: { name: c${i} }\ndata:\n  ${big.split('\n').join('\n  ')}\n`,
      ]),
    );
    const template = manifestsOf({ ...files, 'z-deployment.yaml': plainDeployment });
    const err = await refusalOfRender(requestFor(region('eu-west'), { template, values: {} }));
    expect(err.message).toMatch(
      /^big-6\.yaml is not valid YAML: big-6\.yaml:\d+:\d+: the documents read together expand to more than 32 MiB here/,
    );
  });

  it.each([
    [
      'a list',
      '- a\n- b\n',
      'a manifest document is a list, not a Kubernetes object: write one object (kind, apiVersion, metadata.name) per document, separated by ---',
    ],
    [
      'a string',
      'just text\n',
      'a manifest document is a string, not a Kubernetes object: write one object (kind, apiVersion, metadata.name) per document, separated by ---',
    ],
    [
      'an object without kind',
      'apiVersion: v1\nmetadata: { name: x }\n',
      'an object without kind: give every manifest a kind, apiVersion and metadata.name',
    ],
    [
      'an object whose name is not a string',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: [x] }\n',
      'an object without metadata.name: give every manifest a kind, apiVersion and metadata.name',
    ],
  ])('refuses a document that is %s, naming where it starts', async (_what, text, message) => {
    // The second document starts at its --- marker, line 14.
    const template = manifestsOf({ 'deployment.yaml': `${plainDeployment}---\n${text}` });
    const err = await refusalOfRender(requestFor(region('eu-west'), { template, values: {} }));
    expect(err.message).toBe(`deployment.yaml:14:1: ${message}`);
  });

  it('quotes a file name holding a newline or an escape, so the refusal stays one line', async () => {
    const template = manifestsOf({ 'deployment.yaml': plainDeployment, 'x\n\u001b[31m.yaml': 'a: *nope\n' });
    const err = await refusalOfRender(requestFor(region('eu-west'), { template, values: {} }));
    expect(err.message).toBe(
      '"x\\n\\u001b[31m.yaml" is not valid YAML: "x\\n\\u001b[31m.yaml":1:4: alias "nope" names no anchor defined before it: define the anchor (&name) above the alias, or fix the name',
    );
  });

  it('skips a folder named like a manifest file', async () => {
    const dir = tempDir('meridian-manifests-');
    writeFileSync(join(dir, 'deployment.yaml'), plainDeployment);
    mkdirSync(join(dir, 'more.yaml'));
    writeFileSync(join(dir, 'more.yaml', 'notes.txt'), 'not read');
    const template = packTemplate(dir, 'manifests', 'shop-api', 'spec.template.manifests.path');
    const result = await renderManifests(helm, requestFor(region('eu-west'), { template, values: {} }));
    expect(result.objects).toHaveLength(1);
  });

  it("refuses helm output with more aliases than the limit (which helm lets through), naming the output's line", async () => {
    const aliases = Array.from({ length: yamlLimits.aliases + 1 }, (_, i) => `  k${i}: *n\n`).join('');
    const template = chartOf({
      'deployment.yaml': `${plainDeployment}---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: &n x }\ndata:\n${aliases}`,
    });
    const err = await refusalOfRender(requestFor(region('us-west'), { template }));
    expect(err.message).toMatch(
      /^helm template output is not valid YAML: helm template output:\d+:\d+: more than 100 aliases \(\*name\) in one document: write the values out instead \(rendered from "other\/templates\/deployment\.yaml"\)$/,
    );
  });
});

describe('renderManifests and prototype pollution', () => {
  afterEach(() => {
    // Nothing a hostile template or value sets may reach the prototype of every object.
    for (const prototype of [Object.prototype, Object.getPrototypeOf(structuredClone({})) as object]) {
      expect(Object.keys(prototype)).toEqual([]);
      expect((prototype as Record<string, unknown>).polluted).toBeUndefined();
    }
  });

  it.each([
    ['Deployment/shop-api:spec.__proto__.polluted', '__proto__'],
    ['Deployment/shop-api:__proto__.polluted', '__proto__'],
    ['Deployment/shop-api:spec.constructor.prototype.polluted', 'constructor'],
    ['Deployment/shop-api:metadata.prototype', 'prototype'],
  ])('refuses the value path %j, naming the segment and the fix', async (key, segment) => {
    const template = manifestsOf({ 'deployment.yaml': plainDeployment });
    const err = await refusalOfRender(requestFor(region('eu-west'), { template, values: { [key]: 'yes' } }));
    expect(err.message).toBe(
      `template value ${JSON.stringify(key)}: the field path names "${segment}", which no Kubernetes field is called and which would reach the prototype of every object: remove that segment, or name the real field, e.g. spec.replicas`,
    );
  });

  it('refuses a value path with an empty segment', async () => {
    const template = manifestsOf({ 'deployment.yaml': plainDeployment });
    const err = await refusalOfRender(
      requestFor(region('eu-west'), { template, values: { 'Deployment/shop-api:spec..replicas': 2 } }),
    );
    expect(err.message).toBe(
      'template value "Deployment/shop-api:spec..replicas": the field path "spec..replicas" has an empty segment: separate field names by single dots, e.g. spec.replicas',
    );
  });

  it('keeps __proto__ keys of a manifest as data and sets values below them as own fields', async () => {
    const hostile = plainDeployment.replace(
      'spec:\n  replicas: 1\n',
      'spec:\n  replicas: 1\n  __proto__: { polluted: yes }\n  extra: { __proto__: { polluted: yes } }\n',
    );
    const template = manifestsOf({ 'deployment.yaml': `__proto__: { polluted: yes }\n${hostile}` });
    const result = await renderManifests(
      helm,
      requestFor(region('eu-west'), {
        template,
        values: { 'Deployment/shop-api:spec.replicas': 2, 'Deployment/shop-api:spec.extra.polluted': 'no' },
      }),
    );
    const deployment = deploymentOf(result) as Deployment & { spec: { extra: Record<string, unknown> } };
    expect(deployment.spec.replicas).toBe(2);
    // Rendered objects are structured clones, made in Node's realm rather than the test's: compare by shape.
    for (const o of [deployment, deployment.spec, deployment.spec.extra])
      expect(Object.getPrototypeOf(Object.getPrototypeOf(o))).toBeNull();
    expect((deployment.spec as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(deployment.spec, '__proto__')).toBe(true);
    expect(Object.hasOwn(deployment.spec.extra, 'polluted')).toBe(true);
  });

  it('refuses template values holding a __proto__ key, at any depth, for helm and for plain manifests', async () => {
    const hostile = JSON.parse('{"resources": {"__proto__": {"polluted": "yes"}}}') as Record<string, unknown>;
    const helmErr = await refusalOfRender(requestFor(region('us-west'), { values: hostile }));
    expect(helmErr.message).toBe(
      'spec.template.values: "resources.__proto__": a key named "__proto__" is no template value and would reach the prototype of every object: remove it',
    );
    const usWest = { ...region('us-west'), values: hostile };
    const regionErr = await refusalOfRender(
      requestFor(usWest, { template: manifestsOf({ 'deployment.yaml': plainDeployment }), values: {} }),
    );
    expect(regionErr.message).toBe(
      'region us-west values: "resources.__proto__": a key named "__proto__" is no template value and would reach the prototype of every object: remove it',
    );
  });
});

describe('deepMerge with hostile keys', () => {
  it('keeps a __proto__ key of either side as data and never changes a prototype', () => {
    const base = JSON.parse('{"a": {"x": 1}, "__proto__": {"fromBase": 1}}') as Record<string, unknown>;
    const over = JSON.parse('{"a": {"__proto__": {"polluted": 1}}, "__proto__": {"polluted": 1}}') as Record<
      string,
      unknown
    >;
    const merged = deepMerge(base, over);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(merged.a)).toBe(Object.prototype);
    expect(Object.keys(merged)).toEqual(['a', '__proto__']);
    expect(Object.getOwnPropertyDescriptor(merged, '__proto__')?.value).toEqual({ fromBase: 1, polluted: 1 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('does not merge into what a key names only through the prototype', () => {
    // "constructor" and "toString" are inherited by every object: over's value replaces nothing of theirs.
    const merged = deepMerge({}, { constructor: { name: 'x' }, toString: { a: 1 } });
    expect(merged).toEqual({ constructor: { name: 'x' }, toString: { a: 1 } });
    expect(Object.prototype.constructor).toBe(Object);
  });
});
