import fc from 'fast-check';
import { diffLines, type LineEdit, splitLines, unifiedDiff } from '../../src/domain/text-diff';

const labels = { fromLabel: 'old', toLabel: 'new' };
const numbered = (n: number, prefix = 'line') => Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`);
const text = (lines: string[]) => lines.map((l) => `${l}\n`).join('');

/** Length of the longest common subsequence, by the textbook table: the yardstick of a shortest edit. */
function lcsLength(a: readonly string[], b: readonly string[]): number {
  const row = new Array<number>(b.length + 1).fill(0);
  for (const x of a) {
    let diagonal = 0;
    for (let j = 1; j <= b.length; j += 1) {
      const up = row[j];
      row[j] = x === b[j - 1] ? diagonal + 1 : Math.max(row[j], row[j - 1]);
      diagonal = up;
    }
  }
  return row[b.length];
}

const side = (edits: LineEdit[], keep: LineEdit['kind']) =>
  edits.filter((e) => e.kind === 'same' || e.kind === keep).map((e) => e.line);

describe('splitLines', () => {
  it('treats a final newline as the end of the last line', () => {
    expect(splitLines('a\nb\n')).toEqual(['a', 'b']);
    expect(splitLines('a\nb')).toEqual(['a', 'b']);
    expect(splitLines('')).toEqual([]);
    expect(splitLines('\n')).toEqual(['']);
  });
});

describe('diffLines', () => {
  it('puts the removed lines of a change before the added ones', () => {
    expect(diffLines(['a', 'b', 'c'], ['a', 'B', 'c'])).toEqual([
      { kind: 'same', line: 'a' },
      { kind: 'removed', line: 'b' },
      { kind: 'added', line: 'B' },
      { kind: 'same', line: 'c' },
    ]);
  });

  it('keeps the longest run of common lines when lines move', () => {
    const edits = diffLines(['a', 'b', 'c', 'd'], ['b', 'c', 'd', 'a']);
    expect(edits.filter((e) => e.kind !== 'same')).toEqual([
      { kind: 'removed', line: 'a' },
      { kind: 'added', line: 'a' },
    ]);
  });

  it('handles one side empty', () => {
    expect(diffLines([], ['x'])).toEqual([{ kind: 'added', line: 'x' }]);
    expect(diffLines(['x'], [])).toEqual([{ kind: 'removed', line: 'x' }]);
    expect(diffLines([], [])).toEqual([]);
  });

  it('rebuilds both sides, edits as few lines as possible, and puts removed lines first', () => {
    // A small alphabet makes repeated lines, where a wrong walk back through the search shows.
    const lines = fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 14 });
    fc.assert(
      fc.property(lines, lines, (a, b) => {
        const edits = diffLines(a, b);
        expect(side(edits, 'removed')).toEqual(a);
        expect(side(edits, 'added')).toEqual(b);
        const changed = edits.filter((e) => e.kind !== 'same').length;
        expect(changed).toBe(a.length + b.length - 2 * lcsLength(a, b));
        // Within each change, the removed lines come first.
        expect(edits.map((e) => e.kind).join(',')).not.toContain('added,removed');
      }),
      { numRuns: 500 },
    );
  });
});

describe('diffLines on large texts', () => {
  it('finds the few changes in long texts', () => {
    const before = numbered(20_000);
    const after = [...before];
    after.splice(500, 1);
    after.splice(12_000, 0, 'inserted');
    const changes = diffLines(before, after).filter((e) => e.kind !== 'same');
    expect(changes).toEqual([
      { kind: 'removed', line: 'line 501' },
      { kind: 'added', line: 'inserted' },
    ]);
  });

  it('shows texts that differ in thousands of places as replaced, past the common head, rather than search on', () => {
    const before = numbered(4_000);
    const after = before.map((line, i) => (i % 2 ? `${line} changed` : line));
    const edits = diffLines(before, after);
    expect(side(edits, 'removed')).toEqual(before);
    expect(side(edits, 'added')).toEqual(after);
    expect(edits.filter((e) => e.kind === 'same')).toEqual([{ kind: 'same', line: 'line 1' }]);
  });
});

describe('unifiedDiff', () => {
  it('is empty when the lines are the same', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', labels)).toBe('');
    expect(unifiedDiff('', '', labels)).toBe('');
  });

  it('prints one hunk with three lines of context on each side', () => {
    const before = numbered(10);
    const after = [...before];
    after[4] = 'line five';
    expect(unifiedDiff(text(before), text(after), labels)).toBe(
      [
        '--- old',
        '+++ new',
        '@@ -2,7 +2,7 @@',
        ' line 2',
        ' line 3',
        ' line 4',
        '-line 5',
        '+line five',
        ' line 6',
        ' line 7',
        ' line 8',
        '',
      ].join('\n'),
    );
  });

  it('joins changes closer than twice the context into one hunk, and splits those further apart', () => {
    const before = numbered(30);
    const near = [...before];
    near[5] = 'six';
    near[11] = 'twelve'; // five unchanged lines between: one hunk
    expect(unifiedDiff(text(before), text(near), labels).match(/^@@ .* @@$/gm)).toEqual(['@@ -3,13 +3,13 @@']);

    const far = [...before];
    far[5] = 'six';
    far[20] = 'twenty-one'; // fourteen unchanged lines between: two hunks
    expect(unifiedDiff(text(before), text(far), labels).match(/^@@ .* @@$/gm)).toEqual([
      '@@ -3,7 +3,7 @@',
      '@@ -18,7 +18,7 @@',
    ]);
  });

  it('numbers an empty side from the line before it, and a single line by its number alone', () => {
    expect(unifiedDiff('', 'a\nb\n', labels)).toBe('--- old\n+++ new\n@@ -0,0 +1,2 @@\n+a\n+b\n');
    expect(unifiedDiff('a\n', '', labels)).toBe('--- old\n+++ new\n@@ -1 +0,0 @@\n-a\n');
    expect(unifiedDiff('a\nb\n', 'a\nb\nc\n', { ...labels, context: 1 })).toBe(
      '--- old\n+++ new\n@@ -2 +2,2 @@\n b\n+c\n',
    );
  });

  it('shows less context at the edges of the text', () => {
    expect(unifiedDiff('a\nb\nc\n', 'A\nb\nc\n', labels)).toBe('--- old\n+++ new\n@@ -1,3 +1,3 @@\n-a\n+A\n b\n c\n');
  });
});
