/**
 * How long `meridian <command>` takes from process start to exit, with commands loaded as they run
 * (what the CLI does) against the baseline of every command's module loaded up front (what it did
 * before: each command's dependencies, the Temporal worker and client, the Kubernetes client and the
 * rig, loaded for `meridian validate` too). Both run the same built CLI in fresh Node processes, taking
 * turns; the baseline preloads every module under dist/client/commands before the CLI starts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** One command's timings. */
export interface CommandStartup {
  /** The command line after `meridian`, e.g. `validate -f examples/release.yaml`. */
  command: string;
  /** Median wall time in ms, commands loaded lazily. */
  lazyMs: number;
  /** Median wall time in ms, every command loaded up front (the baseline). */
  eagerMs: number;
  /** Median peak RSS in KiB, lazily. */
  lazyRssKiB: number;
  /** Median peak RSS in KiB, the baseline. */
  eagerRssKiB: number;
  /** Exit code of the last lazy run (both ways must agree). */
  exitCode: number;
}

/** Every command's timings and how many turns each took. */
export interface StartupComparison {
  /** Turns per command and way. */
  rounds: number;
  /** One entry per command. */
  commands: CommandStartup[];
}

/** Options of a comparison. */
export interface StartupOptions {
  /** Command lines to time (after `meridian`). Default: help, validate and plan of the example, schema. */
  commands?: string[][];
  /** Turns each way takes per command. Default 5. */
  rounds?: number;
}

const root = resolve(__dirname, '..', '..');
const cliEntry = join(root, 'bin', 'meridian');
const commandsDir = join(root, 'dist', 'client', 'commands');
const example = join(root, 'examples', 'release.yaml');

/** The command lines the full bench times. */
export const defaultStartupCommands: string[][] = [
  ['--help'],
  ['validate', '-f', example],
  ['plan', '-f', example],
  ['schema'],
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Compares lazy loading against the eager baseline for each command, taking turns. Needs `npm run build`. */
export function compareCliStartup(options: StartupOptions = {}): StartupComparison {
  const rounds = options.rounds ?? 5;
  const dir = mkdtempSync(join(tmpdir(), 'meridian-bench-cli-'));
  try {
    const rssFile = join(dir, 'rss');
    // Reports the process's peak RSS when it exits, for either way. VmHWM is this process's own; getrusage's
    // maxRSS carries the parent's peak across exec on Linux (under jest, both ways read jest's 300 MiB).
    const reportRss = join(dir, 'report-rss.js');
    writeFileSync(
      reportRss,
      `process.on('exit', () => { const fs = require('node:fs'); let kib; try { kib = Number(/VmHWM:\\s*(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]); } catch { kib = process.resourceUsage().maxRSS; } fs.writeFileSync(${JSON.stringify(rssFile)}, String(kib)); });\n`,
    );
    const preloadAll = join(dir, 'preload-commands.js');
    const modules = readdirSync(commandsDir).filter((f) => f.endsWith('.js'));
    writeFileSync(preloadAll, modules.map((m) => `require(${JSON.stringify(join(commandsDir, m))});`).join('\n'));
    const once = (args: string[], eager: boolean) => {
      const preload = eager ? ['-r', reportRss, '-r', preloadAll] : ['-r', reportRss];
      const started = process.hrtime.bigint();
      const run = spawnSync(process.execPath, [...preload, cliEntry, ...args], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, HOME: dir },
      });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      return { ms, rssKiB: Number(readFileSync(rssFile, 'utf8')), exitCode: run.status ?? -1 };
    };
    const commands = (options.commands ?? defaultStartupCommands).map((args) => {
      const lazy: ReturnType<typeof once>[] = [];
      const eager: ReturnType<typeof once>[] = [];
      for (let i = 0; i < rounds; i++) {
        lazy.push(once(args, false));
        eager.push(once(args, true));
      }
      return {
        command: args.map((a) => (a === example ? 'examples/release.yaml' : a)).join(' '),
        lazyMs: median(lazy.map((r) => r.ms)),
        eagerMs: median(eager.map((r) => r.ms)),
        lazyRssKiB: median(lazy.map((r) => r.rssKiB)),
        eagerRssKiB: median(eager.map((r) => r.rssKiB)),
        exitCode: lazy[lazy.length - 1].exitCode,
      };
    });
    return { rounds, commands };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The comparison in one line per command. */
export function describeCliStartup(c: StartupComparison): string {
  const lines = c.commands.map(
    (s) =>
      `  meridian ${s.command}: ${Math.round(s.lazyMs)} ms, ${Math.round(s.lazyRssKiB / 1024)} MiB peak RSS; ` +
      `every command loaded up front ${Math.round(s.eagerMs)} ms, ${Math.round(s.eagerRssKiB / 1024)} MiB; ` +
      `ratio ${(s.lazyMs / s.eagerMs).toFixed(2)}x the baseline's time`,
  );
  return [`CLI start to exit, median of ${c.rounds} fresh processes each way, taking turns:`, ...lines].join('\n');
}
