import { integrationSuiteSchema } from '../../src/domain/integration-checks';
import { formatZodIssues } from '../../src/domain/zod-issues';

const problems = (doc: unknown): string[] => {
  const parsed = integrationSuiteSchema.safeParse(doc, { reportInput: true });
  return parsed.success ? [] : formatZodIssues(parsed.error, '', integrationSuiteSchema);
};

describe('integration suite', () => {
  it('reads a check without a kind as an HTTP check, as in the built-in suite format', () => {
    const suite = integrationSuiteSchema.parse({
      checks: [{ name: 'health', request: { path: '/healthz' }, expect: { status: 200 } }],
    });
    expect(suite.checks[0]).toMatchObject({ kind: 'http', request: { method: 'GET', path: '/healthz', headers: {} } });
  });

  it('reads job and command checks with their defaults', () => {
    const suite = integrationSuiteSchema.parse({
      checks: [
        { name: 'newman', kind: 'job', job: { image: 'postman/newman:6', args: ['run', 'suite.json'] } },
        { name: 'k6', kind: 'command', command: ['k6', 'run', 'smoke.js'], timeout: '2m' },
      ],
    });
    expect(suite.checks[0]).toMatchObject({
      kind: 'job',
      job: { backoffLimit: 0, env: {}, labels: {} },
      timeout: 300_000,
    });
    expect(suite.checks[1]).toMatchObject({ kind: 'command', env: {}, timeout: 120_000 });
  });

  it('names an unknown kind and the kinds there are', () => {
    expect(problems({ checks: [{ name: 'x', kind: 'grpc' }] }).join('\n')).toMatch(
      /checks\[0\].*unknown check kind "grpc": use http, job or command/,
    );
  });

  it('quotes a long kind as an excerpt, and names one that is not text by its form', () => {
    const [long] = problems({ checks: [{ name: 'x', kind: 'k'.repeat(5000) }] });
    expect(long).toContain(`unknown check kind "${'k'.repeat(80)}…" (5000 characters): use http, job or command`);
    expect(long.length).toBeLessThan(300);
    expect(problems({ checks: [{ name: 'x', kind: 7 }] }).join('\n')).toContain(
      'unknown check kind 7: use http, job or command',
    );
  });

  it('asks for a program when a command check has none', () => {
    expect(problems({ checks: [{ name: 'x', kind: 'command', command: [] }] }).join('\n')).toMatch(
      /checks\[0\]\.command.*give the program/,
    );
  });

  it('rejects fields of another kind', () => {
    expect(
      problems({ checks: [{ name: 'x', kind: 'command', command: ['true'], request: { path: '/' } }] }).join('\n'),
    ).toMatch(/request/);
  });
});
