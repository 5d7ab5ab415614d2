import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { InvalidInputError } from '../../domain/errors';
import type { ObjectRef, ReleaseRef, TemplateBundle } from '../../domain/release-input';
import type { RegionSpec } from '../../domain/release-spec';
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
  'Namespace', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass', 'StorageClass',
  'PersistentVolume', 'IngressClass', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration',
]);

/** Apply order: what others depend on first (as Helm does). */
const kindOrder = [
  'Namespace', 'CustomResourceDefinition', 'ServiceAccount', 'Secret', 'ConfigMap', 'PersistentVolumeClaim',
  'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'Service', 'Deployment', 'StatefulSet', 'DaemonSet',
  'Job', 'CronJob', 'Ingress', 'HorizontalPodAutoscaler', 'PodDisruptionBudget',
];

/** Renders one region's manifests: the template with the shared values, the region's values over them, and Meridian's image. */
export async function renderManifests(helmPath: string, request: RenderRequest): Promise<RenderedManifests> {
  const { release, region, template } = request;
  const work = mkdtempSync(join(tmpdir(), 'meridian-render-'));
  try {
    const chart = join(work, 'template');
    unpackTemplate(template, chart);
    const image = regionImage(release, region);
    const values = deepMerge(request.values, region.values);
    let objects: KubernetesObject[];
    if (template.kind === 'helm') {
      const withImage = deepMerge(values, {
        image: { repository: `${region.registry}/${release.image.name}`, tag: release.image.tag, digest: release.image.digest ?? '', reference: image },
      });
      writeFileSync(join(work, 'values.json'), JSON.stringify(withImage));
      objects = parseManifests(await helmTemplate(helmPath, template.releaseName, chart, region.cluster.namespace, join(work, 'values.json')), 'helm template');
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

async function helmTemplate(helmPath: string, releaseName: string, chart: string, namespace: string, valuesFile: string): Promise<string> {
  try {
    const { stdout } = await run(helmPath, ['template', releaseName, chart, '--namespace', namespace, '--values', valuesFile], {
      timeout: 60_000,
      maxBuffer: 32 * 1024 * 1024,
      env: { ...process.env, HELM_CACHE_HOME: join(chart, '..', '.helm-cache'), HELM_CONFIG_HOME: join(chart, '..', '.helm-config') },
    });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string; code?: string };
    if (e.code === 'ENOENT') throw new Error(`helm not found at ${helmPath}: install helm on the worker or set MERIDIAN_HELM`);
    throw new InvalidInputError(`helm could not render the chart: ${(e.stderr || e.message).trim()}`);
  }
}

function parseManifests(text: string, source: string): KubernetesObject[] {
  const objects: KubernetesObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length) throw new InvalidInputError(`${source} produced invalid YAML: ${doc.errors[0].message}`);
    const value = doc.toJS() as KubernetesObject | null;
    if (value && typeof value === 'object') {
      if (!value.kind || !value.apiVersion || !value.metadata?.name) {
        throw new InvalidInputError(`${source} produced an object without kind, apiVersion or metadata.name`);
      }
      objects.push(value);
    }
  }
  return objects;
}

function readManifestFolder(folder: string): KubernetesObject[] {
  return readdirSync(folder)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => parseManifests(readFileSync(join(folder, f), 'utf8'), f));
}

/**
 * Values of a plain-manifest template address a field by `Kind/name:dotted.path`, e.g.
 * `Deployment/shop-api:spec.replicas: 3`.
 */
function applyValuesByPath(objects: KubernetesObject[], values: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(values)) {
    const match = /^([A-Za-z]+)\/([a-z0-9.-]+):(.+)$/.exec(key);
    if (!match) throw new InvalidInputError(`template value "${key}": a plain-manifest value is addressed as Kind/name:field.path, e.g. Deployment/shop-api:spec.replicas`);
    const [, kind, name, path] = match;
    const target = objects.find((o) => o.kind === kind && o.metadata?.name === name);
    if (!target) throw new InvalidInputError(`template value "${key}": no ${kind} named ${name} in the manifests`);
    const steps = path.split('.');
    let node = target as unknown as Record<string, unknown>;
    for (const step of steps.slice(0, -1)) {
      if (typeof node[step] !== 'object' || node[step] === null) node[step] = {};
      node = node[step] as Record<string, unknown>;
    }
    node[steps[steps.length - 1]] = value;
  }
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
    o.metadata.annotations = { ...o.metadata.annotations, 'meridian.dev/release': release.releaseId, 'meridian.dev/region': region.name };
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
    throw new InvalidInputError(`the template renders no container running ${release.image.name}: use that image in a Deployment so Meridian can set it per region`);
  }
  const rank = (kind?: string) => {
    const i = kindOrder.indexOf(kind ?? '');
    return i === -1 ? kindOrder.length : i;
  };
  return finished.sort((a, b) => rank(a.kind) - rank(b.kind));
}

type PodTemplate = { metadata?: { labels?: Record<string, string> }; spec?: { containers?: { image?: string }[]; initContainers?: { image?: string }[] } };

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

/** Merges plain objects; arrays and scalars from `over` replace those of `base`. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] = isPlainObject(prev) && isPlainObject(value) ? deepMerge(prev, value) : value;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
