/**
 * What a release's own history can hold. Every region's workflow starts with its input recorded in the
 * release's history, and that input carries the packed template: a big chart times many regions can
 * reach Temporal's history size limit, at which the server terminates the release mid-rollout. A start
 * that would is refused before anything runs.
 */

/** Temporal's default limit on one workflow history's size (limit.historySize.error). */
export const historyLimitBytes = 50 * 1024 * 1024;

/** What region inputs may take of a release's history: half, leaving room for retries, results and statuses. */
export const regionInputsBudgetBytes = historyLimitBytes / 2;

/**
 * Bytes a region's start carries besides the template (its region, values and checks): about 2 KiB for
 * the example release (bench section history), rounded up.
 */
export const regionInputOverheadBytes = 4 * 1024;

const kib = (bytes: number) => `${Math.ceil(bytes / 1024).toLocaleString('en-US')} KiB`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/** Why `regions` starts carrying a template of `templateBytes` would not fit the release's history; undefined when they fit. */
export function regionInputsProblem(regions: number, templateBytes: number, field: string): string | undefined {
  const total = regions * (templateBytes + regionInputOverheadBytes);
  if (total <= regionInputsBudgetBytes) return undefined;
  const fits = Math.floor(regionInputsBudgetBytes / (templateBytes + regionInputOverheadBytes));
  return (
    `${field}: packs to ${kib(templateBytes)}, and each of the ${regions} regions' workflows starts with it in the release's history: ` +
    `about ${mib(total)}, above the ${mib(regionInputsBudgetBytes)} Meridian allows of Temporal's ${mib(historyLimitBytes)} history limit ` +
    `(${fits} regions fit): make the template smaller (remove files it does not render) or split the release`
  );
}
