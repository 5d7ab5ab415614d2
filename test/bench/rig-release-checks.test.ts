import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { checkLatencyLimitMs, describeReleaseChecks, measureReleaseChecks } from '../../src/bench/rig-release-checks';
import { isTerminalReleasePhase } from '../../src/domain/release-status';
import { theRig } from '../support/rig';

// Quick form of the bench's rig-release section: a 3-region release on the rig with its own services and
// worker. Asserts what was measured (how it ended, the resumes it took, the prober's answers), never a time.
describe('a many-region release on the rig with 500 ms checks (quick form)', () => {
  it('runs the release to its end, resuming any halt and counting it, while a prober measures every endpoint', async () => {
    const rig = theRig();
    const connection = await Connection.connect({ address: rig.temporal.address });
    try {
      const client = new Client({ connection, namespace: rig.config.temporal.namespace });
      const r = await measureReleaseChecks({
        client,
        rig: rig.config,
        kubeconfig: rig.layout.kubeconfig,
        env: { ...process.env, ...rig.clientEnv, TEMPORAL_ADDRESS: rig.temporal.address },
        logDir: join(rig.layout.logs, 'bench-workers'),
        regions: 3,
        maxParallel: 2,
        bakeMs: 1_000,
        maxResumes: 3,
      });
      expect(r.regions).toBe(3);
      expect(r.waves).toBeGreaterThanOrEqual(2);
      expect(isTerminalReleasePhase(r.phase)).toBe(true);
      expect(r.resumes).toBe(Math.min(r.halts.length, 3));
      if (r.phase === 'Succeeded') expect(r.resumes).toBe(r.halts.length);
      expect(r.probeMs.length).toBeGreaterThan(0);
      expect(r.probeMs.length % 3).toBe(0);
      expect(r.probeMs.every((ms) => ms > 0)).toBe(true);
      expect(r.servicesCpuShare).toBeGreaterThanOrEqual(0);
      expect(r.cores).toBeGreaterThan(0);

      const { text, figures } = describeReleaseChecks(r);
      expect(text).toMatch(
        new RegExp(
          `^3-region release on the rig \\(${r.waves} waves\\), the example's checks \\(search within 500 ms\\), synthetic users at [\\d.]+ requests/s in all: ${r.phase} in \\d+ s with ${r.resumes} operator resumes \\(target 0\\)\\n  GET /search at every region during the release, ${r.probeMs.length} requests: median \\d+ ms, p99 \\d+ ms, max \\d+ ms; \\d+ over 500 ms .*\\n  the demo services' process used [\\d.]+% of a core meanwhile; machine load average [\\d.]+ on ${r.cores} cores at the end`,
        ),
      );
      expect(text.split('\n').filter((l) => l.startsWith('  halt '))).toHaveLength(r.halts.length);
      expect(figures.map((f) => [f.name, f.unit])).toEqual([
        ['3-region release on the rig: operator resumes', 'resumes'],
        ['3-region release on the rig: endpoint latency p99', 'ms'],
      ]);
      expect(figures[1].baseline).toEqual({ name: 'check latency limit', value: checkLatencyLimitMs });
    } finally {
      await connection.close();
    }
  });
});
