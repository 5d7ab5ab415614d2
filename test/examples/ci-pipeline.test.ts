import type { ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { type parseDocument, parse } from 'yaml';
import { queryStatus } from '../../src/client/release-handle';
import { keepRegions, rigEnv, specFor, spawnWorker, stopWorker, temporalClient } from '../support/e2e';

/**
 * The CI examples (examples/ci): both pipelines run examples/ci/release.sh, which runs validate, plan
 * and `start --wait` and maps Meridian's exit codes to what a pipeline should say and do. The script
 * runs here as a pipeline runs it, with bash and the real CLI (MERIDIAN=bin/meridian).
 */

type Doc = ReturnType<typeof parseDocument>;
const root = resolve(__dirname, '..', '..');
const ci = join(root, 'examples', 'ci');
const stamp = Date.now().toString(36);
const idOf = (version: string) => `release-shop-api-${version}`;

/** The settings that must come from the CI's secret store, never from the pipeline file. */
const secretNames = [
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'MERIDIAN_CODEC_KEYS',
];
/** What either pipeline may not do: run meridian's release steps other than through the script. */
const directMeridian = /(^|[\s;&|(])(npx\s+)?(\S*\/)?meridian\s+(validate|plan|start)\b/;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs examples/ci/release.sh as a pipeline step runs it: bash, from the repository's root, MERIDIAN=bin/meridian unless `env` names one. */
function releaseScript(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { trace?: boolean; timeoutMs?: number } = {},
): Promise<Run> {
  const bashArgs = [...(options.trace ? ['-x'] : []), join(ci, 'release.sh'), ...args];
  return new Promise((done) => {
    execFile(
      'bash',
      bashArgs,
      { cwd: root, env: { MERIDIAN: 'bin/meridian', ...env }, timeout: options.timeoutMs ?? 240_000 },
      (err, stdout, stderr) => {
        const code = err ? (err as { code?: unknown }).code : 0;
        done({ code: typeof code === 'number' ? code : -1, stdout, stderr });
      },
    );
  });
}

/** `env` without what a surrounding CI (or the machine running the tests) set for the script. */
function scrubbed(env: NodeJS.ProcessEnv, drop: RegExp = /^$/): NodeJS.ProcessEnv {
  const ours =
    /^(GITHUB_ACTIONS|GITHUB_STEP_SUMMARY|MERIDIAN|MERIDIAN_START_ARGS|MERIDIAN_EXPECT_VERSION|MERIDIAN_EXPECT_APP)$/;
  return Object.fromEntries(Object.entries(env).filter(([name]) => !ours.test(name) && !drop.test(name)));
}

/** No rig: this machine's environment without any Temporal connection or codec settings, plus `extra`. */
const bareEnv = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({
  ...scrubbed(process.env, /^(TEMPORAL_|MERIDIAN_CODEC_)/),
  MERIDIAN_LOG_LEVEL: 'warn',
  ...extra,
});

const exampleSpec = join(root, 'examples', 'release.yaml');
const pipelineFile = (name: string) => parse(readFileSync(join(ci, name), 'utf8'));
const scriptCalls = (lines: string[]) => lines.filter((l) => l.includes('examples/ci/release.sh'));

describe('the CI pipeline files', () => {
  const app = (parse(readFileSync(exampleSpec, 'utf8')) as { metadata: { app: string } }).metadata.app;

  it('GitHub Actions: the release steps are release.sh, secrets come from the secret store and reach only the step that starts', () => {
    const workflow = pipelineFile('github-actions.yml');
    expect(workflow.on.push.tags).toContain('v*');
    expect(workflow.on.workflow_dispatch.inputs.version).toMatchObject({ required: true });
    const jobs = Object.values(workflow.jobs) as Record<string, unknown>[];
    expect(jobs).toHaveLength(1);
    const job = jobs[0] as {
      'timeout-minutes': number;
      concurrency: { group: string; 'cancel-in-progress': boolean };
      env: Record<string, string>;
      steps: { uses?: string; with?: Record<string, unknown>; run?: string; env?: Record<string, string> }[];
    };
    expect(job['timeout-minutes']).toBeGreaterThan(0);
    expect(job.concurrency.group).toContain(app);
    expect(job.concurrency['cancel-in-progress']).toBe(false);
    expect(job.env.MERIDIAN_EXPECT_APP).toBe(app);

    const steps = job.steps;
    expect(steps.find((s) => s.uses?.startsWith('actions/setup-node@'))?.with?.['node-version']).toBe(20);
    const runs = steps.filter((s) => s.run).map((s) => s.run!);
    expect(runs.findIndex((r) => /\bnpm ci\b/.test(r))).toBeLessThan(runs.findIndex((r) => r.includes('release.sh')));
    expect(scriptCalls(runs)).toEqual([
      'bash examples/ci/release.sh release.yaml validate',
      'bash examples/ci/release.sh release.yaml plan',
      'bash examples/ci/release.sh release.yaml start',
    ]);
    for (const run of runs) {
      expect(run).not.toMatch(directMeridian);
      // Neither a secret nor an input is pasted into a script: both reach it through the environment.
      expect(run).not.toMatch(/\$\{\{/);
    }

    // Every ${{ secrets.X }} is the whole value of an env entry X of the one step that starts the release.
    const text = readFileSync(join(ci, 'github-actions.yml'), 'utf8');
    const start = steps.find((s) => s.run?.endsWith('release.sh release.yaml start'))!;
    const fromSecrets = Object.entries(start.env ?? {}).filter(([, v]) => v.includes('secrets.'));
    expect(fromSecrets.length).toBe(text.match(/secrets\./g)?.length);
    for (const [name, value] of fromSecrets) expect(value).toBe(`\${{ secrets.${name} }}`);
    expect(fromSecrets.map(([name]) => name)).toEqual(
      expect.arrayContaining(['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', ...secretNames]),
    );
    expect(JSON.stringify(job.env)).not.toContain('secrets.');
  });

  it('GitLab CI: stages validate, plan and release each run release.sh, one release per app, retried on exit code 3 only', () => {
    const pipeline = pipelineFile('gitlab-ci.yml');
    expect(pipeline.stages).toEqual(['validate', 'plan', 'release']);
    const jobs = Object.fromEntries(
      Object.entries(pipeline).filter(([, v]) => typeof v === 'object' && v !== null && 'stage' in v),
    ) as Record<
      string,
      {
        stage: string;
        script: string[];
        resource_group?: string;
        timeout?: string;
        retry?: unknown;
        variables?: Record<string, unknown>;
      }
    >;
    expect(Object.values(jobs).map((j) => j.stage)).toEqual(['validate', 'plan', 'release']);
    for (const job of Object.values(jobs)) {
      expect(scriptCalls(job.script)).toEqual([
        `bash examples/ci/release.sh release.yaml ${job.stage === 'release' ? 'start' : job.stage}`,
      ]);
      for (const line of [...job.script, ...(pipeline.default?.before_script ?? [])])
        expect(line).not.toMatch(directMeridian);
    }
    const release = Object.values(jobs).find((j) => j.stage === 'release')!;
    expect(release.resource_group).toContain(app);
    expect(release.timeout).toBeTruthy();
    // GitLab retries when `when` OR `exit_codes` matches: exit_codes alone is "exit code 3 only".
    expect(release.retry).toEqual({ max: 2, exit_codes: [3] });
    for (const job of Object.values(jobs).filter((j) => j !== release)) expect(job.retry).toBeUndefined();
    expect(pipeline.default?.retry).toBeUndefined();
    expect(pipeline.variables.MERIDIAN_EXPECT_APP).toBe(app);

    // Secrets come from the project's CI/CD variables: the file names them (for whoever sets them up)
    // but sets none, at any level.
    const text = readFileSync(join(ci, 'gitlab-ci.yml'), 'utf8');
    const assigned = [
      pipeline.variables,
      ...pipeline.workflow.rules.map((r: { variables?: object }) => r.variables),
      ...Object.values(jobs).map((j) => j.variables),
    ]
      .filter(Boolean)
      .flatMap((v) => Object.keys(v));
    for (const name of [
      'TEMPORAL_ADDRESS',
      'TEMPORAL_NAMESPACE',
      'TEMPORAL_API_KEY',
      'TEMPORAL_TLS_CLIENT_CERT_PATH',
      'TEMPORAL_TLS_CLIENT_KEY_PATH',
      'MERIDIAN_CODEC_KEYS_FILE',
    ]) {
      expect(text).toContain(name);
      expect(assigned).not.toContain(name);
    }
    expect(assigned.filter((n) => /^TEMPORAL_|CODEC/.test(n))).toEqual([]);
  });

  it('release.sh stops at the first error, and never traces', () => {
    const script = readFileSync(join(ci, 'release.sh'), 'utf8');
    expect(script).toMatch(/^set -euo pipefail$/m);
    expect(script).toContain('${MERIDIAN:-meridian}');
    expect(script).not.toMatch(/^\s*set -[a-z]*x/m);
  });
});

describe('release.sh without Temporal', () => {
  it('exits 3 with the retry message when Temporal is unreachable, and prints no secret even when traced', async () => {
    const apiKey = `ci-test-api-key-${randomBytes(12).toString('hex')}`;
    const codecKey = randomBytes(32).toString('base64');
    const run = await releaseScript(
      [exampleSpec],
      bareEnv({
        TEMPORAL_ADDRESS: '127.0.0.1:1',
        TEMPORAL_API_KEY: apiKey,
        MERIDIAN_CODEC_KEYS: `ci-test:${codecKey}`,
      }),
      { trace: true },
    );
    expect(run.code).toBe(3);
    // validate and plan need no Temporal: they ran, and start is what could not reach it.
    expect(run.stdout).toContain('is valid: shop-api 2.4.0');
    expect(run.stdout).toContain('wave 1:');
    expect(run.stderr).toContain('cannot reach Temporal');
    expect(run.stderr).toContain(
      'release.sh: error: meridian start: Temporal or a cluster is unreachable: retry: starting again is harmless, a repeated start finds the running release',
    );
    for (const secret of [apiKey, codecKey]) expect(run.stdout + run.stderr).not.toContain(secret);
  }, 60_000);

  it('refuses a spec of another version than the pipeline releases (exit 2, nothing started), as ::error:: annotations on GitHub', async () => {
    const summaryDir = mkdtempSync(join(tmpdir(), 'meridian-ci-summary-'));
    const summary = join(summaryDir, 'summary.md');
    const run = await releaseScript(
      [exampleSpec],
      bareEnv({ MERIDIAN_EXPECT_VERSION: 'v2.4.1', GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary }),
    );
    expect(run.code).toBe(2);
    const message = `${exampleSpec} is version 2.4.0, but the pipeline releases 2.4.1: set metadata.version (and the image tag) in ${exampleSpec}, or release the version it names; nothing was started`;
    expect(run.stdout).toContain(`::error::${message}`);
    expect(readFileSync(summary, 'utf8')).toBe(`- ${message}\n`);
    expect(run.stdout).not.toContain('wave 1:');

    const otherApp = await releaseScript(
      [exampleSpec, 'plan'],
      bareEnv({ MERIDIAN_EXPECT_VERSION: '2.4.0', MERIDIAN_EXPECT_APP: 'cart-api' }),
    );
    expect(otherApp.code).toBe(2);
    expect(otherApp.stderr).toContain(
      'releases app shop-api, but this pipeline (and its concurrency group) is for cart-api',
    );
  }, 60_000);

  it('refuses a call it does not understand (exit 2) and says when meridian cannot be run', async () => {
    expect((await releaseScript([], bareEnv({}))).code).toBe(2);
    const unknown = await releaseScript([exampleSpec, 'deploy'], bareEnv({}));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('usage: release.sh <release.yaml> [validate|plan|start]');
    const missing = await releaseScript([exampleSpec], bareEnv({ MERIDIAN: 'no-such-meridian' }));
    expect(missing.code).toBe(127);
    expect(missing.stderr).toContain(
      'cannot run meridian as "no-such-meridian": install Meridian (npm ci) or point MERIDIAN at its binary',
    );
  }, 60_000);
});

/** Only the canary and one production region, no approval gate: the script is under test here, not the rollout. */
const quick = (doc: Doc) => {
  keepRegions(doc, ['us-east-canary', 'us-west']);
  doc.setIn(['spec', 'rollout', 'approvals'], []);
};

describe('release.sh on the local rig', () => {
  let worker: ChildProcess;
  let client: Client;
  let closeClient: () => Promise<void>;

  beforeAll(async () => {
    worker = spawnWorker('worker-ci-pipeline');
    ({ client, close: closeClient } = await temporalClient());
  });

  afterAll(async () => {
    await stopWorker(worker);
    await closeClient();
  });

  it('takes a valid spec through validate, plan and start --wait: exit 0, the release succeeded; running the pipeline again is harmless', async () => {
    const version = `2.6.0-ci.${stamp}`;
    const file = specFor(version, quick);
    const env = {
      ...scrubbed(rigEnv()),
      MERIDIAN_START_ARGS: '--bake 1s --canary-soak 1s',
      MERIDIAN_EXPECT_VERSION: `v${version}`,
      MERIDIAN_EXPECT_APP: 'shop-api',
    };
    const run = await releaseScript([file], env, { timeoutMs: 300_000 });
    expect(run).toMatchObject({ code: 0 }); // on failure, jest shows the whole run: its output says why
    expect(run.stdout).toContain(`is valid: shop-api ${version}`);
    expect(run.stdout).toContain('wave 1: us-east-canary');
    expect(run.stdout).toContain(`started ${idOf(version)}`);
    expect(run.stdout).toContain(`release.sh: release ${idOf(version)} succeeded`);
    expect((await queryStatus(client, idOf(version))).phase).toBe('Succeeded');

    // A retried or re-run job finds the release it started, and reports how it ended.
    const again = await releaseScript([file, 'start'], env, { timeoutMs: 120_000 });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`${idOf(version)} already started with this spec`);
    expect(again.stdout).toContain(`release.sh: release ${idOf(version)} succeeded`);
  }, 360_000);

  it('refuses an invalid spec with exit 2 and the mapped message, and starts nothing', async () => {
    const version = `2.6.1-ci-invalid.${stamp}`;
    const file = specFor(version, (doc) => (quick(doc), doc.setIn(['spec', 'rollout', 'maxParallel'], 0)));
    const run = await releaseScript([file], scrubbed(rigEnv()), { timeoutMs: 120_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('spec.rollout.maxParallel');
    expect(run.stderr).toContain(
      'release.sh: error: meridian validate refused: invalid input, usage or a credential refused (the error above says which): fix the spec or the credentials; nothing was started',
    );
    expect(run.stdout).not.toContain('started');
    await expect(client.workflow.getHandle(idOf(version)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  }, 120_000);
});
