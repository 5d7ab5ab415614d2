import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { registryAnswers } from './registries';
import { tailOf, waitFor } from './processes';
import { requireTool } from './toolchain';

/**
 * Throwaway registries for tests and benchmarks: Debian's docker-registry (CNCF distribution) on a free
 * loopback port, with its storage in a temporary directory that stop() removes. Unlike the rig's
 * registries (src/rig/registries.ts) they are children of this process, share nothing, and are gone
 * when it ends.
 */

export interface ScratchRegistry {
  /** host:port, as image references name it. */
  host: string;
  /** Its directory: config, storage and log. */
  dir: string;
  /** Ends the registry (SIGTERM, then SIGKILL) and removes its directory. */
  stop(): Promise<void>;
}

export interface ScratchRegistryOptions {
  /** Require this login (htpasswd, Basic auth). The hash needs bcrypt: see bcryptHash. */
  htpasswd?: { username: string; password: string };
}

/** Registries still running in this process: killed on exit should a caller not stop one. */
const running = new Set<ChildProcess>();
let reaperInstalled = false;

export async function startScratchRegistry(options: ScratchRegistryOptions = {}): Promise<ScratchRegistry> {
  const binary = requireTool('docker-registry');
  const dir = mkdtempSync(join(tmpdir(), 'meridian-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'warn', accesslog: { disabled: true } },
    storage: { filesystem: { rootdirectory: join(dir, 'data') }, delete: { enabled: true } },
    http: { addr: host, secret: randomBytes(16).toString('hex') },
  };
  if (options.htpasswd) {
    const hash = bcryptHash(options.htpasswd.password);
    if (!hash) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error('no bcrypt on this machine (see bcryptHash): cannot start a registry with htpasswd auth');
    }
    writeFileSync(join(dir, 'htpasswd'), `${options.htpasswd.username}:${hash}\n`);
    config.auth = { htpasswd: { realm: 'meridian-scratch', path: join(dir, 'htpasswd') } };
  }
  const configFile = join(dir, 'config.yml');
  writeFileSync(configFile, stringify(config));
  const logFile = join(dir, 'registry.log');
  const log = openSync(logFile, 'a');
  const child = spawn(binary, ['serve', configFile], { stdio: ['ignore', log, log] });
  closeSync(log);
  if (!reaperInstalled) {
    process.on('exit', () => running.forEach((c) => c.kill('SIGKILL')));
    reaperInstalled = true;
  }
  running.add(child);
  let exited = false;
  child.once('exit', () => {
    exited = true;
    running.delete(child);
  });

  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const gone = await waitFor(async () => exited, 5_000, 50);
      if (!gone) child.kill('SIGKILL');
      await waitFor(async () => exited, 5_000, 50);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const ready = await waitFor(async () => exited || (await registryAnswers(host)), 15_000, 100);
  if (!ready || exited) {
    const tail = tailOf(logFile);
    await stop();
    throw new Error(`docker-registry did not start on ${host}${tail ? `:\n${tail}` : ''}`);
  }
  return { host, dir, stop };
}

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * A bcrypt hash (all htpasswd auth of distribution accepts), made by the C library's crypt() through
 * perl: Debian's libxcrypt has bcrypt, and perl is everywhere apache2-utils' htpasswd is not.
 * Undefined when this machine's crypt() cannot make one.
 */
export function bcryptHash(password: string): string | undefined {
  const alphabet = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const random = randomBytes(21);
  // 22 salt characters; the last one carries only 2 bits, so it is one of the four canonical ones.
  const salt = `$2b$05$${[...random].map((b) => alphabet[b % 64]).join('')}${'.Oeu'[random[0] % 4]}`;
  try {
    const hash = execFileSync('perl', ['-e', 'print crypt($ENV{PASSWORD}, $ENV{SALT})'], {
      env: { ...process.env, PASSWORD: password, SALT: salt },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return /^\$2b\$05\$[./A-Za-z0-9]{53}$/.test(hash) ? hash : undefined;
  } catch {
    return undefined;
  }
}
