/**
 * Line diffs of text, printed in the unified format people read in code review (`diff -u`): `---`/`+++`
 * headers, `@@` hunks, a few lines of context around each change. Written here rather than taken from
 * a package because manifests are small and the output format is all we need.
 */

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
 * A shortest edit script from `before` to `after` (Myers' greedy algorithm: fewest lines removed plus
 * added). Within a change, removed lines come before the added ones, as reviewers expect.
 */
export function diffLines(before: readonly string[], after: readonly string[]): LineEdit[] {
  // Lines shared at both ends are common in manifests and cost nothing to peel off first.
  let head = 0;
  while (head < before.length && head < after.length && before[head] === after[head]) head += 1;
  let tail = 0;
  while (tail < before.length - head && tail < after.length - head && before[before.length - 1 - tail] === after[after.length - 1 - tail]) tail += 1;
  const same = (lines: readonly string[]): LineEdit[] => lines.map((line) => ({ kind: 'same', line }));
  return [
    ...same(before.slice(0, head)),
    ...shortestEdit(before.slice(head, before.length - tail), after.slice(head, after.length - tail)),
    ...same(before.slice(before.length - tail)),
  ];
}

/**
 * Edits past which the search stops: its memory grows with their square (about 16 MB here). Texts that
 * differ more than this are shown as the old lines replaced by the new ones: a correct diff, not a
 * shortest one.
 */
const maxSearchedEdits = 2000;

/**
 * Myers' search over edit graph diagonals: round d finds, for each diagonal k = x - y, how far along the
 * old text a path with d edits can reach. Each round's frontier is kept so the path can be walked back.
 */
function shortestEdit(a: readonly string[], b: readonly string[]): LineEdit[] {
  const n = a.length;
  const m = b.length;
  const replaceAll = (): LineEdit[] => [...a.map((line): LineEdit => ({ kind: 'removed', line })), ...b.map((line): LineEdit => ({ kind: 'added', line }))];
  if (n === 0 || m === 0) return replaceAll();
  const max = Math.min(n + m, maxSearchedEdits);
  const offset = max + 1;
  const frontier = new Int32Array(2 * max + 3);
  // Frontiers before each round, trimmed to the diagonals that round reads (-d-1 .. d+1).
  const rounds: Int32Array[] = [];
  let found = -1;
  for (let d = 0; d <= max && found < 0; d += 1) {
    rounds.push(frontier.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      // Step down (add a line of b) from diagonal k+1, or right (remove a line of a) from k-1: whichever reached further.
      const down = k === -d || (k !== d && frontier[offset + k - 1] < frontier[offset + k + 1]);
      let x = down ? frontier[offset + k + 1] : frontier[offset + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x += 1;
        y += 1;
      }
      frontier[offset + k] = x;
      if (x >= n && y >= m) {
        found = d;
        break;
      }
    }
  }

  if (found < 0) return replaceAll();

  const edits: LineEdit[] = [];
  let x = n;
  let y = m;
  for (let d = found; d >= 0; d -= 1) {
    const before = rounds[d];
    const at = (k: number) => before[k + d + 1];
    const k = x - y;
    const down = k === -d || (k !== d && at(k - 1) < at(k + 1));
    const prevK = down ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : at(prevK);
    const prevY = d === 0 ? 0 : prevX - prevK;
    while (x > prevX && y > prevY) {
      x -= 1;
      y -= 1;
      edits.push({ kind: 'same', line: a[x] });
    }
    if (d > 0) {
      if (down) edits.push({ kind: 'added', line: b[prevY] });
      else edits.push({ kind: 'removed', line: a[prevX] });
    }
    x = prevX;
    y = prevY;
  }
  return edits.reverse();
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
