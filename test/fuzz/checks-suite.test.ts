import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  exampleCopy,
  expectInputInvariants,
  FuzzTally,
  fuzzOptions,
  fuzzRuns,
  fuzzSeed,
  fuzzTimeoutMs,
  meridian,
  mustHold,
} from '../support/fuzz-cli';
import { hostileStrings, hostileYamlValues, mutatedLines } from '../support/fuzz-inputs';

/**
 * Fuzzing of the checks suite (spec.validation.integration.suite) through `meridian validate --json`
 * of the example spec, which names it: the example suite mutated line by line, and suites built from
 * random checks of every kind (http, job, command) with hostile names, paths, headers, JSON paths,
 * commands and durations. Invariants: exit 0 or 2, no stack trace, bounded lines; a refusal names the
 * suite file or the spec field; an accepted suite is counted in the spec's checks.
 */
const runs = fuzzRuns(350, 0.2);
const dir = exampleCopy();
const suiteFile = join(dir, 'checks', 'integration.yaml');
const example = readFileSync(suiteFile, 'utf8').split('\n');
const names = /integration\.yaml|spec\.validation\.integration\.suite/;

const suiteValues = [
  ...hostileYamlValues,
  'command',
  'job',
  'http',
  'wasm',
  '[sh, -c, "cat /etc/shadow"]',
  '[]',
  '[""]',
  '{ "$.a": { b: [1, 2] } }',
  '{ "a": 1 }',
  '{ "$": null }',
  '{ PATH: /evil, "": x, "1BAD": y }',
  `{ ${Array.from({ length: 200 }, (_, i) => `h${i}: v`).join(', ')} }`,
  '{ "x\\ny": z }',
  '"/\\r\\nHost: evil"',
];

const text = fc.oneof(fc.constantFrom(...hostileStrings), fc.string({ maxLength: 20 }));
const duration = fc.oneof(
  fc.constantFrom('500ms', '30s', '0s', '25d', '-1s', '1e309ms', 'soon'),
  fc.integer(),
  fc.double(),
);
const httpCheck = fc.record(
  {
    name: text,
    kind: fc.constant('http'),
    request: fc.record(
      {
        method: fc.constantFrom('GET', 'POST', 'get', 'TRACE', ''),
        path: fc.oneof(
          text,
          text.map((t) => `/${t}`),
        ),
        headers: fc.dictionary(text, text, { maxKeys: 3 }),
        json: fc.jsonValue({ maxDepth: 3 }),
        body: text,
      },
      { requiredKeys: ['path'] },
    ),
    expect: fc.record(
      {
        status: fc.oneof(fc.integer({ min: -1, max: 1000 }), fc.double()),
        json: fc.dictionary(
          text.map((t) => `$${t}`),
          fc.jsonValue({ maxDepth: 2 }),
          { maxKeys: 2 },
        ),
        bodyContains: text,
        maxLatency: duration,
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ['name', 'request', 'expect'] },
);
const envName = fc.oneof(fc.constantFrom('API_TOKEN', 'PATH', '', '1X', 'A-B', '__proto__'), text);
const jobCheck = fc.record(
  {
    name: text,
    kind: fc.constant('job'),
    job: fc.record(
      {
        image: text,
        command: fc.array(text, { maxLength: 3 }),
        args: fc.array(text, { maxLength: 3 }),
        env: fc.dictionary(envName, text, { maxKeys: 3 }),
        labels: fc.dictionary(text, text, { maxKeys: 2 }),
        backoffLimit: fc.integer({ min: -2, max: 20 }),
      },
      { requiredKeys: ['image'] },
    ),
    timeout: duration,
  },
  { requiredKeys: ['name', 'kind', 'job'] },
);
const commandCheck = fc.record(
  {
    name: text,
    kind: fc.constantFrom('command', 'Command', 'shell', 'k'.repeat(5000)),
    command: fc.array(text, { maxLength: 4 }),
    env: fc.dictionary(envName, text, { maxKeys: 3 }),
    passEnv: fc.array(envName, { maxLength: 120 }),
    timeout: duration,
  },
  { requiredKeys: ['name', 'kind', 'command'] },
);
const builtSuite = fc
  .record({
    checks: fc.array(fc.oneof(httpCheck, jobCheck, commandCheck, fc.jsonValue({ maxDepth: 2 })), { maxLength: 5 }),
  })
  .map((suite) => JSON.stringify(suite));

describe('fuzzed checks suites through meridian validate', () => {
  it(
    `hold the input invariants over ${runs} suites (seed ${fuzzSeed})`,
    async () => {
      const tally = new FuzzTally('checks-suite');
      await fc.assert(
        fc.asyncProperty(
          fc.oneof(
            mutatedLines(example, suiteValues).map((l) => l.join('\n')),
            builtSuite,
          ),
          async (suite) => {
            writeFileSync(suiteFile, suite);
            const outcome = await meridian(['validate', '-f', join(dir, 'release.yaml'), '--json'], dir);
            const accepted = expectInputInvariants(outcome, names);
            tally.count(accepted);
            if (accepted)
              mustHold(
                (JSON.parse(outcome.stdout) as { valid?: boolean }).valid === true,
                'an accepted suite validates',
                outcome.stdout,
              );
          },
        ),
        fuzzOptions(runs),
      );
      tally.report();
      expect(tally.accepted).toBeGreaterThan(0);
      expect(tally.refused).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );
});
