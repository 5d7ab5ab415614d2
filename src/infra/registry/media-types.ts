/**
 * The media types of the OCI image spec and of Docker's schema 2 that this client reads and writes.
 * Registries pick the form of a manifest from the Accept header, so what we list here decides which
 * images we can copy byte for byte.
 */

/** An OCI image index: one manifest per platform. */
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
/** Docker's predecessor of the OCI index. */
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
/** An OCI image manifest: one config and its layers. */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
/** Docker's schema 2 image manifest. */
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
/** An OCI image config (architecture, os, rootfs). */
export const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';
/** Docker's image config. */
export const DOCKER_CONFIG = 'application/vnd.docker.container.image.v1+json';
/** A gzip-compressed tar layer. */
export const OCI_LAYER_GZIP = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** What we ask registries for, most capable first: asking for an index keeps multi-platform images whole. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST];

/**
 * Layers that registries are not allowed (or not expected) to serve, such as Windows base layers: the
 * manifest names them but their bytes live elsewhere, so a copy must leave them out.
 */
const FOREIGN_LAYER_TYPES: readonly string[] = [
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
];

/** Whether a manifest of this type lists other manifests (an index or a manifest list). */
export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === OCI_INDEX || mediaType === DOCKER_MANIFEST_LIST;
}

/** Whether a manifest of this type is a single image (a config and layers). */
export function isImageManifestMediaType(mediaType: string): boolean {
  return mediaType === OCI_MANIFEST || mediaType === DOCKER_MANIFEST;
}

/** Whether a layer of this type is kept outside the registry and so is not copied. */
export function isForeignLayer(mediaType: string): boolean {
  return FOREIGN_LAYER_TYPES.includes(mediaType);
}

/** The media type without parameters (`; charset=utf-8`), as registries sometimes add them. */
export function bareMediaType(contentType: string | null): string {
  return (contentType ?? '').split(';')[0].trim();
}
