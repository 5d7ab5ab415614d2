import { z } from 'zod';
import { durationField } from './schema-helpers';

/**
 * The HTTP integration suite (`checks:` in a YAML file such as examples/checks/integration.yaml): each
 * check sends one request to the region's endpoint and states what the answer must be.
 */

const httpMethods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export const httpCheckSchema = z.strictObject({
  name: z.string().min(1).describe('Shown in reports'),
  kind: z.literal('http').default('http').describe('An HTTP request against the endpoint'),
  request: z.strictObject({
    method: z.enum(httpMethods).default('GET'),
    path: z.string().startsWith('/', 'expected a path starting with /, such as /healthz').describe('Path and query, any script'),
    headers: z.record(z.string(), z.string()).default({}),
    json: z.unknown().optional().describe('Body sent as JSON'),
    body: z.string().optional().describe('Body sent as is'),
  }),
  expect: z.strictObject({
    status: z.number().int().min(100).max(599).optional().describe('Expected status code'),
    json: z.record(z.string().startsWith('$', 'expected a JSON path such as $.query'), z.unknown()).optional().describe('JSON path -> expected value'),
    bodyContains: z.string().optional().describe('Text the body must contain'),
    maxLatency: durationField().optional().describe('Slowest acceptable answer'),
  }),
});
export type HttpCheck = z.infer<typeof httpCheckSchema>;

export const integrationSuiteSchema = z.strictObject({
  checks: z.array(httpCheckSchema).min(1, 'list at least one check'),
});
export type IntegrationSuite = z.infer<typeof integrationSuiteSchema>;

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
    const key = step.startsWith('.') ? step.slice(1) : step.startsWith('["') ? step.slice(2, -2) : Number(step.slice(1, -1));
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}
