import fc from 'fast-check';
import { InvalidInputError } from '../../src/domain/errors';
import { parseYaml, parseYamlDocuments, yamlLimits } from '../../src/domain/yaml-document';

/** The refusal parseYaml throws for a text; fails the test if it throws anything else or nothing. */
function refusalOf(text: string): InvalidInputError {
  let thrown: unknown;
  try {
    parseYaml(text, 'in.yaml');
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(InvalidInputError);
  return thrown as InvalidInputError;
}

describe('parseYaml', () => {
  it('parses plain YAML, with aliases to anchors defined before them', () => {
    expect(parseYaml('a: &x [1, 2]\nb: *x\nc: { <<: { d: 1 } }\n', 'in.yaml')).toEqual({
      a: [1, 2],
      b: [1, 2],
      c: { '<<': { d: 1 } },
    });
  });

  it('names the line and column of a syntax error', () => {
    expect(refusalOf('a: [1, 2\nb: 3\n').problems[0]).toMatch(/^in\.yaml:\d+:\d+: /);
  });

  it.each([
    [
      'an alias to no anchor',
      'a: 1\nb: *nope\n',
      /^in\.yaml:2:4: alias "nope" names no anchor defined before it: define the anchor/,
    ],
    ['an alias before its anchor', 'a: *x\nb: &x 1\n', /^in\.yaml:1:4: alias "x" names no anchor defined before it/],
    [
      'an alias inside its own anchor',
      'a: &x\n  b: *x\n',
      /^in\.yaml:2:6: alias "x" sits inside the node its anchor marks/,
    ],
  ])('refuses %s with its line and column', (_name, text, problem) => {
    const err = refusalOf(text);
    expect(err.message).toBe('in.yaml is not valid YAML');
    expect(err.problems).toEqual([expect.stringMatching(problem)]);
  });

  it('refuses more aliases than the limit, at the first one over it', () => {
    const text = `a: &a 1\n${Array.from({ length: yamlLimits.aliases + 1 }, (_, i) => `k${i}: *a\n`).join('')}`;
    expect(refusalOf(text).problems).toEqual([
      `in.yaml:${yamlLimits.aliases + 2}:${`k${yamlLimits.aliases}: `.length + 1}: more than ${yamlLimits.aliases} aliases (*name) in one document: write the values out instead`,
    ]);
  });

  it('refuses exponential expansion (a billion laughs) with a clear error', () => {
    let text = `a0: &a0 [${Array(10).fill('"lol"').join(',')}]\n`;
    for (let i = 1; i < 9; i++)
      text += `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(',')}]\n`;
    const err = refusalOf(text);
    expect(err.problems[0]).toMatch(
      /^in\.yaml:\d+:\d+: (the document expands to more than 8 MiB here|more than 100 aliases)/,
    );
  });

  it('refuses linear amplification: one large value repeated by aliases', () => {
    const big = 'x'.repeat(200_000);
    const text = `a: &big ${big}\n${Array.from({ length: 60 }, (_, i) => `k${i}: *big\n`).join('')}`;
    expect(refusalOf(text).problems).toEqual([
      expect.stringMatching(
        /^in\.yaml:\d+:\d+: the document expands to more than 8 MiB here \(each \*alias repeats what its anchor marks\): write the values out/,
      ),
    ]);
  });

  it("holds aliases to Meridian's limits, not the library's guess, so every refusal names its line", () => {
    // Nine times nine ... five levels deep: the yaml library's own alias check refused this with no position.
    let text = `a0: &a0 [${Array(9).fill('"lol"').join(',')}]\n`;
    for (let i = 1; i < 6; i++)
      text += `a${i}: &a${i} [${Array(9)
        .fill(`*a${i - 1}`)
        .join(',')}]\n`;
    expect((parseYaml(text, 'in.yaml') as Record<string, unknown[][]>).a5.flat(Infinity)).toHaveLength(9 ** 6);
    text += `a6: &a6 [${Array(9).fill('*a5').join(',')}]\n`;
    expect(refusalOf(text).problems).toEqual([
      expect.stringMatching(/^in\.yaml:7:\d+: the document expands to more than 8 MiB here/),
    ]);
  });

  it.each([
    ['flow lists', (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`, 20_000],
    ['flow mappings', (n: number) => `${'{a: '.repeat(n)}1${'}'.repeat(n)}`, 20_000],
    ['block lists', (n: number) => `${'- '.repeat(n)}x\n`, 20_000],
    // Indentation grows with depth: the text is quadratic in it.
    [
      'block mappings',
      (n: number) => `${Array.from({ length: n }, (_, i) => `${' '.repeat(i)}a:`).join('\n')} 1\n`,
      3_000,
    ],
  ])('refuses nesting deeper than the limit in %s, shallow and very deep alike', (_name, nest, deepest) => {
    expect(() => parseYaml(nest(yamlLimits.depth), 'in.yaml')).not.toThrow();
    for (const depth of [yamlLimits.depth + 1, 1_000, deepest]) {
      expect(refusalOf(nest(depth)).problems[0]).toMatch(
        /^in\.yaml(:\d+:\d+)?: nested too deeply: at most 64 levels of lists and mappings; flatten it$/,
      );
    }
  });

  it('counts the depth an alias brings in', () => {
    const inner = `${'['.repeat(40)}${']'.repeat(40)}`;
    expect(refusalOf(`a: &d ${inner}\nb: ${'['.repeat(30)}*d${']'.repeat(30)}\n`).problems[0]).toMatch(
      /^in\.yaml:2:\d+: alias "d" nests the document deeper than 64 levels/,
    );
  });

  it('quotes only an excerpt of a long anchor name', () => {
    const problem = refusalOf(`a: *${'n'.repeat(100_000)}\n`).problems[0];
    expect(problem.length).toBeLessThan(300);
  });

  it('turns any text into data or an InvalidInputError, never another error (property)', () => {
    const pieces = fc.constantFrom(
      'a',
      ':',
      ' ',
      '\n',
      '- ',
      '&x ',
      '*x',
      '*y',
      '[',
      ']',
      '{',
      '}',
      ',',
      '<<: ',
      '"',
      "'",
      '? ',
      '|',
      '#',
      '!!str ',
      '---\n',
      '\t',
      '1',
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 60 }), (parts) => {
        try {
          parseYaml(parts.join(''), 'in.yaml');
        } catch (err) {
          if (!(err instanceof InvalidInputError)) throw err;
          expect(err.problems.length).toBeGreaterThan(0);
          for (const p of err.problems) expect(p).toMatch(/^in\.yaml(:\d+:\d+)?: /);
        }
      }),
      { seed: 12, numRuns: 2_000 },
    );
  });
});

/** The refusal parseYamlDocuments throws for a text; fails the test if it throws anything else or nothing. */
function streamRefusalOf(text: string, budget?: { expandedChars: number }): InvalidInputError {
  let thrown: unknown;
  try {
    parseYamlDocuments(text, 'in.yaml', budget);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(InvalidInputError);
  return thrown as InvalidInputError;
}

describe('parseYamlDocuments', () => {
  it('parses every document with where it starts; empty documents are null; an empty stream is none', () => {
    expect(parseYamlDocuments('a: 1\n---\nb: &x [1]\nc: *x\n---\n', 'in.yaml')).toEqual([
      { value: { a: 1 }, at: 'in.yaml:1:1' },
      { value: { b: [1], c: [1] }, at: 'in.yaml:2:1' },
      { value: null, at: 'in.yaml:5:1' },
    ]);
    expect(parseYamlDocuments('', 'in.yaml')).toEqual([]);
    expect(parseYamlDocuments('# only a comment\n', 'in.yaml')).toEqual([]);
  });

  it.each([
    ['a syntax error in a later document', 'a: 1\n---\nb: [1\n', /^in\.yaml:[34]:\d+: /],
    [
      'an alias to an anchor of an earlier document',
      'a: &x 1\n---\nb: *x\n',
      /^in\.yaml:3:4: alias "x" names no anchor defined before it/,
    ],
    ['a duplicate key', 'a: 1\na: 2\n', /^in\.yaml:2:1: Map keys must be unique/],
    [
      'nesting deeper than the limit',
      `---\n${'['.repeat(yamlLimits.depth + 1)}${']'.repeat(yamlLimits.depth + 1)}\n`,
      /^in\.yaml:\d+:\d+: nested too deeply: at most 64 levels/,
    ],
  ])('refuses %s with its line and column', (_name, text, problem) => {
    const err = streamRefusalOf(text);
    expect(err.message).toBe('in.yaml is not valid YAML');
    expect(err.problems[0]).toMatch(problem);
  });

  it('counts aliases per document', () => {
    const doc = (n: number) => `a: &a 1\n${Array.from({ length: n }, (_, i) => `k${i}: *a\n`).join('')}`;
    // 160 aliases in all, 80 a document.
    expect(parseYamlDocuments(`${doc(80)}---\n${doc(80)}`, 'in.yaml')).toHaveLength(2);
    expect(streamRefusalOf(`${doc(80)}---\n${doc(yamlLimits.aliases + 1)}`).problems[0]).toMatch(
      /^in\.yaml:184:7: more than 100 aliases/,
    );
  });

  it('holds all documents sharing a budget to the stream limit, each to the document limit', () => {
    const doc = `a: &a "${'x'.repeat(1_000_000)}"\nb: [*a, *a, *a, *a, *a]\n`;
    const budget = { expandedChars: 0 };
    // About 6 MB a document: each is under 8 MiB, the sixth passes 32 MiB.
    expect(parseYamlDocuments(`${doc}---\n${doc}`, 'one.yaml', budget)).toHaveLength(2);
    expect(parseYamlDocuments(`${doc}---\n${doc}---\n${doc}`, 'two.yaml', budget)).toHaveLength(3);
    expect(streamRefusalOf(doc, budget).problems).toEqual([
      expect.stringMatching(/^in\.yaml:2:\d+: the documents read together expand to more than 32 MiB here/),
    ]);
    expect(streamRefusalOf(`${doc.replace(']', ', *a, *a, *a]')}`).problems).toEqual([
      expect.stringMatching(/^in\.yaml:2:\d+: the document expands to more than 8 MiB here/),
    ]);
  });

  it('turns any text into documents or an InvalidInputError, never another error (property)', () => {
    const pieces = fc.constantFrom(
      'a',
      ':',
      ' ',
      '\n',
      '- ',
      '&x ',
      '*x',
      '[',
      ']',
      '{',
      '}',
      ',',
      '"',
      '? ',
      '|',
      '#',
      '---\n',
      '...\n',
      '%YAML 1.2\n',
      '\t',
      '1',
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 60 }), (parts) => {
        try {
          parseYamlDocuments(parts.join(''), 'in.yaml');
        } catch (err) {
          if (!(err instanceof InvalidInputError)) throw err;
          expect(err.problems.length).toBeGreaterThan(0);
          for (const p of err.problems) expect(p).toMatch(/^in\.yaml(:\d+:\d+)?: /);
        }
      }),
      { seed: 12, numRuns: 2_000 },
    );
  });
});
