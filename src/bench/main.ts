/**
 * `npm run bench`: prints Meridian's speed and memory figures, each beside its baseline or target. Not a
 * test: it never fails on a number, only when a section cannot measure. Sections (src/bench/sections.ts,
 * each measured by its own module here):
 *
 *   1. overhead: orchestration overhead per region, a 50-region release with zero bake and no-op
 *      activities on a dev server of its own; per region, its workflow's wall time minus its activities'
 *      time, and where it went; then 20 regions one at a time.
 *   2. concurrent: 200 concurrent releases of 5 regions on one no-op worker (BENCH_RELEASES): how many
 *      succeed, regions per second, the worker's peak RSS.
 *   3. apply: server-side apply of one region's manifests beside `kubectl apply --server-side` (rig).
 *   4. load: the load generator's request rate beside wrk's on a loopback target.
 *   5. images: a 200 MB two-platform image copied to three registries at once beside `skopeo copy --all`,
 *      full and as an update sharing layers (registries of its own).
 *   6. kills: recovery from a SIGKILLed worker inside each long activity (rig; BENCH_KILL_KINDS).
 *   7. cli: CLI start to exit, commands loaded as they run beside every command loaded up front.
 *   8. parsing: recorded traffic parsing beside JSON.parse of the same characters.
 *   9. traffic: DNS failover and drain propagation through a private PowerDNS (BENCH_TRAFFIC_TRIALS).
 *  10. planning: planning a 500-region release (target: under 100 ms), apart from loading the spec and
 *      from `meridian plan`'s whole process.
 *  11. history: the history of a 500-region release (events and bytes against Temporal's limits, a
 *      dev server of its own) and of a 72-hour canary soak with bake analysis (a time-skipping server).
 *
 * Options:
 *   --only a,b    run the sections named (e.g. --only load,planning)
 *   --quick       tiny sizes, seconds per section (what CI runs through test/bench)
 *   --json FILE   also write every figure with its baseline and ratio, the date and the machine
 *                 (scripts/bench-table.js FILE turns it into the README's performance table)
 */
import { writeFileSync } from 'node:fs';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { type BenchReport, type SectionReport, thisMachine } from './figures';
import { withNoopWorker } from './noop-worker';
import { rigTemporal, type Section, sectionNames, sections } from './sections';

/** What the command line asked for. */
export interface BenchArguments {
  only: Section[];
  quick: boolean;
  json?: string;
  help: boolean;
}

/** A command line the bench cannot run: exits 2 with this message. */
export class BenchUsageError extends Error {}

export const benchUsage =
  `usage: npm run bench -- [--quick] [--only ${sectionNames.join(',')}] [--json FILE]\n` +
  `  --quick      tiny sizes (seconds per section), as CI runs them\n` +
  `  --only a,b   run only the sections named\n` +
  `  --json FILE  write every figure, its baseline and ratio, the date and the machine to FILE`;

/** Reads the bench's options; throws BenchUsageError on anything it does not know. */
export function parseBenchArguments(argv: readonly string[]): BenchArguments {
  let only: Section[] = sections;
  let quick = false;
  let json: string | undefined;
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '' || (inline === undefined && v.startsWith('--')))
        throw new BenchUsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--quick':
        quick = true;
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      case '--json':
        json = value();
        break;
      case '--only': {
        const names = value().split(',').filter(Boolean);
        const unknown = names.filter((n) => !(sectionNames as readonly string[]).includes(n));
        if (names.length === 0 || unknown.length > 0)
          throw new BenchUsageError(
            `--only takes sections separated by commas, from ${sectionNames.join(', ')}` +
              (unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''),
          );
        only = sections.filter((s) => names.includes(s.name));
        break;
      }
      default:
        throw new BenchUsageError(`unknown option ${JSON.stringify(arg)}`);
    }
  }
  return { only, quick, json, help };
}

/** Runs the chosen sections in order; a section that fails is reported and the rest still run. */
async function runBench(args: BenchArguments): Promise<SectionReport[]> {
  const reports: SectionReport[] = [];
  const runAll = async (world?: Parameters<Section['run']>[0]['world']) => {
    for (const section of args.only) {
      const report: SectionReport = {
        section: section.name,
        number: section.number,
        needsRig: section.needsRig,
        sizes: '',
        figures: [],
      };
      try {
        // Sizes read BENCH_* variables: a bad one fails its section with the variable's name, not a stack.
        report.sizes = section.sizes(args.quick);
        const result = await section.run({ quick: args.quick, world });
        report.figures = result.figures;
        console.log(`${section.number}. ${result.text}`);
      } catch (err) {
        report.error = err instanceof Error ? err.message : String(err);
        console.log(`${section.number}. ${section.name} (${report.sizes || 'sizes refused'}) failed: ${report.error}`);
      }
      reports.push(report);
    }
  };
  // Workers of the bench (the shared no-op worker, a section's own) log errors only.
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  if (args.only.some((s) => s.needsWorker)) {
    await withNoopWorker(rigTemporal(), (world) => runAll(world));
  } else {
    await runAll();
  }
  return reports;
}

async function main(argv: readonly string[]): Promise<number> {
  let args: BenchArguments;
  try {
    args = parseBenchArguments(argv);
  } catch (err) {
    if (!(err instanceof BenchUsageError)) throw err;
    console.error(`bench: ${err.message}\n${benchUsage}`);
    return 2;
  }
  if (args.help) {
    console.log(benchUsage);
    return 0;
  }
  const date = new Date().toISOString();
  if (args.quick) console.log('quick form: tiny sizes, figures for checking the bench works, not for comparing');
  const reports = await runBench(args);
  if (args.json) {
    const report: BenchReport = { date, quick: args.quick, machine: thisMachine(), sections: reports };
    writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`figures written to ${args.json}`);
  }
  const failed = reports.filter((r) => r.error);
  if (failed.length > 0) {
    console.error(
      `bench: ${failed.length} section${failed.length === 1 ? '' : 's'} failed: ${failed.map((r) => r.section).join(', ')}`,
    );
    return 1;
  }
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
