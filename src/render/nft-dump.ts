/**
 * IR → knftables' `Fake.Dump()` text (spec kube-proxy-nftables.md §8): what kube-proxy's unit tests compare, and
 * a valid `nft -f` transaction. Per table (sorted by family, then name): the table, chains sorted by name, sets
 * sorted by name, maps sorted by name, then each sorted chain's rules in order, then each sorted set's and map's
 * elements in insertion order. One object per line, every line `\n`-terminated.
 */
import type { NftChain, NftElement, NftRuleset, NftSet, NftTable } from '../ir/nftables.js';
import { verdictText } from '../ir/nftables.js';

export function renderNftDump(ruleset: NftRuleset): string {
  const out: string[] = [];
  for (const table of sortedTables(ruleset.tables)) renderTable(table, out);
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

export function sortedTables(tables: readonly NftTable[]): NftTable[] {
  return [...tables].sort((a, b) => compareBytes(a.family, b.family) || compareBytes(a.name, b.name));
}

/** Go's byte-wise string order (uppercase before lowercase), which knftables sorts names with. */
export function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function byName<T extends { name: string }>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => compareBytes(a.name, b.name));
}

function renderTable(table: NftTable, out: string[]): void {
  const prefix = `${table.family} ${table.name}`;
  const props: string[] = [];
  if (table.flags?.length) props.push(`flags ${table.flags.join(',')} ;`);
  if (table.comment !== undefined) props.push(`comment ${goQuote(table.comment)} ;`);
  out.push(`add table ${prefix}${props.length ? ` { ${props.join(' ')} }` : ''}`);

  const chains = byName(table.chains);
  for (const chain of chains) out.push(`add chain ${prefix} ${chain.name}${chainProps(chain)}`);
  const sets = byName(table.sets.filter((s) => s.kind === 'set'));
  const maps = byName(table.sets.filter((s) => s.kind === 'map'));
  for (const set of [...sets, ...maps]) out.push(`add ${set.kind} ${prefix} ${set.name} ${setProps(set)}`);
  for (const chain of chains) {
    for (const rule of chain.rules) {
      const comment = rule.comment === undefined ? '' : ` comment ${goQuote(rule.comment)}`;
      out.push(`add rule ${prefix} ${chain.name} ${rule.text}${comment}`);
    }
  }
  for (const set of [...sets, ...maps]) {
    for (const element of set.elements) out.push(`add element ${prefix} ${set.name} { ${elementText(element)} }`);
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

/** Go's `%q` for the strings kube-proxy writes (printable text; control characters escaped). */
export function goQuote(text: string): string {
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
