import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { once } from 'node:events';

/** A request the proxy saw: method and path (with query). */
export interface SeenRequest {
  method: string;
  path: string;
}

/**
 * An HTTP proxy on a loopback port in front of an API: it records every request, and answers the next
 * ones with a given failure instead of forwarding them, as a throttled or failing service would.
 */
export interface ApiProxy {
  url: string;
  seen: SeenRequest[];
  /** Answers the next `count` requests with `status` and `body` (XML) instead of forwarding them. */
  failNext(count: number, status: number, body: string): void;
  stop(): Promise<void>;
}

export async function startApiProxy(target: string): Promise<ApiProxy> {
  const seen: SeenRequest[] = [];
  const failures: { status: number; body: string }[] = [];
  const server = createServer((req, res) => {
    void handle(req, res);
  });
  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    seen.push({ method: req.method ?? 'GET', path: req.url ?? '/' });
    const failure = failures.shift();
    if (failure) {
      res.writeHead(failure.status, { 'content-type': 'text/xml' }).end(failure.body);
      return;
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers))
      if (typeof value === 'string' && !['host', 'connection', 'content-length'].includes(name)) headers[name] = value;
    try {
      const answer = await fetch(new URL(req.url ?? '/', target), {
        method: req.method,
        headers,
        body: chunks.length ? Buffer.concat(chunks) : undefined,
      });
      const body = Buffer.from(await answer.arrayBuffer());
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/xml' }).end(body);
    } catch {
      res.writeHead(502).end();
    }
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    failNext(count, status, body) {
      for (let i = 0; i < count; i++) failures.push({ status, body });
    },
    async stop() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A Route 53 error answer, as the REST API writes one. */
export function route53Error(code: string, message: string): string {
  return `<?xml version="1.0"?>\n<ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>meridian-test</RequestId></ErrorResponse>`;
}
