/**
 * What a bench section hands back besides its printed lines: its figures, each with a name, a unit and,
 * where the section compares against something, the baseline's name and value and the ratio. `--json`
 * writes them with the machine they were measured on; scripts/bench-table.js turns that file into the
 * README's performance table.
 */
import { cpus, totalmem } from 'node:os';

/** One measured number. */
export interface Figure {
  /** What was measured, e.g. `plan, 500 regions: planning time`. */
  name: string;
  /** Its unit: `ms`, `s`, `MiB`, `requests/s`, `regions`, `releases`. */
  unit: string;
  /** The number itself. */
  value: number;
  /** What it is compared with: another tool, the same work done the old way, or a target. */
  baseline?: {
    /** What the baseline is, e.g. `wrk -t1` or `target`. */
    name: string;
    /** Its value, in the figure's unit. */
    value: number;
  };
  /** value / baseline.value (present exactly when baseline is). */
  ratio?: number;
}

/** A figure, with its ratio when it has a baseline. */
export function figure(name: string, unit: string, value: number, baseline?: { name: string; value: number }): Figure {
  return baseline ? { name, unit, value, baseline, ratio: value / baseline.value } : { name, unit, value };
}

/** What a section measured: the lines it prints and its figures. */
export interface SectionResult {
  /** The printed lines, without the section's number. */
  text: string;
  /** Every figure the lines print that has a number worth tracking. */
  figures: Figure[];
}

/** The machine a run was measured on. */
export interface Machine {
  /** Logical cores Node sees. */
  cores: number;
  /** Total memory in bytes. */
  memoryBytes: number;
  /** The first core's model name. */
  cpuModel: string;
  /** `process.version`. */
  node: string;
  /** `process.platform`-`process.arch`. */
  platform: string;
}

/** This machine. */
export function thisMachine(): Machine {
  const cores = cpus();
  return {
    cores: cores.length,
    memoryBytes: totalmem(),
    cpuModel: cores[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** One section's entry in the JSON report. */
export interface SectionReport {
  /** The section's name, as `--only` takes it. */
  section: string;
  /** Its number in the bench's output. */
  number: number;
  /** Whether it needs the local rig. */
  needsRig: boolean;
  /** The sizes it ran at, in words. */
  sizes: string;
  /** Its figures (none when it failed). */
  figures: Figure[];
  /** Why it failed, if it did. */
  error?: string;
}

/** What `npm run bench -- --json FILE` writes. */
export interface BenchReport {
  /** When the run started (ISO 8601, UTC). */
  date: string;
  /** Quick sizes (`--quick`) or the full ones. */
  quick: boolean;
  machine: Machine;
  sections: SectionReport[];
}

/** The median of some numbers (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The p-th percentile (nearest rank, 0-100). */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
