import { z } from 'zod';
import { InvalidInputError } from '../../domain/errors';
import { isDigest } from './content-digest';
import {
  bareMediaType,
  isImageManifestMediaType,
  isIndexMediaType,
  MANIFEST_MEDIA_TYPES,
  OCI_INDEX,
  OCI_MANIFEST,
} from './media-types';

/**
 * The JSON of manifests and indexes, read only as far as a copy needs: which manifests an index lists
 * and which blobs a manifest refers to. The bytes themselves are never re-serialised (that would change
 * the digest); these readers only look.
 */

/** A platform as an index states it. */
export interface Platform {
  /** CPU architecture in Go's words: amd64, arm64, arm, s390x… */
  architecture: string;
  /** Operating system: linux, windows… */
  os: string;
  /** CPU variant, e.g. v8 for arm64 or v7 for arm. */
  variant?: string;
}

/** A reference to content by digest, as manifests and indexes hold them. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  /** The platform of a manifest listed in an index. */
  platform?: Platform;
}

/** A manifest, read: either an index of manifests or one image's config and layers. */
export type ManifestDocument =
  | {
      kind: 'index';
      /** The manifests the index lists, each by digest. */
      manifests: Descriptor[];
    }
  | {
      kind: 'image';
      /** The image config blob. */
      config: Descriptor;
      /** The layer blobs, base first. */
      layers: Descriptor[];
    };

const platform = z.object({ architecture: z.string().min(1), os: z.string().min(1), variant: z.string().optional() });
const descriptor = z.object({
  mediaType: z.string().default(''),
  digest: z.string().refine(isDigest, 'expected a sha256 digest'),
  size: z.number().int().nonnegative(),
  platform: platform.optional(),
});
const indexDocument = z.object({ schemaVersion: z.literal(2), manifests: z.array(descriptor) });
const imageDocument = z.object({ schemaVersion: z.literal(2), config: descriptor, layers: z.array(descriptor) });

/**
 * The media type of a manifest: the registry's Content-Type when it is one we know, else the document's
 * own `mediaType`, else what its shape says (OCI allows leaving the field out).
 */
export function manifestMediaType(contentType: string | null, body: Buffer): string {
  const header = bareMediaType(contentType);
  if (MANIFEST_MEDIA_TYPES.includes(header)) return header;
  let json: { mediaType?: unknown; manifests?: unknown; config?: unknown } = {};
  try {
    json = JSON.parse(body.toString('utf8')) as typeof json;
  } catch {
    return header;
  }
  if (typeof json.mediaType === 'string' && json.mediaType !== '') return json.mediaType;
  if (Array.isArray(json.manifests)) return OCI_INDEX;
  if (json.config !== undefined) return OCI_MANIFEST;
  return header;
}

/** Reads a manifest of a known media type; throws with the problem (the caller names the image). */
export function readManifest(body: Buffer, mediaType: string): ManifestDocument {
  const index = isIndexMediaType(mediaType);
  if (!index && !isImageManifestMediaType(mediaType)) {
    throw new Error(
      `its media type ${JSON.stringify(mediaType)} is not one this copy handles (${MANIFEST_MEDIA_TYPES.join(', ')})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Error('it is not valid JSON');
  }
  const parsed = (index ? indexDocument : imageDocument).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${issue.path.join('.') || 'the document'}: ${issue.message}`);
  }
  return index
    ? { kind: 'index', manifests: (parsed.data as z.infer<typeof indexDocument>).manifests }
    : { kind: 'image', ...(parsed.data as z.infer<typeof imageDocument>) };
}

/** A platform as people write it: `linux/amd64`, `linux/arm64/v8`. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** Reads `os/architecture[/variant]`. */
export function parsePlatform(text: string): Platform {
  const parts = text.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p))) {
    throw new InvalidInputError(
      `platform ${JSON.stringify(text)} is not os/architecture[/variant], e.g. linux/arm64/v8`,
    );
  }
  const [os, architecture, variant] = parts;
  return { os, architecture, ...(variant !== undefined && { variant }) };
}
