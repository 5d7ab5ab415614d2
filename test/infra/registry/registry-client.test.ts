import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { digestOf } from '../../../src/infra/registry/content-digest';
import { copyImage, verifyImage } from '../../../src/infra/registry/copy-image';
import type { CredentialLookup } from '../../../src/infra/registry/registry-auth';
import { RegistryClient, RegistryError } from '../../../src/infra/registry/registry-client';
import { SharedBlobReads } from '../../../src/infra/registry/shared-blob-reads';
import { pushDemoImage, type PushedDemoImage } from '../../../src/rig/demo-image';
import { bcryptHash, startTestRegistry, type TestRegistry } from '../../support/registry';

const realFetch = globalThis.fetch;

/** What a rejected promise rejected with. */
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (err: unknown) => err as Error,
  );

let plain: TestRegistry;
let image: PushedDemoImage;

beforeAll(async () => {
  plain = await startTestRegistry();
  image = await pushDemoImage({
    registry: plain.host,
    repository: 'shop/api',
    tag: '2.4.0',
    seed: 'registry-client.test',
  });
});
afterAll(async () => {
  await plain?.stop();
});

describe('RegistryClient against a real registry', () => {
  it('reads a manifest byte for byte and checks it against its digest', async () => {
    const client = new RegistryClient(plain.host);
    expect(client.baseUrl).toBe(`http://${plain.host}`);
    const byTag = await client.getManifest('shop/api', '2.4.0');
    expect(byTag.digest).toBe(image.digest);
    expect(digestOf(byTag.body)).toBe(image.digest);
    expect(byTag.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    await expect(client.getManifest('shop/api', image.digest)).resolves.toEqual(byTag);
    await expect(client.headManifest('shop/api', '2.4.0')).resolves.toEqual({
      digest: image.digest,
      mediaType: byTag.mediaType,
      size: byTag.body.length,
    });
    await expect(client.headManifest('shop/api', '0.0.1')).resolves.toBeUndefined();
  });

  it('refuses to store an upload whose bytes do not match the digest', async () => {
    const client = new RegistryClient(plain.host);
    const promised = Buffer.from('the bytes the manifest promised');
    const sent = Buffer.from('other bytes of the same length!');
    expect(sent.length).toBe(promised.length);
    const error = await failure(
      client.uploadBlob('shop/api', digestOf(promised), promised.length, Readable.from([sent])),
    );
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ retryable: false, registry: plain.host });
    expect(error?.message).toBe(
      `blob ${digestOf(promised)} did not match its digest on the way to ${plain.host}/shop/api (content has digest ${digestOf(sent)}, not ${digestOf(promised)}): ` +
        "the source's copy is corrupt; push the image to the source again",
    );
    await expect(client.hasBlob('shop/api', digestOf(promised))).resolves.toBe(false);
    await expect(client.hasBlob('shop/api', digestOf(sent))).resolves.toBe(false);

    await client.uploadBlob('shop/api', digestOf(promised), promised.length, Readable.from([promised]));
    await expect(client.hasBlob('shop/api', digestOf(promised))).resolves.toBe(true);
  });

  it('opens the upload while the body is still on its way, and drops a body that comes too late', async () => {
    const client = new RegistryClient(plain.host);
    const bytes = Buffer.from('a blob whose download starts while the upload opens');
    const posted: string[] = [];
    const fetchSpy = jest.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
      if (init?.method === 'POST') posted.push(String(input));
      return realFetch(input, init);
    });
    let arrive!: (body: Readable) => void;
    const arriving = new Promise<Readable>((resolve) => (arrive = resolve));
    try {
      const upload = client.uploadBlob('shop/late', digestOf(bytes), bytes.length, arriving);
      // The POST goes before the body is there.
      while (posted.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      arrive(Readable.from([bytes]));
      await upload;
    } finally {
      fetchSpy.mockRestore();
    }
    await expect(client.hasBlob('shop/late', digestOf(bytes))).resolves.toBe(true);

    // A download that fails to start fails the upload with its own error, and nothing is stored.
    const other = Buffer.from('a blob whose download never starts');
    const broken = new RegistryError('the source is down', { registry: 'source', retryable: true });
    const error = await failure(
      client.uploadBlob('shop/late', digestOf(other), other.length, Promise.reject<Readable>(broken)),
    );
    expect(error).toBe(broken);
    await expect(client.hasBlob('shop/late', digestOf(other))).resolves.toBe(false);

    // An upload the registry refuses (an invalid repository name) destroys a body that arrives afterwards.
    let late!: (body: Readable) => void;
    const body = Readable.from([other]);
    const refused = await failure(
      client.uploadBlob('Not/A/Valid/Name', digestOf(other), other.length, new Promise((resolve) => (late = resolve))),
    );
    expect(refused).toBeInstanceOf(RegistryError);
    late(body);
    await new Promise((resolve) => setImmediate(resolve));
    expect(body.destroyed).toBe(true);
  });

  it('reports a mount the registry declines as false', async () => {
    const client = new RegistryClient(plain.host);
    await expect(client.mountBlob('other/api', digestOf(Buffer.from('nowhere')), 'shop/api')).resolves.toBe(false);
  });
});

const bcryptAvailable = bcryptHash('probe') !== undefined;
(bcryptAvailable ? describe : describe.skip)('Basic auth (a real registry with htpasswd)', () => {
  const login = { username: 'ci', password: 'correct horse battery staple' };
  let locked: TestRegistry;
  beforeAll(async () => {
    locked = await startTestRegistry({ htpasswd: login });
  });
  afterAll(async () => {
    await locked?.stop();
  });

  it('pushes and copies with the login, and names the fix without it', async () => {
    const credentials: CredentialLookup = (host) => (host === locked.host ? login : undefined);
    const pushed = await pushDemoImage({
      registry: locked.host,
      repository: 'shop/api',
      tag: '1',
      seed: 'basic',
      credentials,
    });
    const copied = await copyImage({
      source: { registry: locked.host, repository: 'shop/api', tag: '1' },
      target: { registry: plain.host, repository: 'from-basic/api', tag: '1' },
      credentials,
    });
    expect(copied.digest).toBe(pushed.digest);

    const anonymous = await failure(new RegistryClient(locked.host).getManifest('shop/api', '1'));
    expect(anonymous).toMatchObject({ status: 401, retryable: false });
    expect(anonymous?.message).toBe(
      `registry ${locked.host} needs a login to read manifest shop/api:1 (HTTP 401: UNAUTHORIZED authentication required): ` +
        `run docker login ${locked.host}, or point REGISTRY_AUTH_FILE at an auth file for it`,
    );

    const wrong = await failure(
      new RegistryClient(locked.host, { credentials: () => ({ username: 'ci', password: 'hunter2' }) }).getManifest(
        'shop/api',
        '1',
      ),
    );
    expect(wrong).toMatchObject({ status: 401, retryable: false });
    expect(wrong?.message).toContain(`registry ${locked.host} refused the credentials to read manifest shop/api:1`);
    expect(wrong?.message).not.toContain('hunter2');
  });
});

/**
 * A registry edge that speaks the distribution token protocol in front of the real registry: /token
 * hands out bearer tokens (pull to anyone, push to the one account), and /v2/ needs one that grants
 * the request's scope, then passes the request on. It can also break in the ways real ones do.
 */
interface Edge {
  host: string;
  tokenRequests: { scopes: string[]; authorization?: string }[];
  /** Flip a byte in blob or manifest bodies passed back; cut blobs off halfway; answer with a status; or never answer. */
  mode: { tamper?: 'blobs' | 'manifests'; cut?: boolean; status?: number; hang?: boolean };
  server: Server;
}

async function startEdge(upstream: string, account: { username: string; password: string }): Promise<Edge> {
  const grants = new Map<string, Set<string>>();
  const edge = { tokenRequests: [], mode: {} } as unknown as Edge;
  const basic = `Basic ${Buffer.from(`${account.username}:${account.password}`).toString('base64')}`;

  const handleToken = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://edge');
    const scopes = url.searchParams.getAll('scope');
    edge.tokenRequests.push({ scopes, authorization: req.headers.authorization });
    if (req.headers.authorization && req.headers.authorization !== basic) {
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'bad login' }] }));
      return;
    }
    const granted = new Set<string>();
    for (const scope of scopes) {
      const [, name, actions] = scope.split(':');
      for (const action of actions.split(','))
        if (action === 'pull' || req.headers.authorization) granted.add(`${name}:${action}`);
    }
    const token = `token-${grants.size + 1}`;
    grants.set(token, granted);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
  };

  const server = createServer((req, res) => {
    if (req.url?.startsWith('/token')) return handleToken(req, res);
    if (edge.mode.hang) return; // never answers
    if (edge.mode.status) {
      res
        .writeHead(edge.mode.status, { 'content-type': 'application/json' })
        .end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'try later' }] }));
      return;
    }
    const name = /^\/v2\/(.+?)\/(?:manifests|blobs|tags)\//.exec(req.url ?? '')?.[1];
    const action = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'push';
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (name && !grants.get(token ?? '')?.has(`${name}:${action}`)) {
      res
        .writeHead(401, {
          'content-type': 'application/json',
          'www-authenticate': `Bearer realm="http://${edge.host}/token",service="edge",scope="repository:${name}:${action === 'push' ? 'pull,push' : 'pull'}"`,
        })
        .end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    const headers = { ...req.headers };
    delete headers.authorization;
    const [host, port] = upstream.split(':');
    const forward = request({ host, port: Number(port), method: req.method, path: req.url, headers }, (up) => {
      const kind = /\/(blobs|manifests)\//.exec(req.url ?? '')?.[1];
      if (edge.mode.cut && kind === 'blobs' && req.method === 'GET') {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          const body = Buffer.concat(chunks);
          res.writeHead(up.statusCode ?? 502, up.headers);
          res.write(body.subarray(0, body.length >> 1), () => res.destroy());
        });
        return;
      }
      if (
        req.method !== 'GET' ||
        up.statusCode !== 200 ||
        edge.mode.tamper === undefined ||
        kind !== edge.mode.tamper
      ) {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.concat(chunks);
        const at = body.indexOf('sha256:') >= 0 ? body.indexOf('sha256:') + 7 : body.length - 1;
        body[at] = body[at] === 0x61 ? 0x62 : 0x61; // same length, other bytes
        res.writeHead(200, up.headers).end(body);
      });
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  edge.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  edge.server = server;
  return edge;
}

describe('Bearer tokens and failures (a token-protocol edge in front of the real registry)', () => {
  const account = { username: 'deployer', password: 'edge-secret' };
  let edge: Edge;
  let credentials: CredentialLookup;
  beforeAll(async () => {
    edge = await startEdge(plain.host, account);
    credentials = (host) => (host === edge.host ? account : undefined);
  });
  beforeEach(() => {
    edge.mode = {};
    edge.tokenRequests.length = 0;
  });
  afterAll(async () => {
    edge.server.closeAllConnections();
    await new Promise((resolve) => edge.server.close(resolve));
  });

  it('pulls anonymously with a token per scope, fetched once', async () => {
    const copied = await copyImage({
      source: { registry: edge.host, repository: 'shop/api', tag: '2.4.0' },
      target: { registry: plain.host, repository: 'via-edge/api', tag: '2.4.0' },
    });
    expect(copied.digest).toBe(image.digest);
    expect(copied.blobs.copied).toBe(image.blobs);
    expect(edge.tokenRequests).toEqual([{ scopes: ['repository:shop/api:pull'], authorization: undefined }]);
  });

  it('pushes with the account, sending it to the token server only', async () => {
    const copied = await copyImage({
      source: { registry: plain.host, repository: 'shop/api', tag: '2.4.0' },
      target: { registry: edge.host, repository: 'pushed/api', tag: '2.4.0' },
      credentials,
    });
    expect(copied.digest).toBe(image.digest);
    const basic = `Basic ${Buffer.from('deployer:edge-secret').toString('base64')}`;
    expect(edge.tokenRequests.every((r) => r.authorization === basic)).toBe(true);
    expect(edge.tokenRequests.map((r) => r.scopes.join(' ')).sort()).toEqual([
      'repository:pushed/api:pull',
      'repository:pushed/api:pull,push',
    ]);
    await expect(
      verifyImage({ ref: { registry: edge.host, repository: 'pushed/api', tag: '2.4.0' }, credentials }),
    ).resolves.toMatchObject({ present: true, digest: image.digest });
  });

  it('says to log in when a push needs an account it does not have', async () => {
    const error = await failure(
      copyImage({
        source: { registry: plain.host, repository: 'shop/api', tag: '2.4.0' },
        target: { registry: edge.host, repository: 'anonymous/api', tag: '1' },
      }),
    );
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ status: 401, retryable: false, registry: edge.host });
    expect(error?.message).toMatch(
      new RegExp(
        `^registry ${edge.host} needs a login to upload blob sha256:[a-f0-9]{64} to anonymous/api .*: run docker login ${edge.host}`,
      ),
    );
  });

  it('says the token server refused a wrong password, without quoting it', async () => {
    const error = await failure(
      new RegistryClient(edge.host, { credentials: () => ({ username: 'deployer', password: 'not-it' }) }).getManifest(
        'shop/api',
        '2.4.0',
      ),
    );
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect(error?.message).toContain(
      `registry ${edge.host} refused the credentials to get a token for repository:shop/api:pull from http://${edge.host}/token`,
    );
    expect(error?.message).not.toContain('not-it');
  });

  it('catches a blob whose bytes do not match its digest, and stores nothing of it', async () => {
    edge.mode.tamper = 'blobs';
    const error = await failure(
      copyImage({
        source: { registry: edge.host, repository: 'shop/api', tag: '2.4.0' },
        target: { registry: plain.host, repository: 'tampered/api', tag: '2.4.0' },
        sharedReads: new SharedBlobReads(), // this test's own: no blob kept from an earlier copy, read from the edge
      }),
    );
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ retryable: false });
    expect(error?.message).toMatch(
      /^blob sha256:[a-f0-9]{64} did not match its digest on the way to .*\/tampered\/api \(content has digest sha256:[a-f0-9]{64}, not sha256:/,
    );
    const index = JSON.parse(
      (await new RegistryClient(plain.host).getManifest('shop/api', image.digest)).body.toString('utf8'),
    ) as { manifests: { digest: string }[] };
    const manifest = JSON.parse(
      (await new RegistryClient(plain.host).getManifest('shop/api', index.manifests[0].digest)).body.toString('utf8'),
    ) as {
      config: { digest: string };
      layers: { digest: string }[];
    };
    for (const blob of [manifest.config, ...manifest.layers])
      await expect(new RegistryClient(plain.host).hasBlob('tampered/api', blob.digest)).resolves.toBe(false);
  });

  it('blames the source when its blob download breaks off, retryably', async () => {
    edge.mode.cut = true;
    const error = await failure(
      copyImage({
        source: { registry: edge.host, repository: 'shop/api', tag: '2.4.0' },
        target: { registry: plain.host, repository: 'cut/api', tag: '2.4.0' },
        sharedReads: new SharedBlobReads(), // this test's own: no blob kept from an earlier copy, read from the edge
      }),
    );
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ retryable: true, registry: edge.host });
    expect(error?.message).toMatch(
      new RegExp(
        `^lost the connection to registry ${edge.host} trying to download blob sha256:[a-f0-9]{64} from shop/api \\(\\w+ at http://${edge.host}\\): a retry may succeed$`,
      ),
    );
  });

  it('catches a manifest whose bytes do not match its digest', async () => {
    edge.mode.tamper = 'manifests';
    const client = new RegistryClient(edge.host);
    const byDigest = await failure(client.getManifest('shop/api', image.digest));
    expect(byDigest).toMatchObject({ retryable: false });
    expect(byDigest?.message).toMatch(
      new RegExp(
        `^manifest shop/api@${image.digest} from ${edge.host} has digest sha256:[a-f0-9]{64}, not ${image.digest}: `,
      ),
    );
    // By tag, the registry's Docker-Content-Digest header gives it away.
    await expect(client.getManifest('shop/api', '2.4.0')).rejects.toThrow(
      `, not ${image.digest}: the registry sent other bytes than it stores under that name`,
    );
  });

  it.each([
    [503, true, 'failed to read manifest shop/api:2.4.0 (HTTP 503: UNAVAILABLE try later): a retry may succeed'],
    [
      429,
      true,
      'is rate-limiting requests to read manifest shop/api:2.4.0 (HTTP 429: UNAVAILABLE try later): retry later',
    ],
    [403, false, 'denied permission to read manifest shop/api:2.4.0 (HTTP 403: UNAVAILABLE try later)'],
    [400, false, 'refused to read manifest shop/api:2.4.0 (HTTP 400: UNAVAILABLE try later)'],
  ])('sorts HTTP %i into retryable=%s', async (status, retryable, words) => {
    edge.mode.status = status;
    const error = await failure(new RegistryClient(edge.host).getManifest('shop/api', '2.4.0'));
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ status, retryable });
    expect(error?.message).toContain(`registry ${edge.host} ${words}`);
  });

  it('gives up on a registry that does not answer in time, retryably', async () => {
    edge.mode.hang = true;
    const error = await failure(
      new RegistryClient(edge.host, { fetchTimeoutMs: 300 }).headManifest('shop/api', '2.4.0'),
    );
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({ retryable: true });
    expect(error?.message).toBe(
      `registry ${edge.host} did not answer in time to look up manifest shop/api:2.4.0 (http://${edge.host}): a retry may succeed`,
    );
  });

  it('passes on an abort as an abort, not as a registry failure', async () => {
    edge.mode.hang = true;
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);
    const error = await failure(new RegistryClient(edge.host).headManifest('shop/api', '2.4.0', stop.signal));
    expect(error).not.toBeInstanceOf(RegistryError);
    expect(error?.name).toBe('AbortError');
  });
});
