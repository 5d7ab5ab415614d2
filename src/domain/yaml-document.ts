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
      return `${where}: ${e.message.split('\n')[0]}`;
    });
    throw new InvalidInputError(`${source} is not valid YAML`, problems);
  }
  return doc.toJS({ maxAliasCount: 100 });
}
