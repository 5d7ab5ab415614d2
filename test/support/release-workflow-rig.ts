import { type Client, type WorkflowHandle, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { queryStatus } from '../../src/client/release-handle';
import type { ReleaseInput } from '../../src/domain/release-input';
import type { ReleaseStatus } from '../../src/domain/release-status';
import { taskQueue } from '../../src/workflows/definitions';
import { releaseWorkflow } from '../../src/workflows/release-workflow';
import { eventually } from './eventually';
import { fakeActivities } from './fake-activities';
import { workflowTestRig } from './workflow-env';

/**
 * What the release workflow's tests (test/workflows/release/*.test.ts) share: a time-skipping test
 * server per test file with a worker running the workflows on fake activities, and the helpers that
 * start a release, wait for its status and keep replay fixtures.
 */

export const hour = 3_600_000;

/** The replay fixtures replay.test.ts replays: one per shipped workflow version. */
export const historiesDir = join(__dirname, '..', 'workflows', 'histories');

/**
 * Records the history of a finished workflow as a replay fixture in test/workflows/histories, when
 * MERIDIAN_RECORD_HISTORIES=1. Fixtures are recorded once per shipped workflow version and then kept:
 * replay.test.ts proves later workflow code still replays them.
 */
export async function keepReplayFixture(client: Client, workflowId: string, name: string): Promise<void> {
  if (process.env.MERIDIAN_RECORD_HISTORIES !== '1') return;
  const file = join(historiesDir, `${name}.json`);
  // A fixture records the version that shipped it: never overwrite one with a later version's history.
  if (existsSync(file)) return;
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  mkdirSync(historiesDir, { recursive: true });
  writeFileSync(file, `${historyToJSON(history)}\n`);
}

/** The ApplicationFailure a release failed with; throws if it did not fail, or failed otherwise. */
export async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure) return err.cause;
    throw err;
  }
  throw new Error('expected the release to fail');
}

/** A test file's release workflow rig; `env` is there once the file's beforeAll ran. */
export interface ReleaseWorkflowRig {
  /** The fake activities the worker runs: what each release called, and how each should behave. */
  readonly fake: ReturnType<typeof fakeActivities>;
  /** The time-skipping test environment of this file. */
  readonly env: TestWorkflowEnvironment;
  /**
   * Starts a release. The test server skips time only while a client waits on a result or in env.sleep:
   * a test that waits for an operator step moves the clock itself, since an idle server with time
   * skipping on would jump straight to the workflow's timeout.
   */
  start(input: ReleaseInput): Promise<WorkflowHandle<typeof releaseWorkflow>>;
  /** Polls the status query (real time) until `ready` holds. */
  statusWhen(releaseId: string, ready: (s: ReleaseStatus) => boolean, what: string): Promise<ReleaseStatus>;
  /** keepReplayFixture on this file's server. */
  keepHistory(workflowId: string, name: string): Promise<void>;
  /**
   * Gives the tests after this one a new test server and worker. Call it in a test that ends a workflow
   * while some of its activities may not have reached a worker yet (an abort, a termination): the test
   * server keeps the time-skipping lock such an activity took (temporalio/sdk-java#1138), so time would
   * never be skipped again on it and a later test's hour-long bake would take an hour.
   */
  freshServerAfterThisTest(): void;
}

/**
 * Registers the beforeAll that starts the test server and worker and the afterAll that stops them:
 * call it once at the top of a test file. One server per file, as the server's clock is shared by
 * everything on it; a test that may leave it unable to skip time asks for a new one after it
 * (freshServerAfterThisTest).
 */
export function releaseWorkflowRig(): ReleaseWorkflowRig {
  const fake = fakeActivities();
  let started: TestWorkflowEnvironment | undefined;
  let stop: (() => Promise<void>) | undefined;

  let freshServer = false;

  beforeAll(async () => {
    ({ env: started, stop } = await workflowTestRig(fake.activities));
  });

  afterEach(async () => {
    if (!freshServer) return;
    freshServer = false;
    await stop?.();
    started = undefined;
    ({ env: started, stop } = await workflowTestRig(fake.activities));
  });

  afterAll(async () => {
    await stop?.();
  });

  const env = (): TestWorkflowEnvironment => {
    if (!started) throw new Error('the release workflow rig starts in beforeAll: use it inside a test');
    return started;
  };

  return {
    fake,
    get env() {
      return env();
    },
    start: (input) =>
      env().client.workflow.start(releaseWorkflow, { workflowId: input.releaseId, taskQueue, args: [input] }),
    statusWhen: (releaseId, ready, what) =>
      eventually(
        async (saw) => {
          const status = saw(await queryStatus(env().client, releaseId));
          return ready(status) ? status : undefined;
        },
        what,
        30_000,
        100,
      ),
    keepHistory: (workflowId, name) => keepReplayFixture(env().client, workflowId, name),
    freshServerAfterThisTest: () => {
      freshServer = true;
    },
  };
}
