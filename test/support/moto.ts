import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { CreateHostedZoneCommand, Route53Client } from '@aws-sdk/client-route-53';
import { stopChild } from '../../src/rig/processes';
import { requireTool } from '../../src/rig/toolchain';

/**
 * A real moto_server (the AWS API emulator from PyPI, installed by scripts/setup-toolchain.sh) on a free
 * loopback port, for the Route 53 provider's tests. It emulates the API only: it serves no DNS and runs
 * no health checks.
 */
export interface MotoServer {
  /** The API's URL, for spec.traffic.provider.route53.endpoint. */
  endpoint: string;
  /** A worker's environment with credentials moto takes (distinctive, so a test can look for them in errors). */
  env: NodeJS.ProcessEnv;
  /** A client of the server's Route 53 API, for what a test sets up or reads back. */
  route53: Route53Client;
  /** Makes a hosted zone and returns its id (without /hostedzone/). */
  createZone(name: string): Promise<string>;
  stop(): Promise<void>;
}

/** Credentials of the tests' worker: moto takes any, and none of them may appear in an error. */
export const testCredentials = {
  AWS_ACCESS_KEY_ID: 'AKIAMERIDIANTEST7Q2Z',
  AWS_SECRET_ACCESS_KEY: 'meridian-test-secret-k3y-9f8e7d6c5b4a',
  AWS_SESSION_TOKEN: 'meridian-test-session-t0ken-1a2b3c',
} as const;

/**
 * Starts moto_server. `authenticate`: moto checks every request's access key against its own IAM, which
 * knows none, so every call is refused as real AWS refuses unknown keys (INITIAL_NO_AUTH_ACTION_COUNT=0).
 */
export async function startMoto(options: { authenticate?: boolean } = {}): Promise<MotoServer> {
  const binary = requireTool('moto_server');
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(binary, ['-H', '127.0.0.1', '-p', String(port)], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        ...(options.authenticate ? { INITIAL_NO_AUTH_ACTION_COUNT: '0' } : {}),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let log = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      log = (log + chunk.toString('utf8')).slice(-4000);
    });
    const endpoint = `http://127.0.0.1:${port}`;
    if (await ready(endpoint, child)) return motoServer(endpoint, child);
    await stopChild(child, 5_000);
    // Another process may have taken the port between the look and the start: a few tries.
    if (attempt >= 2) throw new Error(`moto_server did not start on ${endpoint}:\n${log}`);
  }
}

function motoServer(endpoint: string, child: ChildProcess): MotoServer {
  const route53 = new Route53Client({
    region: 'us-east-1',
    endpoint,
    credentials: {
      accessKeyId: testCredentials.AWS_ACCESS_KEY_ID,
      secretAccessKey: testCredentials.AWS_SECRET_ACCESS_KEY,
      sessionToken: testCredentials.AWS_SESSION_TOKEN,
    },
  });
  return {
    endpoint,
    env: { ...testCredentials },
    route53,
    async createZone(name) {
      const { HostedZone } = await route53.send(
        new CreateHostedZoneCommand({ Name: name, CallerReference: `${name}-${Date.now()}-${Math.random()}` }),
      );
      return HostedZone!.Id!.replace('/hostedzone/', '');
    },
    async stop() {
      route53.destroy();
      await stopChild(child, 5_000);
    },
  };
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Whether the server answers HTTP within 30 s (a cold Python start on 2 cores takes a few seconds). */
async function ready(endpoint: string, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    try {
      await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      return true;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return false;
}
