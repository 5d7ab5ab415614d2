import { z } from 'zod';
import fc from 'fast-check';
import { releaseSpecSchema } from '../../src/domain/release-spec';
import { formatIssuePath, formatZodIssues, knownKeysAt } from '../../src/domain/zod-issues';

describe('formatIssuePath', () => {
  it.each<[string, PropertyKey[], string]>([
    ['', [], '(document)'],
    ['release', [], 'release'],
    ['', ['spec', 'regions', 3, 'traits', 'traffic'], 'spec.regions[3].traits.traffic'],
    ['', [0, 'name'], '[0].name'],
    ['release', ['spec', 'image'], 'release.spec.image'],
    ['', ['values', 'a-b', 'c'], 'values["a-b"].c'],
    ['', ['a-b'], '["a-b"]'],
    ['', ['values', 'Deployment/shop-api:spec.replicas'], 'values["Deployment/shop-api:spec.replicas"]'],
    ['', ['values', '2x'], 'values["2x"]'],
    ['', ['values', ''], 'values[""]'],
    ['', ['$ref', '_private'], '$ref._private'],
    ['', ['values', 'say "hi"'], 'values["say \\"hi\\""]'],
    ['', ['values', '결제'], 'values["결제"]'],
    ['', [Symbol('s')], '["Symbol(s)"]'],
  ])('formats root %j and path %j as %s', (root, path, expected) => {
    expect(formatIssuePath(root, path)).toBe(expected);
  });
});

describe('knownKeysAt', () => {
  it.each<[PropertyKey[], string[]]>([
    [[], ['apiVersion', 'kind', 'metadata', 'spec']],
    [
      ['spec', 'regions', 2],
      ['name', 'role', 'canary', 'cluster', 'registry', 'endpoint', 'traits', 'values', 'deployWindow', 'rollout'],
    ],
    [
      ['spec', 'regions', 0, 'cluster'],
      ['context', 'namespace'],
    ],
    // Through a default and a refine:
    [
      ['spec', 'rollout'],
      ['canarySoak', 'timeToSmoke', 'waves', 'maxParallel', 'approvals', 'onFailure'],
    ],
    [
      ['spec', 'rollout', 'timeToSmoke'],
      ['incidents', 'method', 'percentile', 'window', 'floor', 'ceiling', 'growth'],
    ],
    [
      ['spec', 'template'],
      ['helm', 'manifests', 'values'],
    ],
    [
      ['spec', 'template', 'helm'],
      ['chart', 'releaseName'],
    ],
    // Through a union of a list and an object: only the object has fields.
    [
      ['spec', 'rollout', 'waves', 0],
      ['regions', 'bake'],
    ],
    [
      ['spec', 'validation', 'load', 'thresholds', 'regression'],
      ['p50', 'p90', 'p99', 'max'],
    ],
  ])('lists the fields at %j', (path, keys) => {
    expect(knownKeysAt(releaseSpecSchema, path)).toEqual(keys);
  });

  it.each<[PropertyKey[]]>([
    [['nope']],
    [['spec', 'regions', 'name']], // a string key into a list
    [['spec', 0]], // a number key into an object
    [['spec', 'template', 'values', 'replicas']], // free-form values
    [['metadata', 'app']], // a scalar
  ])('lists no fields at %j', (path) => {
    expect(knownKeysAt(releaseSpecSchema, path)).toEqual([]);
  });

  it('merges the fields of every object in a union, once each', () => {
    const schema = z.union([
      z.strictObject({ a: z.string(), b: z.string() }),
      z.strictObject({ b: z.number(), c: z.number() }),
    ]);
    expect(knownKeysAt(schema, [])).toEqual(['a', 'b', 'c']);
  });

  it('walks through records, optional fields and transforms', () => {
    const schema = z.strictObject({
      byName: z.record(z.string(), z.strictObject({ x: z.number() })).optional(),
      parsed: z.strictObject({ y: z.number() }).transform((v) => v.y),
    });
    expect(knownKeysAt(schema, ['byName', 'anything'])).toEqual(['x']);
    expect(knownKeysAt(schema, ['parsed'])).toEqual(['y']);
  });
});

describe('formatZodIssues', () => {
  const schema = z.strictObject({ colour: z.string(), size: z.number() });

  it('suggests the closest field only when it is close, and otherwise lists the fields', () => {
    const result = schema.safeParse({ colour: 'red', size: 1, color: 'red', weight: 3 }, { reportInput: true });
    expect(formatZodIssues(result.error!, '', schema)).toEqual([
      'color: unknown field: did you mean "colour"?',
      'weight: unknown field: remove it (fields here: colour, size)',
    ]);
  });

  it('says only to remove an unknown field when no schema is given to look fields up in', () => {
    const result = schema.safeParse({ colour: 'red', size: 1, color: 'red' }, { reportInput: true });
    expect(formatZodIssues(result.error!)).toEqual(['color: unknown field: remove it']);
  });

  it('shows the value found for a wrong type, and asks for a missing field', () => {
    const result = schema.safeParse({ colour: ['red'] }, { reportInput: true });
    expect(formatZodIssues(result.error!, 'item', schema)).toEqual([
      'item.colour: expected a string, got a list',
      'item.size: missing: add this field (a number)',
    ]);
  });

  it('names a whole document of the wrong type, without printing it (it may be a file named by mistake)', () => {
    const result = schema.safeParse('colour: red', { reportInput: true });
    expect(formatZodIssues(result.error!, '', schema)).toEqual([
      '(document): expected an object (key: value), got text (the file is not a YAML mapping)',
    ]);
  });
});

describe('formatZodIssues quotes only an excerpt of input', () => {
  const megabyte = 'x'.repeat(1024 * 1024);
  const schema = z.strictObject({
    colour: z.enum(['red', 'blue']),
    size: z.number(),
    tags: z.record(z.string(), z.number()).optional(),
  });

  it.each<[string, unknown]>([
    ['a 1 MB value of the wrong value', { colour: megabyte, size: 1 }],
    ['a 1 MB value of the wrong type', { colour: 'red', size: megabyte }],
    ['a 1 MB unknown key', { colour: 'red', size: 1, [megabyte]: 1 }],
    ['a 1 MB key in the path', { colour: 'red', size: 1, tags: { [megabyte]: 'one' } }],
  ])('keeps the line short for %s', (_name, input) => {
    const result = schema.safeParse(input, { reportInput: true });
    const lines = formatZodIssues(result.error!, '', schema);
    expect(lines).toHaveLength(1);
    expect(lines[0].length).toBeLessThan(300);
    expect(lines[0]).toMatch(/x…/);
  });

  it('shows a short value whole, and a long one as an excerpt with its length (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (value) => {
        const result = z.strictObject({ colour: z.enum(['red']) }).safeParse({ colour: value }, { reportInput: true });
        const [line] = formatZodIssues(result.error!, '');
        expect(line.length).toBeLessThan(100 + 6 * 80);
        if (value.length <= 80) expect(line).toContain(JSON.stringify(value));
        else expect(line).toContain(`(${value.length} characters)`);
      }),
      { seed: 12, numRuns: 500 },
    );
  });
});
