/**
 * Text → documents. Each document is a plain JS value plus `locate(path)`, which turns a path into the
 * file:line:col of the node at that path (or of its nearest existing ancestor), so later checks can point at
 * the exact node that is wrong.
 *
 * YAML goes through the `yaml` package (with a LineCounter). Two fast paths come first, because a `kubectl get`
 * dump of a large cluster is tens of MB and building a YAML AST for it would dominate compile time: JSON.parse
 * with a lazy scanner for positions, and for block-style YAML (what `kubectl get -o yaml` prints) the reader
 * of block-yaml.ts. Each accepts a subset of what the yaml package accepts and reads it the same way; when
 * a fast path refuses a text, the yaml package decides (and reports any error with its position).
 */
import { inspect } from 'node:util';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseAllDocuments, visit, type Document, type Node } from 'yaml';
import { error, type Diagnostic, type Position } from '../diag/diagnostic.js';
import { blockOffset, readBlockYaml, type BlockDocument, type ChildOffsets } from './block-yaml.js';

export interface Source {
  /** Path as the user gave it, or `<stdin>`. */
  file: string;
  text: string;
}

export type Path = readonly (string | number)[];

export interface ParsedDocument {
  value: unknown;
  /** Position of the value at `path`, or of the key itself with `{key: true}`; falls back to the nearest ancestor. */
  locate(path: Path, options?: { key?: boolean }): Position;
  /** The source text of the scalar at `path` (e.g. `0x4000` before YAML reads it as 16384); undefined when absent. */
  raw(path: Path): string | undefined;
}

/** Bounds alias expansion: real manifests use few aliases, a "billion laughs" document uses millions. */
const MAX_ALIAS_COUNT = 1000;

export function parseSource(source: Source): { documents: ParsedDocument[]; diagnostics: Diagnostic[] } {
  const lines = lineIndex(source.text);
  const json = parseJsonFast(source, lines);
  // Text JSON.parse accepted holds no raw control characters, so only U+FFFD is left to look for, and a
  // one-character search is much faster than the character class over tens of MB.
  const binaryAt = json ? source.text.indexOf('\ufffd') : firstBinaryChar(source.text);
  if (binaryAt >= 0) {
    return {
      documents: [],
      diagnostics: [error('E_BINARY', 'input is binary, not YAML or JSON text', lines.position(source.file, binaryAt))],
    };
  }
  if (json) return { documents: [json], diagnostics: [] };
  const block = parseBlockYamlFast(source);
  if (block) return { documents: block, diagnostics: [] };
  return parseYaml(source);
}

/** NUL and the C0 controls YAML forbids (tab, LF, CR are fine); also U+FFFD left by a lossy UTF-8 decode. */
function firstBinaryChar(text: string): number {
  return text.search(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffd]/);
}

/** The text read by the yaml package alone (the fast paths' referee in tests). */
export function parseYaml(source: Source): { documents: ParsedDocument[]; diagnostics: Diagnostic[] } {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(source.text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    merge: true,
    logLevel: 'silent',
  });
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { file: source.file, line, col };
  };
  const documents: ParsedDocument[] = [];
  const diagnostics: Diagnostic[] = [];
  // parseAllDocuments returns an EmptyStream (an empty array) for text with no documents.
  for (const doc of docs) {
    const syntax = doc.errors[0];
    if (syntax) {
      // Only the first: the parser's later errors in the same document are mostly echoes of it.
      // The package reports its own stack overflow on absurd nesting as a syntax error, in JavaScript's words.
      const message = /call stack/i.test(syntax.message) ? 'nesting too deep' : firstLine(syntax.message);
      diagnostics.push(error('E_YAML_SYNTAX', message, at(syntax.pos[0])));
      continue;
    }
    if (doc.contents === null) continue;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      if (e instanceof ReferenceError) {
        diagnostics.push(aliasError(doc, e.message, at));
        continue;
      }
      throw e;
    }
    if (value === null || value === undefined) continue;
    documents.push({
      value,
      locate: (path, options) => {
        const steps = [...path];
        return lazyPosition(source.file, (p, key) => at(yamlOffset(doc, p, key)), steps, options?.key ?? false);
      },
      raw: (path) => {
        const node = doc.getIn(path, true);
        return isScalar(node) && node.range ? source.text.slice(node.range[0], node.range[1]) : undefined;
      },
    });
  }
  return { documents, diagnostics };
}

/** toJS refuses an alias bomb, and an alias with no anchor before it (which the parser lets through). */
function aliasError(doc: Document, message: string, at: (offset: number) => Position): Diagnostic {
  if (/excessive alias count/i.test(message)) {
    const message = `more than ${MAX_ALIAS_COUNT} alias expansions; refusing a possible alias bomb`;
    return error('E_YAML_ALIASES', message, at(doc.contents?.range?.[0] ?? 0));
  }
  const name = /: (\S+)$/.exec(message)?.[1];
  let offset = doc.contents?.range?.[0] ?? 0;
  if (name !== undefined) {
    visit(doc, {
      Alias(_, node) {
        if (node.source !== name) return undefined;
        offset = node.range?.[0] ?? offset;
        return visit.BREAK;
      },
    });
  }
  const what = name === undefined ? firstLine(message) : `alias *${name} has no anchor &${name} before it in this document`;
  return error('E_YAML_SYNTAX', what, at(offset));
}

function yamlOffset(doc: Document, path: Path, key: boolean): number {
  let node: unknown = doc.contents;
  let offset = doc.contents?.range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    const step = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(step));
      if (!pair) return offset;
      const isLast = i === path.length - 1;
      const keyNode = pair.key as Node;
      const valueNode = pair.value as Node | null;
      if (isLast && key) return keyNode.range?.[0] ?? offset;
      // `port:` with no value: point at the key, the value node has no useful place.
      offset = valueNode?.range?.[0] ?? keyNode.range?.[0] ?? offset;
      if (valueNode && isScalar(valueNode) && valueNode.value === null && valueNode.range?.[0] === valueNode.range?.[1]) {
        offset = keyNode.range?.[0] ?? offset;
      }
      node = valueNode;
    } else if (isSeq(node) && typeof step === 'number') {
      const item = node.items[step] as Node | undefined;
      if (!item) return offset;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      return offset;
    }
  }
  return offset;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/**
 * Block-style YAML through the fast reader (block-yaml.ts); undefined when the text is outside its subset.
 * Offsets are recorded by a second read, made once and only when a position is asked for; `raw` (rare, for
 * node config files) asks the yaml package.
 */
function parseBlockYamlFast(source: Source): ParsedDocument[] | undefined {
  const docs = readBlockYaml(source.text);
  if (!docs) return undefined;
  const lines = lineIndex(source.text);
  let located: { docs: BlockDocument[]; offsets: WeakMap<object, ChildOffsets> } | undefined;
  const locateIn = (index: number) => (path: Path, key: boolean): Position => {
    if (!located) {
      const offsets = new WeakMap<object, ChildOffsets>();
      located = { docs: readBlockYaml(source.text, offsets) ?? [], offsets };
    }
    const doc = located.docs[index];
    return lines.position(source.file, doc ? blockOffset(doc, located.offsets, path, key) : 0);
  };
  let slow: ParsedDocument[] | undefined;
  return docs.map((doc, index) => {
    const resolve = locateIn(index);
    return {
      value: doc.value,
      locate: (path, options) => lazyPosition(source.file, resolve, [...path], options?.key ?? false),
      raw: (path) => (slow ??= parseYaml(source).documents)[index]?.raw(path),
    };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Positions

/**
 * A Position whose line and column are computed on first read. Every object and port carries a position, but
 * only the few that end up in a diagnostic or an explanation are ever read; resolving all of them eagerly
 * costs more than parsing a large JSON input. The position is a Proxy over what it needs to resolve itself,
 * with one handler shared by all: it reads, spreads, compares and prints as a plain `{file, line, col}`, and
 * creating one costs a few allocations (accessor properties defined per object cost several times more,
 * and a large input creates hundreds of thousands of positions).
 */
function lazyPosition(file: string, resolve: (path: Path, key: boolean) => Position, path: Path, key: boolean): Position {
  return new Proxy(new LazyState(file, resolve, path, key), LAZY_POSITION) as unknown as Position;
}

class LazyState {
  resolved: Position | undefined = undefined;
  constructor(
    readonly file: string,
    readonly resolve: (path: Path, key: boolean) => Position,
    readonly path: Path,
    readonly key: boolean,
  ) {}

  /**
   * util.inspect finds this on the proxy's target and calls it on the proxy (whose fields resolve): it shows
   * the position rather than this state.
   */
  [inspect.custom](): Position {
    const position = this as unknown as Position;
    return { file: position.file, line: position.line, col: position.col };
  }
}

const POSITION_KEYS: readonly string[] = ['file', 'line', 'col'];

function positionField(state: LazyState, key: string | symbol): string | number | undefined {
  if (key === 'file') return state.file;
  if (key !== 'line' && key !== 'col') return undefined;
  state.resolved ??= state.resolve(state.path, state.key);
  return state.resolved[key];
}

const LAZY_POSITION: ProxyHandler<LazyState> = {
  get: (state, key) => (POSITION_KEYS.includes(key as string) ? positionField(state, key) : (Object.prototype as Record<string | symbol, unknown>)[key]),
  has: (_state, key) => POSITION_KEYS.includes(key as string),
  ownKeys: () => [...POSITION_KEYS],
  getOwnPropertyDescriptor: (state, key) =>
    POSITION_KEYS.includes(key as string)
      ? { value: positionField(state, key), writable: false, enumerable: true, configurable: true }
      : undefined,
  getPrototypeOf: () => Object.prototype,
  set: () => false,
  defineProperty: () => false,
  deleteProperty: () => false,
};

interface LineIndex {
  position(file: string, offset: number): Position;
}

/** Line starts are computed on first use: most files never need a position beyond their objects' starts. */
function lineIndex(text: string): LineIndex {
  let starts: number[] | undefined;
  return {
    position(file, offset) {
      if (!starts) {
        starts = [0];
        for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
      }
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((starts[mid] ?? 0) <= offset) lo = mid;
        else hi = mid - 1;
      }
      return { file, line: lo + 1, col: offset - (starts[lo] ?? 0) + 1 };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// JSON fast path

function parseJsonFast(source: Source, lines: LineIndex): ParsedDocument | undefined {
  const text = source.text;
  const start = text.search(/\S/);
  if (start < 0 || (text[start] !== '{' && text[start] !== '[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  // JSON.parse keeps the last of duplicate keys; the yaml package refuses them, with a position.
  if (keysWritten(text) !== keysKept(value)) return undefined;
  const scanner = jsonScanner(text);
  const resolveJson = (path: Path, key: boolean) => lines.position(source.file, scanner.offset(start, path, key));
  return {
    value,
    locate: (path, options) => {
      const steps = [...path];
      return lazyPosition(source.file, resolveJson, steps, options?.key ?? false);
    },
    raw: (path) => {
      const offset = scanner.exact(start, path);
      return offset === undefined ? undefined : text.slice(offset, scanner.end(offset));
    },
  };
}

/**
 * The keys written in valid JSON text: the colons after a closing quote (spaces between allowed). A colon
 * inside a string after an opening quote and spaces (`" :x"`) counts too: a miscount only sends the text to
 * the yaml package, never lets a duplicate through.
 */
function keysWritten(text: string): number {
  let keys = 0;
  for (let colon = text.indexOf(':'); colon >= 0; colon = text.indexOf(':', colon + 1)) {
    let i = colon - 1;
    let c = text.charCodeAt(i);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(--i);
    if (c !== 0x22) continue;
    let backslashes = 0;
    while (text.charCodeAt(i - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) keys++;
  }
  return keys;
}

/** The keys of every object in a parsed JSON value (iteratively: the value may be nested thousands deep). */
function keysKept(root: unknown): number {
  let keys = 0;
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      for (const item of value) if (typeof item === 'object' && item !== null) pending.push(item);
      continue;
    }
    for (const key in value) {
      keys++;
      const child = (value as Record<string, unknown>)[key];
      if (typeof child === 'object' && child !== null) pending.push(child);
    }
  }
  return keys;
}

/**
 * Finds offsets inside valid JSON text without building values. Containers are indexed on first visit and
 * memoized, so locating every item of a 20,000-item List costs one pass over the text, not 20,000.
 */
function jsonScanner(text: string) {
  const arrays = new Map<number, number[]>();
  const objects = new Map<number, Map<string, { key: number; value: number }>>();

  const skipWs = (i: number): number => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      i++;
    }
    return i;
  };
  const skipString = (i: number): number => {
    // i is at the opening quote.
    i++;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x5c) i += 2;
      else if (c === 0x22) return i + 1;
      else i++;
    }
    return i;
  };
  const skipValue = (i: number): number => {
    const c = text.charCodeAt(i);
    if (c === 0x22) return skipString(i);
    if (c === 0x7b || c === 0x5b) {
      let depth = 0;
      while (i < text.length) {
        const d = text.charCodeAt(i);
        if (d === 0x22) {
          i = skipString(i);
          continue;
        }
        if (d === 0x7b || d === 0x5b) depth++;
        else if (d === 0x7d || d === 0x5d) {
          depth--;
          if (depth === 0) return i + 1;
        }
        i++;
      }
      return i;
    }
    while (i < text.length && !/[\s,\]}]/.test(text[i] ?? '')) i++;
    return i;
  };
  const arrayIndex = (open: number): number[] => {
    let entries = arrays.get(open);
    if (entries) return entries;
    entries = [];
    let i = skipWs(open + 1);
    while (i < text.length && text[i] !== ']') {
      entries.push(i);
      i = skipWs(skipValue(i));
      if (text[i] === ',') i = skipWs(i + 1);
    }
    arrays.set(open, entries);
    return entries;
  };
  const objectIndex = (open: number): Map<string, { key: number; value: number }> => {
    let entries = objects.get(open);
    if (entries) return entries;
    entries = new Map();
    let i = skipWs(open + 1);
    while (i < text.length && text[i] === '"') {
      const keyEnd = skipString(i);
      const raw = text.slice(i + 1, keyEnd - 1);
      const name = raw.includes('\\') ? (JSON.parse(text.slice(i, keyEnd)) as string) : raw;
      const value = skipWs(skipWs(keyEnd) + 1); // past ':'
      entries.set(name, { key: i, value });
      i = skipWs(skipValue(value));
      if (text[i] === ',') i = skipWs(i + 1);
    }
    objects.set(open, entries);
    return entries;
  };

  /** Walks `path`; stops at the deepest existing node (`found` false when the path does not exist). */
  const walk = (root: number, path: Path, key: boolean): { offset: number; found: boolean } => {
    let at = root;
    for (let s = 0; s < path.length; s++) {
      const step = path[s];
      const c = text[at];
      if (c === '{') {
        const entry = objectIndex(at).get(String(step));
        if (!entry) return { offset: at, found: false };
        if (key && s === path.length - 1) return { offset: entry.key, found: true };
        at = entry.value;
      } else if (c === '[' && typeof step === 'number') {
        const entry = arrayIndex(at)[step];
        if (entry === undefined) return { offset: at, found: false };
        at = entry;
      } else {
        return { offset: at, found: false };
      }
    }
    return { offset: at, found: true };
  };
  return {
    offset: (root: number, path: Path, key: boolean): number => walk(root, path, key).offset,
    end: skipValue,
    /** Offset of the value at `path`, or undefined when the path does not exist. */
    exact(root: number, path: Path): number | undefined {
      const { offset, found } = walk(root, path, false);
      return found ? offset : undefined;
    },
  };
}
