import { formatDuration, parseDuration } from '../../src/domain/duration';

describe('durations', () => {
  it.each([
    ['400ms', 400],
    ['30s', 30_000],
    ['30m', 1_800_000],
    ['72h', 259_200_000],
    ['180d', 15_552_000_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['0', 0],
    [' 12h ', 43_200_000],
  ])('parses %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '12', 'h', '10 m', '5x', '1h 30m', '-5s', '30mm'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it.each([
    [0, '0s'],
    [400, '400ms'],
    [5_400_000, '1h30m'],
    [259_200_000, '3d'],
    [90_500, '1m30s500ms'],
  ])('formats %d as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });
});
