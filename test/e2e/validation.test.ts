import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { type parseDocument, stringify } from 'yaml';
import type { ReleaseStatus } from '../../src/domain/release-status';
import type { RegionResult } from '../../src/domain/release-results';
import { meridian } from '../support/cli';
import {
  deployedImages,
  idOf,
  keepRegions,
  rig,
  rigEnv,
  specFor,
  spawnWorker,
  statusWhen,
  stopWorker,
  temporalCli,
  temporalClient,
} from '../support/e2e';
import { eventually } from '../support/eventually';

/**
 * Proving a release on the local rig: staging load tests gated against the last good release, checks
 * that catch a region's own breakage, and health analysis while regions bake (examples/rig.yaml says
 * which versions misbehave, where and when).
 */

type Doc = ReturnType<typeof parseDocument>;
const stamp = Date.now().toString(36);
const env = rigEnv();

let worker: ChildProcess;
let client: Client;
let closeClient: () => Promise<void>;

beforeAll(async () => {
  // The suite below has command checks: this worker opts in to them.
  worker = spawnWorker('worker-validation', { MERIDIAN_ALLOW_COMMAND_CHECKS: '1' });
  ({ client, close: closeClient } = await temporalClient());
});

afterAll(async () => {
  await stopWorker(worker);
  await closeClient();
});

/** Keeps only the named regions, and no approval gate. */
const only =
  (...names: string[]) =>
  (doc: Doc) => {
    keepRegions(doc, names);
    doc.setIn(['spec', 'rollout', 'approvals'], []);
  };

/** Bake analysis quick enough for a test: a measurement every `interval`. */
const analysis =
  (interval: string, extra: (doc: Doc) => void = () => undefined) =>
  (doc: Doc) => {
    doc.setIn(['spec', 'validation', 'analysis', 'interval'], interval);
    extra(doc);
  };

async function ended(releaseId: string): Promise<ReleaseStatus> {
  return statusWhen(
    client,
    releaseId,
    (s) => ['Succeeded', 'Failed', 'Aborted'].includes(s.phase),
    `${releaseId} to end`,
    240_000,
  );
}

describe('proving a release on the local rig', () => {
  it('never reaches production when the staging load test regresses p99 beyond the threshold against the last good release', async () => {
    // Loose absolute limits: only the regression gate can stop the slower release. The staging region
    // gets a name of this run's own (same endpoint and namespace): earlier runs' figures are no baseline.
    const environment = `staging-${stamp}`;
    const loadTest = (doc: Doc) => {
      only('staging', 'us-east-canary')(doc);
      const regions = doc.getIn(['spec', 'regions']) as { items: { get: (key: string) => unknown }[] };
      doc.setIn(['spec', 'regions', regions.items.findIndex((r) => r.get('name') === 'staging'), 'name'], environment);
      doc.setIn(['spec', 'validation', 'load', 'rate'], 100);
      doc.setIn(['spec', 'validation', 'load', 'thresholds', 'p99'], '5s');
    };
    const base = `2.5.10-base.${stamp}`;
    expect(
      (
        await meridian(
          [
            'start',
            '-f',
            specFor(base, loadTest, { staging: true }),
            '--load-duration',
            '4s',
            '--bake',
            '1s',
            '--canary-soak',
            '1s',
          ],
          { env },
        )
      ).code,
    ).toBe(0);
    const good = await ended(idOf(base));
    expect(good.phase).toBe('Succeeded');
    const baseline = good.regions.find((r) => r.name === environment)!.load!;
    expect(baseline.passed).toBe(true);
    expect(baseline.baseline).toBeUndefined();
    expect(baseline.figures.requests).toBeGreaterThan(300);
    expect(baseline.figures.errorRate).toBe(0);

    const before = await deployedImages();
    const slower = `2.4.5-slower.${stamp}`; // examples/rig.yaml: answers 60 ms slower
    expect(
      (
        await meridian(
          [
            'start',
            '-f',
            specFor(slower, loadTest, { staging: true }),
            '--load-duration',
            '4s',
            '--bake',
            '1s',
            '--canary-soak',
            '1s',
          ],
          { env },
        )
      ).code,
    ).toBe(0);
    const halted = await statusWhen(
      client,
      idOf(slower),
      (s) => s.phase === 'Halted',
      'the staging load test to halt the release',
      120_000,
    );
    const staging = halted.regions.find((r) => r.name === environment)!;
    expect(staging.phase).toBe('RolledBack');
    expect(staging.load?.baseline).toMatchObject({ releaseId: idOf(base), version: base });
    const p99 = staging.load!.gates.find((g) => g.gate === 'regression p99')!;
    expect(p99.passed).toBe(false);
    expect(p99.detail).toMatch(
      new RegExp(`p99 \\d.*ms vs .*ms in ${base.replace(/\./g, '\\.')} \\(\\+\\d+%\\), limit \\+20%`),
    );
    expect(staging.load!.gates.find((g) => g.gate === 'p99')?.passed).toBe(true);
    expect(halted.reason).toMatch(new RegExp(`^${environment}: load test failed: .*p99 [\\d.]+ms vs `));
    // Production never saw it.
    expect(halted.regions.find((r) => r.name === 'us-east-canary')?.phase).toBe('Pending');
    expect((await deployedImages())['us-east-canary']).toEqual(before['us-east-canary']);

    expect((await meridian(['abort', idOf(slower), '--reason', 'p99 regression in staging'], { env })).code).toBe(0);
    expect((await ended(idOf(slower))).phase).toBe('Failed');
  }, 300_000);

  it('runs job and command checks in a region, and says what each checked and why it failed', async () => {
    const suite = join(mkdtempSync(join(tmpdir(), 'meridian-suite-')), 'suite.yaml');
    const probe =
      "fetch(process.env.MERIDIAN_ENDPOINT + '/search?q=' + encodeURIComponent('결제')).then(r => r.json()).then(b => process.exit(b.query === '결제' ? 0 : 1))";
    writeFileSync(
      suite,
      stringify({
        checks: [
          { name: 'health', request: { path: '/healthz' }, expect: { status: 200 } },
          {
            name: 'korean search from a script',
            kind: 'command',
            command: [process.execPath, '-e', probe],
            timeout: '30s',
          },
          {
            name: 'smoke job',
            kind: 'job',
            job: { image: 'curlimages/curl:8.11.0', args: ['-fsS', '$(MERIDIAN_ENDPOINT)/healthz'] },
            timeout: '1m',
          },
          {
            name: 'contract job',
            kind: 'job',
            job: {
              image: 'postman/newman:6',
              args: ['run', 'contract.json'],
              labels: { 'meridian.dev/simulate-exit-code': '3' },
            },
            timeout: '1m',
          },
          { name: 'missing tool', kind: 'command', command: ['k6-not-installed', 'run'], timeout: '10s' },
        ],
      }),
    );
    const version = `2.5.12-checks.${stamp}`;
    const file = specFor(
      version,
      (doc) => (only('us-east-canary')(doc), doc.setIn(['spec', 'validation', 'integration', 'suite'], suite)),
    );
    expect((await meridian(['start', '-f', file, '--bake', '1s', '--canary-soak', '1s'], { env })).code).toBe(0);
    const halted = await statusWhen(
      client,
      idOf(version),
      (s) => s.phase === 'Halted',
      'the failing checks to halt the release',
      120_000,
    );
    const region = (await client.workflow.getHandle(halted.regions[0].workflowId!).result()) as RegionResult;
    const byName = Object.fromEntries(region.checks!.results.map((r) => [r.name, r]));
    expect(byName['health'].passed).toBe(true);
    expect(byName['korean search from a script']).toMatchObject({
      passed: true,
      checked: expect.stringContaining('-> exit code 0'),
    });
    expect(byName['smoke job']).toMatchObject({
      passed: true,
      checked: expect.stringMatching(/^Job canary\/meridian-smoke-job-\w+ \(curlimages\/curl:8\.11\.0\) -> succeeds/),
    });
    expect(byName['contract job'].passed).toBe(false);
    expect(byName['contract job'].failure).toMatch(/the Job failed \(BackoffLimitExceeded.*exited with code 3/);
    expect(byName['missing tool']).toMatchObject({
      passed: false,
      failure: 'k6-not-installed is not installed on the worker (not found in PATH)',
    });
    expect(halted.regions[0].error).toMatch(/integration checks failed: contract job: .*; missing tool: /);
    expect((await meridian(['abort', idOf(version)], { env })).code).toBe(0);
    await ended(idOf(version));
  });

  it('catches a release that breaks Korean input only in Seoul there, after the regions before it passed', async () => {
    const seoul = `2.4.6-seoul.${stamp}`; // examples/rig.yaml: mangles Hangul, only in ap-northeast-2
    const file = specFor(seoul, only('us-east-canary', 'us-west', 'ap-northeast-2', 'me-central'));
    expect((await meridian(['start', '-f', file, '--bake', '1s', '--canary-soak', '1s'], { env })).code).toBe(0);
    const halted = await statusWhen(
      client,
      idOf(seoul),
      (s) => s.phase === 'Halted',
      'the release to halt in Seoul',
      180_000,
    );
    const phases = Object.fromEntries(halted.regions.map((r) => [r.name, r.phase]));
    expect(phases).toMatchObject({
      'us-east-canary': 'Succeeded',
      'us-west': 'Succeeded',
      'ap-northeast-2': 'RolledBack',
    });
    const seoulRegion = halted.regions.find((r) => r.name === 'ap-northeast-2')!;
    expect(seoulRegion.error).toMatch(/search in Korean: .*\$\.query is "\?\?", expected "결제"/);
    expect((await deployedImages())['ap-northeast-2'].version).not.toBe(seoul);

    // Amended in flight: Seoul is left out until the fix, and the rest of the release goes on.
    const noReason = await meridian(['skip', idOf(seoul), 'ap-northeast-2'], { env });
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--reason: say why');
    const skipCanary = temporalCli(
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      idOf(seoul),
      '--name',
      'skip-region',
      '--input',
      '{"region":"us-east-canary","reason":"x"}',
    );
    await expect(skipCanary).rejects.toThrow(/us-east-canary is the canary/);
    const skipped = await meridian(['skip', idOf(seoul), 'ap-northeast-2', '--reason', 'Hangul fix ships in 2.4.7'], {
      env: { ...env, MERIDIAN_OPERATOR: 'oncall@e2e' },
    });
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toMatch(
      /ap-northeast-2 +Skipped +.*skip ap-northeast-2 by oncall@e2e: Hangul fix ships in 2\.4\.7/,
    );
    expect((await meridian(['watch', idOf(seoul)], { env, timeoutMs: 180_000 })).code).toBe(0);
    const images = await deployedImages();
    expect(images['ap-northeast-2'].version).not.toBe(seoul);
    expect(images['me-central'].version).toBe(seoul);
  });

  it('catches a release that degrades minutes into its bake, rolls the region back, and reports the time it took', async () => {
    const leak = `2.4.4-leak.${stamp}`; // examples/rig.yaml: 30% errors two minutes after it starts
    const file = specFor(leak, (doc) => (only('us-east-canary', 'us-west')(doc), analysis('5s')(doc)), {
      analysis: true,
    });
    expect((await meridian(['start', '-f', file, '--bake', '1s', '--canary-soak', '6m'], { env })).code).toBe(0);
    const soakEnds = Date.now() + 6 * 60_000;
    const canary = rig.regions.find((r) => r.name === 'us-east-canary')!;

    const wentBad = await eventually(
      async () => {
        const body = (await (await fetch(`http://127.0.0.1:${canary.port}/version`)).json()) as {
          misbehavingSince?: string | null;
        };
        return body.misbehavingSince ? Date.parse(body.misbehavingSince) : undefined;
      },
      'the canary to start misbehaving',
      200_000,
      250,
    );
    const halted = await statusWhen(
      client,
      idOf(leak),
      (s) => s.phase === 'Halted' && s.regions[0].phase === 'RolledBack',
      'the halt and rollback',
      120_000,
    );
    const reactionMs = Date.now() - wentBad;
    const analysed = halted.regions[0].analysis!;
    expect(analysed.verdict).toBe('failed');
    expect(analysed.passed).toBeGreaterThanOrEqual(20); // two good minutes measured every 5 s
    // The probe or the error-rate query, whichever measured the 30% errors first.
    expect(halted.regions[0].error).toMatch(
      /^bake analysis failed: 1 failed measurement \(limit 0\): .*(health: GET \/healthz answered 500|error-rate: 0\.\d+)/,
    );
    // The bake stopped at once, minutes before the soak would have ended. How fast is reported, not
    // asserted (target: one sampling interval plus 10 s); speed belongs to measurements, not to pass/fail.
    console.log(`bad-to-halted-and-rolled-back: ${(reactionMs / 1000).toFixed(1)} s (interval 5 s, target < 15 s)`);
    expect(Date.parse(halted.regions[0].analysis!.deciding!.at)).toBeGreaterThanOrEqual(wentBad);
    expect(Date.now()).toBeLessThan(soakEnds - 60_000);
    expect((await meridian(['abort', idOf(leak)], { env })).code).toBe(0);
    await ended(idOf(leak));
  }, 360_000);

  it('pauses as inconclusive when a bake sees too little traffic, and goes on when an operator accepts it', async () => {
    const quiet = `2.5.11-quiet.${stamp}`;
    const tooMuchAsked = analysis('2s', (doc) =>
      doc.setIn(['spec', 'validation', 'analysis', 'minRequests', 'min'], 1_000_000),
    );
    const file = specFor(quiet, (doc) => (only('us-east-canary', 'us-west')(doc), tooMuchAsked(doc)), {
      analysis: true,
    });
    expect((await meridian(['start', '-f', file, '--bake', '1s', '--canary-soak', '10s'], { env })).code).toBe(0);
    const waiting = await statusWhen(client, idOf(quiet), (s) => s.phase === 'Halted', 'the inconclusive halt', 60_000);
    expect(waiting.gate).toBe('accept-wave-1');
    expect(waiting.regions[0]).toMatchObject({ name: 'us-east-canary', phase: 'Inconclusive' });
    expect(waiting.regions[0].error).toMatch(/too little traffic: \d+ requests during the bake, 1000000 needed/);
    expect(waiting.regions[1].phase).toBe('Pending');
    // Not rolled back: nothing was proven bad.
    expect((await deployedImages())['us-east-canary'].version).toBe(quiet);

    const approved = await meridian(['approve', idOf(quiet), '--reason', 'quiet hour; dashboards checked'], {
      env: { ...env, MERIDIAN_OPERATOR: 'oncall@e2e' },
    });
    expect(approved.code).toBe(0);
    const done = await ended(idOf(quiet));
    expect(done.phase).toBe('Succeeded');
    expect(done.regions[0]).toMatchObject({ phase: 'Succeeded', error: 'inconclusive bake accepted by oncall@e2e' });
    expect(done.actions).toContainEqual(expect.objectContaining({ action: 'approve accept-wave-1', by: 'oncall@e2e' }));
  });
});
