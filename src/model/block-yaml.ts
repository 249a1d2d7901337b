/**
 * A fast reader for block-style YAML, the style `kubectl get -o yaml` prints and most manifests are written
 * in: block mappings and sequences, plain and quoted scalars (wrapped over several lines too), `|` literal
 * blocks, `{}` and `[]`, comments and `---`. The `yaml` package needs seconds for the tens of MB of a large
 * cluster's dump; this reads it in a fraction of that.
 *
 * It is a fast path, not a second YAML implementation. Whatever lies outside that subset — flow collections
 * with content, anchors, aliases, tags, directives, folded and `|+` blocks, tabs outside `|` blocks, CR line
 * ends, duplicate, quoted or non-string keys, merge keys, numbers other than short unsigned decimals — makes
 * it give up (undefined), and the `yaml` package reads the text instead, errors and all. Scalars resolve as
 * the package's default YAML 1.2 core schema resolves them.
 *
 * Offsets, for positions, are recorded only when asked (a second pass, run once a position is wanted), and
 * are the offsets the `yaml` package gives the same nodes.
 */

/** Where a node's children are: per key of a mapping its key and value offsets; per item of a sequence its offset. */
export type ChildOffsets = Map<string, { key: number; value: number }> | number[];

export interface BlockDocument {
  value: unknown;
  /** Offset of the document's root node. */
  at: number;
}

/** Deepest nesting the reader follows. */
const MAX_DEPTH = 200;

/** Thrown inside the reader when the text leaves the subset; never escapes readBlockYaml. */
class Unsupported extends Error {}

const SPACE = 0x20;
const HASH = 0x23;
const COLON = 0x3a;
const DASH = 0x2d;

/**
 * The documents of `text` (empty and null ones left out, as the slow path leaves them out), or undefined
 * when the text is not in the subset. With `offsets`, every mapping and sequence is entered in it.
 */
export function readBlockYaml(text: string, offsets?: WeakMap<object, ChildOffsets>): BlockDocument[] | undefined {
  if (text.includes('\r') || text.charCodeAt(0) === 0xfeff) return undefined;
  try {
    return new BlockReader(text, offsets).documents();
  } catch (e) {
    if (e instanceof Unsupported) return undefined;
    throw e;
  }
}

/** The offset `yaml`'s nodes give for `path` below a document root (the nearest existing ancestor's when absent). */
export function blockOffset(
  doc: BlockDocument,
  offsets: WeakMap<object, ChildOffsets>,
  path: readonly (string | number)[],
  key: boolean,
): number {
  let node: unknown = doc.value;
  let offset = doc.at;
  for (let i = 0; i < path.length; i++) {
    const children = typeof node === 'object' && node !== null ? offsets.get(node) : undefined;
    if (!children) return offset;
    const step = path[i] as string | number;
    if (Array.isArray(children)) {
      const at = typeof step === 'number' ? children[step] : undefined;
      if (at === undefined) return offset;
      offset = at;
      node = (node as unknown[])[step as number];
    } else {
      const entry = children.get(String(step));
      if (!entry) return offset;
      if (i === path.length - 1 && key) return entry.key;
      offset = entry.value;
      node = (node as Record<string, unknown>)[String(step)];
    }
  }
  return offset;
}

/**
 * Reads line by line. The current line is [lineStart, lineEnd); `at` is where its unread content starts,
 * and the column of `at` is the indentation of the node that starts there (after `- `, a mapping inside a
 * sequence item starts mid-line).
 */
class BlockReader {
  private lineStart = 0;
  private lineEnd = 0;
  private at = 0;
  /** False at the end of the text or of the document (a `---` or `...` line). */
  private hasLine = false;
  /** The first tab at or after the current line (-1: none left). */
  private nextTab: number;
  /** Nodes open around the one being read. */
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly offsets: WeakMap<object, ChildOffsets> | undefined,
  ) {
    this.nextTab = text.indexOf('\t');
  }

  documents(): BlockDocument[] {
    const docs: BlockDocument[] = [];
    this.startLine(0);
    for (;;) {
      this.skipToContent();
      if (!this.hasLine) {
        if (this.lineStart >= this.text.length) return docs;
        // A `---` line: what may follow it on the line is a comment only.
        if (!this.text.startsWith('---', this.lineStart)) throw new Unsupported('document end marker');
        const rest = this.skipSpaces(this.lineStart + 3);
        if (rest < this.lineEnd && (rest === this.lineStart + 3 || this.text.charCodeAt(rest) !== HASH)) {
          throw new Unsupported('content after ---');
        }
        this.startLine(this.lineEnd + 1);
        continue;
      }
      const at = this.at;
      const value = this.node(this.column());
      // The root must end the document.
      if (this.hasLine) throw new Unsupported('content after the root node');
      docs.push({ value, at });
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Lines

  /** Moves to the line at `start`. Outside `|` blocks (`tabsAllowed`) a tab anywhere on it is left to yaml. */
  private startLine(start: number, tabsAllowed = false): void {
    const text = this.text;
    this.lineStart = Math.min(start, text.length);
    const end = text.indexOf('\n', this.lineStart);
    this.lineEnd = end < 0 ? text.length : end;
    this.at = this.skipSpaces(this.lineStart);
    this.hasLine = this.lineStart < text.length && !this.isDocumentMarker();
    if (!tabsAllowed) this.refuseTabs();
  }

  /** Tabs indent nothing in YAML and fold differently from spaces: a line holding one goes to yaml. */
  private refuseTabs(): void {
    while (this.nextTab >= 0 && this.nextTab < this.lineStart) this.nextTab = this.text.indexOf('\t', this.nextTab + 1);
    if (this.nextTab >= 0 && this.nextTab < this.lineEnd) throw new Unsupported('a tab');
  }

  private isDocumentMarker(): boolean {
    const text = this.text;
    const s = this.lineStart;
    if (!(text.startsWith('---', s) || text.startsWith('...', s))) return false;
    const after = s + 3;
    return after === this.lineEnd || text.charCodeAt(after) === SPACE;
  }

  /** Moves past blank and comment-only lines, from the current line on. */
  private skipToContent(): void {
    while (this.hasLine && (this.at === this.lineEnd || this.text.charCodeAt(this.at) === HASH)) {
      this.startLine(this.lineEnd + 1);
    }
  }

  private nextContentLine(): void {
    this.startLine(this.lineEnd + 1);
    this.skipToContent();
  }

  private column(): number {
    return this.at - this.lineStart;
  }

  private skipSpaces(i: number): number {
    while (this.text.charCodeAt(i) === SPACE) i++;
    return i;
  }

  /** True when nothing but spaces and a comment follow `i` on the current line. */
  private restIsBlank(i: number): boolean {
    const j = this.skipSpaces(i);
    return j >= this.lineEnd || (this.text.charCodeAt(j) === HASH && j > i);
  }

  private isSequenceItemAt(i: number): boolean {
    return this.text.charCodeAt(i) === DASH && (i + 1 === this.lineEnd || this.text.charCodeAt(i + 1) === SPACE);
  }

  /** End of the key when the content at `i` is `KEY: ...` with a plain key, else -1. */
  private keyEnd(i: number): number {
    const text = this.text;
    if (!this.startsPlain(i)) return -1;
    for (let j = i; j < this.lineEnd; j++) {
      const c = text.charCodeAt(j);
      if (c === COLON && (j + 1 === this.lineEnd || text.charCodeAt(j + 1) === SPACE)) return j;
      if (c === HASH && text.charCodeAt(j - 1) === SPACE) return -1;
    }
    return -1;
  }

  // -------------------------------------------------------------------------------------------------------
  // Nodes

  /** The block node starting at `at`, indented by `indent`. */
  private node(indent: number): unknown {
    // Manifests nest a dozen levels; thousands would exhaust the stack (the yaml package judges those).
    if (++this.depth > MAX_DEPTH) throw new Unsupported('nesting too deep');
    let value: unknown;
    if (this.isSequenceItemAt(this.at)) value = this.sequence(indent);
    else if (this.keyEnd(this.at) >= 0) value = this.mapping(indent);
    else throw new Unsupported('a scalar on a line of its own');
    this.depth--;
    return value;
  }

  private mapping(indent: number): Record<string, unknown> {
    const map: Record<string, unknown> = {};
    const children = this.offsets ? new Map<string, { key: number; value: number }>() : undefined;
    if (children) this.offsets?.set(map, children);
    for (;;) {
      const keyAt = this.at;
      const end = this.keyEnd(keyAt);
      if (end < 0) throw new Unsupported('not a key');
      const key = this.text.slice(keyAt, end);
      if (typeof resolvePlain(key) !== 'string' || key === '<<' || key === '__proto__' || key.endsWith(' ')) {
        throw new Unsupported('a key that is not a plain string');
      }
      if (Object.hasOwn(map, key)) throw new Unsupported('duplicate key');
      const { value, at } = this.value(indent, end + 1, keyAt, true);
      map[key] = value;
      children?.set(key, { key: keyAt, value: at });
      if (!this.hasLine || this.column() < indent) return map;
      if (this.column() > indent || this.isSequenceItemAt(this.at)) throw new Unsupported('bad indentation');
    }
  }

  private sequence(indent: number): unknown[] {
    const list: unknown[] = [];
    const children: number[] | undefined = this.offsets ? [] : undefined;
    if (children) this.offsets?.set(list, children);
    for (;;) {
      const content = this.skipSpaces(this.at + 1);
      if (this.restIsBlank(this.at + 1)) throw new Unsupported('an item on the following lines, or empty');
      if (this.keyEnd(content) >= 0 || this.isSequenceItemAt(content)) {
        // `- key: value` or `- - item`: a node indented by the column where it starts.
        this.at = content;
        children?.push(content);
        list.push(this.node(this.column()));
      } else {
        const { value, at } = this.value(indent, this.at + 1, this.at, false);
        children?.push(at);
        list.push(value);
      }
      if (!this.hasLine || this.column() < indent) return list;
      if (this.column() > indent) throw new Unsupported('bad indentation');
      if (!this.isSequenceItemAt(this.at)) return list;
    }
  }

  /**
   * The value after a key's colon or an item's dash (`from`), within a node indented by `indent`. Leaves the
   * reader on the next content line. `at` is the offset yaml gives the value (the key's for an empty value).
   */
  private value(indent: number, from: number, keyAt: number, inMapping: boolean): { value: unknown; at: number } {
    const text = this.text;
    const start = this.skipSpaces(from);
    if (this.restIsBlank(from)) {
      this.nextContentLine();
      if (this.hasLine && this.column() > indent) {
        const at = this.at;
        return { value: this.node(this.column()), at };
      }
      // `key:` then `- item` at the key's own indentation: the sequence is the key's value.
      if (inMapping && this.hasLine && this.column() === indent && this.isSequenceItemAt(this.at)) {
        const at = this.at;
        return { value: this.sequence(indent), at };
      }
      return { value: null, at: keyAt };
    }
    if (start === from) throw new Unsupported('no space after the indicator');
    const c = text.charCodeAt(start);
    let value: unknown;
    let end: number;
    if (c === 0x22 || c === 0x27) [value, end] = this.quoted(indent, start);
    else if (c === 0x7c) return { value: this.literal(indent, start), at: start };
    else if ((c === 0x7b && text.charCodeAt(start + 1) === 0x7d) || (c === 0x5b && text.charCodeAt(start + 1) === 0x5d)) {
      value = c === 0x7b ? {} : [];
      end = start + 2;
    } else if (this.startsPlain(start)) {
      return { value: resolvePlain(this.plain(indent, start)), at: start };
    } else {
      throw new Unsupported('an indicator');
    }
    if (!this.restIsBlank(end)) throw new Unsupported('content after a scalar');
    this.nextContentLine();
    if (this.hasLine && this.column() > indent) throw new Unsupported('a scalar continued on the next line');
    return { value, at: start };
  }

  /**
   * A plain scalar from `start`, in a node indented by `indent`: to the end of the line or a ` #` comment,
   * and on over the following lines indented deeper (folded into one line with single spaces, as long
   * strings are wrapped by kubectl's YAML writer). Leaves the reader on the next content line.
   */
  private plain(indent: number, start: number): string {
    let [value, end] = this.plainLine(start);
    let commented = this.skipSpaces(end) < this.lineEnd;
    this.startLine(this.lineEnd + 1);
    while (!commented && this.hasLine && this.at < this.lineEnd && this.column() > indent && this.text.charCodeAt(this.at) !== HASH) {
      const [more, moreEnd] = this.plainLine(this.at);
      value += ` ${more}`;
      commented = this.skipSpaces(moreEnd) < this.lineEnd;
      this.startLine(this.lineEnd + 1);
    }
    this.skipToContent();
    // After a comment or an empty line, deeper content is not part of the scalar (or is more than the subset).
    if (this.hasLine && this.column() > indent) throw new Unsupported('a scalar continued after a comment or an empty line');
    return value;
  }

  /** One line's share of a plain scalar: up to the end of the line or a ` #` comment, trailing spaces trimmed. */
  private plainLine(start: number): [string, number] {
    const text = this.text;
    let end = start;
    for (let j = start; j < this.lineEnd; j++) {
      const c = text.charCodeAt(j);
      if (c === HASH && text.charCodeAt(j - 1) === SPACE) break;
      if (c === COLON && (j + 1 === this.lineEnd || text.charCodeAt(j + 1) === SPACE)) throw new Unsupported('a mapping in a scalar');
      if (c !== SPACE) end = j + 1;
    }
    return [text.slice(start, end), end];
  }

  /** True when a plain scalar can start at `i`: not at an indicator, except `-`, `?` or `:` before a non-space. */
  private startsPlain(i: number): boolean {
    const c = this.text.charCodeAt(i);
    if (!isIndicator(c)) return true;
    const next = i + 1 < this.lineEnd ? this.text.charCodeAt(i + 1) : SPACE;
    return (c === DASH || c === 0x3f || c === COLON) && next !== SPACE;
  }

  /**
   * A single- or double-quoted scalar from `start`, in a node indented by `indent`. One that goes on over
   * several lines is folded as YAML folds it (kubectl's writer wraps long quoted strings): the spaces around
   * each line break go, and the break becomes a space, or one line feed per empty line between; in double
   * quotes a `\` at the end of a line joins the lines with nothing between.
   */
  private quoted(indent: number, start: number): [string, number] {
    const text = this.text;
    const quote = text.charCodeAt(start);
    const double = quote === 0x22;
    let out = '';
    let from = start + 1;
    let j = from;
    for (;;) {
      if (j >= this.lineEnd) {
        out += text.slice(from, this.lineEnd).replace(/ +$/, '') + this.foldLine(indent);
        from = j = this.at;
        continue;
      }
      const c = text.charCodeAt(j);
      if (c === quote) {
        if (double || text.charCodeAt(j + 1) !== quote) return [out + text.slice(from, j), j + 1];
        // '' is one quote inside single quotes.
        out += text.slice(from, j + 1);
        from = j = j + 2;
        continue;
      }
      if (!double || c !== 0x5c) {
        j++;
        continue;
      }
      out += text.slice(from, j);
      const escape = text[j + 1];
      if (j + 1 === this.lineEnd) {
        if (this.foldLine(indent) !== ' ') throw new Unsupported('an escaped line break before empty lines');
        from = j = this.at;
        continue;
      }
      if (escape === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) {
        out += String.fromCharCode(parseInt(text.slice(j + 2, j + 6), 16));
        j += 6;
      } else {
        const simple = escape === undefined ? undefined : SIMPLE_ESCAPES[escape];
        if (simple === undefined) throw new Unsupported('an escape');
        out += simple;
        j += 2;
      }
      from = j;
    }
  }

  /** Past a line break inside a quoted scalar, onto the next line's content: what the break folds into. */
  private foldLine(indent: number): string {
    let emptyLines = 0;
    this.startLine(this.lineEnd + 1);
    while (this.hasLine && this.at === this.lineEnd) {
      emptyLines++;
      this.startLine(this.lineEnd + 1);
    }
    if (!this.hasLine || this.column() <= indent) throw new Unsupported('a quoted scalar left open');
    return emptyLines === 0 ? ' ' : '\n'.repeat(emptyLines);
  }

  /**
   * `|` or `|-` at `start`: the lines indented deeper than the parent node, as they are. The content
   * indentation is that of the first non-empty line; empty lines before and inside keep their line breaks.
   */
  private literal(indent: number, start: number): string {
    const text = this.text;
    let header = start + 1;
    const strip = text.charCodeAt(header) === DASH;
    if (strip) header++;
    if (!this.restIsBlank(header) || (header < this.lineEnd && text.charCodeAt(header) !== SPACE)) {
      throw new Unsupported('a block scalar header');
    }
    let contentIndent = -1;
    /** Widest empty line seen: one wider than the content indentation holds content spaces (left to yaml). */
    let widestEmpty = 0;
    let out = '';
    let breaks = '';
    this.startLine(this.lineEnd + 1, true);
    while (this.lineStart < text.length) {
      const column = this.column();
      if (this.at === this.lineEnd) {
        widestEmpty = Math.max(widestEmpty, column);
        breaks += '\n';
      } else {
        if (contentIndent < 0) {
          if (column <= indent) break;
          contentIndent = column;
        } else if (column < contentIndent) {
          break;
        }
        out += breaks + text.slice(this.lineStart + contentIndent, this.lineEnd) + '\n';
        breaks = '';
      }
      this.startLine(this.lineEnd + 1, true);
    }
    if (contentIndent < 0 || widestEmpty > contentIndent) throw new Unsupported('an empty block scalar or spaces on an empty line');
    // The line that ended the block is structure again.
    this.refuseTabs();
    this.skipToContent();
    return strip ? out.slice(0, -1) : out;
  }
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '\\': '\\', '"': '"', '/': '/', n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '0': '\0', ' ': ' ',
};

/** Characters that cannot start a plain scalar here (or start something the subset leaves to `yaml`). */
function isIndicator(c: number): boolean {
  // - ? : , [ ] { } # & * ! | > ' " % @ `
  return (
    c === DASH || c === 0x3f || c === COLON || c === 0x2c || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d ||
    c === HASH || c === 0x26 || c === 0x2a || c === 0x21 || c === 0x7c || c === 0x3e || c === 0x27 || c === 0x22 ||
    c === 0x25 || c === 0x40 || c === 0x60 || Number.isNaN(c)
  );
}

/** The YAML 1.2 core schema for a plain scalar; the numbers the subset leaves to `yaml` give up. */
function resolvePlain(text: string): unknown {
  switch (text) {
    case '': case '~': case 'null': case 'Null': case 'NULL':
      return null;
    case 'true': case 'True': case 'TRUE':
      return true;
    case 'false': case 'False': case 'FALSE':
      return false;
  }
  const c = text.charCodeAt(0);
  // Only these can start an int or float of the core schema.
  if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === DASH || c === 0x2e) {
    if (/^[0-9]{1,15}$/.test(text)) return Number(text);
    if (CORE_NUMBERS.some((pattern) => pattern.test(text))) throw new Unsupported('a number');
  }
  return text;
}

/** The core schema's int and float patterns (yaml's schema/core). */
const CORE_NUMBERS: readonly RegExp[] = [
  /^0o[0-7]+$/,
  /^[-+]?[0-9]+$/,
  /^0x[0-9a-fA-F]+$/,
  /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/,
  /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/,
];
