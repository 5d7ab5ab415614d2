import { HelpRequested } from './args';
import { reportError, UsageError } from './cli-errors';
import type { Command, CommandContext } from './command';

/**
 * A command whose module loads only when it runs: each command's dependencies (the Temporal client and
 * worker, the Kubernetes client, the rig) are heavy, and `meridian validate` should not wait for the
 * worker's to load.
 */
function lazy(load: () => Promise<Command>): Command {
  return async (argv, ctx) => (await load())(argv, ctx);
}

export const commands: Record<string, { run: Command; summary: string }> = {
  validate: { run: lazy(async () => (await import('./commands/validate')).validateCommand), summary: 'check a release spec: every problem, with its path and the fix' },
  plan: { run: lazy(async () => (await import('./commands/plan')).planCommand), summary: 'the waves and bakes a release would follow (--json)' },
  render: { run: lazy(async () => (await import('./commands/render')).renderCommand), summary: "one region's manifests (-f FILE --region NAME)" },
  diff: { run: lazy(async () => (await import('./commands/diff')).diffCommand), summary: "how two regions render (--regions A,B), or what a release changes in a region's cluster (--region NAME; dry run)" },
  start: { run: lazy(async () => (await import('./commands/start')).startCommand), summary: 'start a release (--wait to follow it); a repeated start is harmless' },
  status: { run: lazy(async () => (await import('./commands/status')).statusCommand), summary: "a release's wave and regions (--json)" },
  watch: { run: lazy(async () => (await import('./commands/watch')).watchCommand), summary: 'live progress of a release until it ends' },
  pause: { run: lazy(async () => (await import('./commands/operate')).operatorCommand('pause')), summary: 'pause a release before its next step' },
  freeze: { run: lazy(async () => (await import('./commands/freeze')).freezeCommand), summary: 'stop the line: pause every running release of an app and refuse new ones' },
  unfreeze: { run: lazy(async () => (await import('./commands/freeze')).unfreezeCommand), summary: 'lift a freeze and resume the releases it paused' },
  resume: { run: lazy(async () => (await import('./commands/operate')).operatorCommand('resume')), summary: 'resume a paused release, or retry a halted one' },
  approve: { run: lazy(async () => (await import('./commands/operate')).operatorCommand('approve')), summary: 'approve the gate a release waits at (--gate NAME)' },
  abort: { run: lazy(async () => (await import('./commands/operate')).operatorCommand('abort')), summary: 'abort a release (--reason TEXT); regions in flight roll back' },
  skip: { run: lazy(async () => (await import('./commands/amend')).amendCommand('skip')), summary: 'leave a region out of a running release (--reason TEXT; a failed one is rolled back)' },
  retry: { run: lazy(async () => (await import('./commands/amend')).amendCommand('retry')), summary: 'run a failed region again, or bring a skipped one back (--reason TEXT)' },
  move: { run: lazy(async () => (await import('./commands/amend')).amendCommand('move')), summary: 'move a region that has not started to a later wave (--to-wave N --reason TEXT)' },
  'add-region': { run: lazy(async () => (await import('./commands/amend')).amendCommand('add-region')), summary: 'add a region from the spec file to a running release (-f FILE [--wave N] --reason TEXT)' },
  list: { run: lazy(async () => (await import('./commands/list')).listCommand), summary: 'releases, newest first (--app, --phase, --json)' },
  worker: { run: lazy(async () => (await import('./commands/worker')).workerCommand), summary: 'run a worker that carries releases out' },
  'codec-server': { run: lazy(async () => (await import('./commands/codec-server')).codecServerCommand), summary: 'serve the payload codec to the Web UI and temporal CLI (--ui-origin URL, --port 8888)' },
  dev: { run: lazy(async () => (await import('./commands/dev')).devCommand), summary: 'up | down | status of the local rig (Temporal, KWOK clusters, demo services)' },
  demo: { run: lazy(async () => (await import('./commands/demo')).demoCommand), summary: 'bring the rig up and take the example release around the world' },
  schema: { run: lazy(async () => (await import('./commands/schema')).schemaCommand), summary: "the release spec's JSON Schema, for editors" },
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
    if (err instanceof HelpRequested) {
      ctx.out(`${err.usage}\n`);
      return 0;
    }
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
