import { reportError, UsageError } from './cli-errors';
import type { Command, CommandContext } from './command';
import { amendCommand } from './commands/amend';
import { codecServerCommand } from './commands/codec-server';
import { demoCommand } from './commands/demo';
import { devCommand } from './commands/dev';
import { diffCommand } from './commands/diff';
import { freezeCommand, unfreezeCommand } from './commands/freeze';
import { listCommand } from './commands/list';
import { operatorCommand } from './commands/operate';
import { planCommand } from './commands/plan';
import { renderCommand } from './commands/render';
import { schemaCommand } from './commands/schema';
import { startCommand } from './commands/start';
import { statusCommand } from './commands/status';
import { validateCommand } from './commands/validate';
import { watchCommand } from './commands/watch';
import { workerCommand } from './commands/worker';

const commands: Record<string, { run: Command; summary: string }> = {
  validate: { run: validateCommand, summary: 'check a release spec: every problem, with its path and the fix' },
  plan: { run: planCommand, summary: 'the waves and bakes a release would follow (--json)' },
  render: { run: renderCommand, summary: "one region's manifests (-f FILE --region NAME)" },
  diff: { run: diffCommand, summary: "how two regions render (--regions A,B), or what a release changes in a region's cluster (--region NAME; dry run)" },
  start: { run: startCommand, summary: 'start a release (--wait to follow it); a repeated start is harmless' },
  status: { run: statusCommand, summary: "a release's wave and regions (--json)" },
  watch: { run: watchCommand, summary: 'live progress of a release until it ends' },
  pause: { run: operatorCommand('pause'), summary: 'pause a release before its next step' },
  freeze: { run: freezeCommand, summary: 'stop the line: pause every running release of an app and refuse new ones' },
  unfreeze: { run: unfreezeCommand, summary: 'lift a freeze and resume the releases it paused' },
  resume: { run: operatorCommand('resume'), summary: 'resume a paused release, or retry a halted one' },
  approve: { run: operatorCommand('approve'), summary: 'approve the gate a release waits at (--gate NAME)' },
  abort: { run: operatorCommand('abort'), summary: 'abort a release (--reason TEXT); regions in flight roll back' },
  skip: { run: amendCommand('skip'), summary: 'leave a region out of a running release (--reason TEXT; a failed one is rolled back)' },
  retry: { run: amendCommand('retry'), summary: 'run a failed region again, or bring a skipped one back (--reason TEXT)' },
  move: { run: amendCommand('move'), summary: 'move a region that has not started to a later wave (--to-wave N --reason TEXT)' },
  'add-region': { run: amendCommand('add-region'), summary: 'add a region from the spec file to a running release (-f FILE [--wave N] --reason TEXT)' },
  list: { run: listCommand, summary: 'releases, newest first (--app, --phase, --json)' },
  worker: { run: workerCommand, summary: 'run a worker that carries releases out' },
  'codec-server': { run: codecServerCommand, summary: 'serve the payload codec to the Web UI and temporal CLI (--ui-origin URL, --port 8888)' },
  dev: { run: devCommand, summary: 'up | down | status of the local rig (Temporal, KWOK clusters, demo services)' },
  demo: { run: demoCommand, summary: 'bring the rig up and take the example release around the world' },
  schema: { run: schemaCommand, summary: "the release spec's JSON Schema, for editors" },
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
    return reportError(err, ctx.err, ctx.env);
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
