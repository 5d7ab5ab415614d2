import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Document, parseDocument } from 'yaml';
import { loadRelease } from '../../src/infra/release-files/release-file';
import { InvalidInputError } from '../../src/domain/errors';
import { releaseSpecSchema } from '../../src/domain/release-spec';
import { formatZodIssues } from '../../src/domain/zod-issues';

/** The contract file shared with the other teams: it must validate unchanged. */
const sharedExample = '/work/shared/examples/release.yaml';
const examplesDir = join(__dirname, '../../examples');
const exampleText = readFileSync(join(examplesDir, 'release.yaml'), 'utf8');
const productionRegions = ['us-west', 'us-east', 'eu-west', 'ap-northeast-2', 'me-central', 'sa-east', 'ap-south'];

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-spec-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/**
 * Writes the example spec, changed by `mutate`, next to a copy of the example's chart, checks and data
 * files, so that only the change can make it fail.
 */
function writeSpec(mutate: (doc: Document) => void): string {
  const dir = tempDir();
  cpSync(examplesDir, dir, { recursive: true });
  const doc = parseDocument(exampleText);
  mutate(doc);
  const file = join(dir, 'release.yaml');
  writeFileSync(file, doc.toString());
  return file;
}

function writeText(text: string): string {
  const file = join(tempDir(), 'release.yaml');
  writeFileSync(file, text);
  return file;
}

/** The error loadRelease throws for a file; fails the test if it throws anything else or nothing. */
function rejectionOf(file: string): InvalidInputError {
  let thrown: unknown;
  try {
    loadRelease(file);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(InvalidInputError);
  return thrown as InvalidInputError;
}

function problemsOf(mutate: (doc: Document) => void): readonly string[] {
  return rejectionOf(writeSpec(mutate)).problems;
}

describe('the example release specs', () => {
  it('accepts the shared contract file unchanged, warning only that its chart folder is not there', () => {
    const release = loadRelease(sharedExample);
    expect(release.spec.metadata).toEqual({
      app: 'shop-api',
      version: '2.4.0',
      description: 'Checkout rewrite — 결제 흐름 개편',
    });
    expect(release.spec.spec.regions.map((r) => r.name)).toEqual(['us-east-canary', ...productionRegions]);
    expect(release.templateDir).toBe('/work/shared/examples/chart');
    expect(release.warnings).toEqual([
      'spec.template.helm.chart: "/work/shared/examples/chart" is not a folder yet; render and start need it',
      'spec.validation.load: no region has role: staging, so no load test runs; add a staging region to prove the release under load first',
    ]);
  });

  it('accepts the project example, whose chart is there, without warnings', () => {
    const release = loadRelease(join(examplesDir, 'release.yaml'));
    expect(release.warnings).toEqual([]);
    expect(release.templateDir).toBe(join(examplesDir, 'chart'));
    expect(release.checks).toBeDefined();
  });

  it('converts durations and percentages and fills in defaults', () => {
    const { spec } = loadRelease(join(examplesDir, 'release.yaml'));
    expect(spec.spec.rollout).toMatchObject({
      canarySoak: 72 * 3_600_000,
      maxParallel: 3,
      waves: 'auto',
      onFailure: 'rollback-region',
    });
    expect(spec.spec.rollout.timeToSmoke).toMatchObject({
      window: 180 * 86_400_000,
      floor: 30 * 60_000,
      ceiling: 12 * 3_600_000,
    });
    expect(spec.spec.validation.load).toMatchObject({
      duration: 30_000,
      thresholds: { p99: 400, regression: { p90: 0.2, p99: 0.2 } },
    });
    // us-west gives no values: the default is an empty object, so merging over shared values is safe.
    expect(spec.spec.regions[1]).toMatchObject({ canary: false, values: {} });
  });
});

describe('text in any script', () => {
  it.each([
    ['Korean', '결제 흐름 개편'],
    ['Arabic', 'إعادة كتابة الدفع'],
    ['Devanagari', 'चेकआउट का पुनर्लेखन'],
    ['Han and emoji', '结账重写 🚀'],
  ])('keeps a description in %s exactly as written', (_script, text) => {
    const release = loadRelease(writeSpec((doc) => doc.setIn(['metadata', 'description'], text)));
    expect(release.spec.metadata.description).toBe(text);
  });

  it('accepts the Unicode script names of the regions, including short aliases such as Hang', () => {
    const release = loadRelease(
      writeSpec((doc) =>
        doc.setIn(['spec', 'regions', 4, 'traits', 'scripts'], doc.createNode(['Hang', 'Han', 'Cyrillic'])),
      ),
    );
    expect(release.spec.spec.regions[4].traits.scripts).toEqual(['Hang', 'Han', 'Cyrillic']);
  });
});

describe('rejected release specs', () => {
  it('throws InvalidInputError with exit code 2 and one problem per line', () => {
    const file = writeSpec((doc) => doc.setIn(['spec', 'regions', 3, 'traits', 'traffic'], 'hgh'));
    const error = rejectionOf(file);
    expect(error.exitCode).toBe(2);
    expect(error.message).toBe(`${file} is not a valid release spec (1 problem)`);
    expect(error.problems).toEqual([
      'spec.regions[3].traits.traffic: expected "low" | "medium" | "high" or a number, got "hgh"',
    ]);
  });

  it('suggests the field meant by a misspelt one, and reports the field it left missing', () => {
    const problems = problemsOf((doc) => {
      const traits = doc.getIn(['spec', 'regions', 1, 'traits']);
      doc.deleteIn(['spec', 'regions', 1, 'traits']);
      doc.setIn(['spec', 'regions', 1, 'trait'], traits);
    });
    expect(problems).toEqual([
      'spec.regions[1].traits: missing: add this field (an object (key: value))',
      'spec.regions[1].trait: unknown field: did you mean "traits"?',
    ]);
  });

  it('lists the fields allowed where an unknown field has no close match', () => {
    expect(problemsOf((doc) => doc.setIn(['spec', 'regions', 0, 'colour'], 'blue'))).toEqual([
      'spec.regions[0].colour: unknown field: remove it (fields here: name, role, canary, cluster, registry, endpoint, traits, values, deployWindow, rollout)',
    ]);
  });

  it('names a missing required field', () => {
    expect(problemsOf((doc) => doc.deleteIn(['spec', 'image', 'tag']))).toEqual([
      'spec.image.tag: missing: add this field (a string)',
    ]);
  });

  it('lists the allowed values of an enum', () => {
    expect(problemsOf((doc) => doc.setIn(['spec', 'rollout', 'onFailure'], 'rollback'))).toEqual([
      'spec.rollout.onFailure: expected "rollback-region" | "halt" | "rollback-all", got "rollback"',
    ]);
  });

  it('shows how to write a duration', () => {
    expect(problemsOf((doc) => doc.setIn(['spec', 'rollout', 'canarySoak'], '3 days'))).toEqual([
      'spec.rollout.canarySoak: expected a duration such as 400ms, 30s, 30m, 72h, 180d or 1h30m, got "3 days"',
    ]);
  });

  it.each(['Korean', 'hangul', 'Latin1', 'Script=Latin'])('rejects %j as a Unicode script name', (name) => {
    expect(problemsOf((doc) => doc.setIn(['spec', 'regions', 4, 'traits', 'scripts', 0], name))).toEqual([
      `spec.regions[4].traits.scripts[0]: unknown Unicode script ${JSON.stringify(name)}: use a name such as Latin, Hangul, Arabic, Devanagari, Han or Cyrillic`,
    ]);
  });

  it('rejects a region name used twice, pointing at the earlier one', () => {
    const problems = problemsOf((doc) => {
      doc.setIn(['spec', 'regions', 2, 'name'], 'us-west');
      doc.deleteIn(['spec', 'traffic']); // it names us-east, renamed here
    });
    expect(problems).toEqual([
      'spec.regions[2].name: duplicate region name "us-west" (also spec.regions[1]): give each region its own name',
    ]);
  });

  it('rejects two regions deploying to the same namespace of the same cluster', () => {
    expect(problemsOf((doc) => doc.setIn(['spec', 'regions', 1, 'cluster', 'namespace'], 'canary'))).toEqual([
      'spec.regions[1].cluster: "meridian-americas/canary" is already the target of region "us-east-canary": two regions cannot share a namespace',
    ]);
  });

  it('requires a canary region', () => {
    expect(problemsOf((doc) => doc.deleteIn(['spec', 'regions', 0, 'canary']))).toEqual([
      'spec.regions: no canary region: mark the region that goes first with `canary: true`',
    ]);
  });

  it('rejects a time-to-smoke floor above its ceiling', () => {
    expect(problemsOf((doc) => doc.setIn(['spec', 'rollout', 'timeToSmoke', 'floor'], '13h'))).toEqual([
      'spec.rollout.timeToSmoke.floor: floor is above ceiling: lower the floor or raise the ceiling',
    ]);
  });

  it('requires exactly one of helm or manifests', () => {
    expect(
      problemsOf((doc) => doc.setIn(['spec', 'template', 'manifests'], doc.createNode({ path: './manifests' }))),
    ).toEqual(['spec.template: give exactly one of helm or manifests']);
  });

  it('reports every problem of a file at once', () => {
    const file = writeSpec((doc) => {
      doc.deleteIn(['spec', 'image', 'tag']);
      doc.setIn(['spec', 'rollout', 'onFailure'], 'rollback');
      doc.setIn(['spec', 'regions', 3, 'traits', 'traffic'], 'hgh');
    });
    const error = rejectionOf(file);
    expect(error.message).toBe(`${file} is not a valid release spec (3 problems)`);
    expect(error.problems.length).toBeGreaterThan(1);
    expect([...error.problems].sort()).toEqual([
      'spec.image.tag: missing: add this field (a string)',
      'spec.regions[3].traits.traffic: expected "low" | "medium" | "high" or a number, got "hgh"',
      'spec.rollout.onFailure: expected "rollback-region" | "halt" | "rollback-all", got "rollback"',
    ]);
  });
});

describe('explicit waves', () => {
  const withWaves = (waves: unknown[]) => (doc: Document) =>
    doc.setIn(['spec', 'rollout', 'waves'], doc.createNode(waves));

  it('accepts lists and objects with their own bake', () => {
    const release = loadRelease(
      writeSpec(
        withWaves([
          { regions: ['us-east-canary'], bake: '1h' },
          productionRegions.slice(0, 3),
          productionRegions.slice(3),
        ]),
      ),
    );
    expect(release.spec.spec.rollout.waves).toEqual([
      { regions: ['us-east-canary'], bake: 3_600_000 },
      productionRegions.slice(0, 3),
      productionRegions.slice(3),
    ]);
  });

  it('rejects a wave naming an unknown region, at its position', () => {
    expect(problemsOf(withWaves([['us-east-canary'], [...productionRegions, 'mars']]))).toEqual([
      'spec.rollout.waves[1][7]: unknown region "mars": use one of us-east-canary, us-west, us-east, eu-west, ap-northeast-2, me-central, sa-east, ap-south',
    ]);
  });

  it('gives the position inside a wave written as an object', () => {
    expect(
      problemsOf(withWaves([['us-east-canary'], { regions: ['us-west', 'mars'] }, productionRegions.slice(1)])),
    ).toEqual([
      'spec.rollout.waves[1].regions[1]: unknown region "mars": use one of us-east-canary, us-west, us-east, eu-west, ap-northeast-2, me-central, sa-east, ap-south',
    ]);
  });

  it('rejects a region listed in two waves', () => {
    expect(problemsOf(withWaves([['us-east-canary'], productionRegions, ['us-west']]))).toEqual([
      'spec.rollout.waves[2][0]: region "us-west" is already in wave 2: list each region once',
    ]);
  });

  it('rejects a canary listed again after the first wave only as listed twice', () => {
    expect(problemsOf(withWaves([['us-east-canary'], [...productionRegions, 'us-east-canary']]))).toEqual([
      'spec.rollout.waves[1][7]: region "us-east-canary" is already in wave 1: list each region once',
    ]);
  });

  it('names the earlier wave of a region listed three times', () => {
    expect(problemsOf(withWaves([['us-east-canary'], productionRegions, ['us-west'], ['us-west']]))).toEqual([
      'spec.rollout.waves[2][0]: region "us-west" is already in wave 2: list each region once',
      'spec.rollout.waves[3][0]: region "us-west" is already in wave 2: list each region once',
    ]);
  });

  it('rejects waves that leave a region out', () => {
    expect(
      problemsOf(withWaves([['us-east-canary'], productionRegions.filter((r) => r !== 'ap-south' && r !== 'eu-west')])),
    ).toEqual(['spec.rollout.waves: regions in no wave: eu-west, ap-south; add them to a wave']);
  });

  it('requires the canary in the first wave', () => {
    expect(
      problemsOf(withWaves([['us-west'], { regions: ['us-east-canary', ...productionRegions.slice(1)] }])),
    ).toEqual(['spec.rollout.waves: canary region "us-east-canary" must be in the first wave']);
  });

  it('rejects an approval after a wave that does not exist', () => {
    expect(
      problemsOf((doc) => {
        withWaves([['us-east-canary'], productionRegions])(doc);
        doc.setIn(['spec', 'rollout', 'approvals'], doc.createNode(['after-canary', 'after-wave-3']));
      }),
    ).toEqual([
      'spec.rollout.approvals[1]: after-wave-3 is never reached: it waits before wave 4, and there are only 2 waves; the last gate is after-wave-1 (before the last wave), or remove it',
    ]);
  });

  it('rejects a gate after the last wave: it would wait before a wave that does not exist', () => {
    expect(
      problemsOf((doc) => {
        withWaves([['us-east-canary'], productionRegions.slice(0, 3), productionRegions.slice(3)])(doc);
        doc.setIn(['spec', 'rollout', 'approvals'], doc.createNode(['after-wave-2', 'after-wave-3']));
      }),
    ).toEqual([
      'spec.rollout.approvals[1]: after-wave-3 is never reached: it waits before wave 4, and there are only 3 waves; the last gate is after-wave-2 (before the last wave), or remove it',
    ]);
  });

  it('rejects after-canary when the first wave is not the canary alone', () => {
    expect(
      problemsOf((doc) => {
        withWaves([['us-east-canary', 'us-west'], productionRegions.slice(1)])(doc);
        doc.setIn(['spec', 'rollout', 'approvals'], doc.createNode(['after-canary']));
      }),
    ).toEqual([
      'spec.rollout.approvals[0]: after-canary is never reached: the first wave holds regions that are not canaries; use after-wave-1, or remove it',
    ]);
  });

  it('rejects a gate no auto wave reaches, counting the waves the planner makes', () => {
    expect(
      problemsOf((doc) => {
        doc.setIn(['spec', 'rollout', 'maxParallel'], 10);
        doc.setIn(['spec', 'rollout', 'approvals'], doc.createNode(['after-canary', 'after-wave-9']));
      }),
    ).toEqual([
      expect.stringMatching(
        /^spec\.rollout\.approvals\[1\]: after-wave-9 is never reached: it waits before wave 10, and there are only \d waves; the last gate is after-wave-\d \(before the last wave\), or remove it$/,
      ),
    ]);
  });

  it('suggests the field meant by a misspelt field of a wave', () => {
    expect(problemsOf(withWaves([{ regions: ['us-east-canary'], bak: '1h' }, productionRegions]))).toEqual([
      'spec.rollout.waves[0].bak: unknown field: did you mean "bake"?',
    ]);
  });
});

describe('files that are not YAML', () => {
  it('names the file, line and column of a syntax error', () => {
    // Line 12 of the example is `    tag: 2.4.0`; a plain value cannot start with `@`.
    const lines = exampleText.split('\n');
    expect(lines[11]).toBe('    tag: 2.4.0');
    lines[11] = '    tag: @2.4.0';
    const file = writeText(lines.join('\n'));
    const error = rejectionOf(file);
    expect(error.message).toBe(`${file} is not valid YAML`);
    expect(error.exitCode).toBe(2);
    expect(error.problems).toEqual([
      expect.stringMatching(
        new RegExp(`^${escapeRegExp(file)}:12:10: Plain value cannot start with reserved character @`),
      ),
    ]);
  });

  it('rejects a key given twice, at the second one', () => {
    const file = writeText(exampleText.replace('kind: Release\n', 'kind: Release\nkind: Release\n'));
    expect(rejectionOf(file).problems).toEqual([
      expect.stringMatching(new RegExp(`^${escapeRegExp(file)}:5:1: Map keys must be unique`)),
    ]);
  });

  it('refuses a file that does not exist, naming the option', () => {
    const missing = join(tmpdir(), 'meridian-no-such-release.yaml');
    expect(() => loadRelease(missing)).toThrow(
      new InvalidInputError(`release spec ${missing} does not exist: pass an existing file with -f`),
    );
  });
});

describe('files the spec names', () => {
  it('reports each missing file with its field, after the schema passes', () => {
    const file = writeSpec((doc) => {
      doc.setIn(['spec', 'validation', 'load', 'replay'], './traffic/none.jsonl');
      doc.setIn(['spec', 'rollout', 'timeToSmoke', 'incidents'], './none.csv');
    });
    const dir = join(file, '..');
    const error = rejectionOf(file);
    expect(error.message).toBe(`${file} names files that are missing or invalid`);
    expect(error.problems).toEqual([
      `spec.validation.load.replay: ${JSON.stringify(join(dir, 'traffic/none.jsonl'))} does not exist`,
      `spec.rollout.timeToSmoke.incidents: ${JSON.stringify(join(dir, 'none.csv'))} does not exist`,
    ]);
  });
});

describe('releaseSpecSchema with formatZodIssues', () => {
  it('gives paths under a root when one is named', () => {
    const raw = parseDocument(exampleText).toJS();
    raw.spec.rollout.maxParallel = 0;
    const result = releaseSpecSchema.safeParse(raw, { reportInput: true });
    expect(result.success).toBe(false);
    expect(formatZodIssues(result.error!, 'release', releaseSpecSchema)).toEqual([
      'release.spec.rollout.maxParallel: Too small: expected number to be >=1',
    ]);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
