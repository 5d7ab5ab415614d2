import { Argument, Option } from 'commander';
import { checkDuration, maxDurationMs, maxTimerMs } from '../domain/duration';
import { quoteExcerpt } from '../domain/excerpt';
import type { ReleaseOverrides } from '../domain/release-input';
import { releasePhases } from '../domain/release-status';
import { UsageError } from './cli-errors';

/**
 * The CLI's options and the parsers behind them. Each parser turns the text of the command line into
 * the value the command uses, or throws a UsageError naming the option and the fix: commander's help,
 * usage and value checks all come from these definitions. Light on purpose: main.ts imports this
 * module for every command line, before any command's module loads.
 */

/** `-f FILE`: the release spec. */
export function fileOption(what: string): Option {
  return new Option('-f, --file <file>', what);
}

/** `--json`: print data rather than text. */
export function jsonOption(what = 'print JSON instead of text'): Option {
  return new Option('--json', what);
}

/** `-f FILE`, required by every command that reads a release spec (the message says what it is for). */
export function requireFile(command: string, file: string | undefined): string {
  if (!file) throw new UsageError(`missing -f FILE: the release spec to ${command}`);
  return file;
}

/** A parser of durations with the bounds of the spec field the option overrides (30 days unless given), in milliseconds. */
export function durationParser(
  flag: string,
  maxMs: number = maxDurationMs,
  min?: { ms: number; fix: string },
): (text: string) => number {
  return (text) => {
    const ms = checkDuration(text, maxMs);
    if (typeof ms === 'string') throw new UsageError(`${flag}: ${ms}`);
    if (min && ms < min.ms) throw new UsageError(`${flag}: ${min.fix}`);
    return ms;
  };
}

/** A duration option, e.g. `--bake <duration>`. */
export function durationOption(
  flag: string,
  what: string,
  maxMs: number = maxDurationMs,
  min?: { ms: number; fix: string },
): Option {
  return new Option(
    `${flag} <duration>`,
    `${what} (e.g. 30s, 20m, 1h30m; at most ${maxMs === maxTimerMs ? '24d' : '30d'})`,
  ).argParser(durationParser(flag, maxMs, min));
}

/** A parser of whole numbers from `min` to `max` (digits only: no sign, no fraction, no exponent). */
export function wholeNumberParser(
  flag: string,
  min: number,
  max: number,
  what = 'a whole number',
): (text: string) => number {
  return (text) => {
    const n = /^\d{1,15}$/.test(text.trim()) ? Number(text.trim()) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max)
      throw new UsageError(`${flag}: expected ${what} from ${min} to ${max}, got ${quoteExcerpt(text)}`);
    return n;
  };
}

/** A parser that takes one of `choices`, and lists them when given anything else. */
export function choiceParser<T extends string>(name: string, choices: readonly T[]): (text: string) => T {
  return (text) => {
    if (!(choices as readonly string[]).includes(text))
      throw new UsageError(`${name}: expected one of ${choices.join(', ')}, got ${quoteExcerpt(text)}`);
    return text as T;
  };
}

/** A positional argument taking one of `choices` (listed in help). */
export function choiceArgument<T extends string>(name: string, what: string, choices: readonly T[]): Argument {
  return new Argument(`<${name}>`, what).choices(choices).argParser(choiceParser(`<${name}>`, choices));
}

/** An option taking one of `choices` (listed in help). */
export function choiceOption<T extends string>(flags: string, what: string, choices: readonly T[]): Option {
  const option = new Option(flags, what).choices(choices);
  return option.argParser(choiceParser(option.long ?? flags, choices));
}

/** An option given more than once, e.g. `--ui-origin A --ui-origin B`: every value, in order. */
export function repeatedOption(flags: string, what: string): Option {
  return new Option(flags, what).argParser((value: string, previous: string[] | undefined) => [
    ...(previous ?? []),
    value,
  ]);
}

/**
 * Largest wave number an option takes: what the release takes in an operator request
 * (src/domain/operator-requests.ts); a wave past the plan's end is refused by the release, naming its waves.
 */
export const maxWaveNumber = 100_000;

/** A wave number option (1-based), e.g. `--to-wave <n>`. */
export function waveOption(flag: string, what: string): Option {
  return new Option(`${flag} <n>`, what).argParser(wholeNumberParser(flag, 1, maxWaveNumber, 'a wave number'));
}

/** Most releases `meridian list` prints. */
export const maxListLimit = 1000;

/** `meridian list --limit <n>`. */
export function limitOption(): Option {
  return new Option('--limit <n>', `list at most this many releases (1 to ${maxListLimit})`)
    .default(50)
    .argParser(wholeNumberParser('--limit', 1, maxListLimit));
}

/** `meridian list --phase <phase>`: one of the release phases. */
export function phaseOption(): Option {
  return choiceOption('--phase <phase>', 'only releases in this phase', releasePhases);
}

/** The options that override timings of a release, e.g. for a demo, as `plan` and `start` take them. */
export function overrideOptions(): Option[] {
  return [
    durationOption('--bake', "bake this long after each wave instead of the spec's time-to-smoke"),
    durationOption('--canary-soak', 'soak the canary this long instead of rollout.canarySoak'),
    durationOption('--load-duration', 'run the load test this long instead of validation.load.duration', maxTimerMs, {
      ms: 1000,
      fix: 'give 1s or more',
    }),
    durationOption(
      '--analysis-interval',
      'measure health this often instead of validation.analysis.interval',
      maxDurationMs,
      {
        ms: 1000,
        fix: 'measure at most once a second: give 1s or more',
      },
    ),
  ];
}

/** The override options' values, in milliseconds, as their parsers left them. */
export interface OverrideValues {
  bake?: number;
  canarySoak?: number;
  loadDuration?: number;
  analysisInterval?: number;
}

/** The overrides of a release from its options. */
export function overridesFrom(values: OverrideValues): ReleaseOverrides {
  const overrides: ReleaseOverrides = { bakeMs: values.bake, canarySoakMs: values.canarySoak };
  // Only when given: the input of releases started before these options existed stays as it was.
  if (values.loadDuration !== undefined) overrides.loadDurationMs = values.loadDuration;
  if (values.analysisInterval !== undefined) overrides.analysisIntervalMs = values.analysisInterval;
  return overrides;
}
