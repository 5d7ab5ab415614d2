import {
  historyLimitBytes,
  regionInputOverheadBytes,
  regionInputsBudgetBytes,
  regionInputsProblem,
} from '../../src/domain/history-budget';

describe('regionInputsProblem', () => {
  const field = 'spec.template.helm.chart';

  it('lets the example chart through for thousands of regions', () => {
    expect(regionInputsProblem(500, 1_768, field)).toBeUndefined();
    expect(regionInputsProblem(4_000, 1_768, field)).toBeUndefined();
  });

  it('refuses a big template times many regions, naming the field, the sizes and how many regions fit', () => {
    const template = 400 * 1024;
    const fits = Math.floor(regionInputsBudgetBytes / (template + regionInputOverheadBytes));
    expect(regionInputsProblem(fits, template, field)).toBeUndefined();
    const problem = regionInputsProblem(fits + 1, template, field);
    expect(problem).toMatch(
      new RegExp(
        `^spec\\.template\\.helm\\.chart: packs to 400 KiB, and each of the ${fits + 1} regions' workflows starts with it in the release's history: about 25\\.\\d MiB, above the 25\\.0 MiB .* of Temporal's 50\\.0 MiB history limit \\(${fits} regions fit\\): make the template smaller`,
      ),
    );
  });

  it('keeps half of the limit for retries, results and statuses', () => {
    expect(regionInputsBudgetBytes).toBe(historyLimitBytes / 2);
  });
});
