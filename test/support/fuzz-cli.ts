import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from '../../src/client/main';

/**
 * What the fuzz tier (test/fuzz) shares: how many cases and which seed, running the CLI in process on
 * a fuzzed input, the invariants every outcome must hold, and the tally each fuzzer prints.
 * `MERIDIAN_FUZZ_RUNS` sets every fuzzer's case count (each may scale it: a case that builds a folder
 * costs more than one that parses a line); `MERIDIAN_FUZZ_SEED` the seed. `npm run fuzz` sets both.
 */

/** Cases a fuzzer runs: `ciRuns` in CI, else MERIDIAN_FUZZ_RUNS times `scale`. */
export function fuzzRuns(ciRuns: number, scale = 1): number {
  const asked = process.env.MERIDIAN_FUZZ_RUNS;
  return asked ? Math.max(1, Math.round(Number(asked) * scale)) : ciRuns;
}

/** The seed every fuzzer starts from: fixed in CI, so a failure there is the same failure on any machine. */
export const fuzzSeed = Number(process.env.MERIDIAN_FUZZ_SEED ?? 20261202);

/** Longest line a refusal or warning may print: errors quote input as excerpts, never whole. */
export const maxOutputLineChars = 2048;

/** Most characters a refusal may print in all: a few hundred problems of bounded lines. */
export const maxRefusalChars = 64 * 1024;

/** A scratch folder holding a copy of examples/ (spec, chart, checks, traffic, incidents), removed after the suite. */
export function exampleCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'meridian-fuzz-'));
  cpSync(resolve(__dirname, '..', '..', 'examples'), dir, { recursive: true });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** What one CLI run printed and returned. */
export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `meridian ARGS` in process with HOME set to `home` (no Temporal, no kubeconfig is read). */
export async function meridian(args: string[], home: string): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { out: (t) => void (stdout += t), err: (t) => void (stderr += t), env: { HOME: home, PATH: process.env.PATH } });
  return { code, stdout, stderr };
}

/** Writes `text` to one of a few rotating files of `dir`, named `stem-N.ext`, and returns its path. */
export function writeCase(dir: string, name: string, n: number, text: string | Buffer): string {
  const dot = name.lastIndexOf('.');
  const file = join(dir, `${name.slice(0, dot)}-${n % 16}${name.slice(dot)}`);
  writeFileSync(file, text);
  return file;
}

/** A line printed with a stack frame in it: a crash, not a refusal. */
const stackFrame = /\n\s+at .+:\d+:\d+\)?/;

/**
 * The invariants of every outcome of a fuzzed input: exit 0 or 2 (never 70, a crash), no stack trace,
 * no control character but newline and tab (input must not drive the terminal), no printed line over
 * maxOutputLineChars. A refusal (exit 2) also names where: `where` must match it. Returns whether the
 * input was accepted.
 */
export function expectInputInvariants(outcome: Outcome, where: RegExp): boolean {
  const { code, stderr } = outcome;
  const longest = Math.max(0, ...stderr.split('\n').map((l) => l.length));
  const control = /[\u0000-\u0008\u000b-\u001f\u007f]/.exec(stderr)?.[0];
  expect({ code, stack: stackFrame.test(stderr), control, longLine: longest > maxOutputLineChars ? longest : undefined }).toEqual({
    code: code === 0 ? 0 : 2,
    stack: false,
    control: undefined,
    longLine: undefined,
  });
  if (code === 2) {
    expect(stderr).toMatch(/^error: /);
    expect(stderr).toMatch(where);
    expect(stderr.length).toBeLessThan(maxRefusalChars);
  }
  return code === 0;
}

/** Accepted and refused cases of one fuzzer, printed when it ends so that a run reports its counts. */
export class FuzzTally {
  accepted = 0;
  refused = 0;
  private readonly started = Date.now();
  constructor(private readonly name: string) {}

  count(accepted: boolean): void {
    if (accepted) this.accepted++;
    else this.refused++;
  }

  report(): string {
    const line = `fuzz ${this.name}: ${this.accepted + this.refused} cases, ${this.accepted} accepted, ${this.refused} refused, ${((Date.now() - this.started) / 1000).toFixed(1)} s, seed ${fuzzSeed}`;
    process.stderr.write(`${line}\n`);
    return line;
  }
}
