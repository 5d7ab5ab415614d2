/**
 * How fast recorded traffic is read, on the long and hostile lines that once took seconds (a 2 MB access
 * log line took about 6-9 s), beside a native baseline run in the same process on the same characters:
 * `JSON.parse` of one JSON string holding the line, a linear pass in C++. A ratio near 1 means the
 * parser is linear with a small constant; a backtracking parser shows as a ratio in the hundreds.
 */
import { parseRecordedTraffic } from '../domain/recorded-traffic';

/** One shape of input and its timings. */
export interface ParsingCase {
  /** What the input is. */
  name: string;
  /** Characters of the input. */
  chars: number;
  /** Median ms to read (or refuse) it. */
  parseMs: number;
  /** Median ms of the baseline on the same characters. */
  baselineMs: number;
  /** Whether it was read (true) or refused with a problem naming its line (false). */
  accepted: boolean;
}

/** Options of a run. */
export interface ParsingOptions {
  /** Turns per case. Default 5. */
  rounds?: number;
  /** Characters of the longest line. Default 2 MiB (the case); the quick form uses less. */
  longLineChars?: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timed(run: () => void): number {
  const started = process.hrtime.bigint();
  run();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** The inputs: long lines in each shape the old parser was slow on, at the bound and over it. */
function cases(longLineChars: number): { name: string; text: string; file: string }[] {
  const room = 64 * 1024 - 200;
  const prefix = '10.0.0.1 - - [26/Nov/2026:09:00:00 +0000] ';
  const jsonLines = Array.from({ length: 2000 }, (_, i) =>
    JSON.stringify({
      method: 'POST',
      path: `/cart/${i}?q=${'x'.repeat(200)}`,
      headers: { 'content-type': 'application/json', 'x-trace': `t${i}` },
      json: { items: [i, i + 1], note: 'ü'.repeat(100) },
    }),
  ).join('\n');
  return [
    {
      name: `access log line of ${longLineChars} characters (over the bound: refused)`,
      text: `${prefix}"GET /${'a'.repeat(longLineChars)} HTTP/1.1" 200 10 "-" "-"`,
      file: 'long.log',
    },
    {
      name: 'access log line at the 64 KiB bound, plain path',
      text: `${prefix}"GET /${'a'.repeat(room)} HTTP/1.1" 200 10 "-" "-"`,
      file: 'plain.log',
    },
    {
      name: 'access log line at the bound, every character escaped',
      text: `${prefix}"GET /${'\\"'.repeat(room / 2)} HTTP/1.1" 200 10 "-" "-"`,
      file: 'escaped.log',
    },
    {
      name: 'access log line at the bound, unterminated quote',
      text: `${prefix}"GET /${'a'.repeat(room)} HTTP/1.1" 200 10 "-`,
      file: 'open.log',
    },
    {
      name: 'access log line at the bound, a request of spaces',
      text: `${prefix}"${' '.repeat(room)}" 200 10`,
      file: 'spaces.log',
    },
    { name: `JSON Lines recording of 2000 requests`, text: jsonLines, file: 'many.jsonl' },
  ];
}

/** Times each case against the baseline, taking turns. */
export function benchInputParsing(options: ParsingOptions = {}): ParsingCase[] {
  const rounds = options.rounds ?? 5;
  return cases(options.longLineChars ?? 2 * 1024 * 1024).map(({ name, text, file }) => {
    const quoted = JSON.stringify(text);
    let accepted = true;
    const parse = () => {
      try {
        parseRecordedTraffic(text, file);
      } catch {
        accepted = false;
      }
    };
    parse(); // warm up both, so neither meets the JIT cold
    JSON.parse(quoted);
    const parseMs: number[] = [];
    const baselineMs: number[] = [];
    for (let i = 0; i < rounds; i++) {
      parseMs.push(timed(parse));
      baselineMs.push(timed(() => JSON.parse(quoted)));
    }
    return { name, chars: text.length, parseMs: median(parseMs), baselineMs: median(baselineMs), accepted };
  });
}

/** The cases, a line each. */
export function describeInputParsing(results: ParsingCase[]): string {
  return [
    'recorded traffic parsing, median of turns, against JSON.parse of the same characters as one string:',
    ...results.map(
      (r) =>
        `  ${r.name}: ${r.parseMs.toFixed(1)} ms (${r.accepted ? 'read' : 'refused'}), baseline ${r.baselineMs.toFixed(2)} ms, ` +
        `ratio ${(r.parseMs / Math.max(r.baselineMs, 0.001)).toFixed(1)}x`,
    ),
  ].join('\n');
}
