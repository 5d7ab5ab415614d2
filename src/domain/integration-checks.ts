import { z } from 'zod';
import { maxTimerMs } from './duration';
import { quoteExcerpt } from './excerpt';
import { durationField } from './schema-helpers';

/**
 * The HTTP integration suite (`checks:` in a YAML file such as examples/checks/integration.yaml): each
 * check sends one request to the region's endpoint and states what the answer must be.
 */

const httpMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** The kind a check gave, quoted as an excerpt (it is input: it may be 5,000 characters), or its type. */
function describeKind(kind: unknown): string {
  return typeof kind === 'string'
    ? quoteExcerpt(kind)
    : kind === undefined
      ? 'undefined'
      : (JSON.stringify(kind)?.slice(0, 80) ?? typeof kind);
}

export const httpCheckSchema = z.strictObject({
  name: z.string().min(1).describe('Shown in reports'),
  kind: z.literal('http').default('http').describe('An HTTP request against the endpoint'),
  request: z.strictObject({
    method: z.enum(httpMethods).default('GET'),
    path: z
      .string()
      .startsWith('/', 'expected a path starting with /, such as /healthz')
      .describe('Path and query, any script'),
    headers: z.record(z.string(), z.string()).default({}),
    json: z.unknown().optional().describe('Body sent as JSON'),
    body: z.string().optional().describe('Body sent as is'),
  }),
  expect: z.strictObject({
    status: z.number().int().min(100).max(599).optional().describe('Expected status code'),
    json: z
      .record(z.string().startsWith('$', 'expected a JSON path such as $.query'), z.unknown())
      .optional()
      .describe('JSON path -> expected value'),
    bodyContains: z.string().optional().describe('Text the body must contain'),
    maxLatency: durationField(maxTimerMs).optional().describe('Slowest acceptable answer'),
  }),
});
export type HttpCheck = z.infer<typeof httpCheckSchema>;

const envVars = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name such as API_TOKEN_FILE'),
    z.string(),
  )
  .default({});

export const jobCheckSchema = z.strictObject({
  name: z.string().min(1).describe('Shown in reports'),
  kind: z.literal('job').describe("A Kubernetes Job run in the region's cluster; passes when the Job succeeds"),
  job: z.strictObject({
    image: z.string().min(1).describe("Image of the Job's container, e.g. postman/newman:6"),
    command: z.array(z.string()).optional().describe("Entrypoint, replacing the image's"),
    args: z.array(z.string()).default([]),
    env: envVars.describe(
      'Environment; MERIDIAN_ENDPOINT, MERIDIAN_REGION, MERIDIAN_APP and MERIDIAN_VERSION are set too',
    ),
    labels: z.record(z.string(), z.string()).default({}).describe("Labels of the Job's pod"),
    backoffLimit: z.number().int().min(0).max(10).default(0).describe('Retries of a failed pod before the Job fails'),
  }),
  timeout: durationField(maxTimerMs)
    .default(5 * 60_000)
    .describe('Longest the Job may take'),
});
export type JobCheck = z.infer<typeof jobCheckSchema>;

export const commandCheckSchema = z.strictObject({
  name: z.string().min(1).describe('Shown in reports'),
  kind: z
    .literal('command')
    .describe(
      "A process run by the worker with the region's endpoint in its environment; passes on exit code 0. Runs only on workers started with MERIDIAN_ALLOW_COMMAND_CHECKS=1",
    ),
  command: z
    .array(z.string().min(1))
    .min(1, 'give the program and its arguments, such as [newman, run, suite.json]')
    .describe('Program and arguments (no shell; use [sh, -c, "..."] for one)'),
  env: envVars.describe(
    "Environment, beside PATH, HOME, USER, LOGNAME, LANG, LC_ALL, LC_CTYPE, TZ and TMPDIR from the worker's and MERIDIAN_ENDPOINT, MERIDIAN_REGION, MERIDIAN_APP, MERIDIAN_VERSION and MERIDIAN_RELEASE; nothing else of the worker's environment",
  ),
  passEnv: z
    .array(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name such as SMOKE_API_TOKEN'),
    )
    .max(100)
    .default([])
    .describe(
      "Variables of the worker's environment the command gets too (e.g. a token it needs); their values are masked in its output",
    ),
  timeout: durationField(maxTimerMs)
    .default(5 * 60_000)
    .describe('Longest the command may run'),
});
export type CommandCheck = z.infer<typeof commandCheckSchema>;

/** A check of any kind. A check without `kind` is an HTTP check, as in the built-in suite format. */
export const integrationCheckSchema = z.preprocess(
  (value) =>
    value !== null && typeof value === 'object' && !Array.isArray(value) && !('kind' in value)
      ? { ...value, kind: 'http' }
      : value,
  z.discriminatedUnion(
    'kind',
    [httpCheckSchema.extend({ kind: z.literal('http') }), jobCheckSchema, commandCheckSchema],
    {
      error: (iss) =>
        iss.code === 'invalid_union'
          ? `unknown check kind ${describeKind((iss.input as { kind?: unknown })?.kind)}: use http, job or command`
          : undefined,
    },
  ),
);
export type IntegrationCheck = z.infer<typeof integrationCheckSchema>;

export const integrationSuiteSchema = z.strictObject({
  checks: z.array(integrationCheckSchema).min(1, 'list at least one check'),
});
export type IntegrationSuite = z.infer<typeof integrationSuiteSchema>;

/** What a check of any kind checks, in words. */
export function describeCheck(check: IntegrationCheck): string {
  switch (check.kind) {
    case 'http':
      return `${check.request.method} ${check.request.path}`;
    case 'job':
      return `Job ${check.job.image}${check.job.command || check.job.args.length ? ` ${[...(check.job.command ?? []), ...check.job.args].join(' ')}` : ''}`;
    case 'command':
      return `command ${check.command.join(' ')}`;
  }
}

/** The result of one check against one endpoint. */
export interface CheckResult {
  name: string;
  passed: boolean;
  /** What was checked, e.g. `GET /search?q=결제 -> 200, $.query = "결제"`. */
  checked: string;
  /** Why it failed, in words. */
  failure?: string;
  status?: number;
  latencyMs: number;
}

export interface CheckReport {
  endpoint: string;
  passed: boolean;
  results: CheckResult[];
}

/** Reads a simple JSON path (`$.a.b[0].c`) from a value. */
export function readJsonPath(value: unknown, path: string): unknown {
  const steps = path.replace(/^\$/, '').match(/\.([^.[\]]+)|\[(\d+)\]|\["([^"]+)"\]/g) ?? [];
  let current: unknown = value;
  for (const step of steps) {
    if (current === null || typeof current !== 'object') return undefined;
    const key = step.startsWith('.')
      ? step.slice(1)
      : step.startsWith('["')
        ? step.slice(2, -2)
        : Number(step.slice(1, -1));
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}
