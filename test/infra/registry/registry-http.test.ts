import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { fetchBuffered } from '../../../src/infra/registry/registry-http';

/** A plain HTTP server that counts the connections it accepted and the requests on each. */
async function startServer(
  handle: (req: IncomingMessage, res: ServerResponse, nth: number) => void,
): Promise<{ url: string; connections: () => number; server: Server }> {
  let connections = 0;
  const requestsOn = new WeakMap<Socket, number>();
  const server = createServer((req, res) => {
    const nth = (requestsOn.get(req.socket) ?? 0) + 1;
    requestsOn.set(req.socket, nth);
    handle(req, res, nth);
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, server };
}

const stop = async (server: Server) => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
};
const head = (url: string) =>
  fetchBuffered(url, { method: 'HEAD', headers: {} }, { context: { registry: 'test', what: 'look up a blob' } });

describe('fetchBuffered HEAD', () => {
  it('keeps the connection for the next request (undici would close it after each HEAD)', async () => {
    const { url, connections, server } = await startServer((req, res) => {
      // As registries answer a HEAD: the length of what a GET would send.
      res.writeHead(req.url === '/there' ? 200 : 404, { 'docker-content-digest': 'sha256:abc', 'content-length': 7 });
      res.end();
    });
    try {
      const answers = [];
      for (const path of ['/there', '/missing', '/there']) answers.push(await head(`${url}${path}`));
      expect(answers.map((a) => a.status)).toEqual([200, 404, 200]);
      expect(answers[0].headers.get('docker-content-digest')).toBe('sha256:abc');
      expect(answers[0].body.length).toBe(0);
      expect(connections()).toBe(1);
    } finally {
      await stop(server);
    }
  });

  it('follows a redirect (with fetch)', async () => {
    const { url, server } = await startServer((req, res) => {
      if (req.url === '/blob') res.writeHead(307, { location: '/storage/blob' }).end();
      else res.writeHead(200, { 'x-served-by': 'storage' }).end();
    });
    try {
      const answer = await head(`${url}/blob`);
      expect(answer.status).toBe(200);
      expect(answer.headers.get('x-served-by')).toBe('storage');
    } finally {
      await stop(server);
    }
  });

  it('sends a HEAD once more on a new connection when the server dropped the kept one it went on', async () => {
    const { url, connections, server } = await startServer((req, res, nth) => {
      if (nth === 2)
        req.socket.destroy(); // as a server closing an idle connection just as a request arrives
      else res.writeHead(200, { 'content-length': 7 }).end();
    });
    try {
      expect((await head(`${url}/a`)).status).toBe(200);
      expect((await head(`${url}/b`)).status).toBe(200);
      expect(connections()).toBe(2);
    } finally {
      await stop(server);
    }
  });
});
