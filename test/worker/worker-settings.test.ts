import { runCli } from '../../src/client/main';
import { InvalidInputError } from '../../src/domain/errors';
import { allowCommandChecksFromEnv, checkMetricsAddress, shutdownGraceFromEnv } from '../../src/worker/run-worker';

describe('MERIDIAN_SHUTDOWN_GRACE', () => {
  it('is 30s by default and takes durations from 0 to 10m', () => {
    expect(shutdownGraceFromEnv({})).toBe(30_000);
    expect(shutdownGraceFromEnv({ MERIDIAN_SHUTDOWN_GRACE: '0' })).toBe(0);
    expect(shutdownGraceFromEnv({ MERIDIAN_SHUTDOWN_GRACE: '2m30s' })).toBe(150_000);
    expect(shutdownGraceFromEnv({ MERIDIAN_SHUTDOWN_GRACE: '10m' })).toBe(600_000);
  });

  it.each([
    ['11m', /at most 10m/],
    ['soon', /expected a duration/],
    ['-5s', /expected a duration/],
    ['9'.repeat(400) + 's', /at most 10m/],
  ])('refuses %s naming the variable', (value, message) => {
    expect(() => shutdownGraceFromEnv({ MERIDIAN_SHUTDOWN_GRACE: value })).toThrow(InvalidInputError);
    expect(() => shutdownGraceFromEnv({ MERIDIAN_SHUTDOWN_GRACE: value })).toThrow(
      new RegExp(`MERIDIAN_SHUTDOWN_GRACE: .*${message.source}`),
    );
    expect(() => shutdownGraceFromEnv({ MERIDIAN_SHUTDOWN_GRACE: value })).toThrow(/^.{0,300}$/s);
  });
});

describe('the metrics address', () => {
  it('is host:port', () => {
    expect(checkMetricsAddress('127.0.0.1:9464', 'MERIDIAN_METRICS_ADDRESS')).toBe('127.0.0.1:9464');
    expect(checkMetricsAddress('[::1]:9464', 'x')).toBe('[::1]:9464');
    expect(() => checkMetricsAddress('9464', '--metrics-address')).toThrow(
      /^--metrics-address is "9464": give host:port/,
    );
    expect(() => checkMetricsAddress('http://0.0.0.0:9464', 'MERIDIAN_METRICS_ADDRESS')).toThrow(
      /MERIDIAN_METRICS_ADDRESS/,
    );
  });
});

describe('meridian worker refuses bad settings with exit 2 before connecting', () => {
  const run = async (env: NodeJS.ProcessEnv, argv: string[] = []) => {
    let err = '';
    const code = await runCli(['worker', ...argv], {
      out: () => undefined,
      err: (t) => (err += t),
      env: { HOME: '/nonexistent', ...env },
    });
    return { code, err };
  };

  it.each([
    [{ MERIDIAN_SHUTDOWN_GRACE: '1h' }, [], /MERIDIAN_SHUTDOWN_GRACE: at most 10m: give a shorter duration, got "1h"/],
    [{ MERIDIAN_METRICS_ADDRESS: 'nine' }, [], /MERIDIAN_METRICS_ADDRESS is "nine"/],
    [{}, ['--metrics-address', ':x'], /--metrics-address is ":x"/],
    [{ MERIDIAN_CODEC_KEYS: 'k1:short' }, [], /MERIDIAN_CODEC_KEYS entry 1/],
    [{ TEMPORAL_PROFILE: 'prod' }, [], /TEMPORAL_PROFILE is "prod"/],
  ])('%j %j', async (env, argv, message) => {
    const { code, err } = await run(env, argv);
    expect(code).toBe(2);
    expect(err).toMatch(message);
    expect(err).not.toMatch(/\n\s+at /);
  });
});

describe('MERIDIAN_ALLOW_COMMAND_CHECKS', () => {
  it('is off unless set to 1, true or yes', () => {
    expect(allowCommandChecksFromEnv({})).toBe(false);
    for (const off of ['', '0', 'false', 'no', ' NO '])
      expect(allowCommandChecksFromEnv({ MERIDIAN_ALLOW_COMMAND_CHECKS: off })).toBe(false);
    for (const on of ['1', 'true', 'Yes'])
      expect(allowCommandChecksFromEnv({ MERIDIAN_ALLOW_COMMAND_CHECKS: on })).toBe(true);
  });

  it('refuses anything else, naming the variable', () => {
    expect(() => allowCommandChecksFromEnv({ MERIDIAN_ALLOW_COMMAND_CHECKS: 'sure' })).toThrow(InvalidInputError);
    expect(() => allowCommandChecksFromEnv({ MERIDIAN_ALLOW_COMMAND_CHECKS: 'sure' })).toThrow(
      /^MERIDIAN_ALLOW_COMMAND_CHECKS is "sure": give 1 /,
    );
  });
});
