import type { ReleaseSpec } from '../../../src/domain/release-spec';
import type { ReleaseStatus } from '../../../src/domain/release-status';
import { abortSignal, approveSignal, resumeSignal, statusQuery, taskQueue } from '../../../src/workflows/definitions';
import { releaseWorkflow } from '../../../src/workflows/release-workflow';
import { exampleInput, withAnalysis, withoutGates } from '../../support/fake-activities';
import { eventually } from '../../support/eventually';
import { failureOf, hour, releaseWorkflowRig } from '../../support/release-workflow-rig';

/**
 * The traffic steps of a release (spec.traffic): a region leaves its hostname's answers before its
 * cluster is touched, waits one TTL, comes back step by step while it bakes, and is kept out when it is
 * rolled back. Time-skipping test server, fake activities (the provider itself is proven against a
 * real PowerDNS in test/infra/traffic).
 */
const rig = releaseWorkflowRig();
const { fake, start, statusWhen, keepHistory } = rig;

const shortBakes = { canarySoakMs: 3 * hour, bakeMs: 30 * 60_000 };
const steering = (change: (traffic: NonNullable<ReleaseSpec['spec']['traffic']>) => void) => (spec: ReleaseSpec) => {
  withoutGates(spec);
  change(spec.spec.traffic!);
};

describe('releaseWorkflow traffic steps', () => {
  it('drains each region before it deploys, waits one TTL, ramps it back while it bakes and ends with all its users', async () => {
    const input = exampleInput(
      'wf-traffic-ramp',
      steering(() => undefined),
      shortBakes,
    );
    const result = await rig.env.client.workflow.execute(releaseWorkflow, {
      workflowId: input.releaseId,
      taskQueue,
      args: [input],
    });
    expect(result.phase).toBe('Succeeded');
    const steps = fake.trafficSteps(input.releaseId);
    for (const region of Object.keys(input.spec.spec.traffic!.regions)) {
      // The last wave has no bake to ramp in: its region goes straight back to all its users.
      const ramped = region === 'ap-south' ? [0, 1] : [0, 0.1, 0.5, 1];
      expect(steps.filter((s) => s.region === region).map((s) => s.share)).toEqual(ramped);
    }
    const canary = steps.filter((s) => s.region === 'us-east-canary');
    expect(canary.map((s) => s.reason)).toEqual([
      'drained to deploy',
      'ramping while it bakes: 10% of its users (step 1 of 3)',
      'ramping while it bakes: 50% of its users (step 2 of 3)',
      'ramping while it bakes: 100% of its users (step 3 of 3)',
    ]);
    // The drain comes before anything touches the cluster, and the deploy at least one TTL after it.
    const order = fakeOrder(input.releaseId, 'us-east-canary');
    expect(order.slice(0, 2)).toEqual(['steerRegion', 'renderRegion']);
    // Ramp steps split the bake in three: 1h of the 3h soak between 10% and 50%.
    expect(Date.parse(canary[2].at) - Date.parse(canary[1].at)).toBeGreaterThanOrEqual(hour - 1000);
    expect(Date.parse(canary[2].at) - Date.parse(canary[1].at)).toBeLessThan(hour + 60_000);
    await keepHistory(`${input.releaseId}.us-east-canary.1`, 'v9-region-traffic-drain-and-ramp');
  });

  it('shows the region draining, then its share while it bakes, in the status', async () => {
    const input = exampleInput(
      'wf-traffic-status',
      steering(() => undefined),
      shortBakes,
    );
    const handle = await start(input);
    // The server's clock runs in real time until a test moves it: the 5 s TTL wait is there to be seen.
    const draining = await statusWhen(
      input.releaseId,
      (s) => s.regions.some((r) => r.name === 'us-east-canary' && r.phase === 'Draining' && r.until !== undefined),
      'the canary waiting one TTL',
    );
    const canary = draining.regions.find((r) => r.name === 'us-east-canary')!;
    expect(canary.waitingFor).toBe('resolvers to let go of us-east-canary: one TTL (5s) after its drain');
    expect(canary.traffic).toEqual({
      hostname: 'shop.example.test',
      mode: 'drained',
      share: 0,
      reason: 'drained to deploy',
    });
    await rig.env.sleep(60_000);
    const baking = await statusWhen(
      input.releaseId,
      (s) => s.regions.some((r) => r.name === 'us-east-canary' && r.phase === 'Baking'),
      'the canary baking',
    );
    const baked = baking.regions.find((r) => r.name === 'us-east-canary')!;
    expect(baked.traffic).toMatchObject({ mode: 'ramp', share: 0.1 });
    expect(baked.waitingFor).toBe('the bake before the next wave, answering 10% of its users');
    await handle.terminate('seen enough');
  });

  it('fails a region whose DNS API does not answer before its cluster is touched, saying why', async () => {
    const input = exampleInput(
      'wf-traffic-dns-down',
      steering(() => undefined),
      { ...shortBakes, canarySoakMs: 0 },
    );
    fake.behave(input.releaseId, { dnsDown: true });
    const handle = await start(input);
    const halted = await statusWhen(
      input.releaseId,
      (s) => s.regions.some((r) => r.name === 'us-east-canary' && r.phase === 'Failed'),
      'the canary failed',
    );
    const canary = halted.regions.find((r) => r.name === 'us-east-canary')!;
    expect(canary.error).toContain('PowerDNS API at http://127.0.0.1:8281 did not answer');
    expect(fake.calls(input.releaseId, 'steerRegion').filter((r) => r === 'us-east-canary').length).toBe(5);
    expect(fake.calls(input.releaseId, 'renderRegion')).toEqual([]);
    expect(fake.calls(input.releaseId, 'deployRegion')).toEqual([]);
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual([]);
    await handle.terminate('seen enough');
  });

  it('keeps a rolled-back region out of the answers (onRollback: drain), and a later attempt that succeeds brings it back', async () => {
    const input = exampleInput(
      'wf-traffic-rollback',
      steering(() => undefined),
      { ...shortBakes, canarySoakMs: 0, bakeMs: 0 },
    );
    fake.behave(input.releaseId, { failRollout: ['eu-west'] });
    const handle = await start(input);
    await statusWhen(input.releaseId, (s) => s.phase === 'Halted', 'the halt after eu-west');
    const euWest = () => fake.trafficSteps(input.releaseId).filter((s) => s.region === 'eu-west');
    // Drained to deploy, and drained again before its rollback: its state now says why it stays out.
    expect(euWest().map((s) => s.share)).toEqual([0, 0]);
    expect(euWest()[1].reason).toMatch(/^drained after failing: Deployment shop-api failed to roll out/);
    fake.behave(input.releaseId, {});
    await handle.signal(resumeSignal, { by: 'alice', reason: 'rollout fixed' });
    expect((await handle.result()).phase).toBe('Succeeded');
    // The retry drains again (idempotent), deploys, and with no bake goes straight back to all its users.
    expect(euWest().map((s) => s.share)).toEqual([0, 0, 0, 1]);
    expect(euWest().at(-1)?.reason).toBe('released: in service');
  });

  it('drains a region rolled back after it had users again (a failed bake), with the reason', async () => {
    const input = exampleInput(
      'wf-traffic-bake-failed',
      (spec) => {
        steering(() => undefined)(spec);
        spec.spec.validation.analysis = {
          interval: 60_000,
          failureLimit: 0,
          inconclusiveLimit: 2,
          minSamples: 1,
          probes: [{ name: 'health', path: '/healthz', maxLatency: 1000 }],
          metrics: [],
        } as unknown as NonNullable<ReleaseSpec['spec']['validation']['analysis']>;
      },
      { ...shortBakes, canarySoakMs: 0 },
    );
    fake.behave(input.releaseId, { bake: { 'us-west': 'failed' } });
    const handle = await start(input);
    await statusWhen(
      input.releaseId,
      (s) => s.regions.some((r) => r.name === 'us-west' && r.phase === 'RolledBack'),
      'us-west rolled back',
    );
    const usWest = fake.trafficSteps(input.releaseId).filter((s) => s.region === 'us-west');
    expect(usWest[0].share).toBe(0);
    expect(usWest[1].share).toBe(0.1);
    expect(usWest.at(-1)?.share).toBe(0);
    expect(usWest.at(-1)?.reason).toMatch(/^drained after failing: bake analysis failed/);
    await keepHistory(`${input.releaseId}.us-west.1`, 'v9-region-traffic-drained-after-failed-bake');
    // Aborted, not terminated: the regions still baking end their steps (the test server stops skipping
    // time for good when a terminated workflow's activity completes).
    rig.freshServerAfterThisTest();
    await handle.signal(abortSignal, { by: 'alice', reason: 'seen enough' });
    expect((await failureOf(handle.result())).type).toBe('ReleaseAborted');
    // Regions aborted while they baked leave the answers as the spec says (onRollback: drain).
    const aborted = fake.trafficSteps(input.releaseId).filter((s) => s.region === 'eu-west');
    expect(aborted.at(-1)).toMatchObject({ share: 0 });
    expect(aborted.at(-1)?.reason).toMatch(/^drained after failing: aborted by alice/);
  });

  const earlierDrain = {
    mode: 'drained' as const,
    share: 0,
    by: 'release release-shop-api-2.3.9',
    reason: 'drained after failing: integration checks failed',
    at: '2026-11-30T10:00:00.000Z',
    release: 'release-shop-api-2.3.9',
  };
  /** What the drain's own first attempt wrote, as its retry reads it back. */
  const ownDrain = (releaseId: string) => ({
    mode: 'drained' as const,
    share: 0,
    by: `release ${releaseId}`,
    reason: 'drained to deploy',
    at: '2026-12-01T10:00:00.000Z',
    release: releaseId,
  });
  /** The region back in service, recorded as this release's step. */
  const backInService = (releaseId: string) => ({
    share: 1,
    reason: 'not deployed: back in service',
    by: `release ${releaseId}`,
  });
  /** The earlier release's drain put back as it was: its share, reason, author and time. */
  const keptOut = () => ({ share: 0, reason: earlierDrain.reason, by: earlierDrain.by, at: earlierDrain.at });
  it.each([
    ['in service', 'in', () => undefined, backInService],
    ['kept out by an earlier release', 'out', () => earlierDrain, keptOut],
    ['its own drain, written before the step was retried', 'retried', ownDrain, backInService],
  ])(
    'gives a region aborted while it drains, before anything is deployed, the state it had (%s)',
    async (name, id, before, after) => {
      const input = exampleInput(
        `wf-traffic-abort-draining-${id}`,
        steering(() => undefined),
        shortBakes,
      );
      const earlier = before(input.releaseId);
      fake.behave(input.releaseId, earlier ? { trafficBefore: { 'us-east-canary': earlier } } : {});
      const handle = await start(input);
      await statusWhen(
        input.releaseId,
        (s) => s.regions.some((r) => r.name === 'us-east-canary' && r.phase === 'Draining' && r.until !== undefined),
        `the canary waiting one TTL (${name})`,
      );
      rig.freshServerAfterThisTest();
      await handle.signal(abortSignal, { by: 'alice', reason: 'wrong build' });
      expect((await failureOf(handle.result())).type).toBe('ReleaseAborted');
      const canary = fake.trafficSteps(input.releaseId).filter((s) => s.region === 'us-east-canary');
      const expected = after(input.releaseId);
      expect(canary.map((s) => s.share)).toEqual([0, expected.share]);
      expect(canary.at(-1)).toMatchObject(expected);
      expect(fake.calls(input.releaseId, 'deployRegion')).toEqual([]);
      if (id === 'out') await keepHistory(`${input.releaseId}.us-east-canary.1`, 'v10-region-traffic-state-put-back');
    },
  );

  it('with duringDeploy: keep checks the DNS server before deploying and leaves the region in the answers', async () => {
    const input = exampleInput(
      'wf-traffic-keep',
      steering((traffic) => {
        traffic.duringDeploy = 'keep';
      }),
      { ...shortBakes, canarySoakMs: 0 },
    );
    const result = await rig.env.client.workflow.execute(releaseWorkflow, {
      workflowId: input.releaseId,
      taskQueue,
      args: [input],
    });
    expect(result.phase).toBe('Succeeded');
    const regions = Object.keys(input.spec.spec.traffic!.regions);
    expect(fake.calls(input.releaseId, 'prepareSteering').sort()).toEqual([...regions].sort());
    // One write per region, at the end: in service (a region an earlier release drained comes back).
    const steps = fake.trafficSteps(input.releaseId);
    expect(steps.map((s) => s.share)).toEqual(regions.map(() => 1));
    expect(fakeOrder(input.releaseId, 'eu-west')[0]).toBe('prepareSteering');
  });

  it('with onFailure rollback-all drains every region it rolls back before its rollback (onRollback: drain)', async () => {
    const input = exampleInput(
      'wf-traffic-rollback-all',
      steering((traffic) => {
        traffic.onRollback = 'drain';
      }),
      { canarySoakMs: 0, bakeMs: 0 },
    );
    input.spec.spec.rollout.onFailure = 'rollback-all';
    input.spec.spec.rollout.maxParallel = 1;
    fake.behave(input.releaseId, { failRollout: ['us-east'] });
    const failure = await failureOf(
      rig.env.client.workflow.execute(releaseWorkflow, { workflowId: input.releaseId, taskQueue, args: [input] }),
    );
    expect(failure.type).toBe('ReleaseFailed');
    // us-east drains itself after its own failure; the release drains the two it reached that had succeeded.
    expect(fake.calls(input.releaseId, 'rollbackRegion')).toEqual(['us-east', 'us-west', 'us-east-canary']);
    for (const region of ['us-west', 'us-east-canary']) {
      const steps = fake.trafficSteps(input.releaseId).filter((s) => s.region === region);
      expect(steps.map((s) => s.share)).toEqual([0, 1, 0]);
      expect(steps.at(-1)?.reason).toBe('drained: rolled back with the release (onFailure: rollback-all)');
      const order = fakeOrder(input.releaseId, region);
      expect(order.slice(order.lastIndexOf('steerRegion'))).toEqual([
        'steerRegion',
        'rollbackRegion',
        'waitForRollout',
      ]);
    }
    const status = await rig.env.client.workflow.getHandle(input.releaseId).query(statusQuery);
    expect(status.regions.find((r) => r.name === 'us-west')).toMatchObject({
      phase: 'RolledBack',
      traffic: { mode: 'drained', share: 0 },
    });
    await keepHistory(input.releaseId, 'v10-release-rollback-drains-traffic');
  });

  it('holds an inconclusive region at the share its ramp reached until an operator accepts it, then gives it all its users', async () => {
    const input = exampleInput(
      'wf-traffic-inconclusive-accepted',
      (spec) => {
        steering(() => undefined)(spec);
        withAnalysis(spec);
      },
      { canarySoakMs: hour, bakeMs: hour },
    );
    fake.behave(input.releaseId, { bake: { 'us-east-canary': 'inconclusive' } });
    const handle = await start(input);
    await rig.env.sleep(hour + 60_000);
    const halted = await statusWhen(input.releaseId, (s) => s.gate === 'accept-wave-1', 'the inconclusive halt');
    const canary = () => fake.trafficSteps(input.releaseId).filter((s) => s.region === 'us-east-canary');
    const held = canary().at(-1)!;
    // Drained, then ramped; never given all its users while nothing is proven.
    expect(held.share).toBeGreaterThan(0);
    expect(held.share).toBeLessThan(1);
    expect(canary().map((s) => s.share)).not.toContain(1);
    expect(halted.regions.find((r) => r.name === 'us-east-canary')?.traffic).toMatchObject({
      mode: 'ramp',
      share: held.share,
      reason: expect.stringMatching(/^bake inconclusive: held at \d+% of its users while an operator decides$/),
    });
    await handle.signal(approveSignal, { by: 'erin', reason: 'checked the dashboards' });
    await statusWhen(
      input.releaseId,
      (s) => s.regions.some((r) => r.name === 'us-east-canary' && r.traffic?.mode === 'in'),
      'the accepted canary back in service',
    );
    expect(canary().at(-1)).toMatchObject({ share: 1, reason: 'inconclusive bake accepted by erin: in service' });
    await keepHistory(input.releaseId, 'v10-release-inconclusive-held-then-accepted');
    await keepHistory(`${input.releaseId}.us-east-canary.1`, 'v10-region-inconclusive-holds-share');
    // Abort while wave 2 waits out its TTL, so that no activity is cancelled before a worker has it; the
    // tests after get a new server all the same (see freshServerAfterThisTest).
    await statusWhen(
      input.releaseId,
      (s) =>
        ['us-west', 'us-east', 'eu-west'].every((name) =>
          s.regions.some((r) => r.name === name && r.phase === 'Draining' && r.until !== undefined),
        ),
      'wave 2 waiting one TTL',
    );
    rig.freshServerAfterThisTest();
    await handle.signal(abortSignal, { by: 'erin', reason: 'test over' });
    await failureOf(handle.result());
  });

  it('leaves a region the traffic section does not list as it is', async () => {
    const input = exampleInput(
      'wf-traffic-unlisted',
      steering((traffic) => {
        delete (traffic.regions as Record<string, unknown>)['ap-south'];
      }),
      { ...shortBakes, canarySoakMs: 0, bakeMs: 0 },
    );
    const result = await rig.env.client.workflow.execute(releaseWorkflow, {
      workflowId: input.releaseId,
      taskQueue,
      args: [input],
    });
    expect(result.phase).toBe('Succeeded');
    expect(fake.trafficSteps(input.releaseId).some((s) => s.region === 'ap-south')).toBe(false);
    expect(fake.calls(input.releaseId, 'deployRegion')).toContain('ap-south');
  });

  it('aborted as the next wave starts, the regions starting then are aborted too: none deploys, none stays drained', async () => {
    const input = exampleInput(
      'wf-traffic-abort-as-wave-starts',
      (spec) => {
        steering(() => undefined)(spec);
        withAnalysis(spec);
      },
      { canarySoakMs: hour, bakeMs: hour },
    );
    fake.behave(input.releaseId, { bake: { 'us-east-canary': 'inconclusive' } });
    const handle = await start(input);
    // The canary's first stretch of analysis is inconclusive: no need to move the clock.
    await statusWhen(input.releaseId, (s) => s.gate === 'accept-wave-1', 'the inconclusive halt');
    await handle.signal(approveSignal, { by: 'erin', reason: 'checked the dashboards' });
    // The accepted canary's step back in service comes just before wave 2's regions start: abort then,
    // while their workflows are starting (the abort used to reach only the regions already running).
    await eventually(
      async () =>
        fake.trafficSteps(input.releaseId).some((s) => s.region === 'us-east-canary' && s.share === 1)
          ? true
          : undefined,
      'the accepted canary back in service',
      30_000,
      1,
    );
    // Its abort may cancel drains no worker has picked up yet.
    rig.freshServerAfterThisTest();
    await handle.signal(abortSignal, { by: 'erin', reason: 'wrong build' });
    const failure = await failureOf(handle.result());
    expect(failure.type).toBe('ReleaseAborted');
    expect(fake.calls(input.releaseId, 'deployRegion')).toEqual(['us-east-canary']);
    await keepHistory(input.releaseId, 'v12-release-abort-reaches-regions-starting');
    const waveTwo = ['us-west', 'us-east', 'eu-west'];
    const { regions } = failure.details?.[0] as ReleaseStatus;
    // Aborted, or never started when the abort came first: none went on to deploy and bake in full.
    const phases = regions.filter((r) => waveTwo.includes(r.name)).map((r) => r.phase);
    expect(phases.filter((phase) => phase !== 'Aborted' && phase !== 'Pending')).toEqual([]);
    // Each either never left the answers (aborted before its drain) or was drained and put back.
    for (const region of waveTwo) {
      const steps = fake.trafficSteps(input.releaseId).filter((s) => s.region === region);
      expect([[], ['drained to deploy', 'not deployed: back in service']]).toContainEqual(steps.map((s) => s.reason));
    }
  });
});

/** The activities one region of a release ran, in order. */
function fakeOrder(releaseId: string, region: string): string[] {
  return fake
    .callsInOrder(releaseId)
    .filter((c) => c.region === region)
    .map((c) => c.activity);
}
