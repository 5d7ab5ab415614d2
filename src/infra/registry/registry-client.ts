import { Readable, pipeline } from 'node:stream';
import {
  digestAlgorithm,
  DigestMismatchError,
  digestOf,
  isDigest,
  isVerifiedAs,
  verifyDigestStream,
} from './content-digest';
import { DOCKER_HUB } from './image-reference';
import { manifestMediaType } from './manifest-documents';
import { bareMediaType, MANIFEST_MEDIA_TYPES } from './media-types';
import type { CredentialLookup } from './registry-auth';
import { isLoopbackHost, RegistryAuthorizer, repositoryScope } from './registry-authorizer';
import { errorFromFailure, errorFromResponse, RegistryError, type RequestContext } from './registry-error';
import {
  type BufferedAnswer,
  fetchBuffered,
  fetchStreaming,
  type FetchOptions,
  type RegistryRequest,
  sendStreamedBody,
} from './registry-http';

export { RegistryError } from './registry-error';

/**
 * A client of the OCI distribution API (https://github.com/opencontainers/distribution-spec) for one
 * registry: manifests in and out byte for byte, blobs checked, mounted or streamed. It holds no image
 * in memory beyond one manifest; blobs pass through as streams.
 */

/** How to reach a registry. */
export interface RegistryClientOptions {
  /** Where credentials come from; anonymous when absent or when it has none for this registry. */
  credentials?: CredentialLookup;
  /** true: plain http; false: https. Default: http for loopback registries (as docker does), https otherwise. */
  insecure?: boolean;
  /** Longest to wait for an answer (blob bodies excepted: they take as long as they take). Default 30 s. */
  fetchTimeoutMs?: number;
}

/** A manifest as the registry describes it without sending it. */
export interface ManifestHead {
  digest: string;
  mediaType: string;
  size: number;
}

/** A manifest's exact bytes. */
export interface ManifestContent {
  digest: string;
  mediaType: string;
  body: Buffer;
}

/** A blob being downloaded. */
export interface BlobDownload {
  /** Its length from Content-Length, or -1 when the registry did not say. */
  size: number;
  /** Its bytes, unchecked: uploadBlob checks them on the way out. */
  stream: Readable;
}

/** A blob's bytes to upload, as a Node or a web stream. */
export type BlobBody = NodeJS.ReadableStream | ReadableStream<Uint8Array>;

/** Manifests beyond this are refused, as containerd does: a real one is a few KiB. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;
/** Cancelling an abandoned upload is a courtesy to the registry: it gets a short wait. */
const CANCEL_TIMEOUT_MS = 5_000;

/** One request: where, with which token scopes, and how to word its failures. */
interface Call {
  method: string;
  url: string;
  scopes: string[];
  what: string;
  headers?: Record<string, string>;
  body?: Buffer;
  signal?: AbortSignal;
}

export class RegistryClient {
  /** The registry's host[:port], as image references name it. */
  readonly registry: string;
  /** Where its API lives, e.g. `http://127.0.0.1:5100`. */
  readonly baseUrl: string;
  private readonly authorizer: RegistryAuthorizer;
  private readonly timeoutMs: number;

  constructor(registry: string, options: RegistryClientOptions = {}) {
    this.registry = registry;
    const plainHttp = options.insecure ?? isLoopbackHost(hostnameOf(registry));
    // Docker Hub's API is not at the name images use for it.
    this.baseUrl = `${plainHttp ? 'http' : 'https'}://${registry === DOCKER_HUB ? 'registry-1.docker.io' : registry}`;
    this.timeoutMs = options.fetchTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.authorizer = new RegistryAuthorizer(registry, options.credentials?.(registry), this.timeoutMs);
  }

  /** The manifest's digest, media type and size, or undefined when the registry has no such manifest. */
  async headManifest(repo: string, reference: string, signal?: AbortSignal): Promise<ManifestHead | undefined> {
    const answer = await this.buffered({
      method: 'HEAD',
      url: this.manifestUrl(repo, reference),
      scopes: [repositoryScope(repo, 'pull')],
      what: `look up manifest ${imageName(repo, reference)}`,
      headers: { accept: MANIFEST_MEDIA_TYPES.join(', ') },
      signal,
    });
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw this.refused(answer, `look up manifest ${imageName(repo, reference)}`);
    const digest = answer.headers.get('docker-content-digest');
    const mediaType = bareMediaType(answer.headers.get('content-type'));
    const size = Number(answer.headers.get('content-length'));
    if (digest && isDigest(digest) && MANIFEST_MEDIA_TYPES.includes(mediaType) && Number.isInteger(size))
      return { digest, mediaType, size };
    // The registry left something out (the digest header is optional): read the manifest instead.
    const content = await this.getManifest(repo, reference, signal);
    return { digest: content.digest, mediaType: content.mediaType, size: content.body.length };
  }

  /**
   * The manifest's exact bytes. By digest, the bytes are checked against it; by tag, the digest is the
   * bytes' own, and a registry claiming another one is an error.
   */
  async getManifest(repo: string, reference: string, signal?: AbortSignal): Promise<ManifestContent> {
    const what = `read manifest ${imageName(repo, reference)}`;
    const notFound = `no image ${imageName(repo, reference)} in ${this.registry}: push it first, or check image.${isDigest(reference) ? 'digest' : 'tag'}`;
    const answer = await this.buffered({
      method: 'GET',
      url: this.manifestUrl(repo, reference),
      scopes: [repositoryScope(repo, 'pull')],
      what,
      headers: { accept: MANIFEST_MEDIA_TYPES.join(', ') },
      signal,
    });
    if (answer.status !== 200) throw this.refused(answer, what, notFound);
    const body = answer.body;
    if (body.length > MAX_MANIFEST_BYTES)
      throw this.corrupt(
        `manifest ${imageName(repo, reference)} is ${body.length} bytes, more than a manifest can be (${MAX_MANIFEST_BYTES})`,
      );
    const claimed = answer.headers.get('docker-content-digest');
    const expected = isDigest(reference) ? reference : claimed && isDigest(claimed) ? claimed : undefined;
    const digest = digestOf(body, expected ? digestAlgorithm(expected) : 'sha256');
    if (expected && digest !== expected) {
      throw this.corrupt(
        `manifest ${imageName(repo, reference)} from ${this.registry} has digest ${digest}, not ${expected}: the registry sent other bytes than it stores under that name; push the image again`,
      );
    }
    return { digest, mediaType: manifestMediaType(answer.headers.get('content-type'), body), body };
  }

  /** Stores a manifest's bytes under a tag or their digest; returns the digest the registry gives them. */
  async putManifest(
    repo: string,
    reference: string,
    mediaType: string,
    body: Buffer,
    signal?: AbortSignal,
  ): Promise<string> {
    const what = `push manifest ${imageName(repo, reference)}`;
    const ours = digestOf(body, isDigest(reference) ? digestAlgorithm(reference) : 'sha256');
    if (isDigest(reference) && ours !== reference) throw this.corrupt(`cannot ${what}: its bytes have digest ${ours}`);
    const answer = await this.buffered({
      method: 'PUT',
      url: this.manifestUrl(repo, reference),
      scopes: [repositoryScope(repo, 'pull,push')],
      what,
      headers: { 'content-type': mediaType },
      body,
      signal,
    });
    if (answer.status !== 201 && answer.status !== 200) throw this.refused(answer, what);
    const stored = answer.headers.get('docker-content-digest') ?? ours;
    if (stored !== ours)
      throw this.corrupt(
        `registry ${this.registry} stored manifest ${imageName(repo, reference)} as ${stored}, but its bytes have digest ${ours}`,
      );
    return stored;
  }

  /** Whether the repository has the blob (registries answer per repository, not per registry). */
  async hasBlob(repo: string, digest: string, signal?: AbortSignal): Promise<boolean> {
    const what = `look up blob ${digest} in ${repo}`;
    const answer = await this.buffered({
      method: 'HEAD',
      url: this.blobUrl(repo, digest),
      scopes: [repositoryScope(repo, 'pull')],
      what,
      signal,
    });
    if (answer.status === 404) return false;
    if (answer.status !== 200) throw this.refused(answer, what);
    return true;
  }

  /**
   * Asks the registry to link a blob it already holds in `fromRepo` into `repo`, with no bytes moved.
   * False when it will not (the blob is not there, or mounting is off): the upload it started instead
   * is cancelled.
   */
  async mountBlob(repo: string, digest: string, fromRepo: string, signal?: AbortSignal): Promise<boolean> {
    const what = `mount blob ${digest} from ${fromRepo} into ${repo}`;
    const query = new URLSearchParams({ mount: digest, from: fromRepo });
    const answer = await this.buffered({
      method: 'POST',
      url: `${this.baseUrl}/v2/${repo}/blobs/uploads/?${query}`,
      scopes: [repositoryScope(repo, 'pull,push'), repositoryScope(fromRepo, 'pull')],
      what,
      signal,
    });
    if (answer.status === 201) return true;
    if (answer.status !== 202) throw this.refused(answer, what);
    const location = answer.headers.get('location');
    if (location) await this.cancelUpload(repo, this.resolve(location));
    return false;
  }

  /** Starts downloading a blob. The stream's errors are RegistryErrors naming this registry. */
  async getBlob(repo: string, digest: string, signal?: AbortSignal): Promise<BlobDownload> {
    const what = `download blob ${digest} from ${repo}`;
    const notFound = `no blob ${digest} in ${this.registry}/${repo}: the image refers to a blob the registry does not have; push the image again`;
    const call: Call = {
      method: 'GET',
      url: this.blobUrl(repo, digest),
      scopes: [repositoryScope(repo, 'pull')],
      what,
      signal,
    };
    const res = await this.send(call, fetchStreaming, (r) => discard(r));
    if (res.status !== 200 || !res.body) {
      throw this.refused({ status: res.status, body: Buffer.from(await res.text().catch(() => '')) }, what, notFound);
    }
    const size = res.headers.has('content-length') ? Number(res.headers.get('content-length')) : -1;
    // Lock the body now: undici cancels the body of a Response that is garbage-collected while its
    // body is unlocked, and this stream may wait a while for its reader (the upload's POST).
    const reader = res.body.getReader();
    const context = this.context(what);
    async function* passOn(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return;
          yield value;
        }
      } catch (err) {
        if (signal?.aborted) throw signal.reason ?? err;
        throw errorFromFailure(err, call.url, context);
      } finally {
        await reader.cancel().catch(() => undefined); // a reader that stopped early frees the connection
      }
    }
    return { size, stream: Readable.from(passOn(), { objectMode: false }) };
  }

  /**
   * Uploads a blob in one streamed request (POST, then PUT with the digest). The bytes are checked
   * against `digest` and `size` on the way: if they do not match, the upload is broken off before its
   * end, so the registry never stores them, and the upload is cancelled. `body` may still be on its way
   * (a download starting): the POST goes meanwhile, and the body is awaited only for the PUT.
   */
  async uploadBlob(
    repo: string,
    digest: string,
    size: number,
    body: BlobBody | Promise<BlobBody>,
    signal?: AbortSignal,
  ): Promise<void> {
    const what = `upload blob ${digest} to ${repo}`;
    const arriving = Promise.resolve(body).then(nodeStream);
    void arriving.catch(() => undefined); // awaited below, or dropped with the upload
    let source: NodeJS.ReadableStream | undefined;
    let checked: ReturnType<typeof checkedBody> | undefined;
    let uploadUrl: string | undefined;
    try {
      const started = await this.buffered({
        method: 'POST',
        url: `${this.baseUrl}/v2/${repo}/blobs/uploads/`,
        scopes: [repositoryScope(repo, 'pull,push')],
        what,
        signal,
      });
      const location = started.headers.get('location');
      if (started.status !== 202 || !location) throw this.refused(started, what);
      uploadUrl = this.resolve(location);
      source = await arriving;
      checked = checkedBody(source, digest, size);
      const url = `${uploadUrl}${uploadUrl.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;
      const headers = { 'content-type': 'application/octet-stream', 'content-length': String(size) };
      const answer = await this.sendStreamed(
        { method: 'PUT', url, scopes: [repositoryScope(repo, 'pull,push')], what, headers, signal },
        checked.open(),
      );
      if (answer.status !== 201) throw this.refused(answer, what);
    } catch (err) {
      if (source) (source as Partial<Readable>).destroy?.();
      // Not yet used: a body still on its way is dropped when it comes.
      else
        void arriving.then(
          (s) => (s as Partial<Readable>).destroy?.(),
          () => undefined,
        );
      if (uploadUrl) await this.cancelUpload(repo, uploadUrl);
      if (signal?.aborted) throw err;
      const broken = checked?.failure.error;
      if (broken instanceof DigestMismatchError) {
        throw new RegistryError(
          `blob ${digest} did not match its digest on the way to ${this.registry}/${repo} (${broken.message}): the source's copy is corrupt; push the image to the source again`,
          { registry: this.registry, retryable: false, cause: broken },
        );
      }
      // The source broke off (a RegistryError naming it), rather than this registry.
      if (broken instanceof RegistryError) throw broken;
      throw err;
    }
  }

  private manifestUrl(repo: string, reference: string): string {
    return `${this.baseUrl}/v2/${repo}/manifests/${reference}`;
  }

  private blobUrl(repo: string, digest: string): string {
    return `${this.baseUrl}/v2/${repo}/blobs/${digest}`;
  }

  /** Upload locations may be relative to the API's base. */
  private resolve(location: string): string {
    return new URL(location, this.baseUrl).toString();
  }

  /** Ends an upload session we will not finish; failures are ignored (the registry expires it anyway). */
  private async cancelUpload(repo: string, uploadUrl: string): Promise<void> {
    await this.buffered(
      {
        method: 'DELETE',
        url: uploadUrl,
        scopes: [repositoryScope(repo, 'pull,push')],
        what: `cancel an upload to ${repo}`,
      },
      CANCEL_TIMEOUT_MS,
    ).catch(() => undefined);
  }

  private buffered(call: Call, timeoutMs?: number): Promise<BufferedAnswer> {
    return this.send(call, fetchBuffered, async () => undefined, timeoutMs);
  }

  /**
   * Sends a request with the authorization the registry wants; after a 401 that the authorizer can
   * answer, sends it once more.
   */
  private async send<T extends { status: number; headers: Headers }>(
    call: Call,
    fetcher: (url: string, init: RegistryRequest, options: FetchOptions) => Promise<T>,
    discardAnswer: (answer: T) => Promise<void>,
    timeoutMs?: number,
  ): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const init = { method: call.method, headers: await this.headersFor(call), body: call.body };
      const answer = await fetcher(call.url, init, {
        context: this.context(call.what),
        signal: call.signal,
        timeoutMs: timeoutMs ?? this.timeoutMs,
      });
      if (
        answer.status === 401 &&
        attempt === 0 &&
        this.isOurs(call.url) &&
        this.authorizer.challenged(answer.headers.get('www-authenticate'), call.scopes)
      ) {
        await discardAnswer(answer);
        continue;
      }
      return answer;
    }
  }

  /**
   * Sends a streamed body, once: a stream cannot be replayed after a 401, so this relies on an earlier
   * request (the upload's POST) having settled the authorization.
   */
  private async sendStreamed(call: Call, body: Readable): Promise<BufferedAnswer> {
    return sendStreamedBody(
      call.url,
      { method: call.method, headers: await this.headersFor(call), body },
      { context: this.context(call.what), signal: call.signal },
    );
  }

  private async headersFor(call: Call): Promise<Record<string, string>> {
    // Credentials go only to the registry itself, not to wherever an upload location points.
    const authorization = this.isOurs(call.url) ? await this.authorizer.header(call.scopes, call.signal) : undefined;
    return { 'accept-encoding': 'identity', ...call.headers, ...(authorization && { authorization }) };
  }

  private isOurs(url: string): boolean {
    return new URL(url).origin === new URL(this.baseUrl).origin;
  }

  private context(what: string, notFound?: string): RequestContext {
    return { registry: this.registry, what, notFound, hadCredential: this.authorizer.hasCredential };
  }

  private refused(answer: { status: number; body: Buffer }, what: string, notFound?: string): RegistryError {
    return errorFromResponse(answer.status, answer.body.toString('utf8'), this.context(what, notFound));
  }

  private corrupt(message: string): RegistryError {
    return new RegistryError(message, { registry: this.registry, retryable: false });
  }
}

/** `repo:tag` or `repo@digest`, as messages name an image. */
function imageName(repo: string, reference: string): string {
  return `${repo}${isDigest(reference) ? '@' : ':'}${reference}`;
}

/** The host without its port; IPv6 hosts keep their brackets off. */
function hostnameOf(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  return registry.split(':')[0];
}

function nodeStream(body: BlobBody): NodeJS.ReadableStream {
  return body instanceof ReadableStream
    ? Readable.fromWeb(body as import('node:stream/web').ReadableStream<Uint8Array>)
    : body;
}

async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}

/**
 * The blob's bytes, checked on the way (or passed as they are when the stream is already checked
 * against this digest and size upstream: see markVerified). `open` is called when the PUT starts, so
 * nothing is pulled from the source while the POST waits. The result is a stream, not an async
 * iterator: piped, its chunks reach the socket as they come, rather than concatenated per read.
 * `failure` keeps what broke the stream (a digest mismatch, the source breaking off): the HTTP layer
 * reports it only as a request that failed.
 */
function checkedBody(
  source: NodeJS.ReadableStream,
  digest: string,
  size: number,
): { open: () => Readable; failure: { error?: unknown } } {
  const failure: { error?: unknown } = {};
  const open = () => {
    let checked = source as Readable;
    if (!isVerifiedAs(source, digest, size)) {
      const check = verifyDigestStream(digest, size);
      pipeline(source, check, () => undefined); // errors surface through `check`
      checked = check;
    }
    // A stream that broke before the PUT started has its error already.
    failure.error ??= checked.errored ?? undefined;
    checked.once('error', (err) => (failure.error ??= err));
    return checked;
  };
  return { open, failure };
}
