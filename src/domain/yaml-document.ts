import {
  type Document,
  isAlias,
  isMap,
  isNode,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseAllDocuments,
  parseDocument,
  type YAMLError,
} from 'yaml';
import { InvalidInputError } from './errors';
import { quoteExcerpt } from './excerpt';

/**
 * What a YAML document may hold before it is turned into data. An input file is small, but aliases can
 * make it expand (a billion laughs, or one large value repeated), and deep nesting exhausts the stack of
 * whatever walks it next: both are refused with the place they start.
 */
export const yamlLimits = {
  /** Most levels of nested lists and mappings, counting what aliases bring in. */
  depth: 64,
  /** Most aliases (`*name`) in one document. */
  aliases: 100,
  /** Most characters of scalars (plus one per node) the document holds with every alias expanded. */
  expandedChars: 8 * 1024 * 1024,
  /**
   * Most characters all documents parsed together hold expanded (a multi-document stream, a folder of
   * manifests): as much as helm may print, so that many documents each under the limit stay bounded.
   */
  streamExpandedChars: 32 * 1024 * 1024,
} as const;

/** Longest cause quoted from the YAML library. */
const maxCauseChars = 200;

/**
 * Parses YAML text into plain data. A syntax error, an alias to nothing, too many or too large aliases
 * and too deep nesting each become an InvalidInputError naming the file, line and column, so a person
 * can go straight to it. Nothing the YAML library throws escapes as a crash.
 */
export function parseYaml(text: string, source: string): unknown {
  const { lineCounter, at, refuse } = locating(source);
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, lineCounter });
  } catch (err) {
    throw refuse([`${source}: ${libraryCause(err)}`]);
  }
  if (doc.errors.length > 0) {
    throw refuse(doc.errors.map((e) => located(e, source)));
  }
  const problem = shapeProblem(doc, at);
  if (problem) throw refuse([problem]);
  try {
    return doc.toJS({ maxAliasCount: -1 });
  } catch (err) {
    throw refuse([`${source}: ${libraryCause(err)}`]);
  }
}

/** One document of a multi-document YAML stream, as plain data. */
export interface YamlDocument {
  /** The document's data (null for an empty document). */
  value: unknown;
  /** Where the document starts, as `file:line:col`. */
  at: string;
}

/**
 * What several YAML texts parsed one after another have expanded to so far: the expansion limit holds
 * for all of them together, so that many small files (or documents) each just under the limit cannot
 * add up to a runaway.
 */
export interface YamlBudget {
  /** Characters (plus one per node) expanded so far. */
  expandedChars: number;
}

/**
 * Parses a stream of YAML documents (separated by `---`), such as a folder's manifest file or helm's
 * output, with the same limits and errors as parseYaml: each document is held to the alias and nesting
 * limits, the whole stream (and everything else sharing `budget`) to the expansion limit. Every problem
 * names the file, line and column; nothing the YAML library throws escapes.
 */
export function parseYamlDocuments(
  text: string,
  source: string,
  budget: YamlBudget = { expandedChars: 0 },
): YamlDocument[] {
  const { lineCounter, at, refuse } = locating(source);
  let docs: Document.Parsed[];
  try {
    const parsed = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true, lineCounter });
    // A stream with no document (only comments or directives) has no documents but may hold errors.
    if ('empty' in parsed && parsed.errors.length > 0) throw refuse(parsed.errors.map((e) => located(e, source)));
    docs = [...parsed];
  } catch (err) {
    if (err instanceof InvalidInputError) throw err;
    throw refuse([`${source}: ${libraryCause(err)}`]);
  }
  const errors = docs.flatMap((doc) => doc.errors.map((e) => located(e, source)));
  if (errors.length > 0) throw refuse(errors);
  return docs.map((doc) => {
    const problem = shapeProblem(doc, at, budget);
    if (problem) throw refuse([problem]);
    try {
      return { value: doc.toJS({ maxAliasCount: -1 }) as unknown, at: at(doc.range[0]) };
    } catch (err) {
      throw refuse([`${source}: ${libraryCause(err)}`]);
    }
  });
}

/** What both parsers locate problems with: offsets as `file:line:col`, and the refusal naming the file. */
function locating(source: string) {
  const lineCounter = new LineCounter();
  const at = (offset: number | undefined) => {
    if (offset === undefined) return source;
    const { line, col } = lineCounter.linePos(offset);
    return `${source}:${line}:${col}`;
  };
  const refuse = (problems: string[]) => new InvalidInputError(`${source} is not valid YAML`, problems);
  return { lineCounter, at, refuse };
}

/** A YAML library error as `file:line:col: cause` (the library's first line repeats the position: only the cause is kept). */
function located(e: YAMLError, source: string): string {
  const pos = e.linePos?.[0];
  return `${pos ? `${source}:${pos.line}:${pos.col}` : source}: ${libraryCause(e)}`;
}

/** The library's message in a line a person can act on, never a long quote of the input. */
function libraryCause(err: unknown): string {
  const message = String((err as Error)?.message ?? err)
    .split('\n')[0]
    .replace(/ at line \d+, column \d+:?$/, '');
  if (/Maximum call stack size exceeded/.test(message))
    return `nested too deeply: at most ${yamlLimits.depth} levels of lists and mappings; flatten it`;
  if (/Excessive alias count/.test(message))
    return 'aliases expand the document too much: write the values out instead of repeating them with *aliases';
  return message.length > maxCauseChars ? `${message.slice(0, maxCauseChars)}…` : message;
}

interface Frame {
  node: Node;
  depth: number;
  children: Node[];
  next: number;
  size: number;
  height: number;
}

/**
 * The first problem of a parsed document's shape, or undefined: aliases to no anchor or to a node they
 * sit in, too many aliases, too deep nesting, too large an expansion. Walks without recursion, so a deep
 * document cannot exhaust the stack here.
 */
function shapeProblem(
  doc: Document.Parsed,
  at: (offset: number | undefined) => string,
  budget: YamlBudget = { expandedChars: 0 },
): string | undefined {
  const root = doc.contents;
  if (!root) return undefined;
  const anchors = new Map<string, Node>();
  const measured = new Map<Node, { size: number; height: number }>();
  const open = new Set<Node>();
  const stack: Frame[] = [];
  let aliases = 0;
  let expanded = 0;
  /** Counts `n` more expanded characters; true when the document or everything sharing the budget is too large. */
  const grow = (n: number) => {
    expanded += n;
    budget.expandedChars += n;
    return expanded > yamlLimits.expandedChars || budget.expandedChars > yamlLimits.streamExpandedChars;
  };
  const tooLarge = (node: Node) =>
    expanded > yamlLimits.expandedChars
      ? `${at(node.range?.[0])}: the document expands to more than ${yamlLimits.expandedChars / 1024 / 1024} MiB here (each *alias repeats what its anchor marks): write the values out instead of repeating them`
      : `${at(node.range?.[0])}: the documents read together expand to more than ${yamlLimits.streamExpandedChars / 1024 / 1024} MiB here: make the template smaller, or write values out instead of repeating them with *aliases`;
  /** Adds a finished child (size, height) to its parent frame. */
  const addToParent = (size: number, height: number) => {
    const parent = stack[stack.length - 1];
    if (!parent) return;
    parent.size += size;
    parent.height = Math.max(parent.height, height + 1);
  };
  /** Visits one node: a leaf or an alias is measured at once, a collection is opened. */
  const enter = (node: Node, depth: number): string | undefined => {
    if (node.anchor) anchors.set(node.anchor, node);
    if (isAlias(node)) {
      aliases += 1;
      const name = quoteExcerpt(node.source);
      if (aliases > yamlLimits.aliases)
        return `${at(node.range?.[0])}: more than ${yamlLimits.aliases} aliases (*name) in one document: write the values out instead`;
      const target = anchors.get(node.source);
      if (!target)
        return `${at(node.range?.[0])}: alias ${name} names no anchor defined before it: define the anchor (&name) above the alias, or fix the name`;
      if (open.has(target))
        return `${at(node.range?.[0])}: alias ${name} sits inside the node its anchor marks, which would repeat it without end: remove the alias`;
      const m = measured.get(target)!;
      if (depth - 1 + m.height > yamlLimits.depth)
        return `${at(node.range?.[0])}: alias ${name} nests the document deeper than ${yamlLimits.depth} levels of lists and mappings: flatten it`;
      if (grow(m.size)) return tooLarge(node);
      addToParent(m.size, m.height);
      return undefined;
    }
    if (isMap(node) || isSeq(node)) {
      if (depth > yamlLimits.depth)
        return `${at(node.range?.[0])}: nested too deeply: at most ${yamlLimits.depth} levels of lists and mappings; flatten it`;
      const children: Node[] = [];
      for (const item of node.items as unknown[]) {
        if (isPair(item)) {
          if (isNode(item.key)) children.push(item.key);
          if (isNode(item.value)) children.push(item.value);
        } else if (isNode(item)) children.push(item);
      }
      open.add(node);
      grow(1);
      stack.push({ node, depth, children, next: 0, size: 1, height: 1 });
      return undefined;
    }
    const size = 1 + (isScalar(node) ? String(node.value ?? '').length : 0);
    if (grow(size)) return tooLarge(node);
    measured.set(node, { size, height: 0 });
    addToParent(size, 0);
    return undefined;
  };

  const first = enter(root, 1);
  if (first) return first;
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    if (frame.next < frame.children.length) {
      const problem = enter(frame.children[frame.next++], frame.depth + 1);
      if (problem) return problem;
      continue;
    }
    stack.pop();
    open.delete(frame.node);
    measured.set(frame.node, { size: frame.size, height: frame.height });
    addToParent(frame.size, frame.height);
  }
  return undefined;
}
