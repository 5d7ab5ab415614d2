/**
 * Input quoted in an error message: only a short excerpt, so that a 1 MB value never makes a 1 MB error
 * line and a file named by mistake is not printed whole.
 */

/** Most characters of an input value an error quotes. */
export const maxExcerptChars = 80;

/** Most characters of a path an error quotes: real absolute paths run long, and their end names the file. */
export const maxPathExcerptChars = 256;

/** `text` JSON-quoted, cut to `max` characters with an ellipsis and its full length when longer. */
export function quoteExcerpt(text: string, max = maxExcerptChars): string {
  if (text.length <= max) return JSON.stringify(text);
  let cut = text.slice(0, max);
  // Never end on half of a surrogate pair: it would print as an escape.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${JSON.stringify(`${cut}…`)} (${text.length} characters)`;
}

/** A path an error names, quoted as an excerpt (a path is input: it may be 5,000 characters or hold a newline). */
export function quotePath(path: string): string {
  return quoteExcerpt(path, maxPathExcerptChars);
}
