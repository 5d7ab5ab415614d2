import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseDocument } from 'yaml';

/**
 * A copy of a release spec under a new version, for the demo: each run is a new release. Relative paths
 * in the copy still point at the original's files.
 */
export function writeDemoSpec(specFile: string, version: string, outDir: string): string {
  const doc = parseDocument(readFileSync(specFile, 'utf8'));
  doc.setIn(['metadata', 'version'], version);
  const base = dirname(specFile);
  const target = join(outDir, 'demo');
  mkdirSync(target, { recursive: true });
  for (const path of [
    ['spec', 'template', 'helm', 'chart'],
    ['spec', 'template', 'manifests', 'path'],
    ['spec', 'validation', 'integration', 'suite'],
    ['spec', 'validation', 'load', 'replay'],
    ['spec', 'rollout', 'timeToSmoke', 'incidents'],
  ]) {
    const value = doc.getIn(path);
    if (typeof value === 'string') doc.setIn(path, relative(target, resolve(base, value)));
  }
  const file = join(target, `release-${version}.yaml`);
  writeFileSync(file, doc.toString());
  return file;
}
