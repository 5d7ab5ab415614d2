import { commands, runCli } from '../../src/client/main';

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await runCli(argv, { out: (t) => void (out += t), err: (t) => void (err += t), env: { HOME: '/nonexistent' } });
  return { code, out, err };
}

describe('meridian', () => {
  it.each(Object.keys(commands))('%s --help prints its usage and exits 0, starting nothing', async (name) => {
    const r = await run([name, '--help']);
    expect(r).toEqual({ code: 0, out: expect.stringMatching(new RegExp(`^usage: meridian ${name}\\b`)), err: '' });
  });

  it('takes -h as --help, but not after --', async () => {
    expect((await run(['validate', '-h'])).code).toBe(0);
    const r = await run(['status', '--', '-h']);
    expect(r.out).toBe('');
    expect(r.code).not.toBe(0);
  });

  it('lists every command on --help, and an unknown command is a usage error (exit 2)', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    for (const name of Object.keys(commands)) expect(help.out).toContain(`  ${name} `);
    const unknown = await run(['deploy-everything']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/^error: unknown command "deploy-everything"/);
  });

  it('refuses options a command does not take, schema included', async () => {
    const r = await run(['schema', '--output', 'x']);
    expect(r.code).toBe(2);
    expect(r.err).toContain("Unknown option '--output'");
  });
});
