import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
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

/** How long one fuzzer may run: the long run (npm run fuzz) takes minutes per fuzzer on a loaded machine. */
export const fuzzTimeoutMs = 3_600_000;

/** The seed every fuzzer starts from: fixed in CI, so a failure there is the same failure on any machine. */
export const fuzzSeed = Number(process.env.MERIDIAN_FUZZ_SEED ?? 20261202);

/**
 * fast-check's options for a fuzzer: its runs, the seed, and a report whose counterexample is cut to a
 * few KB (a fuzzed input may be a megabyte, and the report is read by a person).
 */
export function fuzzOptions<T>(numRuns: number): fc.Parameters<T> {
  return {
    numRuns,
    seed: fuzzSeed,
    endOnFailure: true,
    reporter: (details) => {
      if (!details.failed) return;
      const report = fc.defaultReportMessage(details) ?? 'failed';
      // Each long line (the counterexample) cut in its middle, so that the cause below it stays in view.
      throw new Error(
        report
          .split('\n')
          .map((l) => (l.length > 2000 ? `${l.slice(0, 1000)} …(${l.length} characters)… ${l.slice(-500)}` : l))
          .join('\n'),
      );
    },
  };
}

/**
 * Fails with `what` and an excerpt of `value` unless `holds`. For checks run thousands of times per
 * case: jest's expect builds an assertion error for every call, which costs more than the parsing fuzzed.
 */
export function mustHold(holds: boolean, what: string, value?: unknown): void {
  if (holds) return;
  const shown =
    value === undefined
      ? ''
      : `: ${String(typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? value)).slice(0, 500)}`;
  throw new Error(`${what}${shown}`);
}

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

/** Runs `meridian ARGS` in process with HOME set to `home` (no Temporal, no kubeconfig is read) and `env` added. */
export async function meridian(args: string[], home: string, env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    out: (t) => void (stdout += t),
    err: (t) => void (stderr += t),
    env: { HOME: home, PATH: process.env.PATH, ...env },
  });
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
  mustHold(code === 0 || code === 2, 'exit 0 or 2 (70 is a crash)', { code, stderr });
  mustHold(!stackFrame.test(stderr), 'no stack trace', stderr);
  const control = /[\u0000-\u0008\u000b-\u001f\u007f]/.exec(stderr);
  mustHold(
    !control,
    'no control character but newline and tab',
    stderr.slice(Math.max(0, (control?.index ?? 0) - 100), (control?.index ?? 0) + 100),
  );
  const long = stderr.split('\n').find((l) => l.length > maxOutputLineChars);
  mustHold(long === undefined, `no line over ${maxOutputLineChars} characters`, long);
  // The CLI cuts any line over 2,000 characters as a last resort: a cut line is a message not bounded where it is made.
  const cut = stderr.split('\n').find((l) => /…\s\(\d+ characters\)$/.test(l));
  mustHold(cut === undefined, 'no line cut by the CLI (every message quotes input as an excerpt)', cut?.slice(0, 300));
  if (code === 2) {
    mustHold(stderr.startsWith('error: '), 'a refusal starts with error:', stderr);
    mustHold(where.test(stderr), `a refusal names where (${where})`, stderr);
    mustHold(stderr.length < maxRefusalChars, `a refusal of under ${maxRefusalChars} characters`, stderr.length);
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
