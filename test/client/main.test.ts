import { resolve } from 'node:path';
import { commands, runCli } from '../../src/client/main';

/** Runs the CLI in-process with Temporal at a closed port: a command line that got past its checks and tried to connect exits 3. */
async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    env: { HOME: '/nonexistent', TEMPORAL_ADDRESS: '127.0.0.1:1' },
  });
  return { code, out, err };
}

const example = resolve(__dirname, '../../examples/release.yaml');

/** The long flags of a command's options, from its definition. */
const flagsOf = (name: string) => (commands[name].options?.() ?? []).map((o) => o.long!);

/** A line of stack trace: a crash, never a refusal. */
const stackFrame = /\n\s+at .+:\d+:\d+\)?/;

describe('meridian --help, -h and help <command>', () => {
  it.each(Object.keys(commands))(
    '%s --help prints its usage and every option, exits 0 and starts nothing',
    async (name) => {
      const r = await run([name, '--help']);
      expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
      expect(r.out).toMatch(new RegExp(`^Usage: meridian ${name}\\b`));
      expect(r.out.replace(/\s+/g, ' ')).toContain(commands[name].summary);
      for (const flag of [...flagsOf(name), '--help']) expect(r.out).toContain(flag);
    },
  );

  it.each(Object.keys(commands))('help %s prints what %s --help prints', async (name) => {
    const viaHelp = await run(['help', name]);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.out).toBe((await run([name, '--help'])).out);
  });

  it('shows what each option takes: the phases, the default limit, a duration, the actions of dev', async () => {
    const list = (await run(['list', '--help'])).out;
    expect(list).toContain('"Paused"');
    expect(list).toContain('"WaitingForApproval"');
    expect(list).toContain('(default: 50)');
    expect((await run(['plan', '--help'])).out).toMatch(/--bake <duration>\s+bake this long/);
    expect((await run(['dev', '--help'])).out).toContain('(choices: "up", "down", "status")');
    expect((await run(['move', '--help'])).out).toMatch(/Arguments:\n\s+release-id\s.*\n\s+region\s/);
  });

  it('takes -h as --help, but not after --', async () => {
    const short = await run(['validate', '-h']);
    expect(short.code).toBe(0);
    expect(short.out).toBe((await run(['validate', '--help'])).out);
    const r = await run(['status', '--', '-h']);
    expect(r.out).toBe('');
    expect(r.code).not.toBe(0);
  });

  it('lists every command on --help and on help, with the exit codes', async () => {
    for (const argv of [['--help'], ['-h'], ['help']]) {
      const help = await run(argv);
      expect(help.code).toBe(0);
      for (const name of Object.keys(commands))
        expect(help.out).toMatch(
          new RegExp(
            `^  ${name}\\b.*  ${commands[name].summary.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`,
            'm',
          ),
        );
      expect(help.out).toContain(
        'Exit codes: 0 success, 1 release failed or aborted, 2 invalid input or usage, 3 Temporal or a cluster unreachable.',
      );
    }
  });

  it('with no command, prints the help to stderr as a usage error (exit 2)', async () => {
    const r = await run([]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('Commands:');
  });
});

describe('usage errors: exit 2, through the one reporter, naming what is wrong and the usage', () => {
  it.each([
    [
      ['deploy-everything'],
      /^error: unknown command 'deploy-everything'\n  usage: meridian <command> \[options\]\n  `meridian --help` lists the commands\n$/,
    ],
    [
      ['help', 'deploy-everything'],
      /^error: unknown command "deploy-everything"\n  usage: meridian <command> \[options\]\n/,
    ],
    [
      ['schema', '--output', 'x'],
      /^error: unknown option '--output'\n  usage: meridian schema\n  `meridian schema --help` lists its options\n$/,
    ],
    [['status'], /^error: missing required argument 'release-id'\n  usage: meridian status <release-id> \[--json\]\n/],
    [
      ['status', 'a', 'b'],
      /^error: too many arguments for 'status'\. Expected 1 argument but got 2\.\n  usage: meridian status /,
    ],
    [['list', '--limit'], /^error: option '--limit <n>' argument missing\n  usage: meridian list /],
    [['list', '--jsn'], /^error: unknown option '--jsn' \(did you mean --json\?\)\n/],
    [
      ['skip', 'release-x', 'eu-west', '--reason', 'r', '--to-wave', '3'],
      /^error: unknown option '--to-wave'\n  usage: meridian skip <release-id> <region> --reason TEXT\n/,
    ],
    [['approve', 'release-x', '--gate'], /^error: option '--gate <name>' argument missing\n/],
    [
      ['pause', 'release-x', '--gate', 'after-canary'],
      /^error: unknown option '--gate'\n  usage: meridian pause <release-id> \[--reason TEXT\] \[--json\]\n/,
    ],
  ])('%j', async (argv, message) => {
    const r = await run(argv);
    expect({ code: r.code, out: r.out }).toEqual({ code: 2, out: '' });
    expect(r.err).toMatch(message);
  });

  it('--limit takes a whole number from 1 to 1000 (abc once listed every release)', async () => {
    for (const limit of ['abc', '0', '-3', '2.5', '1e3', '1001', '']) {
      const r = await run(['list', '--limit', limit]);
      expect({ code: r.code, out: r.out }).toEqual({ code: 2, out: '' });
      expect(r.err).toContain(
        `error: --limit: expected a whole number from 1 to 1000, got ${JSON.stringify(limit)}\n  usage: meridian list `,
      );
    }
    // 1000 passes the check and goes on to Temporal, which is not there.
    expect((await run(['list', '--limit', '1000'])).code).toBe(3);
  });

  it('--phase takes a release phase and lists them otherwise; Paused is one', async () => {
    const r = await run(['list', '--phase', 'Bogus']);
    expect({ code: r.code, out: r.out }).toEqual({ code: 2, out: '' });
    expect(r.err).toContain(
      'error: --phase: expected one of Pending, Running, Paused, WaitingForApproval, Halted, Succeeded, Failed, Aborted, got "Bogus"\n',
    );
    const paused = await run(['list', '--phase', 'Paused']);
    expect(paused.code).toBe(3); // accepted, then Temporal is not there
    expect(paused.err).toContain('cannot reach Temporal');
  });

  it.each([
    [['plan', '-f', example, '--bake', '31d'], '--bake: at most 30d: give a shorter duration, got "31d"'],
    [
      ['plan', '-f', example, '--canary-soak', 'soon'],
      '--canary-soak: expected a duration such as 400ms, 30s, 30m, 72h, 180d or 1h30m, got "soon"',
    ],
    [
      ['start', '-f', example, '--load-duration', '25d'],
      '--load-duration: at most 24d (the longest a timer can wait): give a shorter duration, got "25d"',
    ],
    [['start', '-f', example, '--load-duration', '500ms'], '--load-duration: give 1s or more'],
    [
      ['plan', '-f', example, '--analysis-interval', '10ms'],
      '--analysis-interval: measure at most once a second: give 1s or more',
    ],
    [['demo', '--bake', `${'9'.repeat(400)}d`], '--bake: at most 30d: give a shorter duration, got "99999'],
  ])('a bad duration exits 2 naming the option: %j', async (argv, message) => {
    const r = await run(argv);
    expect({ code: r.code, out: r.out }).toEqual({ code: 2, out: '' });
    expect(r.err).toContain(`error: ${message}`);
    expect(r.err).toMatch(new RegExp(`\\n  usage: meridian ${argv[0]} `));
  });

  it.each([
    [
      ['move', 'release-x', 'eu-west', '--reason', 'r', '--to-wave', 'two'],
      '--to-wave: expected a wave number from 1 to 100000, got "two"',
    ],
    [
      ['move', 'release-x', 'eu-west', '--reason', 'r', '--to-wave', '0'],
      '--to-wave: expected a wave number from 1 to 100000, got "0"',
    ],
    [
      ['add-region', 'release-x', 'eu-north', '--reason', 'r', '--wave', '100001'],
      '--wave: expected a wave number from 1 to 100000, got "100001"',
    ],
    [['codec-server', '--port', '70000'], '--port: expected a port number from 0 to 65535, got "70000"'],
    [['dev', 'sideways'], '<action>: expected one of up, down, status, got "sideways"'],
  ])('a bad number or choice exits 2 naming it: %j', async (argv, message) => {
    const r = await run(argv);
    expect({ code: r.code, out: r.out }).toEqual({ code: 2, out: '' });
    expect(r.err).toContain(`error: ${message}\n`);
  });

  it('never crashes on odd command lines: no exit 70, no stack trace, control characters escaped', async () => {
    for (const argv of [
      ['list', '--phase', '\u001b[2J'],
      ['status', '--\u0007'],
      ['help', '\u0000'],
      ['list', '--limit', '9'.repeat(5000)],
      ['-x'],
      ['validate', '-f'],
    ]) {
      const r = await run(argv);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^error: /);
      expect(r.err).not.toMatch(stackFrame);
      expect(r.err).not.toMatch(/[\u0000-\u0008\u000b-\u001f]/);
    }
  });
});
