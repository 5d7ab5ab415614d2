import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { packTemplate } from '../activities/render/template-bundle';
import { InvalidInputError } from '../domain/errors';
import { type IntegrationSuite, integrationSuiteSchema } from '../domain/integration-checks';
import { parseRecordedTraffic, type RecordedRequest, withoutCredentials } from '../domain/recorded-traffic';
import type { TemplateBundle } from '../domain/release-input';
import { type ReleaseSpec, releaseSpecSchema } from '../domain/release-spec';
import { computeTimeToSmoke, parseIncidentsCsv, type TimeToSmoke } from '../domain/time-to-smoke';
import { parseYaml } from '../domain/yaml-document';
import { formatZodIssues } from '../domain/zod-issues';

/** A release spec read from its file, with the files it names. */
export interface LoadedRelease {
  /** Absolute path of the spec file. */
  file: string;
  spec: ReleaseSpec;
  /** The template folder, resolved against the spec file. */
  templateDir: string;
  checks?: IntegrationSuite;
  /** The recorded traffic spec.validation.load replays. */
  traffic?: RecordedRequest[];
  /** Problems that do not stop validation but will stop a start (e.g. a template not there yet). */
  warnings: string[];
}

function readText(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new InvalidInputError(`${field}: cannot read ${path}: check the path (relative paths are relative to the spec file)`);
  }
}

/**
 * Reads and validates a release spec and the files it names. Every schema problem is reported at once,
 * each with its path and the fix; nothing is started on any error.
 */
export function loadRelease(file: string): LoadedRelease {
  const path = resolve(file);
  if (!existsSync(path)) throw new InvalidInputError(`release spec ${file} does not exist: pass an existing file with -f`);
  const raw = parseYaml(readText(path, '-f'), path);
  const parsed = releaseSpecSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    const problems = formatZodIssues(parsed.error, '', releaseSpecSchema);
    throw new InvalidInputError(`${file} is not a valid release spec (${problems.length} problem${problems.length === 1 ? '' : 's'})`, problems);
  }
  const spec = parsed.data;
  const dir = dirname(path);
  const problems: string[] = [];
  const warnings: string[] = [];

  const template = spec.spec.template;
  const templateDir = resolve(dir, template.helm?.chart ?? template.manifests!.path);
  const templateField = template.helm ? 'spec.template.helm.chart' : 'spec.template.manifests.path';
  if (!existsSync(templateDir) || !statSync(templateDir).isDirectory()) {
    warnings.push(`${templateField}: ${templateDir} is not a folder yet; render and start need it`);
  } else if (template.helm && !existsSync(resolve(templateDir, 'Chart.yaml'))) {
    problems.push(`${templateField}: ${templateDir} has no Chart.yaml; point it at a Helm chart folder`);
  }

  let checks: IntegrationSuite | undefined;
  const suite = spec.spec.validation.integration?.suite;
  if (suite) {
    const suitePath = resolve(dir, suite);
    if (!existsSync(suitePath)) problems.push(`spec.validation.integration.suite: ${suitePath} does not exist`);
    else {
      const result = integrationSuiteSchema.safeParse(parseYaml(readText(suitePath, 'spec.validation.integration.suite'), suitePath), { reportInput: true });
      if (result.success) checks = result.data;
      else problems.push(...formatZodIssues(result.error, '', integrationSuiteSchema).map((p) => `${suite}: ${p}`));
    }
  }

  let traffic: RecordedRequest[] | undefined;
  const load = spec.spec.validation.load;
  if (load) {
    const replayPath = resolve(dir, load.replay);
    if (!existsSync(replayPath)) problems.push(`spec.validation.load.replay: ${replayPath} does not exist`);
    else {
      try {
        const cleaned = withoutCredentials(parseRecordedTraffic(readText(replayPath, 'spec.validation.load.replay'), load.replay));
        traffic = cleaned.requests;
        if (cleaned.dropped.size > 0) {
          const which = [...cleaned.dropped].map(([name, n]) => `${name} (${n} requests)`).join(', ');
          warnings.push(`spec.validation.load.replay: dropped recorded credentials ${which}: they would travel in workflow history; the staging endpoint must accept the replay without them`);
        }
      } catch (err) {
        problems.push(`spec.validation.load.replay: ${(err as Error).message}`);
      }
    }
    if (!spec.spec.regions.some((r) => r.role === 'staging')) {
      warnings.push('spec.validation.load: no region has role: staging, so no load test runs; add a staging region to prove the release under load first');
    }
  }
  const incidents = spec.spec.rollout.timeToSmoke.incidents;
  if (incidents && !existsSync(resolve(dir, incidents))) problems.push(`spec.rollout.timeToSmoke.incidents: ${resolve(dir, incidents)} does not exist`);
  if (problems.length > 0) throw new InvalidInputError(`${file} names files that are missing or invalid`, problems);
  return { file: path, spec, templateDir, checks, traffic, warnings };
}

/**
 * The release's time-to-smoke from its incident history, as of `now`. Rows that cannot be used are
 * returned as warnings with their line numbers.
 */
export function releaseTimeToSmoke(release: LoadedRelease, now: number): { timeToSmoke?: TimeToSmoke; warnings: string[] } {
  const tts = release.spec.spec.rollout.timeToSmoke;
  if (!tts.incidents) return { warnings: [] };
  const file = resolve(dirname(release.file), tts.incidents);
  const { incidents, problems } = parseIncidentsCsv(readText(file, 'spec.rollout.timeToSmoke.incidents'));
  const timeToSmoke = computeTimeToSmoke(incidents, {
    method: tts.method,
    percentile: tts.percentile,
    windowMs: tts.window,
    floorMs: tts.floor,
    ceilingMs: tts.ceiling,
    now,
  });
  return { timeToSmoke, warnings: problems.map((p) => `${tts.incidents}: ${p} (row not used)`) };
}

/** The template packed for the workflow input; fails if the folder is missing. */
export function packReleaseTemplate(release: LoadedRelease): TemplateBundle {
  const { helm } = release.spec.spec.template;
  const field = helm ? 'spec.template.helm.chart' : 'spec.template.manifests.path';
  if (!existsSync(release.templateDir)) throw new InvalidInputError(`${field}: ${release.templateDir} does not exist`);
  return packTemplate(release.templateDir, helm ? 'helm' : 'manifests', helm?.releaseName ?? release.spec.metadata.app, field);
}

/** The release's workflow id: derived from app and version, so a repeated start finds the same release. */
export function releaseIdOf(spec: ReleaseSpec): string {
  return `release-${spec.metadata.app}-${spec.metadata.version}`;
}

/** Identifies what a start asks for: the spec and every file it carries. */
export function specHashOf(spec: ReleaseSpec, template: TemplateBundle, checks: IntegrationSuite | undefined, traffic?: readonly RecordedRequest[]): string {
  return createHash('sha256').update(JSON.stringify({ spec, template: template.sha256, checks, traffic })).digest('hex');
}
