import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Document, parseDocument } from 'yaml';
import {
  loadRelease,
  maxInputFileBytes,
  packReleaseTemplate,
  releaseTimeToSmoke,
} from '../../../src/infra/release-files/release-file';
import { ExitCode, InvalidInputError } from '../../../src/domain/errors';

const examplesDir = join(__dirname, '../../../examples');
const exampleText = readFileSync(join(examplesDir, 'release.yaml'), 'utf8');

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** The example, copied with its files into a fresh folder and changed by `mutate`. */
function writeSpec(mutate: (doc: Document, dir: string) => void = () => undefined): string {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-release-file-'));
  tempDirs.push(dir);
  cpSync(examplesDir, dir, { recursive: true });
  const doc = parseDocument(exampleText);
  mutate(doc, dir);
  const file = join(dir, 'release.yaml');
  writeFileSync(file, doc.toString());
  return file;
}

function rejectionOf(load: () => unknown): InvalidInputError {
  let thrown: unknown;
  try {
    load();
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(InvalidInputError);
  expect((thrown as InvalidInputError).exitCode).toBe(ExitCode.invalidInput);
  return thrown as InvalidInputError;
}

const allText = (err: InvalidInputError) => [err.message, ...err.problems].join('\n');

describe('YAML the library cannot turn into data', () => {
  it('refuses an alias to no anchor in the spec with file:line:col, not a crash', () => {
    const file = writeSpec();
    writeFileSync(file, `${readFileSync(file, 'utf8')}\nextra: *nowhere\n`);
    const err = rejectionOf(() => loadRelease(file));
    expect(err.problems).toEqual([
      expect.stringMatching(
        new RegExp(`^${file.replace(/[.]/g, '\\.')}:\\d+:\\d+: alias "nowhere" names no anchor defined before it`),
      ),
    ]);
  });

  it('refuses an alias-heavy or deeply nested checks suite with its file:line:col, among the spec problems', () => {
    const file = writeSpec((_doc, dir) => {
      writeFileSync(
        join(dir, 'checks', 'integration.yaml'),
        `checks:\n  - &c { name: a, request: { path: / }, expect: { status: 200 } }\n${'  - *c\n'.repeat(101)}`,
      );
    });
    expect(rejectionOf(() => loadRelease(file)).problems).toEqual([
      expect.stringMatching(/checks\/integration\.yaml:\d+:\d+: more than 100 aliases/),
    ]);
    writeFileSync(join(file, '..', 'checks', 'integration.yaml'), `checks: ${'['.repeat(5000)}${']'.repeat(5000)}\n`);
    expect(rejectionOf(() => loadRelease(file)).problems).toEqual([
      expect.stringMatching(/checks\/integration\.yaml(:\d+:\d+)?: nested too deeply: at most 64 levels/),
    ]);
  });
});

describe('files the spec names that are not files', () => {
  it.each([
    ['spec.validation.integration.suite', ['spec', 'validation', 'integration', 'suite']],
    ['spec.validation.load.replay', ['spec', 'validation', 'load', 'replay']],
    ['spec.rollout.timeToSmoke.incidents', ['spec', 'rollout', 'timeToSmoke', 'incidents']],
  ])('refuses a folder, a device and a fifo as %s, without blocking', (field, path) => {
    for (const [target, problem] of [
      ['.', 'is a folder: name a file in it'],
      ['/dev/zero', 'is not a regular file (a device, fifo or socket): name a file'],
      ['pipe', 'is not a regular file (a device, fifo or socket): name a file'],
    ]) {
      const file = writeSpec((doc, dir) => {
        execFileSync('mkfifo', [join(dir, 'pipe')]);
        doc.setIn(path, target);
      });
      const err = rejectionOf(() => loadRelease(file));
      expect(err.problems).toEqual([
        expect.stringMatching(new RegExp(`^${field.replace(/\./g, '\\.')}: \\S+ ${problem.replace(/[()]/g, '\\$&')}$`)),
      ]);
    }
  });

  it('refuses -f naming a device, a fifo or a folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meridian-release-file-'));
    tempDirs.push(dir);
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    for (const path of ['/dev/zero', join(dir, 'pipe'), dir]) {
      expect(rejectionOf(() => loadRelease(path)).message).toMatch(/^-f: .* (is not a regular file|is a folder)/);
    }
  });

  it('refuses a file larger than the limit before reading it', () => {
    const file = writeSpec((_doc, dir) =>
      writeFileSync(join(dir, 'checks', 'integration.yaml'), Buffer.alloc(maxInputFileBytes + 1, 'a')),
    );
    expect(rejectionOf(() => loadRelease(file)).problems).toEqual([
      expect.stringMatching(/^spec\.validation\.integration\.suite: \S+ is larger than 4 MiB: name a smaller file$/),
    ]);
  });

  it('never prints the content of a file named by mistake (here the process environment)', () => {
    process.env.MERIDIAN_TEST_SECRET = 'hunter2-not-for-errors';
    try {
      for (const path of [
        ['spec', 'validation', 'integration', 'suite'],
        ['spec', 'validation', 'load', 'replay'],
      ]) {
        const file = writeSpec((doc) => doc.setIn(path, '/proc/self/environ'));
        const err = rejectionOf(() => loadRelease(file));
        expect(allText(err)).not.toContain('hunter2');
        expect(allText(err).length).toBeLessThan(4_000);
      }
      expect(allText(rejectionOf(() => loadRelease('/proc/self/environ')))).not.toContain('hunter2');
      // The environment is no incident history: refused when the spec is loaded (it was a warning), its content never quoted.
      const incidents = writeSpec((doc) =>
        doc.setIn(['spec', 'rollout', 'timeToSmoke', 'incidents'], '/proc/self/environ'),
      );
      const err = rejectionOf(() => releaseTimeToSmoke(loadRelease(incidents), Date.now()));
      expect(err.problems).toEqual([
        'spec.rollout.timeToSmoke.incidents: "/proc/self/environ" line 1: the header lacks incident, deployed_at, detected_at: the file looks like UTF-16 or binary, not CSV; save the history as UTF-8 CSV',
      ]);
      expect(allText(err)).not.toContain('hunter2');
    } finally {
      delete process.env.MERIDIAN_TEST_SECRET;
    }
  });

  it('keeps a chart symlink to a file outside the chart out of the bundle', () => {
    const file = writeSpec((_doc, dir) => {
      mkdirSync(join(dir, 'chart', 'files'), { recursive: true });
      symlinkSync('/etc/passwd', join(dir, 'chart', 'files', 'passwd'));
    });
    expect(rejectionOf(() => packReleaseTemplate(loadRelease(file))).message).toMatch(
      /^spec\.template\.helm\.chart: "files\/passwd" in ".*" is a symlink to "\/etc\/passwd", outside the folder/,
    );
  });
  it('refuses a template path that is a file or a device, naming the field', () => {
    for (const chart of ['/dev/zero', 'release.yaml']) {
      const file = writeSpec((doc) => doc.setIn(['spec', 'template', 'helm', 'chart'], chart));
      expect(rejectionOf(() => packReleaseTemplate(loadRelease(file))).message).toMatch(
        /^spec\.template\.helm\.chart: ".*" is not a folder: name the template's folder$/,
      );
    }
  });

  it("refuses a template whose copies in every region's start would not fit the release's history", () => {
    const file = writeSpec((_, dir) => {
      mkdirSync(join(dir, 'chart', 'files'), { recursive: true });
      // Random bytes do not compress: about 300 KiB packed.
      writeFileSync(join(dir, 'chart', 'files', 'noise.txt'), randomBytes(225 * 1024).toString('base64'));
    });
    const release = loadRelease(file);
    expect(packReleaseTemplate(release).files.length).toBeGreaterThan(250 * 1024);
    const many = { ...release.spec.spec, regions: Array.from({ length: 100 }, () => release.spec.spec.regions[0]) };
    const error = rejectionOf(() => packReleaseTemplate({ ...release, spec: { ...release.spec, spec: many } }));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error.message).toMatch(
      /^spec\.template\.helm\.chart: packs to \d+ KiB, with \d+ KiB of values and checks beside it, and each of the 100 regions' workflows starts with them in the release's history: about \d+\.\d MiB, above the 25\.0 MiB/,
    );
  });
});
