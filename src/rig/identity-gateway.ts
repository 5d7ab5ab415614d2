import { readFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http';

/**
 * The production profile's stand-in for a company's identity provider and single sign-on proxy, as
 * Temporal deployments put one in front of the Web UI (oauth2-proxy and the like):
 * - it publishes the key set that the Temporal server's default JWT claim mapper checks API keys with;
 * - it serves the Web UI on the rig's UI port, passing each request on to the UI server with the
 *   operator's bearer token, so the frontend's authorizer lets the UI in;
 * - it passes `/codec/*` on to the codec server with the codec server's token, so the browser decodes
 *   payloads without ever holding a key or a token.
 */
export interface IdentityGatewayConfig {
  /** Port of the key set (`GET /.well-known/jwks.json`) on 127.0.0.1. */
  jwksPort: number;
  /** The JWKS file, read at each request so a rotated key set is served at once. */
  jwksFile: string;
  /** The Web UI as operators open it. */
  ui: { port: number; upstreamPort: number; tokenFile: string };
  /** The codec server behind `/codec`. */
  codec: { upstreamPort: number; tokenFile: string };
}

export const jwksPath = '/.well-known/jwks.json';
export const codecPathPrefix = '/codec';

function readToken(file: string): string {
  return readFileSync(file, 'utf8').trim();
}

/** Passes a request on to 127.0.0.1:port with `authorization` replaced; streams both ways. */
function forward(req: IncomingMessage, res: ServerResponse, port: number, path: string, authorization: string): void {
  const headers = { ...req.headers, authorization, host: `127.0.0.1:${port}` };
  const upstream = request({ host: '127.0.0.1', port, path, method: req.method, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', (err) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`upstream 127.0.0.1:${port} failed: ${err.message}\n`);
  });
  req.pipe(upstream);
}

export function startIdentityGateway(config: IdentityGatewayConfig): Promise<Server[]> {
  const keys = createServer((req, res) => {
    if (req.method === 'GET' && req.url === jwksPath) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(readFileSync(config.jwksFile));
      return;
    }
    res.writeHead(404).end();
  });
  const ui = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url === codecPathPrefix || url.startsWith(`${codecPathPrefix}/`)) {
      forward(
        req,
        res,
        config.codec.upstreamPort,
        url.slice(codecPathPrefix.length) || '/',
        `Bearer ${readToken(config.codec.tokenFile)}`,
      );
      return;
    }
    forward(req, res, config.ui.upstreamPort, url, `Bearer ${readToken(config.ui.tokenFile)}`);
  });
  const listen = (server: Server, port: number) =>
    new Promise<Server>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve(server));
    });
  return Promise.all([listen(keys, config.jwksPort), listen(ui, config.ui.port)]);
}
