import { parseDocument } from 'yaml';
import { InvalidInputError } from './errors';

/**
 * Parses YAML text into plain data. A syntax error becomes an InvalidInputError naming the file, line
 * and column, so a person can go straight to it.
 */
export function parseYaml(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const at = e.linePos?.[0];
      const where = at ? `${source}:${at.line}:${at.col}` : source;
      // The library's first line repeats the position ("... at line 3, column 2:"): keep only the cause.
      return `${where}: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`;
    });
    throw new InvalidInputError(`${source} is not valid YAML`, problems);
  }
  return doc.toJS({ maxAliasCount: 100 });
}
