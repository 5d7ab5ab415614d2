import { Client, WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { RegionInput, ReleaseInput } from '../../src/domain/release-input';
import type { ReleaseStatus } from '../../src/domain/release-status';
import { planRelease } from '../../src/domain/rollout-plan';
import { queryStatus } from '../../src/client/release-handle';
import { requireTool } from '../../src/rig/toolchain';
import {
  approveSignal,
  pauseSignal,
  pauseUpdate,
  resumeSignal,
  skipRegionUpdate,
  taskQueue,
} from '../../src/workflows/definitions';
import { regionWorkflow } from '../../src/workflows/region-workflow';
import { releaseWorkflow } from '../../src/workflows/release-workflow';
import { eventually } from '../support/eventually';
import { exampleInput, fakeActivities } from '../support/fake-activities';
import { keepReplayFixture } from '../support/release-workflow-rig';
import { workflowTestRig } from '../support/workflow-env';

/**
 * The workflows' own defences (issue 12): a start input whose durations are not finite numbers is
 * refused before anything deploys, and an operator's identity is the one Temporal reports for the
 * caller when the request names nobody. Time-skipping server; the worker registers the sender-identity
 * interceptor module as `meridian worker` does.
 */
const fake = fakeActivities();
let env: TestWorkflowEnvironment;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ env, stop } = await workflowTestRig(fake.activities));
});

afterAll(async () => {
  await stop?.();
});

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure) return err.cause;
    throw err;
  }
  throw new Error('expected the workflow to fail');
}

const statusWhen = (releaseId: string, ready: (s: ReleaseStatus) => boolean, what: string): Promise<ReleaseStatus> =>
  eventually(
    async (saw) => {
      const status = saw(await queryStatus(env.client, releaseId));
      return ready(status) ? status : undefined;
    },
    what,
    30_000,
    100,
  );

/** Records a replay fixture once, when MERIDIAN_RECORD_HISTORIES=1, as the release workflow's tests do. */
const keepHistory = (workflowId: string, name: string): Promise<void> =>
  keepReplayFixture(env.client, workflowId, name);

/** The example's plan as `meridian start` sends it, with one wave's bake replaced. */
function withPlanBake(input: ReleaseInput, wave: number, bakeMs: unknown): ReleaseInput {
  const plan = planRelease(input.spec, input.overrides, undefined, 'spec-order');
  plan.waves[wave] = { ...plan.waves[wave], bakeMs: bakeMs as number };
  return { ...input, plan };
}

describe('releaseWorkflow refuses a start input it cannot run safely', () => {
  const cases: [string, (input: ReleaseInput) => ReleaseInput, RegExp][] = [
    // The issue: a bake of hundreds of digits was Infinity, which JSON sends as null: no bake at all.
    [
      'a plan bake of Infinity (null on the wire)',
      (i) => withPlanBake(i, 1, Infinity),
      /plan\.waves\[1\]\.bakeMs: expected a duration in milliseconds from 0 to 30d, got null \(a duration too long/,
    ],
    ['a plan bake that is text', (i) => withPlanBake(i, 0, '72h'), /plan\.waves\[0\]\.bakeMs: .*got "72h"/],
    ['a negative plan bake', (i) => withPlanBake(i, 2, -1), /plan\.waves\[2\]\.bakeMs: .*got -1/],
    [
      'a bake override of Infinity',
      (i) => ({ ...i, overrides: { bakeMs: Infinity } }),
      /overrides\.bakeMs: .*got null/,
    ],
    [
      'a canary soak override past 30 days',
      (i) => ({ ...i, overrides: { canarySoakMs: 31 * 86_400_000 } }),
      /overrides\.canarySoakMs: .*got 2678400000/,
    ],
    [
      'a load duration override of NaN',
      (i) => ({ ...i, overrides: { loadDurationMs: NaN } }),
      /overrides\.loadDurationMs: .*got null/,
    ],
    [
      'a time-to-smoke of Infinity',
      (i) => ({ ...i, timeToSmoke: { ms: Infinity, used: 0, method: 'default', derivation: 'x' } }),
      /timeToSmoke\.ms: .*got null/,
    ],
    [
      'a canary soak of Infinity in the spec',
      (i) => ({
        ...i,
        spec: { ...i.spec, spec: { ...i.spec.spec, rollout: { ...i.spec.spec.rollout, canarySoak: Infinity } } },
      }),
      /spec\.spec\.rollout\.canarySoak: .*got null/,
    ],
    [
      'a check timeout that is not a number',
      (i) => ({
        ...i,
        checks: {
          checks: [
            {
              name: 'job',
              kind: 'job',
              job: { image: 'x', args: [], env: {}, labels: {}, backoffLimit: 0 },
              timeout: Infinity,
            },
          ],
        } as ReleaseInput['checks'],
      }),
      /checks\.checks\[0\]\.timeout: .*got null/,
    ],
    [
      'a plan naming a region the spec has not',
      (i) => ({ ...i, plan: { waves: [{ regions: ['mars-1'], bakeMs: 0, reason: 'x' }], maxParallel: 1 } }),
      /plan\.waves\[0\]\.regions: "mars-1" not in spec\.spec\.regions/,
    ],
  ];

  it.each(cases)(
    '%s: fails at once, non-retryable, naming the field, before any step',
    async (name, change, message) => {
      const input = change(exampleInput(`wf-refused-${name.replace(/\W+/g, '-')}`));
      const failure = await failureOf(
        env.client.workflow.execute(releaseWorkflow, { workflowId: input.releaseId, taskQueue, args: [input] }),
      );
      expect(failure.type).toBe('InvalidInput');
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toMatch(/^the release input was refused before anything deployed: /);
      expect(failure.message).toMatch(message);
      // Nothing ran: no copy, no render, no deploy, no child workflow.
      expect(fake.calls(input.releaseId, 'replicateImage')).toEqual([]);
      expect(fake.calls(input.releaseId, 'deployRegion')).toEqual([]);
      const history = await env.client.workflow.getHandle(input.releaseId).fetchHistory();
      const kinds = new Set(history.events!.map((e) => e.eventType));
      expect(kinds.has(temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)).toBe(false);
      expect(kinds.has(temporal.api.enums.v1.EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED)).toBe(
        false,
      );
      expect(kinds.has(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)).toBe(false);
    },
  );

  it('refuses an input that is not an object at all, naming it by its type', async () => {
    const failure = await failureOf(
      env.client.workflow.execute('releaseWorkflow', {
        workflowId: 'wf-refused-not-an-object',
        taskQueue,
        args: ['9'.repeat(500)],
      }),
    );
    expect(failure.type).toBe('InvalidInput');
    expect(failure.message).toContain('input: expected the release input object that meridian start sends, got "999');
    expect(failure.message.length).toBeLessThan(300);
  });

  it('a region workflow started by hand with a null bake fails before it renders', async () => {
    const input = exampleInput('wf-refused-region');
    const region = input.spec.spec.regions[0];
    const regionInput = {
      release: {
        releaseId: input.releaseId,
        app: 'shop-api',
        version: input.spec.metadata.version,
        image: input.spec.spec.image,
      },
      region,
      wave: 1,
      template: input.template,
      values: {},
      bakeMs: Infinity,
      onFailure: 'rollback-region',
      attempt: 1,
    } as RegionInput;
    const failure = await failureOf(
      env.client.workflow.execute(regionWorkflow, {
        workflowId: 'wf-refused-region.x.1',
        taskQueue,
        args: [regionInput],
      }),
    );
    expect(failure.type).toBe('InvalidInput');
    expect(failure.message).toMatch(/^the region input was refused before anything deployed: bakeMs: .*got null/);
    expect(fake.calls(input.releaseId, 'renderRegion')).toEqual([]);
  });

  it('a valid input still runs as before', async () => {
    const input = withPlanBake(
      exampleInput('wf-input-ok', (s) => void (s.spec.rollout.approvals = []), { canarySoakMs: 0, bakeMs: 0 }),
      0,
      60_000,
    );
    const result = await env.client.workflow.execute(releaseWorkflow, {
      workflowId: input.releaseId,
      taskQueue,
      args: [input],
    });
    expect(result.phase).toBe('Succeeded');
  });
});

describe('who an operator action is recorded as', () => {
  const gated = (id: string) => exampleInput(id, undefined, { canarySoakMs: 0, bakeMs: 0 });

  it("is the request's by; without one, the identity Temporal reports for the caller, for signals and updates", async () => {
    const input = gated('wf-identity');
    const handle = await env.client.workflow.start(releaseWorkflow, {
      workflowId: input.releaseId,
      taskQueue,
      args: [input],
    });
    await statusWhen(input.releaseId, (s) => s.phase === 'WaitingForApproval', 'the gate');
    const ci = new Client({
      connection: env.client.connection,
      namespace: env.namespace ?? 'default',
      identity: 'ci-bot@build-7',
    });
    const theirs = ci.workflow.getHandle(input.releaseId);

    await theirs.signal(pauseSignal, { reason: 'checking dashboards' });
    await theirs.signal(resumeSignal, { by: 'alice', reason: 'dashboards fine' });
    await theirs.executeUpdate(pauseUpdate, { args: [{ reason: 'again' }] });
    await handle.signal(resumeSignal);
    // A refused payload is recorded with the sender too.
    await theirs.signal(approveSignal, { gate: 'after-canary', by: 42 } as never);
    const status = await statusWhen(input.releaseId, (s) => s.actions.length >= 5, 'five actions');
    expect(status.actions.map((a) => [a.action, a.by])).toEqual([
      ['pause', 'ci-bot@build-7'],
      ['resume', 'alice'],
      ['pause', 'ci-bot@build-7'],
      ['resume', expect.stringMatching(/^\d+@/)], // the test client's own identity: pid@host
      ['refused approve signal', 'ci-bot@build-7'],
    ]);
    expect(status.actions[4].reason).toBe('approve: by: expected text (who asks, such as alice@laptop), got 42');
    expect(status.gate).toBe('after-canary');

    // An amendment without a by is recorded, and noted on its region, with the sender's identity.
    await theirs.executeUpdate(skipRegionUpdate, { args: [{ region: 'sa-east', reason: 'capacity' }] });
    await handle.signal(approveSignal, { by: 'alice' });
    const result = await handle.result();
    expect(result.actions).toContainEqual(
      expect.objectContaining({ action: 'skip sa-east', by: 'ci-bot@build-7', reason: 'capacity' }),
    );
    expect(result.regions.find((r) => r.name === 'sa-east')?.note).toBe('skip sa-east by ci-bot@build-7: capacity');
    await keepHistory(input.releaseId, 'v7-checked-operator-input');
    await keepHistory(`${input.releaseId}.us-west.1`, 'v7-region-checked-input');
  });

  it('with the temporal CLI: its identity is recorded, a hostile or undecodable payload is refused, the release goes on', async () => {
    const input = gated('wf-identity-cli');
    const handle = await env.client.workflow.start(releaseWorkflow, {
      workflowId: input.releaseId,
      taskQueue,
      args: [input],
    });
    await statusWhen(input.releaseId, (s) => s.phase === 'WaitingForApproval', 'the gate');
    const cli = (...args: string[]) =>
      promisify(execFile)(
        requireTool('temporal'),
        [
          'workflow',
          'signal',
          '--address',
          env.address,
          '--namespace',
          env.namespace ?? 'default',
          '--workflow-id',
          input.releaseId,
          ...args,
        ],
        {
          timeout: 30_000,
        },
      );

    await cli('--name', 'pause', '--input', '{"reason":"from the temporal CLI"}');
    await cli('--name', 'resume', '--identity', 'ops-runbook@bastion');
    await cli('--name', 'abort', '--input', '{"__proto__":{"polluted":true},"reason":"x"}');
    await cli('--name', 'abort', '--input', `"${'9'.repeat(5000)}"`);
    await cli('--name', 'pause', '--input', '{"reason":"x"}', '--input-meta', 'encoding=application/x-hostile');
    const status = await statusWhen(input.releaseId, (s) => s.actions.length >= 5, 'five actions');
    expect(status.actions.map((a) => [a.action, a.by])).toEqual([
      ['pause', expect.stringMatching(/^temporal-cli:/)],
      ['resume', 'ops-runbook@bastion'],
      ['refused abort signal', expect.stringMatching(/^temporal-cli:/)],
      ['refused abort signal', expect.stringMatching(/^temporal-cli:/)],
      ['refused pause signal', expect.stringMatching(/^temporal-cli:/)],
    ]);
    expect(status.actions[2].reason).toBe('abort: unknown field "__proto__" (abort takes by, reason)');
    expect(status.actions[3].reason).toMatch(
      /^abort: expected an object such as \{"by":"alice","reason":"\.\.\."\}, got "9{80}…" \(5000 characters\)$/,
    );
    expect(status.actions[4].reason).toMatch(/^pause: expected an object .*got "an undecodable payload/);
    expect(status).toMatchObject({ phase: 'WaitingForApproval', paused: false, gate: 'after-canary' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();

    await handle.signal(approveSignal, { by: 'alice' });
    expect((await handle.result()).phase).toBe('Succeeded');
    const history = await handle.fetchHistory();
    expect(
      history.events!.some((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED),
    ).toBe(false);
  });

  it('refuses hostile update payloads with the field and the expected form', async () => {
    const input = gated('wf-update-refusals');
    const handle = await env.client.workflow.start(releaseWorkflow, {
      workflowId: input.releaseId,
      taskQueue,
      args: [input],
    });
    await statusWhen(input.releaseId, (s) => s.phase === 'WaitingForApproval', 'the gate');
    const refusal = async (name: string, payload: unknown) => {
      const err = await handle.executeUpdate(name, { args: [payload] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
      return (err as WorkflowUpdateFailedError).cause?.message;
    };
    expect(await refusal('pause', [1, 2])).toBe(
      'pause: expected an object such as {"by":"alice","reason":"..."}, got a list of 2',
    );
    expect(await refusal('abort', { reason: 'x'.repeat(1025) })).toBe(
      'abort: reason: at most 1024 characters, got 1025: shorten it',
    );
    expect(await refusal('abort', { reason: 'ok\u001b[2Jgone' })).toBe(
      'abort: reason: one line of printable text, got U+001B at character 3 in "ok\\u001b[2Jgone"',
    );
    expect(await refusal('skip-region', { region: 7, reason: 'x' })).toBe(
      'skip-region: region: expected a region name such as eu-west, got 7',
    );
    expect(await refusal('skip-region', { region: 'mars-1', reason: 'x' })).toMatch(/^mars-1 is not in this release/);
    expect(await refusal('move-region', { region: 'sa-east', reason: 'x' })).toBe(
      'move-region: toWave: give the later wave (1-based) to move sa-east to',
    );
    expect(
      await refusal('add-region', {
        region: JSON.parse('{"name":"eu-north","constructor":{"prototype":{}}}'),
        reason: 'x',
      }),
    ).toBe('add-region: region: the key "constructor" at region is not a field of a region');
    expect(await refusal('approve', { gate: '__proto__' })).toBe(
      'approve: gate: expected a gate such as after-canary, after-wave-2 or accept-wave-3, got "__proto__"',
    );
    const status = await queryStatus(env.client, input.releaseId);
    expect(status).toMatchObject({ phase: 'WaitingForApproval', paused: false, actions: [] });
    await handle.terminate('test done');
  });
});
