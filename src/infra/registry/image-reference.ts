import { InvalidInputError } from '../../domain/errors';
import { isDigest } from './content-digest';

/**
 * Image references as docker writes them: `registry/repository[:tag][@digest]`. The grammar is
 * distribution's (github.com/distribution/reference), including its rule for telling a registry host
 * from the first path component: a host has a dot or a port, or is `localhost`.
 */

/** One image in one registry. */
export interface ImageRef {
  /** Registry host and optional port, e.g. `127.0.0.1:5100` or `docker.io`. */
  registry: string;
  /** Repository path inside the registry, e.g. `shop/api`. */
  repository: string;
  /** Tag, e.g. `2.4.0`. */
  tag?: string;
  /** Content digest, e.g. `sha256:…`; when set it wins over the tag. */
  digest?: string;
}

/** The registry Docker Hub's short names (`nginx`, `library/nginx`) point to. */
export const DOCKER_HUB = 'docker.io';

const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const HOST_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST = new RegExp(`^(?:${HOST_COMPONENT}(?:\\.${HOST_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const MAX_NAME_LENGTH = 255;
const EXAMPLE = 'expected registry/repository[:tag][@digest], e.g. 127.0.0.1:5100/shop/api:2.4.0';

/** Reads an image reference; an invalid one is an InvalidInputError naming what is wrong with it. */
export function parseImageRef(text: string): ImageRef {
  const fail = (problem: string): never => {
    throw new InvalidInputError(`image reference ${JSON.stringify(text)} ${problem}: ${EXAMPLE}`);
  };
  if (text.trim() === '') fail('is empty');
  if (text !== text.trim()) fail('has surrounding whitespace');

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest))
      fail(`has an invalid digest ${JSON.stringify(digest)} (expected sha256: and 64 lowercase hex digits)`);
  }

  // A tag follows the last colon only if no slash comes after it; otherwise that colon is a port.
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag))
      fail(`has an invalid tag ${JSON.stringify(tag)} (letters, digits, _ . -, at most 128, not starting with . or -)`);
  }

  const parts = rest.split('/');
  let registry = DOCKER_HUB;
  if (parts.length > 1 && looksLikeHost(parts[0])) {
    registry = parts.shift() as string;
    if (!HOST.test(registry)) fail(`has an invalid registry host ${JSON.stringify(registry)}`);
  }
  if (parts.length === 0 || parts.some((p) => p === '')) fail('has an empty path component');
  const bad = parts.find((p) => !PATH_COMPONENT.test(p));
  if (bad !== undefined)
    fail(
      `has an invalid repository component ${JSON.stringify(bad)} (lowercase letters and digits, separated by . _ __ or -)`,
    );
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/');
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH)
    fail(`has a name longer than ${MAX_NAME_LENGTH} characters`);

  return { registry, repository, ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }) };
}

/** Writes a reference back as text: `registry/repository[:tag][@digest]`. */
export function formatImageRef(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}${ref.tag !== undefined ? `:${ref.tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/** What to ask the registry for: the digest when known, else the tag, else `latest` as docker does. */
export function manifestReference(ref: ImageRef): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

/** Docker's rule: the first component is a host when it has a dot or a port, or is localhost. */
function looksLikeHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost' || component.startsWith('[');
}
