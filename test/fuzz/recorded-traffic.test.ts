import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { packTraffic, unpackTraffic } from '../../src/infra/load/packed-traffic';
import { InvalidInputError } from '../../src/domain/errors';
import {
  parseRecordedTraffic,
  type RecordedRequest,
  type TrafficFormat,
  withoutCredentials,
} from '../../src/domain/recorded-traffic';
import {
  exampleCopy,
  expectInputInvariants,
  FuzzTally,
  fuzzOptions,
  fuzzRuns,
  fuzzSeed,
  fuzzTimeoutMs,
  maxOutputLineChars,
  meridian,
  mustHold,
} from '../support/fuzz-cli';
import { hostileStrings, mutatedText } from '../support/fuzz-inputs';

/**
 * Fuzzing of recorded traffic in each format the load test reads: JSON Lines and access logs (nginx and
 * Apache, combined and common). The parser directly, on the examples' recordings mutated character by
 * character and on lines built from each format's grammar with hostile fields; then through `meridian
 * validate`, which reads the recording the spec names. Invariants: a recording is either requests that
 * can be sent (a method that is a token, a path of printable ASCII starting with /, header names that are
 * tokens, header values of one line, no prototype reached) or one InvalidInputError whose lines each name
 * `file:LINE` and are bounded; reading costs no more than its size (no backtracking); credentials are
 * dropped before anything is packed; a packed recording unpacks to the same requests.
 */
const runs = fuzzRuns(2500);
const cliRuns = fuzzRuns(80, 0.04);
const dir = exampleCopy();
const examples: Record<TrafficFormat, string[]> = {
  jsonl: readFileSync(join(dir, 'traffic', 'sample.jsonl'), 'utf8').split('\n'),
  combined: readFileSync(join(dir, 'traffic', 'access.log'), 'utf8').split('\n'),
};

const text = fc.oneof(
  fc.constantFrom(...hostileStrings),
  fc.string({ maxLength: 12 }),
  fc.string({ maxLength: 12, unit: 'binary' }),
);
const credential = fc.constantFrom(
  'Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln',
  'Basic dXNlcjpwYXNz',
  'session=abc',
  'k-123',
);
const headerName = fc.oneof(
  fc.constantFrom(
    'authorization',
    'Cookie',
    'X-Api-Key',
    'x-amz-security-token',
    'user-agent',
    'Content-Type',
    '__proto__',
    'constructor',
    'x y',
    '',
  ),
  text,
);
const path = fc.oneof(
  fc.constantFrom(
    '/',
    '/search?q=%EA%B2%B0',
    '/x?access_token=s3cr3t&a=1',
    '/x?X-Amz-Signature=abc',
    '/?api_key=k',
    'http://shop.example.com/a?b#frag',
    '//x',
    '*',
    '/a b',
  ),
  text.map((t) => `/${t}`),
  text,
);
const jsonLine = fc
  .record(
    {
      method: fc.oneof(fc.constantFrom('GET', 'post', 'PATCH', 'G ET', ''), text),
      path,
      headers: fc.oneof(
        fc.dictionary(headerName, fc.oneof(text, credential), { maxKeys: 4 }),
        fc.jsonValue({ maxDepth: 1 }),
      ),
      body: fc.oneof(text, fc.jsonValue({ maxDepth: 1 })),
      json: fc.jsonValue({ maxDepth: 3 }),
      status: fc.integer(),
    },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));
const quotedField = fc
  .oneof(text, fc.constantFrom('-', '\\x22', '\\"', '\\\\', '\\xE2\\x82\\xAC'), credential)
  .map((t) => `"${t}"`);
const logLine = fc
  .tuple(
    fc.constantFrom('203.0.113.7', '::1', '-', ''),
    fc.constantFrom('- -', '- alice', 'x'),
    fc.constantFrom('[26/Nov/2026:09:14:02 +0000]', '[]', '[', '[26/Nov/2026'),
    fc.oneof(
      fc
        .tuple(
          fc.constantFrom('GET', 'POST', 'get', 'BREW', ''),
          path,
          fc.constantFrom(' HTTP/1.1', ' HTTP/2.0', '', ' HTTP/x', ' HTTP/1.1 extra'),
        )
        .map(([m, p, v]) => `"${m} ${p}${v}"`),
      quotedField,
    ),
    fc.constantFrom('200 1843', '- -', '400 0', '2000 1', 'x y'),
    fc.option(
      fc.tuple(quotedField, quotedField).map(([r, u]) => ` ${r} ${u}`),
      { nil: '' },
    ),
  )
  .map(([host, who, time, request, status, tail]) => `${host} ${who} ${time} ${request} ${status}${tail}`);

const recording = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.tuple(fc.constantFrom<TrafficFormat>('jsonl', 'combined'), fc.boolean()).chain(([format, named]) =>
      mutatedText(examples[format], format === 'jsonl' ? jsonLine : logLine).map((lines) => ({
        text: lines.join('\n'),
        format: named ? format : undefined,
      })),
    ),
  },
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.array(fc.oneof(jsonLine, logLine), { minLength: 1, maxLength: 6 }),
        fc.constantFrom<TrafficFormat | undefined>('jsonl', 'combined', undefined),
      )
      .map(([lines, format]) => ({ text: lines.join('\n'), format })),
  },
  {
    // A long line: longer than an access log line may be, a JSON body of 200 KB, a run of escapes.
    weight: 1,
    arbitrary: fc.constantFrom(
      { text: `1.2.3.4 - - [x] "GET /${'a'.repeat(70_000)} HTTP/1.1" 200 1`, format: undefined },
      { text: JSON.stringify({ method: 'POST', path: '/', body: 'b'.repeat(200_000) }), format: undefined },
      { text: `1.2.3.4 - - [x] "GET /${'\\'.repeat(60_000)}" 200 1`, format: undefined },
    ),
  },
);

const token = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A request the load test can send as it is. */
function expectSendable(request: RecordedRequest): void {
  mustHold(
    token.test(request.method) && request.method === request.method.toUpperCase(),
    'a method that is an upper-case token',
    request.method,
  );
  mustHold(/^\/[\x21-\x7e]*$/.test(request.path), 'a path of printable ASCII starting with /', request.path);
  for (const [name, value] of Object.entries(request.headers)) {
    mustHold(token.test(name) && name === name.toLowerCase(), 'a header name that is a lower-case token', name);
    mustHold(typeof value === 'string' && !/[\r\n\0]/.test(value), 'a header value of one line', value);
  }
  mustHold(request.body === undefined || typeof request.body === 'string', 'a body that is text', request.body);
}

/**
 * Findings in src/domain/recorded-traffic.ts (not ours to fix; see /tmp/notes/fuzz-findings.md): a line
 * matching one is counted here rather than failing the property, and the finding's own test below fails
 * until it is fixed. Empty: traffic-header-name (long header names printed whole) is fixed, and its test
 * stays as a regression test.
 */
const knownFindings: Record<string, RegExp> = {};
const findingsSeen = new Map<string, number>();

/** The refusal's lines: a heading naming the file, then `file:LINE: ...` lines, all bounded. */
function expectRefusal(err: unknown, source: string): void {
  if (!(err instanceof InvalidInputError)) throw err;
  const lines = err.message.split('\n');
  const name = source.replace(/\./g, '\\.');
  mustHold(new RegExp(`^recorded traffic ${name} `).test(lines[0]), 'a heading naming the recording', lines[0]);
  const located = new RegExp(`^  (${name}:\\d+: |and \\d+ more$)`);
  for (const line of lines.slice(1)) mustHold(located.test(line), 'a problem naming file:LINE', line);
  for (const line of lines) {
    const known = Object.entries(knownFindings).find(([, shape]) => shape.test(line))?.[0];
    if (known) findingsSeen.set(known, (findingsSeen.get(known) ?? 0) + 1);
    else mustHold(line.length <= maxOutputLineChars, `a line of at most ${maxOutputLineChars} characters`, line);
  }
}

describe('fuzzed recorded traffic', () => {
  it(
    `parses or refuses ${runs} recordings (seed ${fuzzSeed})`,
    () => {
      const tally = new FuzzTally('recorded-traffic (parser)');
      fc.assert(
        fc.property(recording, ({ text: input, format }) => {
          let requests: RecordedRequest[] | undefined;
          try {
            requests = parseRecordedTraffic(input, 'traffic.rec', format);
          } catch (err) {
            expectRefusal(err, 'traffic.rec');
          }
          // How fast: the bench's parsing section times long and hostile lines against JSON.parse (no timed assertions here).
          mustHold(({} as Record<string, unknown>).polluted === undefined, 'no prototype reached');
          tally.count(requests !== undefined);
          if (!requests) return;
          mustHold(requests.length > 0, 'an accepted recording holds requests');
          requests.forEach(expectSendable);
          const cleaned = withoutCredentials(requests).requests;
          for (const request of cleaned) {
            expectSendable(request);
            const names = Object.keys(request.headers);
            mustHold(
              !names.some((n) => /^(authorization|cookie|x-api-key|x-amz-security-token)$/.test(n)),
              'no credential header left',
              names,
            );
            mustHold(
              !/Bearer ey|Basic dXNlcjpwYXNz/.test(Object.values(request.headers).join('\n')),
              'no credential value left',
              request.headers,
            );
            mustHold(
              !/access_token=|X-Amz-Signature=|api_key=/i.test(request.path),
              'no credential query parameter left',
              request.path,
            );
          }
          const packed = packTraffic(cleaned, 'traffic.rec', 'spec.validation.load.replay');
          mustHold(
            JSON.stringify(unpackTraffic(packed)) === JSON.stringify(cleaned),
            'a packed recording unpacks to the same requests',
          );
        }),
        fuzzOptions(runs),
      );
      tally.report();
      if (findingsSeen.size)
        process.stderr.write(
          `fuzz recorded-traffic: known findings hit ${JSON.stringify(Object.fromEntries(findingsSeen))}\n`,
        );
      expect(tally.accepted).toBeGreaterThan(0);
      expect(tally.refused).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );

  // Finding traffic-header-name (src/domain/recorded-traffic.ts), found by the fuzzer and fixed there.
  it('finding traffic-header-name: a refusal quotes a long header name as an excerpt, not whole', () => {
    const line = JSON.stringify({ method: 'GET', path: '/', headers: { ['h'.repeat(60_000)]: 'v\n' } });
    let message = '';
    try {
      parseRecordedTraffic(line, 'traffic.rec');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^ {2}traffic\.rec:1: header .*line break/m);
    expect(Math.max(...message.split('\n').map((l) => l.length))).toBeLessThanOrEqual(maxOutputLineChars);
  });

  it(
    `hold the CLI's input invariants through meridian validate over ${cliRuns} recordings (seed ${fuzzSeed})`,
    async () => {
      const tally = new FuzzTally('recorded-traffic (validate)');
      const spec = readFileSync(join(dir, 'release.yaml'), 'utf8');
      const specs = {
        jsonl: join(dir, 'jsonl.yaml'),
        combined: join(dir, 'combined.yaml'),
      };
      writeFileSync(specs.jsonl, spec.replace('./traffic/sample.jsonl', './traffic/fuzz.jsonl'));
      writeFileSync(specs.combined, spec.replace('./traffic/sample.jsonl', './traffic/fuzz.log'));
      await fc.assert(
        fc.asyncProperty(recording, async ({ text: input }) => {
          const format = input.trimStart().startsWith('{') ? 'jsonl' : 'combined';
          writeFileSync(join(dir, 'traffic', format === 'jsonl' ? 'fuzz.jsonl' : 'fuzz.log'), input);
          const outcome = await meridian(['validate', '-f', specs[format], '--json'], dir);
          tally.count(expectInputInvariants(outcome, /spec\.validation\.load\.replay: .*fuzz\.(jsonl|log)/));
        }),
        fuzzOptions(cliRuns),
      );
      tally.report();
    },
    fuzzTimeoutMs,
  );
});
