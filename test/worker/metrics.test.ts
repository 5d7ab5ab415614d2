import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { requireTool } from '../../src/rig/toolchain';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('the worker runtime with a metrics address', () => {
  it("serves the SDK's metrics and custom ones from workflow and activity metricMeter on one Prometheus endpoint", async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const text = await new Promise<string>((resolve, reject) => {
      execFile(
        process.execPath,
        [require.resolve('./fixtures/metrics-child.js'), address, requireTool('temporal-test-server')],
        { timeout: 110_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
      );
    });
    const line = (name: string) => text.split('\n').find((l) => l.startsWith(name));
    // The SDK's own metrics, under its usual prefix.
    expect(text).toMatch(/^temporal_workflow_completed\{/m);
    // Meridian's metrics from workflow and activity metricMeter, tagged with the service.
    expect(line('meridian_test_workflow_steps')).toMatch(/region="eu-west"/);
    expect(line('meridian_test_workflow_steps')).toMatch(/service="meridian-worker"/);
    expect(line('meridian_test_workflow_steps')).toMatch(/ 1$/);
    expect(line('meridian_test_activity_calls')).toMatch(/ 2$/);
  });
});
