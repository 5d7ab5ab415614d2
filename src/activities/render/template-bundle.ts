import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { InvalidInputError } from '../../domain/errors';
import type { TemplateBundle } from '../../domain/release-input';

/** A template larger than this is refused: it would bloat every region's workflow history. */
export const maxBundleBytes = 512 * 1024;

/** Reads every file under a template folder into a bundle. */
export function packTemplate(folder: string, kind: TemplateBundle['kind'], releaseName: string, field: string): TemplateBundle {
  const files: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else files[relative(folder, path).split(sep).join('/')] = readFileSync(path).toString('base64');
    }
  };
  walk(folder);
  if (Object.keys(files).length === 0) throw new InvalidInputError(`${field}: ${folder} holds no files`);
  const json = JSON.stringify(files);
  const packed = gzipSync(json).toString('base64');
  if (packed.length > maxBundleBytes) {
    throw new InvalidInputError(`${field}: ${folder} packs to ${packed.length} bytes, above the ${maxBundleBytes}-byte limit; remove large files from it`);
  }
  return { kind, releaseName, files: packed, sha256: createHash('sha256').update(json).digest('hex') };
}

/** Writes a bundle's files into a folder (for helm to read). */
export function unpackTemplate(bundle: TemplateBundle, folder: string): void {
  const files = JSON.parse(gunzipSync(Buffer.from(bundle.files, 'base64')).toString('utf8')) as Record<string, string>;
  for (const [path, content] of Object.entries(files)) {
    if (path.split('/').includes('..')) throw new InvalidInputError(`template file ${path} escapes its folder`);
    const target = join(folder, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, Buffer.from(content, 'base64'));
  }
}
