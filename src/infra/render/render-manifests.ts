import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import { InvalidInputError, MissingPrerequisiteError } from '../../domain/errors';
import { maxPathExcerptChars, quoteExcerpt } from '../../domain/excerpt';
import type { ObjectRef, ReleaseRef, TemplateBundle } from '../../domain/release-input';
import type { RegionSpec } from '../../domain/release-spec';
import { parseValuePath, prototypeKeyPaths, prototypeKeys } from '../../domain/value-paths';
import { parseYamlDocuments, type YamlBudget } from '../../domain/yaml-document';
import { unpackTemplate } from './template-bundle';

const run = promisify(execFile);

/** Everything that decides one region's manifests. */
export interface RenderRequest {
  release: ReleaseRef;
  region: RegionSpec;
  template: TemplateBundle;
  /** Values shared by every region. */
  values: Record<string, unknown>;
}

export interface RenderedManifests {
  objects: KubernetesObject[];
  /** sha256 of the rendered objects: the same inputs always give the same digest. */
  digest: string;
}

/**
 * The image every region runs: the region's registry, the release's repository and tag, and the digest
 * once replicated, so that every region runs the same bits whatever the tag points at later.
 */
export function regionImage(release: ReleaseRef, region: RegionSpec): string {
  const digest = release.image.digest ? `@${release.image.digest}` : '';
  return `${region.registry}/${release.image.name}:${release.image.tag}${digest}`;
}

/** Kinds without a namespace, which must not be given the region's namespace. */
const clusterScoped = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PriorityClass',
  'StorageClass',
  'PersistentVolume',
  'IngressClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
]);

/** Apply order: what others depend on first (as Helm does). */
const kindOrder = [
  'Namespace',
  'CustomResourceDefinition',
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'PersistentVolumeClaim',
  'ClusterRole',
  'ClusterRoleBinding',
  'Role',
  'RoleBinding',
  'Service',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'Ingress',
  'HorizontalPodAutoscaler',
  'PodDisruptionBudget',
];

/** Renders one region's manifests: the template with the shared values, the region's values over them, and Meridian's image. */
export async function renderManifests(helmPath: string, request: RenderRequest): Promise<RenderedManifests> {
  const { release, region, template } = request;
  const work = mkdtempSync(join(tmpdir(), 'meridian-render-'));
  try {
    const chart = join(work, 'template');
    unpackTemplate(template, chart);
    const image = regionImage(release, region);
    refusePrototypeKeys(request.values, 'spec.template.values');
    refusePrototypeKeys(region.values, `region ${region.name} values`);
    const values = deepMerge(request.values, region.values);
    let objects: KubernetesObject[];
    if (template.kind === 'helm') {
      const withImage = deepMerge(values, {
        image: {
          repository: `${region.registry}/${release.image.name}`,
          tag: release.image.tag,
          digest: release.image.digest ?? '',
          reference: image,
        },
      });
      writeFileSync(join(work, 'values.json'), JSON.stringify(withImage));
      objects = parseManifests(
        await helmTemplate(helmPath, template.releaseName, chart, region.cluster.namespace, join(work, 'values.json')),
        helmOutput,
        { expandedChars: 0 },
      );
    } else {
      objects = readManifestFolder(chart);
      applyValuesByPath(objects, values);
    }
    const finished = finishObjects(objects, request, image);
    return { objects: finished, digest: digestOf(finished) };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Most characters of helm's reason a refusal quotes. */
const maxHelmReasonChars = 1000;

async function helmTemplate(
  helmPath: string,
  releaseName: string,
  chart: string,
  namespace: string,
  valuesFile: string,
): Promise<string> {
  try {
    const { stdout } = await run(
      helmPath,
      ['template', releaseName, chart, '--namespace', namespace, '--values', valuesFile],
      {
        timeout: 60_000,
        maxBuffer: 32 * 1024 * 1024,
        env: {
          ...process.env,
          HELM_CACHE_HOME: join(chart, '..', '.helm-cache'),
          HELM_CONFIG_HOME: join(chart, '..', '.helm-config'),
        },
      },
    );
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string; code?: string };
    if (e.code === 'ENOENT' || e.code === 'EACCES') throw new MissingPrerequisiteError(helmMissing(helmPath, e.code));
    // helm's reason in one line of bounded length: it may quote the chart, and a chart is input.
    const reason = (e.stderr || e.message)
      .trim()
      .replace(/\s*\n\s*/g, ' ')
      .replace(/[\u0000-\u001f\u007f]/g, '?');
    throw new InvalidInputError(
      `helm could not render the chart: ${reason.length > maxHelmReasonChars ? `${reason.slice(0, maxHelmReasonChars)}… (${reason.length} characters)` : reason}`,
    );
  }
}

/**
 * Why helm could not run, and how to get it. A bare `helm` is what callers pass when neither the
 * toolchain cache nor MERIDIAN_HELM named one, and PATH had none either.
 */
function helmMissing(helmPath: string, code: string): string {
  const where =
    helmPath === 'helm'
      ? 'helm is not in the toolchain cache nor on PATH'
      : `helm at ${quoteExcerpt(helmPath, maxPathExcerptChars)} ${code === 'EACCES' ? 'cannot be run' : 'does not exist'}`;
  return (
    `${where}: run \`npm run setup\` (or \`MERIDIAN_ONLY=helm bash scripts/setup-toolchain.sh\` for helm alone), which builds it into ` +
    '~/.cache/meridian/bin ($MERIDIAN_CACHE/bin), or put helm on PATH, or set MERIDIAN_HELM to its path'
  );
}

/** How errors name helm's output. */
const helmOutput = 'helm template output';

/** Most problems of one YAML file an error message lists; the rest are counted. */
const maxProblemsShown = 3;

/**
 * The Kubernetes objects of a YAML stream, read with the limits of every YAML input (aliases, nesting,
 * expansion, shared through `budget` by all files of one render). A problem is invalid input naming
 * `source:line:col`, in the message itself: the activity's failure carries only the message.
 */
function parseManifests(text: string, source: string, budget: YamlBudget): KubernetesObject[] {
  let documents;
  try {
    documents = parseYamlDocuments(text, source, budget);
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    const shown = err.problems
      .slice(0, maxProblemsShown)
      .map((p) => withTemplateOf(p, text, source))
      .join('; ');
    const more = err.problems.length > maxProblemsShown ? ` (and ${err.problems.length - maxProblemsShown} more)` : '';
    throw new InvalidInputError(`${err.message}: ${shown || 'unreadable'}${more}`);
  }
  const objects: KubernetesObject[] = [];
  for (const { value, at } of documents) {
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      throw new InvalidInputError(
        `${at}: a manifest document is ${Array.isArray(value) ? 'a list' : `a ${typeof value}`}, not a Kubernetes object: write one object (kind, apiVersion, metadata.name) per document, separated by ---`,
      );
    }
    const o = value as KubernetesObject;
    const missing = [
      !isNonEmptyString(o.kind) && 'kind',
      !isNonEmptyString(o.apiVersion) && 'apiVersion',
      !isNonEmptyString(o.metadata?.name) && 'metadata.name',
    ].filter(Boolean);
    if (missing.length > 0)
      throw new InvalidInputError(
        `${at}: an object without ${missing.join(', ')}: give every manifest a kind, apiVersion and metadata.name`,
      );
    objects.push(o);
  }
  return objects;
}

/**
 * A problem located in helm's output, with the chart template that line came from (helm marks each
 * document with `# Source: chart/templates/x.yaml`), so a person can find it in the chart.
 */
function withTemplateOf(problem: string, text: string, source: string): string {
  if (source !== helmOutput) return problem;
  const line = /^helm template output:(\d+):/.exec(problem)?.[1];
  if (!line) return problem;
  const before = text.split('\n', Number(line));
  for (let i = before.length - 1; i >= 0; i--) {
    const template = /^# Source: (.+)$/.exec(before[i])?.[1];
    if (template) return `${problem} (rendered from ${quoteExcerpt(template.trim())})`;
  }
  return problem;
}

function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v !== '';
}

/** The objects of every .yaml/.yml file at the top of a manifests folder, in name order. */
function readManifestFolder(folder: string): KubernetesObject[] {
  const budget: YamlBudget = { expandedChars: 0 };
  return (
    readdirSync(folder, { withFileTypes: true })
      .filter((f) => f.isFile() && /\.ya?ml$/.test(f.name))
      .map((f) => f.name)
      .sort()
      // A name with other characters (a newline, an escape) is quoted, so that errors stay one plain line.
      .flatMap((f) =>
        parseManifests(readFileSync(join(folder, f), 'utf8'), /^[\w.@+-]+$/.test(f) ? f : quoteExcerpt(f), budget),
      )
  );
}

/** Refuses template values holding a `__proto__` key (the spec's validation refuses them first). */
function refusePrototypeKeys(values: Record<string, unknown>, field: string): void {
  const found = prototypeKeyPaths(values)[0];
  if (found)
    throw new InvalidInputError(
      `${field}: ${quoteExcerpt(found.join('.'))}: a key named "__proto__" is no template value and would reach the prototype of every object: remove it`,
    );
}

/**
 * Sets each plain-manifest value at its path (`Deployment/shop-api:spec.replicas: 3`). A path through
 * `__proto__`, `constructor` or `prototype` is refused (the spec's validation refuses it first), and
 * every step reads and writes own properties only, so nothing reaches a prototype.
 */
function applyValuesByPath(objects: KubernetesObject[], values: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(values)) {
    const parsed = parseValuePath(key);
    if ('problem' in parsed) throw new InvalidInputError(`template value ${quoteExcerpt(key)}: ${parsed.problem}`);
    const { kind, name, segments } = parsed;
    const target = objects.find((o) => o.kind === kind && o.metadata?.name === name);
    if (!target)
      throw new InvalidInputError(`template value ${quoteExcerpt(key)}: no ${kind} named ${name} in the manifests`);
    let node = target as unknown as Record<string, unknown>;
    for (const step of segments.slice(0, -1)) {
      const next = Object.hasOwn(node, step) ? node[step] : undefined;
      if (typeof next === 'object' && next !== null) node = next as Record<string, unknown>;
      else node = setOwn(node, step, {}) as Record<string, unknown>;
    }
    setOwn(node, segments[segments.length - 1], value);
  }
}

/** Sets an own data property (never a setter, such as `__proto__`'s, on the way); returns the value. */
function setOwn(node: Record<string, unknown>, key: string, value: unknown): unknown {
  if (prototypeKeys.includes(key))
    throw new InvalidInputError(
      `template value path segment ${JSON.stringify(key)} would reach the prototype of every object: remove it`,
    );
  Object.defineProperty(node, key, { value, writable: true, enumerable: true, configurable: true });
  return value;
}

/** Sets namespace, Meridian's labels and the image; orders objects for applying. */
function finishObjects(objects: KubernetesObject[], request: RenderRequest, image: string): KubernetesObject[] {
  const { release, region } = request;
  let imageSet = 0;
  const finished = objects.map((original) => {
    const o = structuredClone(original);
    o.metadata = o.metadata ?? {};
    if (!clusterScoped.has(o.kind!)) o.metadata.namespace = region.cluster.namespace;
    o.metadata.labels = { ...o.metadata.labels, 'app.kubernetes.io/managed-by': 'meridian' };
    o.metadata.annotations = {
      ...o.metadata.annotations,
      'meridian.dev/release': release.releaseId,
      'meridian.dev/region': region.name,
    };
    const podTemplate = podTemplateOf(o);
    if (podTemplate) {
      podTemplate.metadata = podTemplate.metadata ?? {};
      podTemplate.metadata.labels = { ...podTemplate.metadata.labels, 'app.kubernetes.io/version': release.version };
      for (const container of [...(podTemplate.spec?.containers ?? []), ...(podTemplate.spec?.initContainers ?? [])]) {
        if (repositoryOf(container.image) === release.image.name) {
          container.image = image;
          imageSet += 1;
        }
      }
    }
    return o;
  });
  if (imageSet === 0) {
    throw new InvalidInputError(
      `the template renders no container running ${release.image.name}: use that image in a Deployment so Meridian can set it per region`,
    );
  }
  const rank = (kind?: string) => {
    const i = kindOrder.indexOf(kind ?? '');
    return i === -1 ? kindOrder.length : i;
  };
  return finished.sort((a, b) => rank(a.kind) - rank(b.kind));
}

type PodTemplate = {
  metadata?: { labels?: Record<string, string> };
  spec?: { containers?: { image?: string }[]; initContainers?: { image?: string }[] };
};

function podTemplateOf(o: KubernetesObject): PodTemplate | undefined {
  const spec = (o as { spec?: { template?: PodTemplate; jobTemplate?: { spec?: { template?: PodTemplate } } } }).spec;
  return spec?.template ?? spec?.jobTemplate?.spec?.template;
}

/** The repository path of an image reference: `reg:5000/shop/api:1.0@sha256:..` -> `shop/api`. */
export function repositoryOf(image: string | undefined): string | undefined {
  if (!image) return undefined;
  let rest = image.split('@')[0];
  const slash = rest.indexOf('/');
  if (slash > 0 && /[.:]|^localhost$/.test(rest.slice(0, slash))) rest = rest.slice(slash + 1);
  const colon = rest.lastIndexOf(':');
  return colon > rest.lastIndexOf('/') ? rest.slice(0, colon) : rest;
}

export function refOf(o: KubernetesObject): ObjectRef {
  return { apiVersion: o.apiVersion!, kind: o.kind!, namespace: o.metadata?.namespace, name: o.metadata!.name! };
}

export function digestOf(objects: KubernetesObject[]): string {
  return createHash('sha256').update(JSON.stringify(objects)).digest('hex');
}

/**
 * Merges plain objects; arrays and scalars from `over` replace those of `base`. Only own properties are
 * read and written (a `__proto__` key is kept as data, never set as the prototype), so merging hostile
 * values cannot reach Object.prototype.
 */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = Object.hasOwn(out, key) ? out[key] : undefined;
    Object.defineProperty(out, key, {
      value: isPlainObject(prev) && isPlainObject(value) ? deepMerge(prev, value) : value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
