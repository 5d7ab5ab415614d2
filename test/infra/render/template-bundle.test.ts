import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { packTemplate } from '../../../src/infra/render/template-bundle';
import { InvalidInputError } from '../../../src/domain/errors';
import type { TemplateBundle } from '../../../src/domain/release-input';

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A manifests folder with one manifest, beside a secret file outside it. */
function folder(): { dir: string; outside: string } {
  const base = mkdtempSync(join(tmpdir(), 'meridian-bundle-'));
  tempDirs.push(base);
  const dir = join(base, 'manifests');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'app.yaml'), 'kind: ConfigMap\n');
  writeFileSync(join(base, 'secret.txt'), 'TOKEN=hunter2\n');
  return { dir, outside: join(base, 'secret.txt') };
}

const filesOf = (bundle: TemplateBundle) =>
  JSON.parse(gunzipSync(Buffer.from(bundle.files, 'base64')).toString('utf8')) as Record<string, string>;

function refusalOf(dir: string): InvalidInputError {
  let thrown: unknown;
  try {
    packTemplate(dir, 'manifests', 'shop-api', 'spec.template.manifests.path');
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(InvalidInputError);
  return thrown as InvalidInputError;
}

describe('packTemplate and what a template folder may hold', () => {
  it('packs regular files and symlinks to files inside the folder', () => {
    const { dir } = folder();
    symlinkSync('../app.yaml', join(dir, 'sub', 'linked.yaml'));
    expect(Object.keys(filesOf(packTemplate(dir, 'manifests', 'shop-api', 'f')))).toEqual([
      'app.yaml',
      'sub/linked.yaml',
    ]);
  });

  it('refuses a symlink to a file outside the folder, never packing its content', () => {
    const { dir, outside } = folder();
    symlinkSync(outside, join(dir, 'sub', 'values.yaml'));
    const err = refusalOf(dir);
    expect(err.message).toMatch(
      /^spec\.template\.manifests\.path: "sub\/values\.yaml" in ".*" is a symlink to ".*secret\.txt", outside the folder: copy the file into the folder instead$/,
    );
    expect(err.message).not.toContain('hunter2');
  });

  it('refuses a symlink to a folder outside, and a relative link climbing out', () => {
    const { dir } = folder();
    symlinkSync('..', join(dir, 'up'));
    expect(refusalOf(dir).message).toMatch(/"up" in ".*" is a symlink to ".*", outside the folder/);
  });

  it.each([
    [
      'a link to itself',
      (dir: string) => symlinkSync('self', join(dir, 'self')),
      /"self" in ".*" is a symlink loop: replace it with the file it should be$/,
    ],
    [
      'two links to each other',
      (dir: string) => (symlinkSync('b', join(dir, 'a')), symlinkSync('a', join(dir, 'b'))),
      /"a" in ".*" is a symlink loop/,
    ],
    [
      'a link to a folder it is in',
      (dir: string) => symlinkSync('..', join(dir, 'sub', 'again')),
      /"sub\/again" in ".*" is a symlink loop \(a link to a folder it is in\): remove it$/,
    ],
    [
      'a link to nothing',
      (dir: string) => symlinkSync('missing.yaml', join(dir, 'gone.yaml')),
      /"gone\.yaml" in ".*" is a symlink to nothing/,
    ],
  ])('refuses %s with a clear error', (_name, make, message) => {
    const { dir } = folder();
    make(dir);
    expect(refusalOf(dir).message).toMatch(message);
  });

  it('refuses a fifo without blocking, and a link to a device', () => {
    const { dir } = folder();
    execFileSync('mkfifo', [join(dir, 'pipe.yaml')]);
    expect(refusalOf(dir).message).toMatch(
      /"pipe\.yaml" in ".*" is not a regular file \(a device, fifo or socket\): remove it$/,
    );
    rmSync(join(dir, 'pipe.yaml'));
    symlinkSync('/dev/zero', join(dir, 'zero.yaml'));
    expect(refusalOf(dir).message).toMatch(/"zero\.yaml" in ".*" is a symlink to "\/dev\/zero", outside the folder/);
  });

  it('quotes an entry whose name holds a newline or a terminal escape: the refusal stays one line', () => {
    const { dir } = folder();
    symlinkSync('/etc/passwd', join(dir, 'new\nline.yaml'));
    const message = refusalOf(dir).message;
    expect(message).toMatch(
      /^spec\.template\.manifests\.path: "new\\nline\.yaml" in ".*" is a symlink to "\/etc\/passwd", outside the folder/,
    );
    expect(message).not.toMatch(/[\u0000-\u001f]/);
    rmSync(join(dir, 'new\nline.yaml'));
    execFileSync('mkfifo', [join(dir, 'esc\u001b[31m.yaml')]);
    expect(refusalOf(dir).message).toMatch(
      /^spec\.template\.manifests\.path: "esc\\u001b\[31m\.yaml" in ".*" is not a regular file/,
    );
  });
});
