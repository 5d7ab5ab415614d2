import { quoteExcerpt } from './excerpt';

/**
 * Values of a plain-manifest template address a field by `Kind/name:dotted.path`, e.g.
 * `Deployment/shop-api:spec.replicas: 3`. Pure: shared by the spec's validation and the renderer.
 */

/**
 * Keys that reach an object's prototype when set by name (`o["__proto__"].x = 1` sets a field on
 * every object of the process): never a segment of a value path, never a key of template values.
 */
export const prototypeKeys: readonly string[] = ['__proto__', 'constructor', 'prototype'];

/** A plain-manifest value path, split. */
export interface ValuePath {
  /** Kind of the object the value goes into, e.g. Deployment. */
  kind: string;
  /** metadata.name of that object. */
  name: string;
  /** The field, one key (or list index) a segment, e.g. ["spec", "replicas"]. */
  segments: string[];
}

/** Splits a plain-manifest value key, or says why it cannot be one and how to write it. */
export function parseValuePath(key: string): ValuePath | { problem: string; reachesPrototype?: true } {
  const match = /^([A-Za-z]+)\/([a-z0-9.-]+):(.+)$/.exec(key);
  if (!match)
    return {
      problem: 'a plain-manifest value is addressed as Kind/name:field.path, e.g. Deployment/shop-api:spec.replicas',
    };
  const [, kind, name, path] = match;
  const segments = path.split('.');
  if (segments.some((s) => s === ''))
    return {
      problem: `the field path ${quoteExcerpt(path)} has an empty segment: separate field names by single dots, e.g. spec.replicas`,
    };
  const unsafe = segments.find((s) => prototypeKeys.includes(s));
  if (unsafe) {
    return {
      problem: `the field path names ${JSON.stringify(unsafe)}, which no Kubernetes field is called and which would reach the prototype of every object: remove that segment, or name the real field, e.g. spec.replicas`,
      reachesPrototype: true,
    };
  }
  return { kind, name, segments };
}

/**
 * Where template values hold a key named `__proto__` (at any depth), as paths below `values`. Such a
 * key is no Helm or Kubernetes field and could reach the prototype of every object when merged.
 * Walks without recursion: values are as deep as their YAML allowed.
 */
export function prototypeKeyPaths(values: unknown): (string | number)[][] {
  const found: (string | number)[][] = [];
  const stack: { node: unknown; path: (string | number)[] }[] = [{ node: values, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (path[path.length - 1] === '__proto__') {
      found.push(path);
      continue;
    }
    if (typeof node !== 'object' || node === null) continue;
    // Children pushed last to first, so that what is found comes in document order.
    for (const [key, child] of Object.entries(node).reverse())
      stack.push({ node: child, path: [...path, Array.isArray(node) ? Number(key) : key] });
  }
  return found;
}
