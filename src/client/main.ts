import { reportError, UsageError } from './cli-errors';
import type { Command, CommandContext } from './command';
import { devCommand } from './commands/dev';

const commands: Record<string, { run: Command; summary: string }> = {
  dev: { run: devCommand, summary: 'up | down | status of the local rig (Temporal, KWOK clusters, demo services)' },
};

function help(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    'usage: meridian <command> [options]',
    '',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Exit codes: 0 success, 1 release failed or aborted, 2 invalid input or usage, 3 Temporal or a cluster unreachable.',
  ].join('\n');
}

export async function runCli(argv: string[], ctx: CommandContext): Promise<number> {
  try {
    const [name, ...rest] = argv;
    if (!name || name === 'help' || name === '--help' || name === '-h') {
      ctx.out(`${help()}\n`);
      return name ? 0 : 2;
    }
    const command = commands[name];
    if (!command) throw new UsageError(`unknown command "${name}"\n${help()}`);
    return await command.run(rest, ctx);
  } catch (err) {
    return reportError(err, ctx.err);
  }
}

/** Entry of the `meridian` binary. */
export function main(): void {
  runCli(process.argv.slice(2), {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    env: process.env,
  }).then((code) => {
    process.exitCode = code;
  });
}

if (require.main === module) main();
