/**
 * A line-level reading of restore/save text for the comparators (canonicalize, consistency check), which
 * must work on inputs a full rule parse refuses: kube-proxy's test helpers treat a rule as `-A CHAIN` plus
 * raw text, so junk inside a rule is carried along untouched.
 */
import { tokenize } from './tokenize.js';

export interface LenientTable {
  name: string;
  /** Every non-blank, non-`#` line between `*name` and COMMIT, trailing blanks removed. */
  lines: string[];
}

/** The `*name` ... `COMMIT` blocks of the text, in order; lines outside any table are ignored. */
export function splitTables(text: string): LenientTable[] {
  const tables: LenientTable[] = [];
  let current: LenientTable | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (line.length === 0 || line.startsWith('#')) continue;
    if (line.startsWith('*')) {
      current = { name: line.slice(1).trim(), lines: [] };
      tables.push(current);
      continue;
    }
    if (line === 'COMMIT') {
      current = undefined;
      continue;
    }
    current?.lines.push(line);
  }
  return tables;
}

/** Whitespace-separated fields, as Go's strings.Fields. */
export function fields(line: string): string[] {
  return line.split(/[ \t]+/).filter((f) => f.length > 0);
}

/**
 * The `--comment` value of a raw rule line (quotes removed), or undefined when the rule has none. Reads only
 * up to the comment, so junk later in the line does not matter.
 */
export function commentOf(line: string): string | undefined {
  const at = line.indexOf('--comment');
  if (at < 0) return undefined;
  const tokens = tokenize(line, at);
  // An unterminated quote still yields the words before it.
  if (tokens.words[0] !== '--comment') return undefined;
  return tokens.words[1];
}
