import { runCommandCheck } from '../../../src/infra/checks/run-command-check';
import { integrationCheckSchema, type CommandCheck } from '../../../src/domain/integration-checks';

const check = (command: string[], extra: Record<string, unknown> = {}) =>
  integrationCheckSchema.parse({ name: 'suite', kind: 'command', command, ...extra }) as CommandCheck;
const env = { MERIDIAN_ENDPOINT: 'http://127.0.0.1:18101', MERIDIAN_REGION: 'ap-northeast-2' };
const node = process.execPath;

describe('runCommandCheck', () => {
  it('passes on exit code 0, with the region in the environment and the check env beside it', async () => {
    const script =
      "process.exit(process.env.MERIDIAN_REGION === 'ap-northeast-2' && process.env.GREETING === '안녕' ? 0 : 1)";
    const result = await runCommandCheck(check([node, '-e', script], { env: { GREETING: '안녕' } }), env);
    expect(result).toMatchObject({
      name: 'suite',
      passed: true,
      checked: `${node} -e ${script} -> exit code 0 within 5m`,
    });
  });

  it('fails with the exit code and the end of the output', async () => {
    const result = await runCommandCheck(
      check([
        node,
        '-e',
        "console.log('ran 12 requests'); console.error('결제 search: expected 결제, got ??'); process.exit(3)",
      ]),
      env,
    );
    expect(result.passed).toBe(false);
    expect(result.failure).toMatch(/^exit code 3: ran 12 requests\n결제 search: expected 결제, got \?\?$/);
  });

  it('stops a command that outlives its timeout', async () => {
    const result = await runCommandCheck(check([node, '-e', 'setTimeout(() => {}, 60000)'], { timeout: '300ms' }), env);
    expect(result.passed).toBe(false);
    expect(result.failure).toMatch(/^still running after 300ms; stopped it/);
    expect(result.latencyMs).toBeLessThan(5_000);
  });

  it('stops what the command started too when it times out', async () => {
    const started = Date.now();
    const result = await runCommandCheck(check(['sh', '-c', 'sleep 30 & sleep 30'], { timeout: '300ms' }), env);
    expect(result.failure).toMatch(/^still running after 300ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('masks credentials of the worker environment in the output it reports', async () => {
    process.env.SHOP_API_TOKEN = 'tok-5f3a9c';
    try {
      const result = await runCommandCheck(
        check([node, '-e', 'console.log("token is " + process.env.SHOP_API_TOKEN); process.exit(1)'], {
          passEnv: ['SHOP_API_TOKEN'],
        }),
        env,
      );
      expect(result.failure).toBe('exit code 1: token is ***SHOP_API_TOKEN***');
    } finally {
      delete process.env.SHOP_API_TOKEN;
    }
  });

  it('says so when the program is not installed on the worker', async () => {
    const result = await runCommandCheck(check(['newman-not-here', 'run']), env);
    expect(result).toMatchObject({
      passed: false,
      failure: 'newman-not-here is not installed on the worker (not found in PATH)',
    });
  });

  it('stops when the activity is cancelled', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const result = await runCommandCheck(check([node, '-e', 'setTimeout(() => {}, 60000)']), env, {
      signal: controller.signal,
    });
    expect(result).toMatchObject({ passed: false, failure: 'stopped: the check was cancelled' });
  });

  it("runs with a small explicit environment: the basics, what the check passes, its env and the region's, nothing else of the worker's", async () => {
    process.env.SHOP_API_TOKEN = 'tok-5f3a9c';
    process.env.SHOP_DB_URL = 'postgres://app:pw@db/shop';
    try {
      const script = 'console.log(JSON.stringify(Object.keys(process.env).sort())); process.exit(1)';
      const result = await runCommandCheck(
        check([node, '-e', script], { env: { GREETING: 'hi' }, passEnv: ['SHOP_DB_URL', 'NOT_SET_ANYWHERE'] }),
        env,
      );
      const names = JSON.parse(result.failure!.replace(/^exit code 1: /, '')) as string[];
      expect(names).toContain('PATH');
      expect(names).not.toContain('SHOP_API_TOKEN');
      expect(
        names.filter(
          (n) => !['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR'].includes(n),
        ),
      ).toEqual(['GREETING', 'MERIDIAN_ENDPOINT', 'MERIDIAN_REGION', 'SHOP_DB_URL']);
    } finally {
      delete process.env.SHOP_API_TOKEN;
      delete process.env.SHOP_DB_URL;
    }
  });

  it('scrubs the worker secrets it is given from its output, also reversed and base64, hex or percent-encoded', async () => {
    const secret = 'k9/Zq+wT3x==secret';
    const secrets = [{ name: 'codec key k1', value: secret }];
    const forms = `[${secret}] [${[...secret].reverse().join('')}] [${Buffer.from(secret).toString('base64')}] [${Buffer.from(secret).toString('hex')}] [${encodeURIComponent(secret)}]`;
    const script = `console.log(${JSON.stringify(forms)}); process.exit(2)`;
    const result = await runCommandCheck(check([node, '-e', script]), env, {
      workerEnv: { PATH: process.env.PATH },
      secrets,
    });
    expect(result.failure).toBe(`exit code 2: ${Array(5).fill('[***codec key k1***]').join(' ')}`);
  });

  it('scrubs the whole output before quoting its end, so that no part of a secret is left where the quote starts', async () => {
    const secret = 'S'.repeat(300) + 'ecret-tail';
    const script = `process.stdout.write(${JSON.stringify(secret)} + 'x'.repeat(590)); process.exit(1)`;
    const result = await runCommandCheck(check([node, '-e', script]), env, { secrets: [{ name: 'T', value: secret }] });
    expect(result.failure).not.toMatch(/ecret-tail|SSSS/);
  });
});
