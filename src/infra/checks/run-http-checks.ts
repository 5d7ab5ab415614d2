import type { CheckResult, HttpCheck } from '../../domain/integration-checks';
import { readJsonPath } from '../../domain/integration-checks';
import { formatDuration } from '../../domain/duration';

/** Runs one HTTP check against an endpoint and says what was checked and why it failed. */
export async function runHttpCheck(endpoint: string, check: HttpCheck, timeoutMs = 10_000): Promise<CheckResult> {
  const { request, expect } = check;
  const url = new URL(request.path, endpoint.endsWith('/') ? endpoint : `${endpoint}/`).toString();
  const headers: Record<string, string> = { ...request.headers };
  let body: string | undefined = request.body;
  if (request.json !== undefined) {
    body = JSON.stringify(request.json);
    headers['content-type'] ??= 'application/json';
  }
  const expectations = [
    expect.status !== undefined ? `${expect.status}` : undefined,
    ...Object.entries(expect.json ?? {}).map(([path, value]) => `${path} = ${JSON.stringify(value)}`),
    expect.bodyContains !== undefined ? `body contains ${JSON.stringify(expect.bodyContains)}` : undefined,
    expect.maxLatency !== undefined ? `within ${formatDuration(expect.maxLatency)}` : undefined,
  ].filter(Boolean);
  const checked = `${request.method} ${request.path} -> ${expectations.join(', ') || 'any answer'}`;
  const started = performance.now();
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, { method: request.method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    text = await res.text();
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    return {
      name: check.name,
      passed: false,
      checked,
      failure: `no answer from ${url}: ${cause}`,
      latencyMs: Math.round(performance.now() - started),
    };
  }
  const latencyMs = Math.round(performance.now() - started);
  const failures: string[] = [];
  if (expect.status !== undefined && res.status !== expect.status)
    failures.push(`status ${res.status}, expected ${expect.status}`);
  if (expect.json) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      failures.push('body is not JSON');
    }
    if (parsed !== undefined) {
      for (const [path, want] of Object.entries(expect.json)) {
        const got = readJsonPath(parsed, path);
        if (JSON.stringify(got) !== JSON.stringify(want))
          failures.push(`${path} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
      }
    }
  }
  if (expect.bodyContains !== undefined && !text.includes(expect.bodyContains)) {
    failures.push(`body does not contain ${JSON.stringify(expect.bodyContains)}`);
  }
  if (expect.maxLatency !== undefined && latencyMs > expect.maxLatency) {
    failures.push(`answered in ${latencyMs}ms, limit ${formatDuration(expect.maxLatency)}`);
  }
  return {
    name: check.name,
    passed: failures.length === 0,
    checked,
    failure: failures.join('; ') || undefined,
    status: res.status,
    latencyMs,
  };
}
