import { checkDuration, maxDurationMs, maxTimerMs } from '../domain/duration';
import type { ReleaseOverrides } from '../domain/release-input';
import { UsageError } from './cli-errors';

/** `-f FILE`, required by every command that reads a release spec. */
export function requireFile(command: string, file: string | undefined): string {
  if (!file) throw new UsageError(`missing -f FILE: the release spec to ${command}\n  usage: meridian ${command} -f release.yaml`);
  return file;
}

/** Exactly one positional argument: the release id. */
export function requireReleaseId(command: string, positionals: string[]): string {
  if (positionals.length !== 1) throw new UsageError(`expected one release id\n  usage: meridian ${command} <release-id>`);
  return positionals[0];
}

/** A duration option in milliseconds, with the bounds of the spec field it overrides (30 days unless given). */
export function durationOption(name: string, value: string | undefined, maxMs: number = maxDurationMs): number | undefined {
  if (value === undefined) return undefined;
  const ms = checkDuration(value, maxMs);
  if (typeof ms === 'string') throw new UsageError(`--${name}: ${ms}`);
  return ms;
}

/** Options that override timings of a release, e.g. for a demo. */
export const overrideOptions = {
  bake: { type: 'string' },
  'canary-soak': { type: 'string' },
  'load-duration': { type: 'string' },
  'analysis-interval': { type: 'string' },
} as const;

export function overridesFrom(values: { bake?: string; 'canary-soak'?: string; 'load-duration'?: string; 'analysis-interval'?: string }): ReleaseOverrides {
  const overrides: ReleaseOverrides = { bakeMs: durationOption('bake', values.bake), canarySoakMs: durationOption('canary-soak', values['canary-soak']) };
  const loadDurationMs = durationOption('load-duration', values['load-duration'], maxTimerMs);
  // Only when given: the input of releases started before this option existed stays as it was.
  if (loadDurationMs !== undefined) overrides.loadDurationMs = loadDurationMs;
  const analysisIntervalMs = durationOption('analysis-interval', values['analysis-interval']);
  if (analysisIntervalMs !== undefined && analysisIntervalMs < 1000) throw new UsageError('--analysis-interval: measure at most once a second: give 1s or more');
  if (loadDurationMs !== undefined && loadDurationMs < 1000) throw new UsageError('--load-duration: give 1s or more');
  if (analysisIntervalMs !== undefined) overrides.analysisIntervalMs = analysisIntervalMs;
  return overrides;
}
