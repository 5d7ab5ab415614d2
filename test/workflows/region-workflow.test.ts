import { analysisWindowMs } from '../../src/workflows/region-workflow';

const minute = 60_000;

describe('analysisWindowMs', () => {
  it('watches short bakes in 5-minute stretches and long soaks in longer ones, at most 30 minutes', () => {
    expect(analysisWindowMs(20_000)).toBe(5 * minute);
    expect(analysisWindowMs(2 * 60 * minute)).toBe(5 * minute);
    expect(analysisWindowMs(24 * 60 * minute)).toBe(14.4 * minute);
    // A 72-hour canary soak: 144 stretches of about 11 history events each.
    expect(analysisWindowMs(72 * 60 * minute)).toBe(30 * minute);
    expect(Math.ceil((72 * 60 * minute) / analysisWindowMs(72 * 60 * minute))).toBe(144);
  });
});
