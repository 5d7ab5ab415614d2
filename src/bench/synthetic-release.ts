/**
 * Release specs of any size for the bench, made from the example's YAML and loaded the way the CLI
 * loads a spec (`loadRelease`: the same schema, the same file checks). A spec the schema refuses fails
 * here, with the schema's own field errors, so a change to the schema that the bench did not follow
 * breaks the bench's quick form in CI instead of the full bench months later.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { InvalidInputError } from '../domain/errors';
import { parseYaml } from '../domain/yaml-document';
import { type LoadedRelease, loadRelease } from '../infra/release-files/release-file';

const examples = resolve(__dirname, '..', '..', 'examples');
const exampleFile = join(examples, 'release.yaml');

/** How a synthetic release is made. */
export interface SyntheticReleaseOptions {
  /** Regions, the first of them the canary. */
  regions: number;
  /**
   * uniform: every region has the traits of the example's us-west (what the orchestration bench ran
   * before: the planner puts them in parallel waves at once). varied: traffic, scripts, APIs, mobile
   * share and network cycle through the values a world-wide release has, so the trait planner has
   * real work to do.
   */
  traits: 'uniform' | 'varied';
  /** Most regions of a wave at once. Default 10. */
  maxParallel?: number;
}

const scripts = ['Latin', 'Hangul', 'Arabic', 'Devanagari', 'Cyrillic', 'Han', 'Thai', 'Greek', 'Hebrew'];
const apis = ['catalog', 'checkout', 'payments', 'privacy', 'search', 'accounts', 'reviews'];
const networks = ['good', 'fair', 'poor'];
const traffic = ['low', 'medium', 'high'];

/** The i-th region's traits when they vary: deterministic, every value reached within the first few dozen regions. */
function variedTraits(i: number) {
  return {
    traffic: traffic[i % traffic.length],
    mobileShare: ((i * 37) % 100) / 100,
    scripts: [...new Set(['Latin', scripts[i % scripts.length], scripts[(i * 7) % scripts.length]])],
    apis: [...new Set(['catalog', apis[i % apis.length], apis[(i * 3) % apis.length]])],
    network: networks[Math.floor(i / 3) % networks.length],
  };
}

/**
 * The YAML of a release with `regions` regions, a no-op-friendly rollout (no approvals, no canary soak,
 * no traffic steering, integration checks only) and the example's chart, checks and incident history
 * named by absolute paths, so the file loads from any folder.
 */
export function syntheticReleaseYaml(options: SyntheticReleaseOptions): string {
  // From the example's YAML, not its parsed spec: parsing turns durations into milliseconds, which the
  // schema would then refuse (a parsed spec does not parse again).
  const raw = parseYaml(readFileSync(exampleFile, 'utf8'), exampleFile) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const template = raw.spec.regions[1];
  raw.spec.template.helm.chart = join(examples, 'chart');
  raw.spec.regions = Array.from({ length: options.regions }, (_, i) => ({
    ...template,
    name: `region-${i}`,
    canary: i === 0,
    cluster: { context: 'bench', namespace: `ns-${i}` },
    traits: options.traits === 'varied' && i > 0 ? variedTraits(i) : { ...template.traits },
  }));
  raw.spec.rollout = {
    ...raw.spec.rollout,
    approvals: [],
    maxParallel: options.maxParallel ?? 10,
    canarySoak: '0s',
    timeToSmoke: {
      ...raw.spec.rollout.timeToSmoke,
      incidents: join(examples, 'incidents.csv'),
      window: '180d',
      floor: '0s',
      ceiling: '12h',
    },
  };
  raw.spec.validation = { integration: { suite: join(examples, 'checks', 'integration.yaml') } };
  // The example's traffic section names the example's regions, and DNS steering is not what these measure.
  delete raw.spec.traffic;
  // Written out in full: regions share objects, and the loader refuses a document of many aliases.
  return stringify(raw, { aliasDuplicateObjects: false });
}

/** Writes a synthetic release into a fresh temporary folder; returns the file's path. */
export function writeSyntheticRelease(options: SyntheticReleaseOptions): string {
  const file = join(mkdtempSync(join(tmpdir(), 'meridian-bench-spec-')), 'release.yaml');
  writeFileSync(file, syntheticReleaseYaml(options));
  return file;
}

/** A synthetic release, written and loaded as `meridian validate` loads one (throws the CLI's field errors if refused). */
export function loadSyntheticRelease(options: SyntheticReleaseOptions): LoadedRelease {
  try {
    return loadRelease(writeSyntheticRelease(options));
  } catch (err) {
    if (err instanceof InvalidInputError && err.problems.length > 0)
      throw new Error(`the bench's synthetic release: ${err.message}:\n  ${err.problems.join('\n  ')}`);
    throw err;
  }
}
