import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { exampleCopy, expectInputInvariants, FuzzTally, fuzzRuns, fuzzSeed, meridian, writeCase } from '../support/fuzz-cli';

/**
 * Mutation fuzzing of the release spec through `meridian plan --json`, in process, from a fixed seed:
 * the example spec with lines dropped, doubled or swapped, numbers and durations made absurd, YAML
 * aliases and anchors broken, values replaced by hostile ones (long paths, terminal escapes, paths out
 * of the folder). Invariants: never exit 70 or print a stack trace; every refusal names a path or a
 * line, in lines of bounded length; an accepted spec never yields a bake that is not a finite number.
 */
const runs = fuzzRuns(1500);
const dir = exampleCopy();
const example = readFileSync(join(dir, 'release.yaml'), 'utf8').split('\n');

const hostileValues = [
  '9'.repeat(400) + 'd', '1e309', '-1', '0', 'NaN', '.inf', '-.inf', '""', 'null', '~', '[]', '{}', '*nowhere',
  '&a [*a, *a]', '"__proto__"', '{__proto__: {polluted: true}}', '{constructor: {prototype: {x: 1}}}',
  `"${'x'.repeat(5000)}"`, '/dev/zero', '/proc/self/environ', '../../../../etc/passwd', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[x]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
  '25h', '24d', '31d', '100000000%', '2026-02-30', '"결제 흐름"', '!!binary aGVsbG8=', '!!js/function "x"',
  `${'../'.repeat(2000)}etc/passwd`, `${'./'.repeat(3000)}release.yaml`, `./${'a/'.repeat(1500)}chart`, `"${'é'.repeat(3000)}"`,
  '"\\e[2J\\e[31mforged\\rerror: all good\\n"', '"line\\u2028break\\u0000nul"', `"${'\\ud83d\\ude00'.repeat(100)}"`,
];

type Mutation = (lines: string[]) => string[];
const atLine = fc.nat({ max: example.length - 1 });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  atLine.map((i) => (l: string[]) => l.filter((_, j) => j !== i)),
  atLine.map((i) => (l: string[]) => [...l.slice(0, i + 1), l[i], ...l.slice(i + 1)]),
  fc.tuple(atLine, atLine).map(([i, j]) => (l: string[]) => {
    const c = [...l];
    [c[i], c[j]] = [c[j], c[i]];
    return c;
  }),
  fc.tuple(atLine, fc.constantFrom(...hostileValues)).map(([i, v]) => (l: string[]) => l.map((line, j) => (j === i && /:\s*\S/.test(line) ? line.replace(/:\s*\S.*$/, `: ${v}`) : line))),
  fc.tuple(atLine, fc.string({ maxLength: 8 })).map(([i, s]) => (l: string[]) => l.map((line, j) => (j === i ? `${line.slice(0, line.length >> 1)}${s}${line.slice(line.length >> 1)}` : line))),
  fc.tuple(atLine, fc.integer({ min: 1, max: 60 })).map(([i, n]) => (l: string[]) => l.map((line, j) => (j === i ? line.replace(/\d+/, (d) => d.repeat(n)) : line))),
);

describe('mutated release specs through meridian plan', () => {
  it(`hold the input invariants over ${runs} mutations (seed ${fuzzSeed})`, async () => {
    let n = 0;
    const tally = new FuzzTally('spec-mutations');
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
        const text = mutations.reduce((lines, m) => m(lines), example).join('\n');
        const outcome = await meridian(['plan', '-f', writeCase(dir, 'fuzz.yaml', n++, text), '--json'], dir);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        // A refusal names where: a field path, a file:line:col, or the file.
        const accepted = expectInputInvariants(outcome, /(spec|metadata|apiVersion|kind)[.[:\s]|:\d+:\d+|fuzz-\d+\.yaml|release\.yaml|\.(yaml|csv|jsonl)/);
        tally.count(accepted);
        if (accepted) {
          const planned = JSON.parse(outcome.stdout) as { waves: { bakeMs: unknown }[] };
          for (const wave of planned.waves) expect(Number.isFinite(wave.bakeMs)).toBe(true);
        }
      }),
      { numRuns: runs, seed: fuzzSeed, endOnFailure: true },
    );
    tally.report();
    expect(tally.accepted).toBeGreaterThan(0);
    expect(tally.refused).toBeGreaterThan(0);
  }, 600_000);
});

describe('paths the spec names, echoed in warnings and refusals', () => {
  // Found by the fuzzer: a 5,000-character chart path was printed whole (a 24 KB refusal).
  it.each([
    ['spec.template.helm.chart', 'chart: ./chart'],
    ['spec.validation.integration.suite', 'suite: ./checks/integration.yaml'],
    ['spec.validation.load.replay', 'replay: ./traffic/sample.jsonl'],
    ['spec.rollout.timeToSmoke.incidents', 'incidents: ./incidents.csv'],
  ])('%s of 5,000 characters, or holding terminal escapes, is quoted as an excerpt', async (field, written) => {
    const key = written.slice(0, written.indexOf(':'));
    for (const [value, shown] of [
      [`./${'x'.repeat(5000)}`, /"\/[^"]*x…" \(\d{4} characters\)/],
      ['"./\\e[2Jforged\\rerror: fine"', /\\u001b\[2Jforged\\rerror: fine"/],
    ] as const) {
      const text = example.map((line) => (line.trimStart().startsWith(written) ? line.replace(/:\s*\S.*$/, `: ${value}`) : line)).join('\n');
      const outcome = await meridian(['plan', '-f', writeCase(dir, 'long.yaml', 0, text), '--json'], dir);
      expectInputInvariants(outcome, new RegExp(`${field.replace(/\./g, '\\.')}|${key}`));
      expect(outcome.stderr).toMatch(shown);
    }
  });
});
