import { createHash } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { packTemplate } from '../render/template-bundle';
import { InvalidInputError } from '../../domain/errors';
import { quotePath } from '../../domain/excerpt';
import { regionInputsProblem } from '../../domain/history-budget';
import { type IntegrationSuite, integrationSuiteSchema } from '../../domain/integration-checks';
import { parseRecordedTraffic, type RecordedRequest, withoutCredentials } from '../../domain/recorded-traffic';
import type { TemplateBundle } from '../../domain/release-input';
import { type ReleaseSpec, releaseSpecSchema } from '../../domain/release-spec';
import {
  computeTimeToSmoke,
  type Incident,
  type ParsedIncidents,
  parseIncidentsCsv,
  type TimeToSmoke,
} from '../../domain/time-to-smoke';
import { parseYaml } from '../../domain/yaml-document';
import { formatZodIssues } from '../../domain/zod-issues';

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
  /** The incident history spec.rollout.timeToSmoke.incidents names, read and checked. */
  incidents?: Incident[];
  /** Problems that do not stop validation but will stop a start (e.g. a template not there yet). */
  warnings: string[];
}

/** Largest spec, checks suite or incident history read: far above any real one, far below a runaway. */
export const maxInputFileBytes = 4 * 1024 * 1024;
/** Largest recorded traffic read: what can pack under the workflow input's limit, with room for compression. */
export const maxRecordingBytes = 32 * 1024 * 1024;

/** Why `path` cannot be read as an input file of at most `maxBytes`, or undefined when it can. */
function fileProblem(path: string, maxBytes: number): string | undefined {
  const shown = quotePath(path);
  let stat;
  try {
    stat = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return `${shown} does not exist`;
    if (code === 'ELOOP') return `${shown} is a symlink loop: point it at a file`;
    return `cannot read ${shown} (${code ?? 'error'}): check the path and its permissions`;
  }
  if (stat.isDirectory()) return `${shown} is a folder: name a file in it`;
  if (!stat.isFile()) return `${shown} is not a regular file (a device, fifo or socket): name a file`;
  if (stat.size > maxBytes) return `${shown} is larger than ${maxBytes / 1024 / 1024} MiB: name a smaller file`;
  return undefined;
}

/**
 * Reads an input file the spec names, only if it is a regular file of at most `maxBytes`: never a
 * folder, a device or a fifo (opened without blocking, and refused), never more than `maxBytes` even
 * when the size the system reports is wrong (files under /proc report 0).
 */
function readText(path: string, field: string, maxBytes = maxInputFileBytes): string {
  const problem = fileProblem(path, maxBytes);
  if (problem) throw new InvalidInputError(`${field}: ${problem} (relative paths are relative to the spec file)`);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw new InvalidInputError(
      `${field}: cannot read ${quotePath(path)} (${(err as NodeJS.ErrnoException).code ?? 'error'}): check the path and its permissions`,
    );
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile())
      throw new InvalidInputError(
        `${field}: ${quotePath(path)} is not a regular file (a device, fifo or socket): name a file`,
      );
    const chunks: Buffer[] = [];
    let total = 0;
    // Chunks sized by the reported size (64 KiB at least, 1 MiB at most): a 6 KB spec is not read
    // through a zeroed megabyte, and a size reported wrong (0 under /proc) only costs more reads.
    const buffer = Buffer.allocUnsafe(Math.min(1024 * 1024, maxBytes + 1, Math.max(64 * 1024, stat.size + 1)));
    for (;;) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, maxBytes + 1 - total), null);
      if (n === 0) break;
      chunks.push(Buffer.from(buffer.subarray(0, n)));
      total += n;
      if (total > maxBytes)
        throw new InvalidInputError(
          `${field}: ${quotePath(path)} is larger than ${maxBytes / 1024 / 1024} MiB: name a smaller file`,
        );
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and validates a release spec and the files it names. Every schema problem is reported at once,
 * each with its path and the fix; nothing is started on any error.
 */
export function loadRelease(file: string): LoadedRelease {
  const path = resolve(file);
  if (!existsSync(path))
    throw new InvalidInputError(`release spec ${file} does not exist: pass an existing file with -f`);
  // The spec's own content is never quoted on error: it may be a file named by mistake.
  const raw = parseYaml(readText(path, '-f'), path);
  const parsed = releaseSpecSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    const problems = formatZodIssues(parsed.error, '', releaseSpecSchema);
    throw new InvalidInputError(
      `${file} is not a valid release spec (${problems.length} problem${problems.length === 1 ? '' : 's'})`,
      problems,
    );
  }
  const spec = parsed.data;
  const dir = dirname(path);
  const problems: string[] = [];
  const warnings: string[] = [];

  const template = spec.spec.template;
  const templateDir = resolve(dir, template.helm?.chart ?? template.manifests!.path);
  const templateField = template.helm ? 'spec.template.helm.chart' : 'spec.template.manifests.path';
  if (!existsSync(templateDir) || !statSync(templateDir).isDirectory()) {
    warnings.push(`${templateField}: ${quotePath(templateDir)} is not a folder yet; render and start need it`);
  } else if (template.helm && !existsSync(resolve(templateDir, 'Chart.yaml'))) {
    problems.push(`${templateField}: ${quotePath(templateDir)} has no Chart.yaml; point it at a Helm chart folder`);
  }

  let checks: IntegrationSuite | undefined;
  const suite = spec.spec.validation.integration?.suite;
  if (suite) {
    const suitePath = resolve(dir, suite);
    const unreadable = fileProblem(suitePath, maxInputFileBytes);
    if (unreadable) problems.push(`spec.validation.integration.suite: ${unreadable}`);
    else {
      try {
        const result = integrationSuiteSchema.safeParse(
          parseYaml(readText(suitePath, 'spec.validation.integration.suite'), suitePath),
          { reportInput: true },
        );
        if (result.success) checks = result.data;
        else
          problems.push(
            ...formatZodIssues(result.error, '', integrationSuiteSchema).map((p) => `${quotePath(suite)}: ${p}`),
          );
      } catch (err) {
        if (!(err instanceof InvalidInputError)) throw err;
        problems.push(...(err.problems.length ? err.problems : [err.message]));
      }
    }
  }

  let traffic: RecordedRequest[] | undefined;
  const load = spec.spec.validation.load;
  if (load) {
    const replayPath = resolve(dir, load.replay);
    const unreadable = fileProblem(replayPath, maxRecordingBytes);
    if (unreadable) problems.push(`spec.validation.load.replay: ${unreadable}`);
    else {
      try {
        const cleaned = withoutCredentials(
          parseRecordedTraffic(
            readText(replayPath, 'spec.validation.load.replay', maxRecordingBytes),
            quotePath(load.replay),
          ),
        );
        traffic = cleaned.requests;
        if (cleaned.dropped.size > 0) {
          const which = [...cleaned.dropped].map(([name, n]) => `${name} (${n} requests)`).join(', ');
          warnings.push(
            `spec.validation.load.replay: dropped recorded credentials ${which}: they would travel in workflow history; the staging endpoint must accept the replay without them`,
          );
        }
      } catch (err) {
        const message = (err as Error).message;
        problems.push(
          message.startsWith('spec.validation.load.replay: ') ? message : `spec.validation.load.replay: ${message}`,
        );
      }
    }
    if (!spec.spec.regions.some((r) => r.role === 'staging')) {
      warnings.push(
        'spec.validation.load: no region has role: staging, so no load test runs; add a staging region to prove the release under load first',
      );
    }
  }
  let history: Incident[] | undefined;
  const incidents = spec.spec.rollout.timeToSmoke.incidents;
  const incidentsProblem = incidents && fileProblem(resolve(dir, incidents), maxInputFileBytes);
  if (incidentsProblem) problems.push(`spec.rollout.timeToSmoke.incidents: ${incidentsProblem}`);
  else if (incidents) {
    const parsed = readIncidents(resolve(dir, incidents), incidents);
    problems.push(...parsed.problems);
    warnings.push(...parsed.warnings);
    history = parsed.incidents;
  }
  if (problems.length > 0) throw new InvalidInputError(`${file} names files that are missing or invalid`, problems);
  return { file: path, spec, templateDir, checks, traffic, ...(history ? { incidents: history } : {}), warnings };
}

/**
 * The incident history at `path` (named `named` in the spec), its problems and warnings each prefixed
 * with the field and the file, so a person knows where to look. A row that cannot be used is a problem,
 * never a row silently left out: the bake would be shorter than the history says.
 */
function readIncidents(path: string, named: string): ParsedIncidents {
  const prefix = `spec.rollout.timeToSmoke.incidents: ${quotePath(named)}`;
  const parsed = parseIncidentsCsv(readText(path, 'spec.rollout.timeToSmoke.incidents'));
  return {
    incidents: parsed.incidents,
    problems: parsed.problems.map((p) => `${prefix} ${p}`),
    warnings: parsed.warnings.map((w) => `${prefix} ${w}`),
  };
}

/**
 * The release's time-to-smoke from its incident history, as of `now`. The history was checked when the
 * spec was loaded (a release that did not read it reads it here, refused on any problem); incidents
 * deployed after `now` do not count, and are warned of (a wrong year or zone looks like that).
 */
export function releaseTimeToSmoke(
  release: LoadedRelease,
  now: number,
): { timeToSmoke?: TimeToSmoke; warnings: string[] } {
  const tts = release.spec.spec.rollout.timeToSmoke;
  if (!tts.incidents) return { warnings: [] };
  let incidents = release.incidents;
  if (!incidents) {
    const parsed = readIncidents(resolve(dirname(release.file), tts.incidents), tts.incidents);
    if (parsed.problems.length > 0)
      throw new InvalidInputError(`${quotePath(tts.incidents)} is not a usable incident history`, parsed.problems);
    incidents = parsed.incidents;
  }
  const timeToSmoke = computeTimeToSmoke(incidents, {
    method: tts.method,
    percentile: tts.percentile,
    windowMs: tts.window,
    floorMs: tts.floor,
    ceilingMs: tts.ceiling,
    now,
  });
  const later = incidents.filter((i) => i.deployedAt > now);
  const lines =
    later
      .slice(0, 5)
      .map((i) => i.line)
      .join(', ') + (later.length > 5 ? ', …' : '');
  const warnings = later.length
    ? [
        `spec.rollout.timeToSmoke.incidents: ${quotePath(tts.incidents)} line${later.length === 1 ? '' : 's'} ${lines}: ${later.length} incident${later.length === 1 ? ' was' : 's were'} deployed after now and ${later.length === 1 ? 'does' : 'do'} not count: check the year and the zone of ${later.length === 1 ? 'its' : 'their'} times`,
      ]
    : [];
  return { timeToSmoke, warnings };
}

/** The template packed for the workflow input; fails if the folder is missing, or if its copies would not fit the release's history. */
export function packReleaseTemplate(release: LoadedRelease): TemplateBundle {
  const { helm } = release.spec.spec.template;
  const field = helm ? 'spec.template.helm.chart' : 'spec.template.manifests.path';
  if (!existsSync(release.templateDir))
    throw new InvalidInputError(`${field}: ${quotePath(release.templateDir)} does not exist`);
  if (!statSync(release.templateDir).isDirectory())
    throw new InvalidInputError(
      `${field}: ${quotePath(release.templateDir)} is not a folder: name the template's folder`,
    );
  const bundle = packTemplate(
    release.templateDir,
    helm ? 'helm' : 'manifests',
    helm?.releaseName ?? release.spec.metadata.app,
    field,
  );
  // Every region's input also carries the shared values and the checks suite.
  const shared = JSON.stringify({ values: release.spec.spec.template.values ?? {}, checks: release.checks ?? {} });
  const tooBig = regionInputsProblem(release.spec.spec.regions.length, bundle.files.length, shared.length, field);
  if (tooBig) throw new InvalidInputError(tooBig);
  return bundle;
}

/** The release's workflow id: derived from app and version, so a repeated start finds the same release. */
export function releaseIdOf(spec: ReleaseSpec): string {
  return `release-${spec.metadata.app}-${spec.metadata.version}`;
}

/** Identifies what a start asks for: the spec and every file it carries. */
export function specHashOf(
  spec: ReleaseSpec,
  template: TemplateBundle,
  checks: IntegrationSuite | undefined,
  traffic?: readonly RecordedRequest[],
): string {
  return createHash('sha256')
    .update(JSON.stringify({ spec, template: template.sha256, checks, traffic }))
    .digest('hex');
}
