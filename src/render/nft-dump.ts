/**
 * IR → knftables' `Fake.Dump()` text (spec kube-proxy-nftables.md §8): what kube-proxy's unit tests compare, and
 * a valid `nft -f` transaction. Per table (sorted by family, then name): the table, chains sorted by name, sets
 * sorted by name, maps sorted by name, then each sorted chain's rules in order, then each sorted set's and map's
 * elements in insertion order. One object per line, every line `\n`-terminated.
 */
import type { NftChain, NftElement, NftRuleset, NftSet, NftTable } from '../ir/nftables.js';
import { verdictText } from '../ir/nftables.js';
import { TextBuffer } from './text-buffer.js';

export function renderNftDump(ruleset: NftRuleset): string {
  const out = new TextBuffer();
  for (const table of sortedTables(ruleset.tables)) renderTable(table, out);
  return out.text();
}

export function sortedTables(tables: readonly NftTable[]): NftTable[] {
  return [...tables].sort((a, b) => compareBytes(a.family, b.family) || compareBytes(a.name, b.name));
}

/** Go's byte-wise string order (uppercase before lowercase), which knftables sorts names with. */
export function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * `items` sorted by name, stable. The names are sorted on their own with the built-in string order (the same
 * code-unit order as compareBytes), which is several times faster than a comparator over 100,000 chains.
 */
export function byName<T extends { name: string }>(items: readonly T[]): T[] {
  const first = new Map<string, T>();
  /** Later items with a name already seen (a parsed listing may repeat one); they keep their order. */
  const repeated = new Map<string, T[]>();
  for (const item of items) {
    if (!first.has(item.name)) first.set(item.name, item);
    else repeated.set(item.name, [...(repeated.get(item.name) ?? []), item]);
  }
  const sorted: T[] = [];
  for (const name of [...first.keys()].sort()) sorted.push(first.get(name) as T, ...(repeated.get(name) ?? []));
  return sorted;
}

function renderTable(table: NftTable, out: TextBuffer): void {
  const prefix = `${table.family} ${table.name}`;
  const props: string[] = [];
  if (table.flags?.length) props.push(`flags ${table.flags.join(',')} ;`);
  if (table.comment !== undefined) props.push(`comment ${goQuote(table.comment)} ;`);
  out.push(`add table ${prefix}${props.length ? ` { ${props.join(' ')} }` : ''}\n`);

  const chains = byName(table.chains);
  for (const chain of chains) out.push(`add chain ${prefix} ${chain.name}${chainProps(chain)}\n`);
  const sets = byName(table.sets.filter((s) => s.kind === 'set'));
  const maps = byName(table.sets.filter((s) => s.kind === 'map'));
  for (const set of [...sets, ...maps]) out.push(`add ${set.kind} ${prefix} ${set.name} ${setProps(set)}\n`);
  for (const chain of chains) {
    for (const rule of chain.rules) {
      const comment = rule.comment === undefined ? '' : ` comment ${goQuote(rule.comment)}`;
      out.push(`add rule ${prefix} ${chain.name} ${rule.text}${comment}\n`);
    }
  }
  for (const set of [...sets, ...maps]) {
    for (const element of set.elements) out.push(`add element ${prefix} ${set.name} { ${elementText(element)} }\n`);
  }
}

function chainProps(chain: NftChain): string {
  const props: string[] = [];
  if (chain.base) {
    const device = chain.base.device === undefined ? '' : ` device ${goQuote(chain.base.device)}`;
    props.push(`type ${chain.base.type} hook ${chain.base.hook}${device} priority ${chain.base.priority} ;`);
    if (chain.base.policy !== undefined) props.push(`policy ${chain.base.policy} ;`);
  }
  if (chain.comment !== undefined) props.push(`comment ${goQuote(chain.comment)} ;`);
  return props.length ? ` { ${props.join(' ')} }` : '';
}

function setProps(set: NftSet): string {
  const props: string[] = [];
  const data = set.dataType === undefined ? '' : ` : ${set.dataType}`;
  props.push(set.typeof !== undefined ? `typeof ${set.typeof}${data} ;` : `type ${set.type}${data} ;`);
  if (set.flags?.length) props.push(`flags ${set.flags.join(',')} ;`);
  if (set.timeout !== undefined) props.push(`timeout ${set.timeout}s ;`);
  if (set.gcInterval !== undefined) props.push(`gc-interval ${set.gcInterval}s ;`);
  if (set.size !== undefined) props.push(`size ${set.size} ;`);
  if (set.policy !== undefined) props.push(`policy ${set.policy} ;`);
  if (set.autoMerge) props.push('auto-merge ;');
  if (set.comment !== undefined) props.push(`comment ${goQuote(set.comment)} ;`);
  return `{ ${props.join(' ')} }`;
}

/** `K1 . K2[ timeout Ns][ comment "C"][ : VALUE]`, as knftables writes an element. */
export function elementText(element: NftElement): string {
  let text = element.key.join(' . ');
  if (element.timeout !== undefined) text += ` timeout ${element.timeout}s`;
  if (element.comment !== undefined) text += ` comment ${goQuote(element.comment)}`;
  if (element.value) {
    text += ` : ${element.value.kind === 'verdict' ? verdictText(element.value.verdict) : element.value.parts.join(' . ')}`;
  }
  return text;
}

/** Characters goQuote escapes; most texts have none and are quoted as they are. */
const NEEDS_ESCAPE = /["\\\x00-\x1f\x7f]/;

/** Go's `%q` for the strings kube-proxy writes (printable text; control characters escaped). */
export function goQuote(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return `"${text}"`;
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0) as number;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}
