import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ChecksContext, runChecks } from '../../../src/infra/checks/run-checks';
import { InvalidInputError } from '../../../src/domain/errors';
import { integrationSuiteSchema } from '../../../src/domain/integration-checks';
import type { RegionSpec } from '../../../src/domain/release-spec';

let server: Server;
let endpoint: string;
beforeAll(async () => {
  // Echoes what it was sent, as a careless service would in an error page.
  server = createServer((req, res) => res.writeHead(500).end(`bad request with ${req.headers['x-token']}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((r) => server.close(r)));

const release = { app: 'shop-api', version: '2.5.0', releaseId: 'release-shop-api-2.5.0' } as ChecksContext['release'];
const regionOf = () =>
  ({ name: 'eu-west', endpoint, cluster: { context: 'eu-west', namespace: 'shop' } }) as unknown as RegionSpec;
const context = (extra: Partial<ChecksContext> = {}): ChecksContext => ({
  release,
  region: regionOf(),
  runKey: 'r/eu-west/1',
  kube: () => {
    throw new Error('no cluster');
  },
  pollMs: 10,
  ...extra,
});
const suite = (checks: unknown[]) => integrationSuiteSchema.parse({ checks }).checks;

describe('runChecks', () => {
  it('refuses a suite with command checks on a worker that does not allow them, naming the setting, and runs nothing', async () => {
    const checks = suite([
      { name: 'health', request: { path: '/healthz' }, expect: { status: 200 } },
      { name: 'k6 smoke', kind: 'command', command: ['k6', 'run', 'smoke.js'] },
    ]);
    const refused = runChecks(checks, context());
    await expect(refused).rejects.toThrow(InvalidInputError);
    await expect(refused).rejects.toThrow(
      /command checks \("k6 smoke"\).*start the worker with MERIDIAN_ALLOW_COMMAND_CHECKS=1/,
    );
  });

  it('runs command checks on a worker that allows them', async () => {
    const report = await runChecks(
      suite([{ name: 'node', kind: 'command', command: [process.execPath, '-e', 'process.exit(0)'] }]),
      context({ allowCommandChecks: true }),
    );
    expect(report.results).toMatchObject([{ name: 'node', passed: true }]);
  });

  it("scrubs the worker's secrets from the failure of any kind of check", async () => {
    const secrets = [{ name: 'SHOP_API_TOKEN', value: 'tok-5f3a9c-77' }];
    const checks = suite([
      {
        name: 'echo',
        request: { path: '/', headers: { 'x-token': 'tok-5f3a9c-77' } },
        expect: { status: 200, bodyContains: 'ok' },
      },
    ]);
    const report = await runChecks(checks, context({ secrets }));
    expect(report.passed).toBe(false);
    expect(JSON.stringify(report)).not.toContain('tok-5f3a9c-77');
  });
});
