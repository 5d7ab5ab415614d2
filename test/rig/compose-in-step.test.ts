import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import { powerDnsBehaviour } from '../../src/rig/powerdns-server';
import { defaultRigConfigFile, loadRigConfig } from '../../src/rig/rig-config';
import { temporalServerVersion } from '../../src/rig/temporal-cluster';

const root = resolve(__dirname, '..', '..');
const compose = parse(readFileSync(resolve(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<
    string,
    {
      image?: string;
      build?: unknown;
      ports?: string[];
      environment?: Record<string, string>;
      command?: string[];
      volumes?: string[];
    }
  >;
};
const versions = Object.fromEntries(
  readFileSync(resolve(root, 'toolchain', 'versions.env'), 'utf8')
    .split('\n')
    .filter((l) => /^[A-Z_]+=/.test(l))
    .map((l) => l.split('=') as [string, string]),
);
const rig = loadRigConfig(defaultRigConfigFile());
const tag = (service: string) => compose.services[service]?.image?.split(':')[1];

describe('docker-compose.yml and the production profile describe the same stack', () => {
  it('runs the versions the toolchain pins', () => {
    expect(versions.TEMPORAL_SERVER_VERSION).toBe(temporalServerVersion);
    expect(tag('temporal')).toBe(versions.TEMPORAL_SERVER_VERSION.replace(/^v/, ''));
    expect(tag('temporal-schema')).toBe(versions.TEMPORAL_SERVER_VERSION.replace(/^v/, ''));
    expect(tag('temporal-setup')).toBe(versions.TEMPORAL_SERVER_VERSION.replace(/^v/, ''));
    expect(tag('temporal-ui')).toBe(versions.TEMPORAL_UI_SERVER_VERSION.replace(/^v/, ''));
    expect(tag('postgresql')).toBe(versions.POSTGRESQL_MAJOR);
  });

  it('has the same parts: database, schema tool, server, namespace setup, Web UI, codec server, workers', () => {
    expect(Object.keys(compose.services).sort()).toEqual(
      [
        'codec-server',
        'meridian-worker',
        'postgresql',
        'powerdns',
        'temporal',
        'temporal-schema',
        'temporal-setup',
        'temporal-ui',
      ].sort(),
    );
    expect(compose.services['temporal-schema'].command?.join(' ')).toMatch(/setup-schema -v 0\.0.*update-schema/s);
    expect(compose.services['temporal-setup'].command?.join(' ')).toMatch(/namespace create --namespace default/);
  });

  it("runs PowerDNS 4.7 as the rig does: the same settings, the rig's ports, the key from a mounted file", () => {
    const powerdns = compose.services.powerdns;
    expect(powerdns.image).toMatch(/^powerdns\/pdns-auth-47:4\.7\.\d+$/);
    const script = powerdns.command?.join(' ') ?? '';
    for (const [setting, value] of Object.entries(powerDnsBehaviour)) {
      expect(script).toMatch(new RegExp(`--${setting}=${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\s|$)`));
    }
    expect(powerdns.ports).toEqual(
      expect.arrayContaining([
        `127.0.0.1:${rig.dns.port}:53/udp`,
        `127.0.0.1:${rig.dns.port}:53/tcp`,
        `127.0.0.1:${rig.dns.apiPort}:8081`,
      ]),
    );
    // The API key never appears in the file: it is read from the mounted secret.
    expect(powerdns.volumes).toContain('./secrets/powerdns-api-key:/run/secrets/powerdns-api-key:ro');
    expect(script).toContain('$(cat /run/secrets/powerdns-api-key)');
    expect(script).not.toMatch(/--api-key=/);
  });

  it('publishes the rig ports and wires the codec into the UI and the workers', () => {
    expect(compose.services.temporal.ports).toContain(`127.0.0.1:${rig.temporal.port}:7233`);
    expect(compose.services['temporal-ui'].ports).toContain(`127.0.0.1:${rig.temporal.uiPort}:8233`);
    expect(compose.services['codec-server'].ports).toContain(`127.0.0.1:${rig.production.codecServerPort}:8888`);
    expect(compose.services['temporal-ui'].environment?.TEMPORAL_CODEC_ENDPOINT).toBe(
      `http://localhost:${rig.production.codecServerPort}`,
    );
    for (const service of ['meridian-worker', 'codec-server']) {
      // The key file the service is told to read is the one mounted into it.
      const keys = compose.services[service].environment?.MERIDIAN_CODEC_KEYS_FILE;
      expect(keys).toMatch(/^\/run\/secrets\//);
      expect(compose.services[service].volumes).toContain(`./secrets/codec-keys:${keys}:ro`);
      expect(compose.services[service].build).toBe('.');
    }
  });
});
