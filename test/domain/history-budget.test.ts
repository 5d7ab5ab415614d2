import {
  historyLimitBytes,
  regionInputOverheadBytes,
  regionInputsBudgetBytes,
  regionInputsProblem,
} from '../../src/domain/history-budget';

describe('regionInputsProblem', () => {
  const field = 'spec.template.helm.chart';

  it('lets the example chart through for thousands of regions', () => {
    expect(regionInputsProblem(500, 1_768, 1_000, field)).toBeUndefined();
    expect(regionInputsProblem(3_000, 1_768, 1_000, field)).toBeUndefined();
  });

  it('refuses a big template times many regions, naming the field, the sizes and how many regions fit', () => {
    const template = 400 * 1024;
    const fits = Math.floor(regionInputsBudgetBytes / (template + regionInputOverheadBytes));
    expect(regionInputsProblem(fits, template, 0, field)).toBeUndefined();
    const problem = regionInputsProblem(fits + 1, template, 0, field);
    expect(problem).toMatch(
      new RegExp(
        `^spec\\.template\\.helm\\.chart: packs to 400 KiB, with 0 KiB of values and checks beside it, and each of the ${fits + 1} regions' workflows starts with them in the release's history: about 25\\.\\d MiB, above the 25\\.0 MiB .* of Temporal's 50\\.0 MiB history limit \\(${fits} regions fit\\): make the template smaller`,
      ),
    );
  });

  it('counts the values and checks every region carries too: a small template with big checks is refused', () => {
    expect(regionInputsProblem(100, 2 * 1024, 0, field)).toBeUndefined();
    expect(regionInputsProblem(100, 2 * 1024, 300 * 1024, field)).toMatch(
      /^spec\.template\.helm\.chart: packs to 2 KiB, with 300 KiB of values and checks beside it, and each of the 100 regions'/,
    );
  });

  it('keeps half of the limit for retries, results and statuses', () => {
    expect(regionInputsBudgetBytes).toBe(historyLimitBytes / 2);
  });
});
