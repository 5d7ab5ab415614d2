import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { InvalidInputError } from '../../domain/errors';
import { quotePath } from '../../domain/excerpt';
import type { TemplateBundle } from '../../domain/release-input';

/** A template larger than this is refused: it would bloat every region's workflow history. */
export const maxBundleBytes = 512 * 1024;

/** Most bytes read from a template folder before packing: far above what packs under maxBundleBytes. */
export const maxTemplateBytes = 16 * 1024 * 1024;

/**
 * Reads every file under a template folder into a bundle. Only regular files are read: a symlink is
 * followed only when its target is inside the folder (nothing from outside enters the bundle, which goes
 * into workflow history); a symlink loop, a link out of the folder, a device, a fifo or a socket is
 * refused, naming the entry and the fix.
 */
export function packTemplate(
  folder: string,
  kind: TemplateBundle['kind'],
  releaseName: string,
  field: string,
): TemplateBundle {
  const files: Record<string, string> = {};
  const root = realpathSync(folder);
  const inside = (real: string) => real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
  // Entry names, the folder and link targets are quoted: a name may hold a newline or a terminal escape.
  const refuse = (path: string, what: string) =>
    new InvalidInputError(
      `${field}: ${quotePath(relative(folder, path).split(sep).join('/'))} in ${quotePath(folder)} ${what}`,
    );
  // Folders walked, by their real path: a link to a folder already walked (a loop through links) is not walked again.
  const walked = new Set<string>([root]);
  let bytes = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      let stat = lstatSync(path);
      if (stat.isSymbolicLink()) {
        let real: string;
        try {
          real = realpathSync(path);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'ELOOP') throw refuse(path, 'is a symlink loop: replace it with the file it should be');
          throw refuse(path, 'is a symlink to nothing: remove it or point it at a file in the folder');
        }
        if (!inside(real))
          throw refuse(
            path,
            `is a symlink to ${quotePath(real)}, outside the folder: copy the file into the folder instead`,
          );
        stat = statSync(real);
        if (stat.isDirectory()) {
          if (walked.has(real)) throw refuse(path, 'is a symlink loop (a link to a folder it is in): remove it');
          walked.add(real);
        }
      }
      if (stat.isDirectory()) walk(path);
      else if (!stat.isFile()) throw refuse(path, 'is not a regular file (a device, fifo or socket): remove it');
      else {
        bytes += stat.size;
        if (bytes > maxTemplateBytes)
          throw new InvalidInputError(
            `${field}: ${quotePath(folder)} holds more than ${maxTemplateBytes / 1024 / 1024} MiB: remove large files from it`,
          );
        files[relative(folder, path).split(sep).join('/')] = readFileSync(path).toString('base64');
      }
    }
  };
  walk(folder);
  if (Object.keys(files).length === 0) throw new InvalidInputError(`${field}: ${quotePath(folder)} holds no files`);
  const json = JSON.stringify(files);
  const packed = gzipSync(json).toString('base64');
  if (packed.length > maxBundleBytes) {
    throw new InvalidInputError(
      `${field}: ${quotePath(folder)} packs to ${packed.length} bytes, above the ${maxBundleBytes}-byte limit; remove large files from it`,
    );
  }
  return { kind, releaseName, files: packed, sha256: createHash('sha256').update(json).digest('hex') };
}

/** Writes a bundle's files into a folder (for helm to read). */
export function unpackTemplate(bundle: TemplateBundle, folder: string): void {
  const files = JSON.parse(gunzipSync(Buffer.from(bundle.files, 'base64')).toString('utf8')) as Record<string, string>;
  for (const [path, content] of Object.entries(files)) {
    if (path.split('/').includes('..'))
      throw new InvalidInputError(`template file ${quotePath(path)} escapes its folder`);
    const target = join(folder, path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, Buffer.from(content, 'base64'));
  }
}
