import { Argument, Command as CliCommand, CommanderError, Help, Option, type OptionValues } from 'commander';
import { ExitCode } from '../domain/errors';
import { quoteExcerpt } from '../domain/excerpt';
import { reportError, UsageError } from './cli-errors';
import type { Command, CommandContext } from './command';
import {
  choiceArgument,
  fileOption,
  jsonOption,
  durationOption,
  limitOption,
  overrideOptions,
  phaseOption,
  repeatedOption,
  waveOption,
  wholeNumberParser,
} from './options';

/** How a command runs once parsed: its module loaded, then called with the parsed options and arguments. */
type Run = (options: OptionValues, args: string[], ctx: CommandContext) => Promise<number>;

/**
 * A command whose module loads only when it runs: each command's dependencies (the Temporal client and
 * worker, the Kubernetes client, the rig) are heavy, and `meridian validate` or `--help` should not wait
 * for the worker's to load. Its options are defined below, so help and value checks need none of it.
 */
function lazy<Options extends object>(load: () => Promise<Command<Options>>): Run {
  return async (options, args, ctx) => (await load())(options as Options, args, ctx);
}

/** One command of the CLI: what help shows, what commander checks, and how it runs. */
export interface CommandDefinition {
  /** One line in `meridian --help`. */
  summary: string;
  /** The usage line after `meridian <name>`, in help and after every usage error. */
  usage: string;
  /** Positional arguments, in order. */
  args?: () => Argument[];
  /** Options, each with its parser. */
  options?: () => Option[];
  run: Run;
}

const releaseId = () =>
  new Argument('<release-id>', 'the release, e.g. release-shop-api-2.4.0 (meridian list shows them)');
const region = () => new Argument('<region>', 'the region, by its name in spec.regions');
const reason = (what: string) => new Option('--reason <text>', what);
const operatorJson = () => jsonOption('print the status the release answers with as JSON');

/** An operator action on a running release: pause, resume, approve, abort. */
function operatorAction(action: 'pause' | 'resume' | 'approve' | 'abort', summary: string): CommandDefinition {
  return {
    summary,
    usage: `<release-id> [--reason TEXT]${action === 'approve' ? ' [--gate NAME]' : ''} [--json]`,
    args: () => [releaseId()],
    options: () => [
      reason('why, recorded with who asked'),
      ...(action === 'approve'
        ? [new Option('--gate <name>', 'the gate to approve (default: the one waiting), e.g. after-canary')]
        : []),
      operatorJson(),
    ],
    run: lazy(async () => (await import('./commands/operate')).operatorCommand(action)),
  };
}

/** An amendment of a running release's plan: skip, retry, move, add-region. */
function amendment(
  action: 'skip' | 'retry' | 'move' | 'add-region',
  summary: string,
  usage: string,
  options: () => Option[] = () => [],
): CommandDefinition {
  return {
    summary,
    usage: `<release-id> <region> ${usage}`,
    args: () => [releaseId(), region()],
    options: () => [
      ...options(),
      reason('why (required): every amendment is recorded with who asked and why'),
      operatorJson(),
    ],
    run: lazy(async () => (await import('./commands/amend')).amendCommand(action)),
  };
}

export const commands: Record<string, CommandDefinition> = {
  validate: {
    summary: 'check a release spec: every problem, with its path and the fix',
    usage: '-f release.yaml [--json]',
    options: () => [fileOption('the release spec'), jsonOption()],
    run: lazy(async () => (await import('./commands/validate')).validateCommand),
  },
  plan: {
    summary: 'the waves and bakes a release would follow (--json)',
    usage: '-f release.yaml [--json] [--bake D] [--canary-soak D] [--load-duration D] [--analysis-interval D]',
    options: () => [fileOption('the release spec'), jsonOption(), ...overrideOptions()],
    run: lazy(async () => (await import('./commands/plan')).planCommand),
  },
  render: {
    summary: "one region's manifests (-f FILE --region NAME)",
    usage: '-f release.yaml --region NAME',
    options: () => [fileOption('the release spec'), new Option('--region <name>', 'the region to render')],
    run: lazy(async () => (await import('./commands/render')).renderCommand),
  },
  diff: {
    summary:
      "how two regions render (--regions A,B), or what a release changes in a region's cluster (--region NAME; dry run)",
    usage: '-f release.yaml (--regions A,B | --region NAME) [--json]',
    options: () => [
      fileOption('the release spec'),
      new Option('--regions <a,b>', 'two regions whose manifests to compare, e.g. us-east-canary,us-west').conflicts(
        'region',
      ),
      new Option(
        '--region <name>',
        'the region whose cluster to compare with what releasing would apply (a server-side dry run)',
      ).conflicts('regions'),
      jsonOption(),
    ],
    run: lazy(async () => (await import('./commands/diff')).diffCommand),
  },
  start: {
    summary: 'start a release (--wait to follow it); a repeated start is harmless',
    usage: '-f release.yaml [--wait] [--bake D] [--canary-soak D] [--load-duration D] [--analysis-interval D]',
    options: () => [
      fileOption('the release spec'),
      new Option('--wait', 'follow the release until it ends; exit 1 if it fails'),
      ...overrideOptions(),
    ],
    run: lazy(async () => (await import('./commands/start')).startCommand),
  },
  status: {
    summary: "a release's wave and regions (--json)",
    usage: '<release-id> [--json]',
    args: () => [releaseId()],
    options: () => [jsonOption()],
    run: lazy(async () => (await import('./commands/status')).statusCommand),
  },
  watch: {
    summary: 'live progress of a release until it ends',
    usage: '<release-id>',
    args: () => [releaseId()],
    run: lazy(async () => (await import('./commands/watch')).watchCommand),
  },
  pause: operatorAction('pause', 'pause a release before its next step'),
  freeze: {
    summary: 'stop the line: pause every running release of an app and refuse new ones',
    usage: '--app NAME [--reason TEXT]',
    options: () => [
      new Option('--app <name>', 'the app to freeze'),
      reason('why, recorded on the freeze and the releases it pauses'),
    ],
    run: lazy(async () => (await import('./commands/freeze')).freezeCommand),
  },
  unfreeze: {
    summary: 'lift a freeze and resume the releases it paused',
    usage: '--app NAME [--reason TEXT]',
    options: () => [
      new Option('--app <name>', 'the app whose freeze to lift'),
      reason('why, recorded on the freeze and the releases it resumes'),
    ],
    run: lazy(async () => (await import('./commands/freeze')).unfreezeCommand),
  },
  resume: operatorAction('resume', 'resume a paused release, or retry a halted one'),
  approve: operatorAction('approve', 'approve the gate a release waits at (--gate NAME)'),
  abort: operatorAction('abort', 'abort a release (--reason TEXT); regions in flight roll back'),
  skip: amendment(
    'skip',
    'leave a region out of a running release (--reason TEXT; a failed one is rolled back)',
    '--reason TEXT',
  ),
  retry: amendment('retry', 'run a failed region again, or bring a skipped one back (--reason TEXT)', '--reason TEXT'),
  move: amendment(
    'move',
    'move a region that has not started to a later wave (--to-wave N --reason TEXT)',
    '--to-wave N --reason TEXT',
    () => [waveOption('--to-wave', 'the later wave to move the region to (1-based; one past the last adds a wave)')],
  ),
  'add-region': amendment(
    'add-region',
    'add a region from the spec file to a running release (-f FILE [--wave N] --reason TEXT)',
    '-f release.yaml [--wave N] --reason TEXT',
    () => [
      fileOption('the release spec that defines the region'),
      waveOption('--wave', 'the wave to join (1-based; default: a new last wave)'),
    ],
  ),
  traffic: {
    summary: "where the hostname's users go (-f FILE); drain or restore a region (--reason TEXT)",
    usage:
      '-f release.yaml [--json] | drain <region> -f release.yaml --reason TEXT | restore <region> -f release.yaml --reason TEXT',
    args: () => [
      new Argument('[action]', 'drain or restore; none: show where traffic goes').choices(['drain', 'restore']),
      new Argument('[region]', 'the region to drain or restore, by its name in spec.traffic.regions'),
    ],
    options: () => [
      fileOption('the release spec with the traffic section'),
      jsonOption(),
      reason('why (required to drain or restore): recorded with who asked'),
    ],
    run: lazy(async () => (await import('./commands/traffic')).trafficCommand),
  },
  list: {
    summary: 'releases, newest first (--app, --phase, --json)',
    usage: '[--app NAME] [--phase PHASE] [--limit N] [--json]',
    options: () => [
      new Option('--app <name>', 'only releases of this app'),
      phaseOption(),
      limitOption(),
      jsonOption(),
    ],
    run: lazy(async () => (await import('./commands/list')).listCommand),
  },
  worker: {
    summary: 'run a worker that carries releases out',
    usage: '[--task-queue NAME] [--kubeconfig FILE] [--metrics-address HOST:PORT]',
    options: () => [
      new Option('--task-queue <name>', 'the task queue to poll (default: meridian-releases)'),
      new Option('--kubeconfig <file>', "the kubeconfig holding the regions' contexts (default: KUBECONFIG)"),
      new Option('--metrics-address <host:port>', 'serve Prometheus /metrics here (default: MERIDIAN_METRICS_ADDRESS)'),
    ],
    run: lazy(async () => (await import('./commands/worker')).workerCommand),
  },
  'codec-server': {
    summary: 'serve the payload codec to the Web UI and temporal CLI (--ui-origin URL, --port 8888)',
    usage: '[--host 127.0.0.1] [--port 8888] [--ui-origin URL ...] [--token-file FILE]',
    options: () => [
      new Option('--host <host>', 'the address to listen on').default('127.0.0.1'),
      new Option('--port <port>', 'the port to listen on (0 picks a free one)')
        .default(8888)
        .argParser(wholeNumberParser('--port', 0, 65535, 'a port number')),
      repeatedOption('--ui-origin <url>', 'a Web UI origin allowed to call it (repeat for more)'),
      new Option(
        '--token-file <file>',
        'a file whose first line is the bearer token every call needs (default: MERIDIAN_CODEC_SERVER_TOKEN)',
      ),
    ],
    run: lazy(async () => (await import('./commands/codec-server')).codecServerCommand),
  },
  dev: {
    summary: 'up | down | status of the local rig (Temporal, KWOK clusters, demo services)',
    usage: 'up [--profile dev|production] | down [--purge] | status [--json]  [--rig FILE]',
    args: () => [choiceArgument('action', 'what to do with the rig', ['up', 'down', 'status'])],
    options: () => [
      new Option(
        '--profile <name>',
        'up: dev (the Temporal dev server, the default) or production (PostgreSQL, mTLS, API keys, encrypted payloads)',
      ),
      new Option('--purge', "down: remove the rig's state too"),
      jsonOption("status, up: print the rig's status as JSON"),
      new Option('--rig <file>', 'the rig config (default: examples/rig.yaml)'),
    ],
    run: lazy(async () => (await import('./commands/dev')).devCommand),
  },
  demo: {
    summary: 'bring the rig up and take the example release around the world',
    usage: '[-f release.yaml] [--version V] [--bake 20s] [--canary-soak 20s] [--rig FILE]',
    options: () => [
      fileOption("the release spec (default: the rig config's release)"),
      new Option('--version <version>', 'the version to release (default: a fresh demo version)'),
      durationOption('--bake', 'bake this long after each wave').default(20_000, '20s'),
      durationOption('--canary-soak', 'soak the canary this long').default(20_000, '20s'),
      new Option('--rig <file>', 'the rig config (default: examples/rig.yaml)'),
    ],
    run: lazy(async () => (await import('./commands/demo')).demoCommand),
  },
  schema: {
    summary: "the release spec's JSON Schema, for editors",
    usage: '',
    run: lazy(async () => (await import('./commands/schema')).schemaCommand),
  },
};

const exitCodes =
  'Exit codes: 0 success, 1 release failed or aborted, 2 invalid input or usage, 3 Temporal or a cluster unreachable.';

/** The usage line of a command (or of the CLI), and where its help is, as printed after a usage error. */
function usageLines(name: string | undefined): string[] {
  if (name === undefined || !Object.hasOwn(commands, name))
    return ['usage: meridian <command> [options]', '`meridian --help` lists the commands'];
  return [`usage: meridian ${name} ${commands[name].usage}`.trimEnd(), `\`meridian ${name} --help\` lists its options`];
}

/**
 * The CLI as commander sees it, for one run: every command with its arguments and options, writing
 * to `ctx`, and never exiting the process (exitOverride: errors come back to runCli, which reports them).
 */
function buildProgram(ctx: CommandContext, ran: (code: number) => void, entered: (name: string) => void): CliCommand {
  const program = new CliCommand('meridian')
    .description('Takes one release of an application around the world safely, region by region, on Temporal.')
    .usage('<command> [options]')
    .exitOverride()
    .configureOutput({
      writeOut: ctx.out,
      writeErr: ctx.err,
      // Errors go through the one reporter (runCli), with the exit code the README promises.
      outputError: () => undefined,
      getOutHelpWidth: () => 100,
      getErrHelpWidth: () => 100,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    })
    // Commands listed with their arguments; each command's help lists its options.
    .configureHelp({
      subcommandTerm: (command) => Help.prototype.subcommandTerm.call(new Help(), command).replace(' [options]', ''),
    })
    .helpCommand('help [command]', 'print the help of a command')
    .addHelpText('after', `\n${exitCodes}`);
  program.hook('preSubcommand', (_program, command) => entered(command.name()));
  for (const [name, definition] of Object.entries(commands)) {
    const command = program.command(name).description(definition.summary).usage(definition.usage);
    for (const argument of definition.args?.() ?? []) command.addArgument(argument);
    for (const option of definition.options?.() ?? []) command.addOption(option);
    command.action(async () => ran(await definition.run(command.opts(), command.processedArgs as string[], ctx)));
  }
  return program;
}

export async function runCli(argv: string[], ctx: CommandContext): Promise<number> {
  let code: number = ExitCode.ok;
  let active: string | undefined;
  try {
    // `help NAME` of no command: commander would print the CLI's help as an error; say which name is wrong instead.
    if (argv[0] === 'help' && argv[1] !== undefined && !Object.hasOwn(commands, argv[1]) && argv[1] !== 'help') {
      throw new UsageError(`unknown command ${quoteExcerpt(argv[1])}`);
    }
    const program = buildProgram(
      ctx,
      (exit) => void (code = exit),
      (name) => void (active = name),
    );
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help asked for (--help, -h, `help <command>`): printed, exit 0. No command at all: the help went to stderr, a usage error.
      if (err.exitCode === 0) return ExitCode.ok;
      if (err.code === 'commander.help') return ExitCode.invalidInput;
      return reportError(new UsageError(commanderMessage(err), usageLines(active)), ctx.err, ctx.env);
    }
    if (err instanceof UsageError)
      return reportError(new UsageError(err.message, [...err.problems, ...usageLines(active)]), ctx.err, ctx.env);
    return reportError(err, ctx.err, ctx.env);
  }
}

/** Commander's message for a usage error, as the reporter prints it (it adds `error: `). */
function commanderMessage(err: CommanderError): string {
  return err.message.replace(/^error: /, '').replace(/\n\(Did you mean (.+)\?\)$/, ' (did you mean $1?)');
}

/** Entry of the `meridian` binary. */
export function main(): void {
  // A reader that stops early (`meridian --help | head`) closes the pipe: that ends the output, not in a crash.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  void runCli(process.argv.slice(2), {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    env: process.env,
  }).then((code) => {
    process.exitCode = code;
  });
}

if (require.main === module) main();
