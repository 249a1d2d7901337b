/**
 * Splitting a rule line into words the way iptables-restore does (xtables' add_param_to_argv): words are
 * separated by spaces or tabs; a double- or single-quoted stretch is one word in which a backslash escapes the
 * next character (`\"`, `\\`, `\'` as iptables-save writes them); outside quotes a backslash is an ordinary
 * character. A closing quote ends the word, so `"a"b` is two words, and `""` is an empty word.
 */

/** The words of a line, as parallel arrays (one object per word would cost too much on 400k-line dumps). */
export interface Words {
  /** The unquoted words. */
  words: string[];
  /** 1-based column of each word's first character (its opening quote, if quoted). */
  cols: number[];
  /** Whether each word was (at least partly) quoted. */
  quoted: boolean[];
}

export type TokenizeResult =
  | ({ ok: true } & Words)
  /** An unterminated quote; `col` is the column of the opening quote. The words before it are kept. */
  | ({ ok: false; col: number; message: string } & Words);

const SPACE = 0x20;
const TAB = 0x09;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const BACKSLASH = 0x5c;

/** Tokenizes `line` from offset `start` (0-based) to its end; columns are reported relative to the line. */
export function tokenize(line: string, start = 0): TokenizeResult {
  const words: string[] = [];
  const cols: number[] = [];
  const quoted: boolean[] = [];
  const bad = scan(line, start, words, cols, quoted);
  return bad < 0
    ? { ok: true, words, cols, quoted }
    : { ok: false, col: bad, message: 'unterminated quote', words, cols, quoted };
}

/**
 * The hot path of a large parse: the words only, written into `into` (reused from line to line, its length
 * set to the word count). Returns -1, or the column of an unterminated quote. Callers that need a position
 * for a diagnostic call `tokenize` on that line.
 */
export function tokenizeWords(line: string, start: number, into: string[]): number {
  return scan(line, start, into, undefined, undefined);
}

function scan(
  line: string,
  start: number,
  words: string[],
  cols: number[] | undefined,
  quoted: boolean[] | undefined,
): number {
  let count = 0;
  const n = line.length;
  let i = start;
  while (i < n) {
    let c = line.charCodeAt(i);
    if (c === SPACE || c === TAB) {
      i++;
      continue;
    }
    const wordStart = i;
    // Fast path: a word without quotes is a plain slice.
    while (i < n) {
      c = line.charCodeAt(i);
      if (c === SPACE || c === TAB || c === DQUOTE || c === SQUOTE) break;
      i++;
    }
    if (i >= n || c === SPACE || c === TAB) {
      words[count++] = line.slice(wordStart, i);
      cols?.push(wordStart + 1);
      quoted?.push(false);
      continue;
    }
    // The word contains a quote: build it piecewise.
    let text = line.slice(wordStart, i);
    const quote = c;
    const quoteCol = i + 1;
    i++;
    let closed = false;
    let chunk = i;
    while (i < n) {
      c = line.charCodeAt(i);
      if (c === BACKSLASH && i + 1 < n) {
        text += line.slice(chunk, i);
        chunk = i + 1;
        i += 2;
        continue;
      }
      if (c === quote) {
        text += line.slice(chunk, i);
        i++;
        closed = true;
        break;
      }
      i++;
    }
    if (!closed) {
      words.length = count;
      return quoteCol;
    }
    words[count++] = text;
    cols?.push(wordStart + 1);
    quoted?.push(true);
  }
  words.length = count;
  return -1;
}

/** Characters that make a restore-payload word need quotes to survive tokenization. */
function needsQuotes(word: string): boolean {
  if (word.length === 0) return true;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c === SPACE || c === TAB || c === DQUOTE || c === SQUOTE || c === 0x0a || c === 0x0d) return true;
  }
  return false;
}

/**
 * A word as kube-proxy writes it into a restore payload: bare unless it must be quoted (spaces, quotes,
 * empty), then in double quotes with `"` and `\` escaped so `tokenize` reads it back unchanged.
 */
export function quoteRestoreWord(word: string): string {
  if (!needsQuotes(word)) return word;
  return `"${word.replace(/["\\]/g, '\\$&')}"`;
}
