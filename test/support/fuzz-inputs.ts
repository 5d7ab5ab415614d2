import fc from 'fast-check';

/**
 * Mutations the fuzz tier applies to the example inputs: whole lines dropped, doubled or swapped, values
 * replaced by hostile ones, characters inserted, numbers made absurd. Each fuzzer starts from a real
 * example so that most mutants are close to valid and reach deep into validation.
 */

/** Values a YAML field may be given: absurd numbers and durations, broken aliases, long or escaping paths, terminal escapes. */
export const hostileYamlValues = [
  '9'.repeat(400) + 'd',
  '1e309',
  '-1',
  '0',
  'NaN',
  '.inf',
  '-.inf',
  '""',
  'null',
  '~',
  '[]',
  '{}',
  '*nowhere',
  '&a [*a, *a]',
  '"__proto__"',
  '{__proto__: {polluted: true}}',
  '{constructor: {prototype: {x: 1}}}',
  `"${'x'.repeat(5000)}"`,
  '/dev/zero',
  '/proc/self/environ',
  '../../../../etc/passwd',
  `[${'['.repeat(70)}x${']'.repeat(70)}]`,
  '25h',
  '24d',
  '31d',
  '100000000%',
  '2026-02-30',
  '"결제 흐름"',
  '!!binary aGVsbG8=',
  '!!js/function "x"',
  `${'../'.repeat(2000)}etc/passwd`,
  `${'./'.repeat(3000)}release.yaml`,
  `./${'a/'.repeat(1500)}chart`,
  `"${'é'.repeat(3000)}"`,
  '"\\e[2J\\e[31mforged\\rerror: all good\\n"',
  '"line\\u2028break\\u0000nul"',
  `"${'\\ud83d\\ude00'.repeat(100)}"`,
];

/** Text a line or a field of a non-YAML input may be given. */
export const hostileStrings = [
  '',
  ' ',
  '\t',
  '"',
  '\\',
  '\\x',
  '\\x4',
  '\\xZZ',
  '\\"',
  '%',
  '%zz',
  '%00',
  '\u0000',
  '\r',
  '\u001b[2J',
  '\u2028',
  '\ud800',
  '\udfff',
  '\ufeff',
  'é',
  '결제',
  '🙂',
  'x'.repeat(5000),
  '"'.repeat(300),
  '\\'.repeat(301),
  '['.repeat(200),
  ']',
  '-',
  '#',
  ',',
  '1e309',
  '-1',
  '99999999999999999999',
  '0000-00-00T00:00:00Z',
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00Z',
  '__proto__',
  'constructor',
  '{"__proto__":{"polluted":true}}',
  'http://',
  'https://x/%',
  '//evil.example.com/x',
  '/../../etc/passwd',
];

type Mutation = (lines: string[]) => string[];

/** One mutation of a list of `lineCount` lines, replacing values with `values` where a line has `key: value`. */
export function lineMutation(lineCount: number, values: readonly string[] = hostileYamlValues): fc.Arbitrary<Mutation> {
  const atLine = fc.nat({ max: Math.max(0, lineCount - 1) });
  return fc.oneof(
    atLine.map((i) => (l: string[]) => l.filter((_, j) => j !== i)),
    atLine.map((i) => (l: string[]) => [...l.slice(0, i + 1), l[i] ?? '', ...l.slice(i + 1)]),
    fc.tuple(atLine, atLine).map(([i, j]) => (l: string[]) => {
      const c = [...l];
      [c[i], c[j]] = [c[j], c[i]];
      return c.map((x) => x ?? '');
    }),
    fc.tuple(atLine, fc.constantFrom(...values)).map(
      ([i, v]) =>
        (l: string[]) =>
          l.map((line, j) => (j === i && /:\s*\S/.test(line) ? line.replace(/:\s*\S.*$/, `: ${v}`) : line)),
    ),
    fc.tuple(atLine, fc.string({ maxLength: 8 })).map(
      ([i, s]) =>
        (l: string[]) =>
          l.map((line, j) =>
            j === i ? `${line.slice(0, line.length >> 1)}${s}${line.slice(line.length >> 1)}` : line,
          ),
    ),
    fc.tuple(atLine, fc.integer({ min: 1, max: 60 })).map(
      ([i, n]) =>
        (l: string[]) =>
          l.map((line, j) => (j === i ? line.replace(/\d+/, (d) => d.repeat(n)) : line)),
    ),
  );
}

/** 1 to `most` line mutations applied in turn to `lines`. */
export function mutatedLines(lines: readonly string[], values?: readonly string[], most = 4): fc.Arbitrary<string[]> {
  return fc
    .array(lineMutation(lines.length, values), { minLength: 1, maxLength: most })
    .map((ms) => ms.reduce((l, m) => m(l), [...lines]));
}

/** A line with characters changed: one of hostileStrings or a random string put in, or a span cut or doubled. */
export function mutatedLine(line: string): fc.Arbitrary<string> {
  const at = fc.nat({ max: line.length });
  const insert = fc.oneof(
    fc.constantFrom(...hostileStrings),
    fc.string({ maxLength: 6, unit: 'binary' }),
    fc.string({ maxLength: 6 }),
  );
  return fc.oneof(
    fc.tuple(at, insert).map(([i, s]) => line.slice(0, i) + s + line.slice(i)),
    fc.tuple(at, at).map(([i, j]) => line.slice(0, Math.min(i, j)) + line.slice(Math.max(i, j))),
    fc
      .tuple(at, at, fc.integer({ min: 2, max: 50 }))
      .map(
        ([i, j, n]) =>
          line.slice(0, Math.min(i, j)) +
          line.slice(Math.min(i, j), Math.max(i, j)).repeat(n) +
          line.slice(Math.max(i, j)),
      ),
    fc.tuple(at, at, insert).map(([i, j, s]) => line.slice(0, Math.min(i, j)) + s + line.slice(Math.max(i, j))),
  );
}

/** `lines` with 1 to `most` of them changed character-wise (mutatedLine), dropped, doubled or added. */
export function mutatedText(lines: readonly string[], extra: fc.Arbitrary<string>, most = 3): fc.Arbitrary<string[]> {
  const atLine = fc.nat({ max: Math.max(0, lines.length - 1) });
  const edit: fc.Arbitrary<(l: string[]) => fc.Arbitrary<string[]>> = fc.oneof(
    atLine.map((i) => (l: string[]) => mutatedLine(l[i] ?? '').map((m) => l.map((x, j) => (j === i ? m : x)))),
    atLine.map((i) => (l: string[]) => fc.constant<string[]>(l.filter((_, j) => j !== i))),
    atLine.map((i) => (l: string[]) => fc.constant<string[]>([...l.slice(0, i + 1), l[i] ?? '', ...l.slice(i + 1)])),
    fc.tuple(atLine, extra).map(
      ([i, e]) =>
        (l: string[]) =>
          fc.constant<string[]>([...l.slice(0, i), e, ...l.slice(i)]),
    ),
  );
  return fc
    .array(edit, { minLength: 1, maxLength: most })
    .chain((edits) =>
      edits.reduce<fc.Arbitrary<string[]>>((acc, e) => acc.chain((l) => e(l)), fc.constant([...lines])),
    );
}
