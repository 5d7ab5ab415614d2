/**
 * Line diffs of text, printed in the unified format people read in code review (`diff -u`): `---`/`+++`
 * headers, `@@` hunks, a few lines of context around each change. The edit script comes from the
 * `diff` package (jsdiff: Myers' algorithm, fewest lines removed plus added); the hunks and their
 * headers are written here as GNU `diff -u` writes them.
 */
import { diffArrays } from 'diff';

/** One line of an edit script that turns the old text into the new one. */
export interface LineEdit {
  /** `same`: in both texts; `removed`: only in the old one; `added`: only in the new one. */
  kind: 'same' | 'removed' | 'added';
  /** The line, without its newline. */
  line: string;
}

export interface UnifiedDiffOptions {
  /** Names the old text on the `---` line. */
  fromLabel: string;
  /** Names the new text on the `+++` line. */
  toLabel: string;
  /** Unchanged lines shown before and after each change; 3, as `diff -u`. */
  context?: number;
}

/** The lines of a text; a final newline ends the last line rather than starting an empty one. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Edits past which the search stops (jsdiff's maxEditLength): its time grows with their square. Texts
 * that differ more than this are shown as the old lines replaced by the new ones, past the lines they
 * share at both ends: a correct diff, not a shortest one.
 */
const maxSearchedEdits = 2000;

/**
 * A shortest edit script from `before` to `after`. Within a change, removed lines come before the
 * added ones, as reviewers expect (jsdiff prefers a removal where a path could go either way).
 */
export function diffLines(before: readonly string[], after: readonly string[]): LineEdit[] {
  const changes = diffArrays([...before], [...after], { maxEditLength: maxSearchedEdits });
  if (!changes) return replaced(before, after);
  return changes.flatMap((change) => {
    const kind: LineEdit['kind'] = change.added ? 'added' : change.removed ? 'removed' : 'same';
    return change.value.map((line) => ({ kind, line }));
  });
}

/** The lines shared at both ends kept, everything between them removed and added. */
function replaced(before: readonly string[], after: readonly string[]): LineEdit[] {
  let head = 0;
  while (head < before.length && head < after.length && before[head] === after[head]) head += 1;
  let tail = 0;
  while (
    tail < before.length - head &&
    tail < after.length - head &&
    before[before.length - 1 - tail] === after[after.length - 1 - tail]
  )
    tail += 1;
  const as = (kind: LineEdit['kind'], lines: readonly string[]): LineEdit[] => lines.map((line) => ({ kind, line }));
  return [
    ...as('same', before.slice(0, head)),
    ...as('removed', before.slice(head, before.length - tail)),
    ...as('added', after.slice(head, after.length - tail)),
    ...as('same', before.slice(before.length - tail)),
  ];
}

/**
 * The unified diff from `before` to `after`, or '' when the texts have the same lines. Hunk headers
 * count lines from 1; an empty side is numbered from the line before it, as `diff -u` does.
 */
export function unifiedDiff(before: string, after: string, options: UnifiedDiffOptions): string {
  const context = options.context ?? 3;
  const edits = diffLines(splitLines(before), splitLines(after));
  const changed = edits.flatMap((e, i) => (e.kind === 'same' ? [] : [i]));
  if (changed.length === 0) return '';

  // A hunk spans its changes plus context; two changes closer than twice the context share one.
  const hunks: { start: number; end: number }[] = [];
  for (const i of changed) {
    const last = hunks[hunks.length - 1];
    if (last && i - last.end <= 2 * context) last.end = i + 1;
    else hunks.push({ start: i, end: i + 1 });
  }

  // Line numbers in each text where each edit sits.
  const oldLine: number[] = [];
  const newLine: number[] = [];
  let o = 0;
  let n = 0;
  for (const e of edits) {
    oldLine.push(o);
    newLine.push(n);
    if (e.kind !== 'added') o += 1;
    if (e.kind !== 'removed') n += 1;
  }

  const out = [`--- ${options.fromLabel}`, `+++ ${options.toLabel}`];
  for (const hunk of hunks) {
    const from = Math.max(0, hunk.start - context);
    const to = Math.min(edits.length, hunk.end + context);
    const lines = edits.slice(from, to);
    const oldCount = lines.filter((e) => e.kind !== 'added').length;
    const newCount = lines.filter((e) => e.kind !== 'removed').length;
    out.push(`@@ -${range(oldLine[from], oldCount)} +${range(newLine[from], newCount)} @@`);
    for (const e of lines) out.push(`${e.kind === 'same' ? ' ' : e.kind === 'removed' ? '-' : '+'}${e.line}`);
  }
  return `${out.join('\n')}\n`;
}

/** `start,count` of a hunk side; a single line is written as its number alone. */
function range(index: number, count: number): string {
  if (count === 0) return `${index},0`;
  return count === 1 ? `${index + 1}` : `${index + 1},${count}`;
}
