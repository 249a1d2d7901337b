/**
 * nftables text → IR: both the knftables dump (`add table …` / `add chain …` / `add rule …` lines, what
 * kube-proxy's tests compare) and the hierarchical `nft list ruleset` text. The inverse of render/nft-dump.ts and
 * render/nft-list.ts. Problems are collected as diagnostics with file:line:col; a line that cannot be read is
 * reported and skipped, never thrown.
 *
 * Rules are kept twice: as the text written (so a dump renders back byte for byte) and as typed statements
 * (`ruleFromText`), the view the list renderer and the emulator use.
 */
import { error, warning, type Diagnostic } from '../diag/diagnostic.js';
import type {
  NftChain,
  NftElement,
  NftExpr,
  NftFamily,
  NftMapValue,
  NftOperand,
  NftRule,
  NftRuleset,
  NftSet,
  NftStatement,
  NftTable,
  NftVerdict,
} from '../ir/nftables.js';
import { NFT_PRIORITIES } from '../ir/nftables.js';

// ---------------------------------------------------------------------------------------------------------
// Tokens

export interface NftToken {
  kind: 'word' | 'string' | 'punct';
  /** Word text, the unquoted string, or one of `{ } , ;`. */
  text: string;
  /** 0-based offset of the token in the text it was read from. */
  at: number;
}

/** Splits nft text into words, quoted strings and the punctuation `{ } , ;` (`.`/`:` stay inside words). */
export function tokenizeNft(text: string): { tokens: NftToken[]; error?: { message: string; at: number } } {
  const tokens: NftToken[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isSpaceCode(c)) {
      i++;
    } else if (isPunctCode(c)) {
      tokens.push({ kind: 'punct', text: text[i] as string, at: i });
      i++;
    } else if (c === QUOTE) {
      const start = i;
      let value = '';
      i++;
      while (i < n && text.charCodeAt(i) !== QUOTE) {
        if (text.charCodeAt(i) === BACKSLASH && i + 1 < n) {
          const next = text[i + 1] as string;
          value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
          i += 2;
        } else {
          value += text[i];
          i++;
        }
      }
      if (i >= n) return { tokens, error: { message: 'unterminated string', at: start } };
      i++;
      tokens.push({ kind: 'string', text: value, at: start });
    } else {
      const start = i;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (isSpaceCode(d) || isPunctCode(d) || d === QUOTE) break;
        i++;
      }
      tokens.push({ kind: 'word', text: text.slice(start, i), at: start });
    }
  }
  return { tokens };
}

const QUOTE = 34;
const BACKSLASH = 92;

function isSpaceCode(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
}

/** `{` `}` `,` `;` */
function isPunctCode(c: number): boolean {
  return c === 123 || c === 125 || c === 44 || c === 59;
}

// ---------------------------------------------------------------------------------------------------------
// Rule statements

export interface RuleParse {
  rule: NftRule;
  /** Problems with 0-based offsets into the rule text. */
  problems: { message: string; at: number; severity: 'error' | 'warning' }[];
}

/** Protocols whose selectors are written `PROTO FIELD` (`ip daddr`, `th dport`, `ct state`). */
const TWO_WORD_SELECTORS = new Set([
  'ip', 'ip6', 'th', 'tcp', 'udp', 'udplite', 'sctp', 'dccp', 'icmp', 'icmpv6', 'meta', 'ct', 'ether', 'vlan',
  'arp', 'rt', 'ah', 'esp', 'comp', 'socket', 'osf', 'ipsec', 'igmp',
]);
/** Meta keys nft prints without `meta` (`iif eth0`), and the qualified ones it also accepts bare. */
const BARE_META = new Set(['iif', 'iifname', 'oif', 'oifname', 'iiftype', 'oiftype', 'skuid', 'skgid', 'cpu', 'cgroup', 'pkttype']);
const QUALIFIED_META = new Set(['mark', 'l4proto', 'nfproto', 'protocol', 'priority', 'length']);
const FIB_RESULTS = new Set(['type', 'oif', 'oifname']);
const VERDICT_WORDS = new Set(['accept', 'drop', 'return', 'continue', 'jump', 'goto']);
const BITWISE: Readonly<Record<string, 'and' | 'or' | 'xor'>> = { '&': 'and', and: 'and', '|': 'or', or: 'or', '^': 'xor', xor: 'xor' };
const RELATIONS = new Set(['==', '!=', '<', '>', '<=', '>=', 'eq', 'ne', 'lt', 'gt', 'le', 'ge']);
const RELATION_SYMBOL: Readonly<Record<string, '==' | '!=' | '<' | '>' | '<=' | '>='>> = {
  '==': '==', eq: '==', '!=': '!=', ne: '!=', '<': '<', lt: '<', '>': '>', gt: '>', '<=': '<=', le: '<=', '>=': '>=', ge: '>=',
};

/**
 * Reads one rule body (everything after `add rule FAMILY TABLE CHAIN`, or one rule line of a listing):
 * its text, the trailing comment, and the typed statements. Never throws; unknown statements become
 * `unknown` with a warning.
 */
export function ruleFromText(text: string): RuleParse {
  const problems: RuleParse['problems'] = [];
  const lexed = tokenizeNft(text);
  if (lexed.error) problems.push({ ...lexed.error, severity: 'error' });
  const tokens = lexed.tokens;
  let pos = 0;
  let comment: string | undefined;
  let commentAt = -1;
  let handle: number | undefined;
  const statements: NftStatement[] = [];

  const peek = (k = 0): NftToken | undefined => tokens[pos + k];
  const isWord = (t: NftToken | undefined, w?: string): boolean => t !== undefined && t.kind === 'word' && (w === undefined || t.text === w);
  const isPunct = (t: NftToken | undefined, p: string): boolean => t !== undefined && t.kind === 'punct' && t.text === p;
  const fail = (message: string, at: number): never => {
    throw new RuleSyntaxError(message, at);
  };
  const expectWord = (what: string): string => {
    const t = peek();
    if (!isWord(t)) fail(`expected ${what}`, t?.at ?? text.length);
    pos++;
    return (t as NftToken).text;
  };
  const expectPunct = (p: string): void => {
    const t = peek();
    if (!isPunct(t, p)) fail(`expected "${p}"`, t?.at ?? text.length);
    pos++;
  };

  /** A selector at the cursor, or undefined (cursor unchanged) when the word is not one. */
  const readSelector = (): NftExpr | undefined => {
    const t = peek();
    if (!isWord(t)) return undefined;
    const w = (t as NftToken).text;
    if (w === 'numgen') {
      pos++;
      const mode = expectWord('random or inc');
      if (mode !== 'random' && mode !== 'inc') fail('numgen mode must be random or inc', (t as NftToken).at);
      if (expectWord('mod') !== 'mod') fail('expected "mod"', peek(-1)?.at ?? 0);
      const modAt = peek()?.at ?? text.length;
      const mod = nftU32(expectWord('a modulus'));
      // The kernel refuses a modulus of 0 (ERANGE); it and the offset are 32-bit registers.
      if (mod === undefined || mod === 0) fail(`numgen modulus must be an integer from 1 to ${U32_MAX}, not "${(peek(-1) as NftToken).text}"`, modAt);
      const expr: NftExpr = { kind: 'numgen', mode: mode as 'random' | 'inc', mod: mod as number };
      if (isWord(peek(), 'offset')) {
        pos++;
        const offsetAt = peek()?.at ?? text.length;
        const offset = nftU32(expectWord('an offset'));
        if (offset === undefined) fail(`numgen offset must be an integer from 0 to ${U32_MAX}, not "${(peek(-1) as NftToken).text}"`, offsetAt);
        // The largest value, offset + modulus - 1, must fit too (the kernel says EOVERFLOW).
        if ((offset as number) + (mod as number) - 1 > U32_MAX) fail(`numgen offset ${offset} + modulus ${mod} goes past ${U32_MAX}`, offsetAt);
        expr.offset = offset as number;
      }
      return expr;
    }
    if (w === 'fib') {
      pos++;
      const flags: string[] = [];
      while (isWord(peek()) && !FIB_RESULTS.has((peek() as NftToken).text)) flags.push(expectWord('fib flag'));
      const result = expectWord('fib result (type, oif, oifname)');
      return { kind: 'field', name: `fib ${flags.join(' ')} ${result}` };
    }
    if (TWO_WORD_SELECTORS.has(w) && isWord(peek(1)) && !isOperatorWord((peek(1) as NftToken).text)) {
      pos += 2;
      const key = (tokens[pos - 1] as NftToken).text;
      if (w === 'meta' && BARE_META.has(key)) return { kind: 'field', name: key };
      return { kind: 'field', name: `${w} ${key}` };
    }
    if (BARE_META.has(w)) {
      pos++;
      return { kind: 'field', name: w };
    }
    if (QUALIFIED_META.has(w)) {
      pos++;
      return { kind: 'field', name: `meta ${w}` };
    }
    return undefined;
  };

  /** selector [(& | ^) CONST]* [. selector ...] */
  const readExpr = (): NftExpr | undefined => {
    const first = readTerm();
    if (!first) return undefined;
    if (!isWord(peek(), '.')) return first;
    const parts = [first];
    while (isWord(peek(), '.')) {
      pos++;
      const next = readTerm();
      if (!next) fail('expected a selector after "."', peek()?.at ?? text.length);
      parts.push(next as NftExpr);
    }
    return { kind: 'concat', parts };
  };
  const readTerm = (): NftExpr | undefined => {
    let expr = readSelector();
    if (!expr) return undefined;
    while (isWord(peek()) && Object.hasOwn(BITWISE, (peek() as NftToken).text)) {
      const op = BITWISE[(peek() as NftToken).text] as 'and' | 'or' | 'xor';
      pos++;
      expr = { kind: 'bitwise', op, left: expr, value: expectWord('a constant') };
    }
    return expr;
  };

  const readVerdict = (): NftVerdict => {
    const w = expectWord('a verdict');
    if (w === 'jump' || w === 'goto') return { kind: w, chain: expectWord('a chain name') };
    if (w === 'accept' || w === 'drop' || w === 'return' || w === 'continue') return { kind: w };
    return fail(`"${w}" is not a verdict`, (peek(-1) as NftToken).at);
  };

  /** One value: a word, `a,b` flag lists outside braces, `a . b` concatenations. */
  const readValueWords = (): string[] => {
    const parts = [readScalar()];
    while (isWord(peek(), '.')) {
      pos++;
      parts.push(readScalar());
    }
    return parts;
  };
  const readScalar = (): string => {
    const t = peek();
    if (t?.kind === 'string') {
      pos++;
      return `"${t.text}"`;
    }
    return expectWord('a value');
  };

  const readSetBody = (withValues: boolean): NftElement[] => {
    expectPunct('{');
    const elements: NftElement[] = [];
    while (!isPunct(peek(), '}')) {
      if (peek() === undefined) fail('missing "}"', text.length);
      const element: NftElement = { key: readValueWords() };
      while (isWord(peek(), 'comment') || isWord(peek(), 'timeout') || isWord(peek(), 'expires')) {
        const w = (peek() as NftToken).text;
        pos++;
        if (w === 'comment') {
          const s = peek();
          if (s?.kind !== 'string') fail('expected a quoted comment', s?.at ?? text.length);
          pos++;
          element.comment = (s as NftToken).text;
        } else {
          const seconds = parseNftDuration(expectWord('a duration'));
          if (w === 'timeout' && seconds !== undefined) element.timeout = seconds;
        }
      }
      if (isWord(peek(), ':')) {
        pos++;
        if (withValues && isWord(peek()) && VERDICT_WORDS.has((peek() as NftToken).text)) {
          element.value = { kind: 'verdict', verdict: readVerdict() };
        } else {
          element.value = { kind: 'data', parts: readValueWords() };
        }
      }
      elements.push(element);
      if (isPunct(peek(), ',')) pos++;
      else if (peek() === undefined) fail('missing "}"', text.length);
      else if (!isPunct(peek(), '}')) fail('expected "," or "}"', (peek() as NftToken).at);
    }
    pos++;
    return elements;
  };

  const readOperand = (): NftOperand => {
    const t = peek();
    if (isPunct(t, '{')) return { kind: 'anon-set', elements: readSetBody(false) };
    if (isWord(t) && (t as NftToken).text.startsWith('@')) {
      pos++;
      return { kind: 'set-ref', name: (t as NftToken).text.slice(1) };
    }
    // Outside braces a comma joins flag values: `ct state established,related`. Quotes (nft lists
    // interface names as `iif "cbr0"`) are not part of the value.
    let value = readValueWords().map(unquote).join(' . ');
    while (isPunct(peek(), ',') && isWord(peek(1))) {
      pos++;
      value += `,${readScalar()}`;
    }
    return { kind: 'value', value };
  };

  const readStatement = (): void => {
    const t = peek() as NftToken;
    const w = t.kind === 'word' ? t.text : '';
    if (w === 'comment') {
      pos++;
      const s = peek();
      if (s?.kind !== 'string') fail('expected a quoted comment', s?.at ?? text.length);
      pos++;
      comment = (s as NftToken).text;
      commentAt = t.at;
      return;
    }
    if (w === '#' && isWord(peek(1), 'handle')) {
      pos += 2;
      handle = Number(expectWord('a handle number'));
      return;
    }
    if (VERDICT_WORDS.has(w)) {
      statements.push({ kind: 'verdict', verdict: readVerdict() });
      return;
    }
    if (w === 'counter') {
      pos++;
      const stmt: NftStatement = { kind: 'counter' };
      if (isWord(peek(), 'name')) {
        pos++;
        stmt.name = unquote(readScalar());
      } else if (isWord(peek(), 'packets')) {
        pos++;
        stmt.packets = BigInt(expectWord('a packet count'));
        if (expectWord('"bytes"') !== 'bytes') fail('expected "bytes"', (peek(-1) as NftToken).at);
        stmt.bytes = BigInt(expectWord('a byte count'));
      }
      statements.push(stmt);
      return;
    }
    if (w === 'reject') {
      pos++;
      if (!isWord(peek(), 'with')) {
        statements.push({ kind: 'reject' });
        return;
      }
      pos++;
      const words = [expectWord('a reject type')];
      if (words[0] !== 'tcp') words.push(expectWord('"type"'), expectWord('a reject code'));
      else words.push(expectWord('"reset"'));
      statements.push({ kind: 'reject', with: words });
      return;
    }
    if (w === 'masquerade') {
      pos++;
      const flags: string[] = [];
      while (isWord(peek()) && /^(fully-random|random|persistent)$/.test((peek() as NftToken).text)) {
        flags.push(expectWord('a flag'));
        while (isPunct(peek(), ',') && isWord(peek(1))) {
          pos++;
          flags.push(expectWord('a flag'));
        }
      }
      statements.push({ kind: 'masquerade', flags });
      return;
    }
    if (w === 'dnat' || w === 'snat') {
      pos++;
      const stmt: NftStatement = { kind: 'nat', type: w, address: '', flags: [] };
      if (isWord(peek(), 'ip') || isWord(peek(), 'ip6')) stmt.family = expectWord('a family');
      if (expectWord('"to"') !== 'to') fail('expected "to"', (peek(-1) as NftToken).at);
      const target = splitAddressPort(expectWord('an address'));
      if (!target) fail('expected ADDRESS[:PORT]', (peek(-1) as NftToken).at);
      stmt.address = (target as { address: string }).address;
      if (target?.port !== undefined) stmt.port = target.port;
      while (isWord(peek()) && /^(fully-random|random|persistent)$/.test((peek() as NftToken).text)) stmt.flags.push(expectWord('a flag'));
      statements.push(stmt);
      return;
    }
    if ((w === 'update' || w === 'add' || w === 'delete') && isWord(peek(1)) && (peek(1) as NftToken).text.startsWith('@')) {
      pos++;
      const set = expectWord('@set').slice(1);
      expectPunct('{');
      const key = readExpr();
      if (!key) fail('expected a key expression', peek()?.at ?? text.length);
      expectPunct('}');
      statements.push({ kind: 'set-update', op: w, set, key: key as NftExpr });
      return;
    }
    if (w === 'log') {
      pos++;
      const words: string[] = [];
      while (isWord(peek()) && /^(prefix|level|group|snaplen|queue-threshold|flags)$/.test((peek() as NftToken).text)) {
        words.push(expectWord('a log option'));
        words.push(readScalar());
      }
      statements.push({ kind: 'log', words });
      return;
    }
    const expr = readExpr();
    if (expr) {
      const next = peek();
      if (isWord(next, 'set')) {
        pos++;
        const value = readExpr() ?? { kind: 'value' as const, value: readScalar() };
        statements.push({ kind: 'set-field', field: fieldName(expr), value });
        return;
      }
      if (isWord(next, 'vmap')) {
        pos++;
        const t2 = peek();
        const map: NftOperand = isPunct(t2, '{')
          ? { kind: 'anon-set', elements: readSetBody(true) }
          : isWord(t2) && (t2 as NftToken).text.startsWith('@')
            ? (pos++, { kind: 'set-ref', name: (t2 as NftToken).text.slice(1) })
            : fail('expected @map or { … } after vmap', t2?.at ?? text.length);
        statements.push({ kind: 'vmap', key: expr, map });
        return;
      }
      let op: '==' | '!=' | '<' | '>' | '<=' | '>=' = '==';
      if (isWord(next) && RELATIONS.has((next as NftToken).text)) {
        op = RELATION_SYMBOL[(next as NftToken).text] as typeof op;
        pos++;
      }
      if (peek() === undefined) fail('expected a value to compare with', text.length);
      statements.push({ kind: 'match', left: expr, op, right: readOperand() });
      return;
    }
    // Unknown: keep the rest (up to a trailing comment) as one statement, so the rule still renders.
    const words: string[] = [];
    problems.push({ message: `unsupported statement "${w || t.text}"`, at: t.at, severity: 'warning' });
    while (peek() !== undefined && !isWord(peek(), 'comment')) {
      const u = peek() as NftToken;
      words.push(u.kind === 'string' ? `"${u.text}"` : u.text);
      pos++;
    }
    statements.push({ kind: 'unknown', words });
  };

  try {
    while (pos < tokens.length) readStatement();
  } catch (e) {
    if (!(e instanceof RuleSyntaxError)) throw e;
    problems.push({ message: e.message, at: e.at, severity: 'error' });
  }
  // The rule text is everything up to the comment (or the handle), as written.
  let end = text.length;
  if (commentAt >= 0) end = commentAt;
  const handleAt = handle === undefined ? -1 : text.search(/\s#\s+handle\s+\d+\s*$/);
  if (handle !== undefined && handleAt >= 0 && handleAt < end) end = handleAt;
  const rule: NftRule = { text: end === text.length ? text.trimEnd() : text.slice(0, end).trimEnd(), statements };
  if (comment !== undefined) rule.comment = comment;
  if (handle !== undefined) rule.handle = handle;
  return { rule, problems };
}

const U32_MAX = 0xffffffff;

/** A decimal or hex number that fits in 32 bits (what nft reads for a numgen modulus or offset), else undefined. */
function nftU32(text: string): number | undefined {
  if (!/^(?:[0-9]+|0x[0-9a-f]+)$/i.test(text)) return undefined;
  const n = Number(text);
  return n <= U32_MAX ? n : undefined;
}

class RuleSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

/** Words that can follow a selector keyword without being its field (`ct state`, but `meta set …` is no field). */
function isOperatorWord(w: string): boolean {
  return w === '.' || w === ':' || w === 'set' || w === 'vmap' || RELATIONS.has(w) || Object.hasOwn(BITWISE, w) || w.startsWith('@');
}

function fieldName(expr: NftExpr): string {
  return expr.kind === 'field' ? expr.name : expr.kind;
}

/** `10.0.0.1:80`, `10.0.0.1`, `[fd00::1]:80`, `fd00::1`. */
export function splitAddressPort(text: string): { address: string; port?: number } | undefined {
  if (text.startsWith('[')) {
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
    if (!m) return undefined;
    return m[2] === undefined ? { address: m[1] as string } : { address: m[1] as string, port: Number(m[2]) };
  }
  const colons = text.split(':').length - 1;
  if (colons === 1) {
    const [address, port] = text.split(':') as [string, string];
    if (!/^\d+$/.test(port)) return undefined;
    return { address, port: Number(port) };
  }
  return { address: text };
}

/** nft durations: `10800s`, `3h`, `1d2h3m4s`, `500ms` (rounded down to seconds); undefined when malformed. */
export function parseNftDuration(text: string): number | undefined {
  const m = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text);
  if (!m || text === '') return undefined;
  const [, d, h, min, s] = m;
  return Number(d ?? 0) * 86400 + Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(s ?? 0);
}

// ---------------------------------------------------------------------------------------------------------
// Whole texts

export interface NftParse {
  ruleset: NftRuleset;
  diagnostics: Diagnostic[];
}

/** Reads a dump (lines starting with a verb) or a listing (`table … {`); decided by the first meaningful line. */
export function parseNft(text: string, file: string): NftParse {
  const first = text.split('\n').find((line) => line.trim() !== '' && !line.trim().startsWith('#'));
  if (first !== undefined && /^\s*table\s/.test(first)) return parseNftList(text, file);
  return parseNftDump(text, file);
}

interface Builder {
  ruleset: NftRuleset;
  diagnostics: Diagnostic[];
  file: string;
  /** Name lookups per table, so a 100,000-rule dump parses in linear time. */
  index: Map<NftTable, TableIndex>;
}

interface TableIndex {
  chains: Map<string, NftChain>;
  sets: Map<string, NftSet>;
  /** Element key text → position in `set.elements`; dropped and rebuilt after a deletion. */
  keys: Map<NftSet, Map<string, number>>;
}

function indexOf(b: Builder, table: NftTable): TableIndex {
  let index = b.index.get(table);
  if (!index) {
    index = { chains: new Map(table.chains.map((c) => [c.name, c])), sets: new Map(table.sets.map((s) => [s.name, s])), keys: new Map() };
    b.index.set(table, index);
  }
  return index;
}

function keysOf(index: TableIndex, set: NftSet): Map<string, number> {
  let keys = index.keys.get(set);
  if (!keys) {
    keys = new Map(set.elements.map((e, i) => [e.key.join(' . '), i]));
    index.keys.set(set, keys);
  }
  return keys;
}

function tableOf(b: Builder, family: NftFamily, name: string, create: boolean): NftTable | undefined {
  let table = b.ruleset.tables.find((t) => t.family === family && t.name === name);
  if (!table && create) {
    table = { family, name, chains: [], sets: [] };
    b.ruleset.tables.push(table);
  }
  return table;
}

const FAMILIES = new Set(['ip', 'ip6', 'inet', 'arp', 'bridge', 'netdev']);

/**
 * The knftables transaction text. Supported verbs: `add`/`create` (table, chain, set, map, rule, element),
 * `insert rule`, `flush` (table, chain, set, map), `delete` (table, chain, set, map, element). `#` lines and
 * blank lines are ignored. Transaction semantics follow knftables' fake: re-adding an object keeps it,
 * re-adding an element replaces its value.
 */
export function parseNftDump(text: string, file: string): NftParse {
  const b: Builder = { ruleset: { tables: [] }, diagnostics: [], file, index: new Map() };
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const report = (code: string, message: string, at: number, severity: 'error' | 'warning' = 'error') => {
      const pos = { file, line: lineNo, col: at + 1 };
      b.diagnostics.push(severity === 'error' ? error(code, message, pos) : warning(code, message, pos));
    };
    // `VERB OBJECT FAMILY TABLE [NAME] REST`, each head word located for diagnostics.
    const head: { text: string; at: number }[] = [];
    const re = /\S+/g;
    let m: RegExpExecArray | null;
    while (head.length < 5 && (m = re.exec(line)) !== null) head.push({ text: m[0], at: m.index });
    const [verb, object, family, tableName, name] = head;
    if (!verb || !['add', 'create', 'insert', 'replace', 'flush', 'delete', 'destroy'].includes(verb.text)) {
      report('E_NFT_SYNTAX', `expected add, insert, flush or delete, found "${verb?.text ?? ''}"`, verb?.at ?? 0);
      return;
    }
    if (!object || !['table', 'chain', 'set', 'map', 'rule', 'element', 'counter', 'flowtable'].includes(object.text)) {
      report('E_NFT_SYNTAX', `unknown object "${object?.text ?? ''}"`, object?.at ?? line.length);
      return;
    }
    if (!family || !FAMILIES.has(family.text)) {
      report('E_NFT_SYNTAX', `unknown family "${family?.text ?? ''}"`, family?.at ?? line.length);
      return;
    }
    if (!tableName) {
      report('E_NFT_SYNTAX', 'missing table name', line.length);
      return;
    }
    const fam = family.text as NftFamily;
    const v = verb.text === 'create' ? 'add' : verb.text === 'destroy' ? 'delete' : verb.text;
    if (object.text === 'table') {
      const rest = line.slice(tableName.at + tableName.text.length);
      if (v === 'delete') {
        b.ruleset.tables = b.ruleset.tables.filter((t) => !(t.family === fam && t.name === tableName.text));
        b.index = new Map();
        return;
      }
      const table = tableOf(b, fam, tableName.text, v === 'add');
      if (!table) return report('E_NFT_REFERENCE', `no table ${fam} ${tableName.text}`, tableName.at);
      if (v === 'flush') {
        for (const chain of table.chains) chain.rules = [];
        for (const set of table.sets) set.elements = [];
        indexOf(b, table).keys.clear();
        return;
      }
      const props = readProps(rest, tableName.at + tableName.text.length, report);
      if (props.comment !== undefined) table.comment = props.comment;
      if (props.flags !== undefined) table.flags = props.flags;
      return;
    }
    const table = tableOf(b, fam, tableName.text, false);
    if (!table) return report('E_NFT_REFERENCE', `no table ${fam} ${tableName.text} (add the table first)`, tableName.at);
    if (!name) return report('E_NFT_SYNTAX', `missing ${object.text} name`, line.length);
    const restAt = name.at + name.text.length;
    const rest = line.slice(restAt);
    const idx = indexOf(b, table);
    switch (object.text) {
      case 'chain': {
        const existing = idx.chains.get(name.text);
        if (v === 'delete') {
          table.chains = table.chains.filter((c) => c.name !== name.text);
          idx.chains.delete(name.text);
          return;
        }
        if (v === 'flush') {
          if (!existing) return report('E_NFT_REFERENCE', `no chain ${name.text}`, name.at);
          existing.rules = [];
          return;
        }
        if (existing) return;
        const props = readProps(rest, restAt, report);
        const chain: NftChain = { name: name.text, rules: [] };
        if (props.type !== undefined) {
          if (props.hook === undefined || props.priority === undefined) {
            return report('E_NFT_SYNTAX', 'a base chain needs type, hook and priority', restAt);
          }
          chain.base = { type: props.type, hook: props.hook, priority: props.priority };
          if (props.policy !== undefined) chain.base.policy = props.policy;
          if (props.device !== undefined) chain.base.device = props.device;
        }
        if (props.comment !== undefined) chain.comment = props.comment;
        table.chains.push(chain);
        idx.chains.set(chain.name, chain);
        return;
      }
      case 'set':
      case 'map': {
        const existing = idx.sets.get(name.text);
        if (v === 'delete') {
          table.sets = table.sets.filter((s) => s.name !== name.text);
          idx.sets.delete(name.text);
          return;
        }
        if (v === 'flush') {
          if (!existing) return report('E_NFT_REFERENCE', `no ${object.text} ${name.text}`, name.at);
          existing.elements = [];
          idx.keys.delete(existing);
          return;
        }
        if (existing) return;
        const props = readProps(rest, restAt, report);
        if (props.type === undefined && props.typeof === undefined) return report('E_NFT_SYNTAX', `${object.text} needs a type`, restAt);
        const set = setFromProps(object.text, name.text, props);
        table.sets.push(set);
        idx.sets.set(set.name, set);
        return;
      }
      case 'rule': {
        const chain = idx.chains.get(name.text);
        if (!chain) return report('E_NFT_REFERENCE', `no chain ${name.text} (add the chain first)`, name.at);
        if (v === 'delete' || v === 'flush') return report('E_NFT_UNSUPPORTED', `${verb.text} rule is not supported`, verb.at);
        const body = rest.replace(/^ /, '');
        const bodyAt = restAt + (rest.length - body.length);
        const { rule, problems } = ruleFromText(body);
        for (const p of problems) report(p.severity === 'error' ? 'E_NFT_SYNTAX' : 'W_NFT_UNSUPPORTED', p.message, bodyAt + p.at, p.severity);
        checkRuleReferences(idx, rule, (message) => report('E_NFT_REFERENCE', message, bodyAt));
        rule.origin = { line: lineNo, text: line };
        if (v === 'insert') chain.rules.unshift(rule);
        else chain.rules.push(rule);
        return;
      }
      case 'element': {
        const set = idx.sets.get(name.text);
        if (!set) return report('E_NFT_REFERENCE', `no set or map ${name.text} (add it first)`, name.at);
        const elements = readElements(rest, restAt, set.kind === 'map' && set.dataType === 'verdict', report);
        for (const element of elements) {
          const key = element.key.join(' . ');
          const keys = keysOf(idx, set);
          const index = keys.get(key);
          if (v === 'delete') {
            if (index !== undefined) {
              set.elements.splice(index, 1);
              idx.keys.delete(set);
            }
          } else if (index !== undefined) {
            set.elements[index] = element;
          } else {
            keys.set(key, set.elements.length);
            set.elements.push(element);
          }
          if (element.value?.kind === 'verdict' && 'chain' in element.value.verdict) {
            const target = element.value.verdict.chain;
            if (!idx.chains.has(target)) report('E_NFT_REFERENCE', `no chain ${target}`, restAt);
          }
        }
        return;
      }
      default:
        return report('E_NFT_UNSUPPORTED', `${object.text} objects are not supported`, object.at, 'warning');
    }
  });
  return b;
}

/** Rules may only name chains, sets and maps that exist (knftables' fake checks this; so does the kernel). */
function checkRuleReferences(index: TableIndex, rule: NftRule, report: (message: string) => void): void {
  const chain = (name: string) => {
    if (!index.chains.has(name)) report(`no chain ${name}`);
  };
  const set = (name: string) => {
    if (!index.sets.has(name)) report(`no set or map ${name}`);
  };
  const operand = (o: NftOperand) => {
    if (o.kind === 'set-ref') set(o.name);
    if (o.kind === 'anon-set') {
      for (const e of o.elements) if (e.value?.kind === 'verdict' && 'chain' in e.value.verdict) chain(e.value.verdict.chain);
    }
  };
  for (const s of rule.statements) {
    if (s.kind === 'verdict' && 'chain' in s.verdict) chain(s.verdict.chain);
    if (s.kind === 'match') operand(s.right);
    if (s.kind === 'vmap') operand(s.map);
    if (s.kind === 'set-update') set(s.set);
  }
}

interface Props {
  type?: string;
  typeof?: string;
  dataType?: string;
  hook?: string;
  priority?: number;
  policy?: string;
  device?: string;
  comment?: string;
  flags?: string[];
  timeout?: number;
  gcInterval?: number;
  size?: number;
  setPolicy?: string;
  autoMerge?: boolean;
  elements?: NftElement[];
}

/** `{ key value ; key value ; }` of a dump line (or a listing's declaration lines, joined). */
function readProps(text: string, offset: number, report: (code: string, message: string, at: number) => void): Props {
  const props: Props = {};
  const lexed = tokenizeNft(text);
  if (lexed.error) report('E_NFT_SYNTAX', lexed.error.message, offset + lexed.error.at);
  const tokens = lexed.tokens;
  if (tokens.length === 0) return props;
  if (tokens[0]?.text !== '{' || tokens[tokens.length - 1]?.text !== '}') {
    report('E_NFT_SYNTAX', 'expected "{ … }"', offset + (tokens[0]?.at ?? 0));
    return props;
  }
  readPropTokens(tokens.slice(1, -1), offset, props, report);
  return props;
}

function readPropTokens(
  tokens: NftToken[],
  offset: number,
  props: Props,
  report: (code: string, message: string, at: number) => void,
): void {
  // Statements are `;`-separated; in a listing they are lines, which the caller turns into `;`.
  let start = 0;
  for (let i = 0; i <= tokens.length; i++) {
    if (i < tokens.length && !(tokens[i]?.kind === 'punct' && tokens[i]?.text === ';')) continue;
    const stmt = tokens.slice(start, i);
    start = i + 1;
    if (stmt.length === 0) continue;
    const words = stmt.map((t) => t.text);
    const key = words[0] as string;
    const at = offset + (stmt[0] as NftToken).at;
    const value = words.slice(1).join(' ');
    switch (key) {
      case 'type': {
        // Base chain: `type filter hook input priority 0`; set: `type A . B`; map: `type A . B : verdict`.
        const hookIndex = words.indexOf('hook');
        if (hookIndex > 0) {
          props.type = words.slice(1, hookIndex).join(' ');
          const prioIndex = words.indexOf('priority');
          const deviceIndex = words.indexOf('device');
          props.hook = words[hookIndex + 1] as string;
          if (deviceIndex > 0) props.device = words[deviceIndex + 1] as string;
          if (prioIndex > 0) {
            const prio = parsePriority(words.slice(prioIndex + 1).join(' '));
            if (prio === undefined) report('E_NFT_SYNTAX', `bad priority "${words.slice(prioIndex + 1).join(' ')}"`, at);
            else props.priority = prio;
          }
        } else {
          const colon = words.indexOf(':');
          props.type = (colon > 0 ? words.slice(1, colon) : words.slice(1)).join(' ');
          if (colon > 0) props.dataType = words.slice(colon + 1).join(' ');
        }
        break;
      }
      case 'typeof': {
        const colon = words.indexOf(':');
        props.typeof = (colon > 0 ? words.slice(1, colon) : words.slice(1)).join(' ');
        if (colon > 0) props.dataType = words.slice(colon + 1).join(' ');
        break;
      }
      case 'policy':
        if (value === 'performance' || value === 'memory') props.setPolicy = value;
        else props.policy = value;
        break;
      case 'comment':
        props.comment = (stmt[1] as NftToken | undefined)?.text ?? '';
        break;
      case 'flags':
        props.flags = words.slice(1).filter((w) => w !== ',');
        break;
      case 'timeout':
      case 'gc-interval': {
        const seconds = parseNftDuration(value);
        if (seconds === undefined) report('E_NFT_SYNTAX', `bad duration "${value}"`, at);
        else if (key === 'timeout') props.timeout = seconds;
        else props.gcInterval = seconds;
        break;
      }
      case 'size':
        props.size = Number(value);
        break;
      case 'auto-merge':
        props.autoMerge = true;
        break;
      case 'elements': {
        const text = stmt.map((t) => (t.kind === 'string' ? `"${t.text}"` : t.text)).slice(2).join(' ');
        props.elements = readElementBody(text, at, props.dataType === 'verdict', report);
        break;
      }
      default:
        report('E_NFT_SYNTAX', `unknown property "${key}"`, at);
    }
  }
}

function parsePriority(text: string): number | undefined {
  const m = /^(-?\d+)$|^([a-z]+)(?:\s*([+-])\s*(\d+))?$/.exec(text.trim());
  if (!m) return undefined;
  if (m[1] !== undefined) return Number(m[1]);
  const base = Object.hasOwn(NFT_PRIORITIES, m[2] as string) ? NFT_PRIORITIES[m[2] as string] : undefined;
  if (base === undefined) return undefined;
  const offset = m[4] === undefined ? 0 : Number(m[4]) * (m[3] === '-' ? -1 : 1);
  return base + offset;
}

function setFromProps(kind: string, name: string, props: Props): NftSet {
  const set: NftSet = { kind: kind === 'map' ? 'map' : 'set', name, type: props.type ?? '', elements: props.elements ?? [] };
  if (props.typeof !== undefined) set.typeof = props.typeof;
  if (props.dataType !== undefined) set.dataType = props.dataType;
  if (props.flags !== undefined) set.flags = props.flags;
  if (props.timeout !== undefined) set.timeout = props.timeout;
  if (props.gcInterval !== undefined) set.gcInterval = props.gcInterval;
  if (props.size !== undefined) set.size = props.size;
  if (props.setPolicy !== undefined) set.policy = props.setPolicy;
  if (props.autoMerge) set.autoMerge = true;
  if (props.comment !== undefined) set.comment = props.comment;
  return set;
}

/** `{ K1 . K2 [comment "C"] [: VALUE] , ... }` of an `add element` line. */
function readElements(
  text: string,
  offset: number,
  verdicts: boolean,
  report: (code: string, message: string, at: number) => void,
): NftElement[] {
  return readElementBody(text, offset, verdicts, report);
}

function readElementBody(
  text: string,
  offset: number,
  verdicts: boolean,
  report: (code: string, message: string, at: number) => void,
): NftElement[] {
  // Reuse the rule reader: `vmap { … }` reads verdict values, a match operand reads data values.
  const probe = ruleFromText(`${verdicts ? 'meta mark vmap' : 'meta mark'} ${text.trim()}`);
  const shift = (verdicts ? 'meta mark vmap '.length : 'meta mark '.length) - (text.length - text.trimStart().length);
  for (const p of probe.problems) report('E_NFT_SYNTAX', p.message, offset + Math.max(0, p.at - shift));
  const stmt = probe.rule.statements[0];
  if (stmt?.kind === 'vmap' && stmt.map.kind === 'anon-set') return stmt.map.elements;
  if (stmt?.kind === 'match' && stmt.right.kind === 'anon-set') return stmt.right.elements;
  if (probe.problems.length === 0) report('E_NFT_SYNTAX', 'expected "{ elements }"', offset);
  return [];
}

// ---------------------------------------------------------------------------------------------------------
// The `nft list ruleset` listing

/**
 * The hierarchical listing: `table FAMILY NAME {` blocks holding `set`/`map`/`chain` blocks. A chain's
 * declaration lines (`type … hook … priority …; policy …;`, `comment "…"`) come before its rules. Lines are
 * read one by one (nft prints one statement per line); `elements = { … }` may span lines.
 */
export function parseNftList(text: string, file: string): NftParse {
  const b: Builder = { ruleset: { tables: [] }, diagnostics: [], file, index: new Map() };
  const lines = text.split('\n');
  let table: NftTable | undefined;
  let chain: NftChain | undefined;
  let set: { kind: 'set' | 'map'; name: string } | undefined;
  let setLines: { text: string; line: number }[] = [];
  /** Braces opened and not yet closed in the set block's lines so far. */
  let setBalance = 0;
  let depth = 0;
  const report = (code: string, message: string, line: number, col: number, severity: 'error' | 'warning' = 'error') => {
    const pos = { file, line, col };
    b.diagnostics.push(severity === 'error' ? error(code, message, pos) : warning(code, message, pos));
  };
  const finishSet = () => {
    if (!set || !table) return;
    // Declarations are one per line; `elements = { … }` may continue over lines until its braces balance.
    const statements: { parts: string[]; line: number }[] = [];
    let open = 0;
    for (const l of setLines) {
      const last = statements[statements.length - 1];
      if (last && open > 0) last.parts.push(l.text.trim());
      else statements.push({ parts: [l.text.trim()], line: l.line });
      open += braceBalance(l.text);
    }
    const props: Props = {};
    for (const s of statements) {
      const text = s.parts.join(' ');
      const lexed = tokenizeNft(text);
      const at = (lines[s.line - 1] ?? '').indexOf(text.slice(0, 10));
      readPropTokens(lexed.tokens, 0, props, (code, message) => report(code, message, s.line, Math.max(0, at) + 1));
    }
    table.sets.push(setFromProps(set.kind, set.name, props));
    set = undefined;
    setLines = [];
    setBalance = 0;
  };
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.replace(/\r$/, '');
    // `nft -a` appends `# handle N` to block openers; rules keep theirs (read into rule.handle).
    const trimmed = line.trim().replace(/^((?:table|chain|set|map|flowtable|counter|quota)\s.*\{)\s+#\s+handle\s+\d+$/, '$1');
    const col = line.length - line.trimStart().length + 1;
    if (trimmed === '' || (trimmed.startsWith('#') && !set)) return;
    if (set) {
      if (trimmed === '}' && setBalance === 0) {
        finishSet();
        depth--;
        return;
      }
      setLines.push({ text: line, line: lineNo });
      setBalance += braceBalance(line);
      return;
    }
    if (depth === 0) {
      const m = /^table\s+(\S+)\s+(\S+)\s*\{$/.exec(trimmed);
      if (!m || !FAMILIES.has(m[1] as string)) {
        report('E_NFT_SYNTAX', 'expected "table FAMILY NAME {"', lineNo, col);
        return;
      }
      table = tableOf(b, m[1] as NftFamily, m[2] as string, true);
      depth = 1;
      return;
    }
    if (!table) return;
    if (depth === 1) {
      if (trimmed === '}') {
        depth = 0;
        table = undefined;
        return;
      }
      const obj = /^(chain|set|map|flowtable|counter|quota|ct|limit|secmark|synproxy)\s+(\S+)\s*\{$/.exec(trimmed);
      if (obj) {
        depth = 2;
        if (obj[1] === 'chain') {
          chain = { name: unquote(obj[2] as string), rules: [] };
          table.chains.push(chain);
        } else if (obj[1] === 'set' || obj[1] === 'map') {
          set = { kind: obj[1], name: unquote(obj[2] as string) };
          setLines = [];
          setBalance = 0;
        } else {
          report('W_NFT_UNSUPPORTED', `${obj[1]} objects are not supported`, lineNo, col, 'warning');
          chain = undefined;
        }
        return;
      }
      const props: Props = {};
      readPropTokens(tokenizeNft(trimmed).tokens, 0, props, (code, message) => report(code, message, lineNo, col));
      if (props.comment !== undefined) table.comment = props.comment;
      if (props.flags !== undefined) table.flags = props.flags;
      return;
    }
    // depth 2: inside a chain (or an unsupported object)
    if (trimmed === '}') {
      depth = 1;
      chain = undefined;
      return;
    }
    if (!chain) return;
    if (/^type\s/.test(trimmed) && chain.rules.length === 0) {
      const props: Props = {};
      readPropTokens(tokenizeNft(trimmed).tokens, 0, props, (code, message) => report(code, message, lineNo, col));
      if (props.type === undefined || props.hook === undefined || props.priority === undefined) {
        report('E_NFT_SYNTAX', 'a base chain needs type, hook and priority', lineNo, col);
        return;
      }
      chain.base = { type: props.type, hook: props.hook, priority: props.priority };
      if (props.policy !== undefined) chain.base.policy = props.policy;
      if (props.device !== undefined) chain.base.device = props.device;
      return;
    }
    if (/^comment\s+"/.test(trimmed) && chain.rules.length === 0 && /^comment\s+"(?:[^"\\]|\\.)*"$/.test(trimmed)) {
      chain.comment = tokenizeNft(trimmed).tokens[1]?.text ?? '';
      return;
    }
    const { rule, problems } = ruleFromText(trimmed);
    for (const p of problems) {
      report(p.severity === 'error' ? 'E_NFT_SYNTAX' : 'W_NFT_UNSUPPORTED', p.message, lineNo, col + p.at, p.severity);
    }
    rule.origin = { line: lineNo, text: line };
    chain.rules.push(rule);
  });
  if (set) finishSet();
  if (depth !== 0) report('E_NFT_SYNTAX', 'missing "}" at end of input', lines.length, 1);
  // Rule references are checked once everything is declared (a listing may name chains before they appear).
  for (const t of b.ruleset.tables) {
    const index = indexOf(b, t);
    for (const c of t.chains) {
      for (const r of c.rules) {
        checkRuleReferences(index, r, (message) => report('E_NFT_REFERENCE', message, r.origin?.line ?? 0, 1));
      }
    }
  }
  return b;
}

/** Opening minus closing braces outside quotes. */
function braceBalance(text: string): number {
  return tokenizeNft(text).tokens.reduce((n, t) => n + (t.kind !== 'punct' ? 0 : t.text === '{' ? 1 : t.text === '}' ? -1 : 0), 0);
}

function unquote(name: string): string {
  return name.startsWith('"') && name.endsWith('"') ? name.slice(1, -1) : name;
}

/** Re-exported for renderers that need the verdict/value shapes. */
export type { NftMapValue };
