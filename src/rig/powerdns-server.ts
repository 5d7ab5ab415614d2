import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { chmodSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { InvalidInputError, MissingPrerequisiteError, UnreachableError } from '../domain/errors';
import type { TrafficSpec } from '../domain/traffic-spec';
import { type DnsAnswer, queryDns } from '../infra/traffic/dns-query';
import { PowerDnsTraffic } from '../infra/traffic/powerdns-traffic';
import { steeringTarget } from '../infra/traffic/steering-target';
import { type ManagedProcess, readTextOr, runningPid, startDetached, stopProcess, tailOf, waitFor } from './processes';
import type { RigConfig, RigLayout } from './rig-config';
import { ensurePowerDnsApiKey, powerDnsApiKeyFile, readPowerDnsApiKey } from './rig-credentials';
import type { GeoClient } from './rig-traffic';
import { requireTool } from './toolchain';

const run = promisify(execFile);

/**
 * The rig's authoritative DNS server: Debian's PowerDNS Authoritative 4.7 (pdns-server with the
 * sqlite3 and geoip backends), run from a folder of the rig. Zones and records live in SQLite and are
 * written through the HTTP API; the geoip backend locates clients (by EDNS Client Subnet) in a small
 * MaxMind DB the rig writes from the release's spec.traffic.clients, so LUA records can answer each
 * client with its closest healthy region.
 */

/** The Debian packages it takes, as scripts/setup-toolchain.sh installs them. */
export const powerDnsPackages = ['pdns-server', 'pdns-backend-sqlite3', 'pdns-backend-geoip'] as const;

/** Debian's SQLite schema of the gsqlite3 backend. */
export const powerDnsSchemaFile = '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql';

/**
 * The settings that make PowerDNS what traffic steering needs, the same in the rig and in
 * docker-compose.yml: LUA records with health checks every second, clients located by EDNS Client
 * Subnet, no caches (an answer reflects the latest change and health at once), and no security polling
 * (which would query the internet).
 */
export const powerDnsBehaviour: Readonly<Record<string, string>> = {
  launch: 'geoip,gsqlite3',
  'enable-lua-records': 'yes',
  'lua-health-checks-interval': '1',
  'lua-records-exec-limit': '100000',
  'edns-subnet-processing': 'yes',
  'cache-ttl': '0',
  'query-cache-ttl': '0',
  'negquery-cache-ttl': '0',
  'security-poll-suffix': '',
};

export interface PowerDnsFiles {
  dir: string;
  /** pdns.conf: holds the API key, so mode 0600 in a 0700 folder. */
  conf: string;
  db: string;
  /** The client list as geoip-db reads it, and the MaxMind DB it writes. */
  clients: string;
  mmdb: string;
  /** The geoip backend's own zones: none (the rig's zones are in SQLite). */
  geoZones: string;
}

export function powerDnsFiles(layout: RigLayout): PowerDnsFiles {
  const dir = join(layout.dir, 'powerdns');
  return {
    dir,
    conf: join(dir, 'pdns.conf'),
    db: join(dir, 'pdns.sqlite3'),
    clients: join(dir, 'clients.json'),
    mmdb: join(dir, 'clients.mmdb'),
    geoZones: join(dir, 'geo-zones.yaml'),
  };
}

export function powerDnsProcess(layout: RigLayout): ManagedProcess {
  return { name: 'powerdns', pidFile: join(layout.dir, 'powerdns.pid'), logFile: join(layout.logs, 'powerdns.log') };
}

/** Where DNS questions go: 127.0.0.1 and the configured port (UDP and TCP). */
export function powerDnsAddress(config: RigConfig): { host: string; port: number } {
  return { host: '127.0.0.1', port: config.dns.port };
}

/** Base URL of the HTTP API, e.g. http://127.0.0.1:8281. */
export function powerDnsApiUrl(config: RigConfig): string {
  return `http://127.0.0.1:${config.dns.apiPort}`;
}

/** A zone name as the API writes it: with its trailing dot. */
function absolute(zone: string): string {
  return zone.endsWith('.') ? zone : `${zone}.`;
}

/**
 * pdns.conf. The header names the ports and a hash of the client list, so that a change of either
 * changes the file and `dev up` restarts the server (the geoip backend reads its database at start).
 */
export function powerDnsConfigText(config: RigConfig, layout: RigLayout, apiKey: string, clientsHash: string): string {
  const files = powerDnsFiles(layout);
  const settings: [string, string][] = [
    ...Object.entries(powerDnsBehaviour),
    ['gsqlite3-database', files.db],
    ['geoip-database-files', `mmdb:${files.mmdb}`],
    ['geoip-zones-file', files.geoZones],
    ['local-address', '127.0.0.1'],
    ['local-port', String(config.dns.port)],
    ['api', 'yes'],
    ['api-key', apiKey],
    ['webserver', 'yes'],
    ['webserver-address', '127.0.0.1'],
    ['webserver-port', String(config.dns.apiPort)],
    ['webserver-allow-from', '127.0.0.0/8'],
    ['daemon', 'no'],
    ['guardian', 'no'],
    ['socket-dir', files.dir],
    ['disable-syslog', 'yes'],
    ['loglevel', '4'],
  ];
  return [
    `# Generated by \`meridian dev up\` from ${config.file}: DNS on 127.0.0.1:${config.dns.port}, API on ${powerDnsApiUrl(config)}.`,
    `# Clients located from ${files.clients} (${clientsHash}).`,
    ...settings.map(([k, v]) => `${k}=${v}`),
    '',
  ].join('\n');
}

/** pdns_server: on PATH, else where Debian puts it (/usr/sbin, which an ordinary user's PATH may lack). */
export function pdnsServerBinary(env: NodeJS.ProcessEnv = process.env): string {
  for (const dir of [...(env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin']) {
    if (existsSync(join(dir, 'pdns_server'))) return join(dir, 'pdns_server');
  }
  throw new MissingPrerequisiteError(
    `missing PowerDNS (pdns_server): run \`npm run setup\`, which installs Debian's ${powerDnsPackages.join(', ')}`,
  );
}

/** Debian keeps the backends in /usr/lib/<triplet>/pdns; a missing one fails the start with a clear word. */
function checkBackends(binary: string): void {
  if (binary !== '/usr/sbin/pdns_server') return; // not Debian's: its own module-dir
  const found = (lib: string) =>
    readdirSync('/usr/lib', { withFileTypes: true }).some(
      (d) => d.isDirectory() && existsSync(join('/usr/lib', d.name, 'pdns', lib)),
    );
  const missing = [
    ['libgsqlite3backend.so', 'pdns-backend-sqlite3'],
    ['libgeoipbackend.so', 'pdns-backend-geoip'],
  ].filter(([lib]) => !found(lib));
  if (missing.length) {
    throw new MissingPrerequisiteError(
      `PowerDNS lacks the ${missing.map(([lib]) => lib).join(' and ')} backend: run \`npm run setup\`, which installs Debian's ${missing.map(([, pkg]) => pkg).join(' and ')}`,
    );
  }
}

/** The SQLite database with PowerDNS's schema, made once (zones written later survive restarts). */
async function createDatabase(files: PowerDnsFiles): Promise<void> {
  if (existsSync(files.db)) return;
  if (!existsSync(powerDnsSchemaFile)) {
    throw new MissingPrerequisiteError(
      `missing ${powerDnsSchemaFile}: run \`npm run setup\`, which installs Debian's pdns-backend-sqlite3`,
    );
  }
  const fresh = `${files.db}.new`;
  rmSync(fresh, { force: true });
  try {
    await run('sqlite3', ['-bail', fresh, `.read ${powerDnsSchemaFile}`], { timeout: 30_000 });
  } catch (err) {
    rmSync(fresh, { force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new MissingPrerequisiteError(
        "missing 'sqlite3' (to create PowerDNS's database): run `npm run setup`, which installs Debian's sqlite3",
      );
    }
    throw new UnreachableError(
      `sqlite3 could not create ${files.db}: ${((err as { stderr?: string }).stderr ?? String(err)).trim().split('\n').slice(-2).join(' ')}`,
    );
  }
  renameSync(fresh, files.db);
}

/** Writes the clients as geoip-db reads them and (re)makes clients.mmdb when they changed; returns their hash. */
async function writeClientDatabase(files: PowerDnsFiles, clients: readonly GeoClient[]): Promise<string> {
  const text = `${JSON.stringify(
    clients.map((c) => ({ name: c.name, subnet: c.subnet, latitude: c.latitude, longitude: c.longitude })),
    null,
    2,
  )}\n`;
  const hash = `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;
  if (readTextOr(files.clients) === text && existsSync(files.mmdb)) return hash;
  const tool = requireTool('geoip-db');
  writeFileSync(files.clients, text);
  try {
    await run(tool, [files.clients, files.mmdb], { timeout: 30_000 });
  } catch (err) {
    rmSync(files.clients, { force: true }); // written again next time
    const said = ((err as { stderr?: string }).stderr ?? String(err)).trim().replace(/^geoip-db: /, '');
    const input = (err as { code?: unknown }).code === 2;
    const message = `the client list (spec.traffic.clients) cannot be written as a GeoIP database: ${said}`;
    throw input ? new InvalidInputError(message) : new UnreachableError(message);
  }
  return hash;
}

/** Whether 127.0.0.1:port can be bound (nothing else listens there). */
async function portFree(port: number, protocol: 'tcp' | 'udp'): Promise<boolean> {
  return new Promise((resolve) => {
    if (protocol === 'udp') {
      const socket = createSocket('udp4');
      socket.once('error', () => resolve(false));
      socket.bind(port, '127.0.0.1', () => socket.close(() => resolve(true)));
    } else {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    }
  });
}

async function checkPortsFree(config: RigConfig): Promise<void> {
  const taken: string[] = [];
  if (!(await portFree(config.dns.port, 'udp'))) taken.push(`${config.dns.port}/udp (dns.port)`);
  if (!(await portFree(config.dns.port, 'tcp'))) taken.push(`${config.dns.port}/tcp (dns.port)`);
  if (!(await portFree(config.dns.apiPort, 'tcp'))) taken.push(`${config.dns.apiPort}/tcp (dns.apiPort)`);
  if (taken.length) {
    throw new InvalidInputError(
      `PowerDNS cannot listen on 127.0.0.1: ${taken.join(', ')} already in use by a program this rig did not start: stop it, or set dns.port and dns.apiPort in ${config.file}`,
    );
  }
}

/** A request to an API path with the key; the answer's status and JSON body, or undefined when nothing answers. */
async function api(
  url: string,
  apiKey: string,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<{ status: number; body: unknown } | undefined> {
  try {
    const res = await fetch(`${url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        'X-API-Key': apiKey,
        accept: 'application/json',
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(5_000),
      redirect: 'error',
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      /* PowerDNS answers some errors in plain text */
    }
    return { status: res.status, body };
  } catch {
    return undefined;
  }
}

/** The server's version when its API answers with this key, else undefined. */
export async function powerDnsVersion(url: string, apiKey: string): Promise<string | undefined> {
  const res = await api(url, apiKey, '/api/v1/servers/localhost');
  const version = (res?.body as { version?: unknown } | undefined)?.version;
  return res?.status === 200 ? (typeof version === 'string' ? version : 'unknown') : undefined;
}

/** The name server of the zone, which the rig's zone always holds (ns1.<zone> A 127.0.0.1). */
function nameServerOf(zone: string): string {
  return `ns1.${zone.replace(/\.$/, '')}`;
}

/** The answer to one question, or undefined when the server does not answer in time. */
async function answer(config: RigConfig, name: string, timeoutMs = 2_000): Promise<DnsAnswer | undefined> {
  return queryDns(powerDnsAddress(config), { name, type: 'A', timeoutMs }).catch(() => undefined);
}

/** Ready: the API answers with the key, and a DNS question gets an answer (any: the zone may not exist yet). */
async function powerDnsReady(config: RigConfig, apiKey: string, zone: string): Promise<boolean> {
  if ((await powerDnsVersion(powerDnsApiUrl(config), apiKey)) === undefined) return false;
  return (await answer(config, nameServerOf(zone), 1_000)) !== undefined;
}

/** PowerDNS's own words from an error answer, one bounded line. */
function apiProblem(res: { status: number; body: unknown } | undefined): string {
  if (!res) return 'no answer';
  const error = (res.body as { error?: unknown } | undefined)?.error;
  const text = typeof error === 'string' ? error : typeof res.body === 'string' ? res.body : '';
  const line = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return `${res.status}${line ? `: ${line.slice(0, 200)}` : ''}`;
}

/**
 * Creates the zone (Native: no transfers) with its SOA, NS ns1.<zone> and ns1's A record at
 * 127.0.0.1, unless it exists; a zone that exists is left as it is (records written since stay).
 * Returns whether it was created.
 */
export async function ensureZone(config: RigConfig, apiKey: string, zone: string): Promise<boolean> {
  const url = powerDnsApiUrl(config);
  const name = absolute(zone);
  const path = `/api/v1/servers/localhost/zones/${encodeURIComponent(name)}`;
  const existing = await api(url, apiKey, path);
  if (existing?.status === 200) return false;
  if (existing?.status !== 404) {
    throw new UnreachableError(
      `the PowerDNS API at ${url} did not tell whether zone ${name} exists (${apiProblem(existing)})`,
    );
  }
  const ns = `${nameServerOf(zone)}.`;
  const rrset = (rrName: string, type: string, content: string) => ({
    name: rrName,
    type,
    ttl: 60,
    records: [{ content, disabled: false }],
  });
  const created = await api(url, apiKey, '/api/v1/servers/localhost/zones', {
    method: 'POST',
    body: {
      name,
      kind: 'Native',
      nameservers: [],
      rrsets: [
        rrset(name, 'SOA', `${ns} hostmaster.${name} 1 10800 3600 604800 60`),
        rrset(name, 'NS', ns),
        rrset(ns, 'A', '127.0.0.1'),
      ],
    },
  });
  if (created?.status === 201) return true;
  if (created?.status === 409) return false; // made meanwhile by another `dev up`
  throw new UnreachableError(`the PowerDNS API at ${url} did not create zone ${name} (${apiProblem(created)})`);
}

/** What `dev up` asks of the rig's DNS server: the zone it holds and the clients it can locate. */
export interface PowerDnsWanted {
  zone: string;
  clients: readonly GeoClient[];
}

/**
 * Starts PowerDNS unless it runs with the current config (ports, key, clients); a changed config
 * restarts it. The first start makes the API key (in the rig's credentials folder) and the database.
 * Once it answers, the zone is made if it is missing, so `dev up` again changes nothing.
 */
export async function startPowerDns(
  config: RigConfig,
  layout: RigLayout,
  wanted: PowerDnsWanted,
): Promise<{ started: boolean; pid: number; zoneCreated: boolean }> {
  const proc = powerDnsProcess(layout);
  const files = powerDnsFiles(layout);
  const apiKey = ensurePowerDnsApiKey(layout.dir);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  chmodSync(files.dir, 0o700);
  writeFileSync(files.geoZones, 'domains: []\n');
  const clientsHash = await writeClientDatabase(files, wanted.clients);
  const text = powerDnsConfigText(config, layout, apiKey, clientsHash);
  const existing = runningPid(proc);
  if (existing !== undefined && readTextOr(files.conf) === text && (await powerDnsReady(config, apiKey, wanted.zone))) {
    return { started: false, pid: existing, zoneCreated: await ensureZone(config, apiKey, wanted.zone) };
  }
  if (existing !== undefined) await stopPowerDns(layout);
  await checkPortsFree(config);
  const binary = pdnsServerBinary();
  checkBackends(binary);
  await createDatabase(files);
  writeFileSync(files.conf, text, { mode: 0o600 });
  chmodSync(files.conf, 0o600);
  const pid = startDetached(proc, binary, [`--config-dir=${files.dir}`]);
  const ok = await waitFor(() => powerDnsReady(config, apiKey, wanted.zone), 30_000, 200);
  if (!ok) {
    const tail = tailOf(proc.logFile);
    await stopPowerDns(layout);
    throw new UnreachableError(
      `PowerDNS did not answer on 127.0.0.1:${config.dns.port} (DNS) and ${powerDnsApiUrl(config)} (API) within 30s; its log ends:\n${tail}`,
    );
  }
  return { started: true, pid, zoneCreated: await ensureZone(config, apiKey, wanted.zone) };
}

/**
 * Writes the answers of the release's hostname on the rig's PowerDNS (whichever server spec.traffic.provider
 * names), each region keeping the state recorded for it, as a release's first traffic step would: the
 * synthetic users resolve the hostname from the start, and a record an earlier release wrote for fewer
 * regions (a test's trimmed spec) answers for all of the rig's release again. Returns how many regions
 * the answers hold.
 */
export async function publishRigHostname(config: RigConfig, layout: RigLayout, traffic: TrafficSpec): Promise<number> {
  const apiKey = readPowerDnsApiKey(layout.dir);
  if (!apiKey) throw new UnreachableError(`the rig's PowerDNS has no API key in ${powerDnsApiKeyFile(layout.dir)}`);
  const target = { ...steeringTarget(traffic), nameservers: [powerDnsAddress(config)] };
  const provider = new PowerDnsTraffic(target, {
    api: powerDnsApiUrl(config),
    server: 'localhost',
    apiKey,
    timeoutMs: 10_000,
  });
  await provider.publish(`meridian dev up: the answers of ${config.file}'s release`);
  return target.regions.length;
}

export async function stopPowerDns(layout: RigLayout): Promise<boolean> {
  return stopProcess(powerDnsProcess(layout), 10_000);
}

/** What `dev status` shows of the DNS server. */
export interface PowerDnsHealth {
  /** DNS address, 127.0.0.1:PORT. */
  address: string;
  /** Base URL of the HTTP API. */
  api: string;
  /** Whether the API answers with the rig's key and DNS answers for the zone (its name server's address). */
  up: boolean;
  /** PowerDNS's version, as its API reports it. */
  version?: string;
  zone: string;
  /** Where the API key is (never the key itself). */
  apiKeyFile: string;
}

export async function powerDnsHealth(config: RigConfig, layout: RigLayout, zone: string): Promise<PowerDnsHealth> {
  const { host, port } = powerDnsAddress(config);
  const base = {
    address: `${host}:${port}`,
    api: powerDnsApiUrl(config),
    zone: zone.replace(/\.$/, ''),
    apiKeyFile: powerDnsApiKeyFile(layout.dir),
  };
  const apiKey = readPowerDnsApiKey(layout.dir);
  if (!apiKey || runningPid(powerDnsProcess(layout)) === undefined) return { ...base, up: false };
  const [version, ns] = await Promise.all([powerDnsVersion(base.api, apiKey), answer(config, nameServerOf(zone))]);
  const zoneUp = ns?.rcode === 'NOERROR' && ns.addresses.includes('127.0.0.1');
  return { ...base, up: version !== undefined && zoneUp, ...(version ? { version } : {}) };
}
