/**
 * How long `meridian plan` takes to plan a big release: the planning itself (time-to-smoke from the
 * incident history, the trait planner's waves, the bakes, the plan's warnings: what `plan` computes
 * after the spec is loaded) in this process, apart from loading and validating the spec, and apart from
 * the whole `meridian plan` process from start to exit. Target (issue 15): under 100 ms of planning for
 * 500 regions.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { planWarnings } from '../domain/plan-warnings';
import { planRelease } from '../domain/rollout-plan';
import { loadRelease, releaseTimeToSmoke } from '../infra/release-files/release-file';
import { figure, median, type SectionResult } from './figures';
import { loadSyntheticRelease } from './synthetic-release';

/** The planning target for a 500-region spec, in ms. */
export const planningTargetMs = 100;

/** What was measured. */
export interface PlanningMeasurement {
  /** Regions in the spec (the first is the canary; their traits vary). */
  regions: number;
  /** Turns of each measurement. */
  rounds: number;
  /** Waves the plan has. */
  waves: number;
  /** Regions the plan places, every wave counted (must equal `regions`). */
  placed: number;
  /** The first planning in this process, JIT cold: what one `meridian plan` pays. */
  firstPlanningMs: number;
  /** Median planning of the later turns. */
  planningMs: number;
  /** Of the median turn: `planRelease` alone (the waves and bakes), without time-to-smoke and warnings. */
  planReleaseMs: number;
  /** Median load and validation of the spec file (`loadRelease`: YAML, schema, the files it names). */
  loadMs: number;
  /** Median wall time of `meridian plan -f` in a fresh process, start to exit. */
  cliWallMs: number;
  /** Exit code of the last `meridian plan` (0 when it planned). */
  cliExitCode: number;
}

/** Sizes of a run. */
export interface PlanningOptions {
  /** Regions. Full 500, quick 50. */
  regions: number;
  /** Turns. Full 10, quick 2. */
  rounds: number;
}

const root = resolve(__dirname, '..', '..');

/** Plans a synthetic release in this process and with the built CLI (needs `npm run build`). */
export function measurePlanning(options: PlanningOptions): PlanningMeasurement {
  const release = loadSyntheticRelease({ regions: options.regions, traits: 'varied' });
  const file = release.file;
  try {
    const planOnce = () => {
      const started = performance.now();
      const { timeToSmoke } = releaseTimeToSmoke(release, Date.now());
      const t = performance.now();
      const plan = planRelease(release.spec, {}, timeToSmoke?.ms);
      const planReleaseMs = performance.now() - t;
      planWarnings(release.spec, plan, {});
      return { plan, ms: performance.now() - started, planReleaseMs };
    };
    const first = planOnce();
    const turns = Array.from({ length: options.rounds }, planOnce);
    const mid = [...turns].sort((a, b) => a.ms - b.ms)[Math.floor(turns.length / 2)];
    const loads = Array.from({ length: options.rounds }, () => {
      const t = performance.now();
      loadRelease(file);
      return performance.now() - t;
    });
    let cliExitCode = -1;
    const cli = Array.from({ length: options.rounds }, () => {
      const t = performance.now();
      const run = spawnSync(process.execPath, [join(root, 'bin', 'meridian'), 'plan', '-f', file], {
        cwd: root,
        encoding: 'utf8',
      });
      cliExitCode = run.status ?? -1;
      if (cliExitCode !== 0) throw new Error(`meridian plan exited ${cliExitCode}: ${run.stderr.trim()}`);
      return performance.now() - t;
    });
    return {
      regions: options.regions,
      rounds: options.rounds,
      waves: first.plan.waves.length,
      placed: first.plan.waves.reduce((n, w) => n + w.regions.length, 0),
      firstPlanningMs: first.ms,
      planningMs: median(turns.map((t) => t.ms)),
      planReleaseMs: mid.planReleaseMs,
      loadMs: median(loads),
      cliWallMs: median(cli),
      cliExitCode,
    };
  } finally {
    rmSync(dirname(file), { recursive: true, force: true });
  }
}

/** The section's lines and figures. */
export function describePlanning(m: PlanningMeasurement): SectionResult {
  const ms = (x: number) => `${x < 10 ? x.toFixed(2) : x.toFixed(0)} ms`;
  const target = (m.regions === 500 ? planningTargetMs : (planningTargetMs * m.regions) / 500).toFixed(0);
  const text =
    `planning a ${m.regions}-region release (traits varied, maxParallel 10; ${m.waves} waves): ` +
    `first planning in a process ${ms(m.firstPlanningMs)} (${(m.firstPlanningMs / planningTargetMs).toFixed(2)}x the ${planningTargetMs} ms target for 500 regions), ` +
    `median of ${m.rounds} later turns ${ms(m.planningMs)} (planRelease alone ${ms(m.planReleaseMs)}); ` +
    `loading and validating the spec ${ms(m.loadMs)}; meridian plan -f, process start to exit, median ${ms(m.cliWallMs)}` +
    (m.regions === 500 ? '' : ` (the target scaled to ${m.regions} regions would be ${target} ms)`);
  const name = `plan, ${m.regions} regions`;
  return {
    text,
    figures: [
      figure(`${name}: first planning in a process`, 'ms', m.firstPlanningMs, {
        name: 'target for 500 regions',
        value: planningTargetMs,
      }),
      figure(`${name}: planning, median of later turns`, 'ms', m.planningMs, {
        name: 'target for 500 regions',
        value: planningTargetMs,
      }),
      figure(`${name}: loading and validating the spec`, 'ms', m.loadMs),
      figure(`${name}: meridian plan, process start to exit`, 'ms', m.cliWallMs),
    ],
  };
}
