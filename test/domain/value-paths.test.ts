import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { releaseSpecSchema } from '../../src/domain/release-spec';
import { parseValuePath, prototypeKeyPaths } from '../../src/domain/value-paths';
import { parseYaml } from '../../src/domain/yaml-document';
import { formatZodIssues } from '../../src/domain/zod-issues';

const exampleText = readFileSync(join(__dirname, '../../examples/release.yaml'), 'utf8');

/** The spec's problems after `edit` changes the example (YAML text in, as a person writes it). */
function problemsOf(edit: (text: string) => string): string[] {
  const parsed = releaseSpecSchema.safeParse(parseYaml(edit(exampleText), 'release.yaml'), { reportInput: true });
  return parsed.success ? [] : formatZodIssues(parsed.error, '', releaseSpecSchema);
}

/** The example turned into a plain-manifests release whose shared values are `values` (YAML flow text). */
const asManifests = (values: string) => (text: string) =>
  text.replace(
    / {4}helm:\n {6}chart: \.\/chart\n {4}values:\n {6}replicas: 3\n {6}resources: \{ cpu: 250m, memory: 256Mi \}\n/,
    `    manifests: { path: ./manifests }\n    values: ${values}\n`,
  );

describe('parseValuePath', () => {
  it('splits Kind/name:field.path', () => {
    expect(parseValuePath('Deployment/shop-api:spec.template.spec.containers.0.image')).toEqual({
      kind: 'Deployment',
      name: 'shop-api',
      segments: ['spec', 'template', 'spec', 'containers', '0', 'image'],
    });
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses a path through %s', (segment) => {
    expect(parseValuePath(`Deployment/shop-api:spec.${segment}.x`)).toEqual({
      problem: expect.stringContaining(`the field path names "${segment}"`),
      reachesPrototype: true,
    });
  });

  it('refuses what is not a value path, and an empty segment', () => {
    expect(parseValuePath('replicas')).toEqual({
      problem: expect.stringMatching(/^a plain-manifest value is addressed as Kind\/name:field.path/),
    });
    expect(parseValuePath('Deployment/shop-api:spec.')).toEqual({
      problem: expect.stringContaining('has an empty segment'),
    });
  });
});

describe('prototypeKeyPaths', () => {
  it('finds __proto__ keys at any depth, in lists too, in document order', () => {
    const values = JSON.parse(
      '{"a": {"__proto__": 1}, "b": [{"c": {"__proto__": {}}}], "__proto__": 2, "constructor": 3}',
    ) as unknown;
    expect(prototypeKeyPaths(values)).toEqual([['a', '__proto__'], ['b', 0, 'c', '__proto__'], ['__proto__']]);
    expect(prototypeKeyPaths({ a: { b: [1, 'x'] } })).toEqual([]);
  });
});

describe('the spec refuses template values that reach a prototype', () => {
  it('accepts the example unchanged', () => {
    expect(problemsOf((t) => t)).toEqual([]);
  });

  it('refuses a plain-manifest value path through __proto__, constructor or prototype, naming the field', () => {
    const problems = problemsOf(
      asManifests(
        '{ "Deployment/shop-api:spec.__proto__.polluted": 1, "Deployment/shop-api:constructor.prototype.x": 2, "Deployment/shop-api:spec.replicas": 3 }',
      ),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^spec\.template\.values\["Deployment\/shop-api:spec\.__proto__\.polluted"\]: the field path names "__proto__", which no Kubernetes field is called .*: remove that segment, or name the real field, e\.g\. spec\.replicas$/,
      ),
      expect.stringMatching(
        /^spec\.template\.values\["Deployment\/shop-api:constructor\.prototype\.x"\]: the field path names "constructor"/,
      ),
    ]);
  });

  it("refuses a __proto__ key nested in helm values, shared or a region's", () => {
    const problems = problemsOf((t) =>
      t
        .replace(
          '      resources: { cpu: 250m, memory: 256Mi }\n',
          '      resources: { cpu: 250m, memory: 256Mi, __proto__: { polluted: yes } }\n',
        )
        .replace(/(- name: us-west\n)/, '$1      values: { nested: { __proto__: { polluted: yes } } }\n'),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^spec\.template\.values\.resources\.__proto__: a key named "__proto__" is no template value and would reach the prototype of every object: remove it$/,
      ),
      expect.stringMatching(
        /^spec\.regions\[\d\]\.values\.nested\.__proto__: a key named "__proto__" is no template value/,
      ),
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('lets helm values name constructor or prototype: they are merged as data', () => {
    expect(
      problemsOf((t) => t.replace('      replicas: 3\n', '      replicas: 3\n      constructor: { prototype: 1 }\n')),
    ).toEqual([]);
  });

  it('the example edits above are what they claim to be', () => {
    expect(parseDocument(asManifests('{}')(exampleText)).getIn(['spec', 'template', 'manifests', 'path'])).toBe(
      './manifests',
    );
  });
});
