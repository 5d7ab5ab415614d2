import { WorkflowUpdateFailedError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import fc from 'fast-check';
import { maxByChars, maxReasonChars, operatorMessageFields } from '../../src/domain/operator-requests';
import type { RegionStatus, ReleaseStatus } from '../../src/domain/release-status';
import { queryStatus } from '../../src/client/release-handle';
import { approveSignal, regionStatusQuery, taskQueue } from '../../src/workflows/definitions';
import { maxRecordedRefusals } from '../../src/workflows/input-checks';
import { releaseWorkflow } from '../../src/workflows/release-workflow';
import { eventually } from '../support/eventually';
import { exampleInput, fakeActivities } from '../support/fake-activities';
import { workflowTestRig } from '../support/workflow-env';
import { fuzzOptions, fuzzRuns, fuzzSeed, fuzzTimeoutMs } from '../support/fuzz-cli';

/**
 * Hostile operator messages sent to a running release, from a fixed seed, in the time-skipping test
 * environment: signals and updates with payloads that are not objects, lists, huge or multi-line
 * strings, prototype keys, numbers where text goes, unknown fields, gates and regions; signals to the
 * release and to its baking canary's region workflow. Invariants after each: the release and the
 * region answer their queries, nothing changed (phase, pause, regions), every update is refused with a
 * one-line message naming the message and field, every recorded string is bounded; at the end no
 * workflow task failed, at most maxRecordedRefusals refusals are recorded, and the release still
 * finishes when an operator approves. 200 cases in CI (about 20 s); the fuzz tier's MERIDIAN_FUZZ_RUNS
 * scaled by 0.02 (each case is a round trip to the server and two queries), from MERIDIAN_FUZZ_SEED.
 */
const runs = fuzzRuns(200, 0.02);
const seed = fuzzSeed;
const hour = 3_600_000;

type Message = keyof typeof operatorMessageFields;
const signals = ['pause', 'resume', 'approve', 'abort'] as const;
const updates = Object.keys(operatorMessageFields) as Message[];
const allFields = new Set<string>(Object.values(operatorMessageFields).flat());

const hostileText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '__proto__',
    'constructor',
    'x'.repeat(5000),
    '9'.repeat(400),
    '\u001b[2J\u001b[H',
    'a\nb',
    '\u202egnp.exe',
    '😀'.repeat(700),
    '',
  ),
);
const scalar = fc.oneof(fc.integer(), fc.double({ noNaN: false }), fc.boolean(), hostileText);
const jsonish = fc.oneof(
  scalar,
  fc.constant(null),
  fc.array(scalar, { maxLength: 4 }),
  fc.dictionary(hostileText, scalar, { maxKeys: 3 }),
);

/** A value a field must refuse: the wrong type, too long, or not one line. */
const badValue = (field: string): fc.Arbitrary<unknown> => {
  const notText = fc.oneof(
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.array(scalar, { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 5 }), scalar, { maxKeys: 2 }),
  );
  const tooLong = (max: number) => fc.integer({ min: max + 1, max: max + 3000 }).map((n) => 'r'.repeat(n));
  const notOneLine = fc
    .tuple(
      fc.string({ maxLength: 10 }),
      fc.constantFrom('\n', '\r', '\u0000', '\u001b', '\u0085', '\u202e'),
      fc.string({ maxLength: 10 }),
    )
    .map((p) => p.join(''));
  switch (field) {
    case 'by':
      return fc.oneof(notText, tooLong(maxByChars), notOneLine);
    case 'reason':
      return fc.oneof(notText, tooLong(maxReasonChars), notOneLine);
    case 'gate':
      return fc.oneof(
        notText,
        fc.constantFrom('__proto__', 'after-canary ', 'after-wave-0', 'AFTER-CANARY', 'after-wave-1e3', ''),
        notOneLine,
      );
    case 'toWave':
    case 'wave':
      return fc.oneof(
        fc.constantFrom(0, -1, 1.5, 1e308, Infinity, NaN, '2', null),
        fc.integer({ max: 0 }),
        fc.integer({ min: 100_001 }),
      );
    default: // region
      return fc.oneof(
        fc.integer(),
        fc.constantFrom('__proto__', 'EU-WEST', 'eu_west', '-eu', 'x'.repeat(64), '', 'eu west'),
        fc.array(scalar, { maxLength: 2 }),
      );
  }
};

/** A payload of `message` with a defect its reader must refuse (so none of them may change anything). */
const defective = (message: Message): fc.Arbitrary<{ payload: unknown; defect: string }> => {
  const fields: readonly string[] = operatorMessageFields[message];
  const valid: Record<string, unknown> = { by: 'fuzz', reason: 'fuzz' };
  const notAnObject = fc
    .oneof(
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      hostileText,
      fc.array(jsonish, { maxLength: 5 }),
    )
    .map((payload) => ({ payload, defect: 'not an object' }));
  const unknownKey = fc
    .tuple(
      fc.oneof(
        fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'Reason', 'by ', ''),
        fc.string({ maxLength: 12 }),
      ),
      jsonish,
    )
    .filter(([key]) => !allFields.has(key))
    .map(([key, value]) => ({
      payload: Object.fromEntries([...Object.entries(valid), [key, value]]),
      defect: 'unknown field',
    }));
  const badField = fc.constantFrom(...fields).chain((field) =>
    badValue(field).map((value) => ({
      payload: Object.fromEntries([...Object.entries(valid), [field, value]]),
      defect: `bad ${field}`,
    })),
  );
  return fc.oneof(notAnObject, unknownKey, badField);
};

/** Payloads of valid shape that ask for what is not there: a gate that is not waiting, a region not in the release. */
const unknownTarget = (message: Message): fc.Arbitrary<{ payload: unknown; defect: string }> | undefined => {
  if (message === 'approve')
    return fc
      .integer({ min: 1, max: 999 })
      .map((n) => ({ payload: { gate: `after-wave-${n}`, by: 'fuzz' }, defect: 'gate not waiting' }));
  if (message === 'skip-region' || message === 'retry-region')
    return fc
      .constantFrom('mars-1', 'eu-west-9', 'staging')
      .map((region) => ({ payload: { region, reason: 'fuzz' }, defect: 'unknown region' }));
  if (message === 'move-region')
    return fc.integer({ min: 1, max: 50 }).map((toWave) => ({
      payload: { region: 'us-east-canary', toWave, reason: 'fuzz' },
      defect: 'canary cannot move',
    }));
  return undefined;
};

type Case = {
  kind: 'signal' | 'update';
  target: 'release' | 'region';
  message: Message;
  payload: unknown;
  defect: string;
};
const payloadFor = (message: Message) => {
  const target = unknownTarget(message);
  return target
    ? fc.oneof({ arbitrary: defective(message), weight: 4 }, { arbitrary: target, weight: 1 })
    : defective(message);
};
const hostileCase: fc.Arbitrary<Case> = fc.oneof(
  fc
    .constantFrom(...signals)
    .chain((message) =>
      payloadFor(message).map((p) => ({ kind: 'signal' as const, target: 'release' as const, message, ...p })),
    ),
  fc
    .constantFrom('pause', 'resume', 'abort' as const)
    .chain((message) =>
      defective(message).map((p) => ({ kind: 'signal' as const, target: 'region' as const, message, ...p })),
    ),
  fc
    .constantFrom(...updates)
    .chain((message) =>
      payloadFor(message).map((p) => ({ kind: 'update' as const, target: 'release' as const, message, ...p })),
    ),
);

let env: TestWorkflowEnvironment;
let stop: () => Promise<void>;
const fake = fakeActivities();

beforeAll(async () => {
  ({ env, stop } = await workflowTestRig(fake.activities));
});

afterAll(async () => {
  await stop?.();
});

/** Polls `read` until `ready` holds of what it read. */
const until = <T>(read: () => Promise<T>, ready: (value: T) => boolean, what: string): Promise<T> =>
  eventually(
    async (saw) => {
      const value = saw(await read());
      return ready(value) ? value : undefined;
    },
    what,
    30_000,
    100,
  );

/** A refusal reads as one bounded line: the message (or the plan's rule) and the field, never a crash of the workflow code. */
function expectClearRefusal(message: string | undefined, c: Case): void {
  expect(message).toBeDefined();
  expect(message!.length).toBeLessThan(600);
  expect(message).not.toMatch(/\n|TypeError|is not a function|Cannot read|undefined is not|\[object Object\]/);
  if (c.defect !== 'unknown region' && c.defect !== 'gate not waiting' && c.defect !== 'canary cannot move')
    expect(message!.startsWith(`${c.message}: `)).toBe(true);
}

it(
  `a release stays healthy under ${runs} hostile operator signals and updates (seed ${seed})`,
  async () => {
    const input = exampleInput('fuzz-operator-inputs', undefined, { canarySoakMs: hour, bakeMs: 0 });
    const handle = await env.client.workflow.start(releaseWorkflow, {
      workflowId: input.releaseId,
      taskQueue,
      args: [input],
    });
    const region = env.client.workflow.getHandle(`${input.releaseId}.us-east-canary.1`);
    await until(
      () => region.query(regionStatusQuery).catch(() => undefined),
      (s) => s?.phase === 'Baking',
      'the canary to bake',
    );
    const before = await queryStatus(env.client, input.releaseId);
    expect(before).toMatchObject({ phase: 'Running', paused: false, actions: [] });

    const started = Date.now();
    let refusedSignals = 0;
    const seen = { signal: 0, update: 0, region: 0 };
    await fc.assert(
      fc.asyncProperty(hostileCase, async (c) => {
        if (c.kind === 'update') {
          seen.update++;
          const err = await handle.executeUpdate(c.message, { args: [c.payload] }).then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
          expectClearRefusal((err as WorkflowUpdateFailedError).cause?.message, c);
        } else if (c.target === 'region') {
          seen.region++;
          await region.signal(c.message, c.payload);
        } else {
          seen.signal++;
          if (c.defect !== 'gate not waiting') refusedSignals++;
          await handle.signal(c.message, c.payload);
        }
        // Both workflows answer, and nothing an operator could see has changed but refusals.
        const status: ReleaseStatus = await queryStatus(env.client, input.releaseId);
        expect(status).toMatchObject({ phase: 'Running', paused: false, wave: before.wave, waves: before.waves });
        expect(status.regions.map((r) => [r.name, r.wave, r.phase])).toEqual(
          before.regions.map((r) => [r.name, r.wave, r.phase]),
        );
        expect(status.actions.every((a) => a.action.startsWith('refused ') && a.action.endsWith(' signal'))).toBe(true);
        expect(status.actions.length).toBeLessThanOrEqual(maxRecordedRefusals);
        for (const a of status.actions) {
          expect(a.by.length).toBeLessThanOrEqual(maxByChars);
          expect(a.reason!.length).toBeLessThan(600);
          expect(a.reason).not.toMatch(/[\u0000-\u001f]/);
        }
        const regionStatus: RegionStatus = await region.query(regionStatusQuery);
        expect(regionStatus).toMatchObject({ phase: 'Baking', name: 'us-east-canary' });
        expect(regionStatus.waitingFor).not.toContain('resume');
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      }),
      fuzzOptions(runs),
    );
    const elapsed = Date.now() - started;

    // Every refused signal reached the release: the first few are recorded, the rest only logged.
    const recorded = await until(
      () => queryStatus(env.client, input.releaseId),
      (s) => s.actions.length >= Math.min(refusedSignals, maxRecordedRefusals),
      'the refusals',
    );
    expect(recorded.actions).toHaveLength(Math.min(refusedSignals, maxRecordedRefusals));
    for (const kind of ['signal', 'update', 'region'] as const) expect(seen[kind]).toBeGreaterThan(runs / 10);

    // No workflow task failed, and the release still does its job.
    await env.sleep(hour + 60_000);
    await until(
      () => queryStatus(env.client, input.releaseId),
      (s) => s.phase === 'WaitingForApproval',
      'the gate',
    );
    await handle.signal(approveSignal, { by: 'alice', reason: 'after the fuzz' });
    const result = await handle.result();
    expect(result.phase).toBe('Succeeded');
    expect(result.results.every((r) => r.phase === 'Succeeded')).toBe(true);
    for (const id of [input.releaseId, `${input.releaseId}.us-east-canary.1`]) {
      const history = await env.client.workflow.getHandle(id).fetchHistory();
      expect(
        history.events!.filter((e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED),
      ).toEqual([]);
    }
    process.stdout.write(
      `operator fuzz: ${runs} cases (${seen.signal} release signals, ${seen.region} region signals, ${seen.update} updates) in ${elapsed} ms, seed ${seed}\n`,
    );
  },
  fuzzTimeoutMs,
);
