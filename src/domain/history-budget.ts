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
 * Bytes a region's start carries besides the template, values and checks (its region, the release's
 * reference, options): under 2 KiB for the example release (bench section history), rounded up.
 */
export const regionInputOverheadBytes = 4 * 1024;

const kib = (bytes: number) => `${Math.ceil(bytes / 1024).toLocaleString('en-US')} KiB`;
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

/**
 * Why `regions` starts, each carrying the packed template (`templateBytes`) and the shared values and
 * checks (`sharedBytes`, as JSON), would not fit the release's history; undefined when they fit.
 */
export function regionInputsProblem(
  regions: number,
  templateBytes: number,
  sharedBytes: number,
  field: string,
): string | undefined {
  const perRegion = templateBytes + sharedBytes + regionInputOverheadBytes;
  const total = regions * perRegion;
  if (total <= regionInputsBudgetBytes) return undefined;
  const fits = Math.floor(regionInputsBudgetBytes / perRegion);
  return (
    `${field}: packs to ${kib(templateBytes)}, with ${kib(sharedBytes)} of values and checks beside it, and each of the ${regions} regions' workflows starts with them in the release's history: ` +
    `about ${mib(total)}, above the ${mib(regionInputsBudgetBytes)} Meridian allows of Temporal's ${mib(historyLimitBytes)} history limit ` +
    `(${fits} regions fit): make the template smaller (remove files it does not render) or split the release`
  );
}
