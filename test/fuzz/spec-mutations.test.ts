import { readFileSync } from 'node:fs';
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
  writeCase,
} from '../support/fuzz-cli';
import { mutatedLines } from '../support/fuzz-inputs';

/**
 * Mutation fuzzing of the release spec through `meridian plan --json`, in process, from a fixed seed:
 * the example spec with lines dropped, doubled or swapped, numbers and durations made absurd, YAML
 * aliases and anchors broken, values replaced by hostile ones (long paths, terminal escapes, paths out
 * of the folder). Invariants: never exit 70 or print a stack trace; every refusal names a path or a
 * line, in lines of bounded length; an accepted spec never yields a bake that is not a finite number.
 */
const runs = fuzzRuns(700, 0.2);
const dir = exampleCopy();
const example = readFileSync(join(dir, 'release.yaml'), 'utf8').split('\n');

describe('mutated release specs through meridian plan', () => {
  it(
    `hold the input invariants over ${runs} mutations (seed ${fuzzSeed})`,
    async () => {
      let n = 0;
      const tally = new FuzzTally('spec-mutations');
      await fc.assert(
        fc.asyncProperty(mutatedLines(example), async (lines) => {
          const text = lines.join('\n');
          const outcome = await meridian(['plan', '-f', writeCase(dir, 'fuzz.yaml', n++, text), '--json'], dir);
          mustHold(({} as Record<string, unknown>).polluted === undefined, 'no prototype reached');
          // A refusal names where: a field path, a file:line:col, or the file.
          const accepted = expectInputInvariants(
            outcome,
            /(spec|metadata|apiVersion|kind)[.[:\s]|:\d+:\d+|fuzz-\d+\.yaml|release\.yaml|\.(yaml|csv|jsonl)/,
          );
          tally.count(accepted);
          if (accepted) {
            const planned = JSON.parse(outcome.stdout) as {
              waves: { bakeMs: unknown }[];
              timeToSmoke?: { ms: unknown };
            };
            mustHold(planned.waves.length > 0, 'an accepted spec plans a wave', planned);
            for (const wave of planned.waves)
              mustHold(Number.isFinite(wave.bakeMs), 'every wave has a finite bake', wave);
            if (planned.timeToSmoke)
              mustHold(Number.isFinite(planned.timeToSmoke.ms), 'a finite time-to-smoke', planned.timeToSmoke);
          }
        }),
        fuzzOptions(runs),
      );
      tally.report();
      expect(tally.accepted).toBeGreaterThan(0);
      expect(tally.refused).toBeGreaterThan(0);
    },
    fuzzTimeoutMs,
  );
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
      const text = example
        .map((line) => (line.trimStart().startsWith(written) ? line.replace(/:\s*\S.*$/, `: ${value}`) : line))
        .join('\n');
      const outcome = await meridian(['plan', '-f', writeCase(dir, 'long.yaml', 0, text), '--json'], dir);
      expectInputInvariants(outcome, new RegExp(`${field.replace(/\./g, '\\.')}|${key}`));
      expect(outcome.stderr).toMatch(shown);
    }
  });
});
