/**
 * The rule-level difference between two rulesets, per chain (and, in nftables mode, per set and map): chains
 * added and removed, and inside a chain the rules removed and added, in order.
 *
 * iptables: both sides are replayed as the kernel holds them (render/save's applyRuleset), and rules are
 * compared in iptables-save's normal form, so a restore payload, an iptables-save dump and compiled manifests
 * compare equal when they mean the same; each rule is shown as its side wrote it (`-A CHAIN ...`). Counters
 * are ignored. nftables: rules compare in nft's spelling (ruleListText), so a knftables dump and an
 * `nft list ruleset` listing compare equal; they are shown as dump lines (`add rule ...`). Set and map
 * elements are compared as sets (their order means nothing to the kernel).
 */
import type { IptablesRuleset, Rule } from '../ir/iptables.js';
import { BUILTIN_CHAINS, isBuiltinChain } from '../ir/iptables.js';
import type { NftChain, NftRuleset, NftSet, NftTable } from '../ir/nftables.js';
import { compareBytes, elementText, goQuote, renderNftDump } from '../render/nft-dump.js';
import { ruleListText } from '../render/nft-list.js';
import { ruleLine } from '../render/restore.js';
import { applyRuleset, saveRuleLines, type KernelTable } from '../render/save.js';
import { diffKeys, toHunks, type Hunk } from './lines.js';

export interface RuleChange {
  /** iptables table (`nat`) or nftables table (`ip kube-proxy`). */
  table: string;
  kind: 'chain' | 'set' | 'map';
  name: string;
  status: 'added' | 'removed' | 'changed';
  /** nftables: the declaration (base chain hook, priority, policy; set type, flags, timeout) before → after, when it changed. */
  declaration?: { before?: string; after?: string };
  removed: number;
  added: number;
  /** Chains: unified-diff hunks in rule order. Sets and maps: one hunk without positions (`ordered` false). */
  hunks: Hunk[];
  ordered: boolean;
}

/**
 * What kube-proxy would change, object by object, and the objects of others (chains not named KUBE-*, rules in
 * built-in chains that do not jump to KUBE-*, tables other than kube-proxy's) that differ too, by name only:
 * kube-proxy does not write them, but a dump of a node holds them.
 */
export interface RuleDiff {
  changes: RuleChange[];
  foreign: string[];
}

/** A sequence of lines to compare: `keys` decide equality, `texts` are printed. */
interface Lines {
  keys: string[];
  texts: string[];
}

const NO_LINES: Lines = { keys: [], texts: [] };

/** Compares one chain's rules in order (undefined lines: the chain does not exist); undefined when nothing changed. */
function orderedChange(table: string, name: string, before: Lines | undefined, after: Lines | undefined, declaration: { before?: string; after?: string } = {}): RuleChange | undefined {
  const old = before ?? NO_LINES;
  const now = after ?? NO_LINES;
  const edits = diffKeys(old.keys, now.keys);
  const removed = edits.filter((e) => e.op === 'delete').length;
  const added = edits.filter((e) => e.op === 'insert').length;
  const declarationChanged = before !== undefined && after !== undefined && declaration.before !== declaration.after;
  if (before && after && removed === 0 && added === 0 && !declarationChanged) return undefined;
  return {
    table,
    kind: 'chain',
    name,
    status: !before ? 'added' : !after ? 'removed' : 'changed',
    ...(declarationChanged ? { declaration } : {}),
    removed,
    added,
    hunks: toHunks(edits, (i) => old.texts[i] as string, (i) => now.texts[i] as string),
    ordered: true,
  };
}

// ---------------------------------------------------------------------------------------------------------
// iptables

export function diffIptablesRules(before: IptablesRuleset, after: IptablesRuleset): RuleDiff {
  const old = applyRuleset(before);
  const now = applyRuleset(after);
  const changes: RuleChange[] = [];
  const foreign: string[] = [];
  for (const tableName of unionInOrder([...old.keys()], [...now.keys()])) {
    const oldTable = old.get(tableName);
    const newTable = now.get(tableName);
    const chainNames = unionInOrder(chainNamesOf(oldTable), chainNamesOf(newTable)).sort(saveChainOrder(tableName));
    for (const chain of chainNames) {
      const a = oldTable?.chains.get(chain);
      const b = newTable?.chains.get(chain);
      const builtin = isBuiltinChain(tableName, chain);
      if (!builtin && !chain.startsWith(KUBE_PREFIX)) {
        const same = a && b && sameKeys(iptablesLines(a.rules, before.family), iptablesLines(b.rules, after.family));
        if (!same) foreign.push(`${tableName} ${chain}`);
        continue;
      }
      // Built-in chains hold kube-proxy's jumps among everyone else's rules; only the jumps are kube-proxy's.
      const ours = (rules: readonly Rule[] | undefined) => (builtin ? (rules ?? []).filter(jumpsToKubeProxy) : rules);
      if (builtin) {
        const theirs = (rules: readonly Rule[] | undefined) => (rules ?? []).filter((r) => !jumpsToKubeProxy(r));
        const samePolicy = (a?.decl.policy ?? 'ACCEPT') === (b?.decl.policy ?? 'ACCEPT');
        if (!samePolicy || !sameKeys(iptablesLines(theirs(a?.rules), before.family), iptablesLines(theirs(b?.rules), after.family))) {
          foreign.push(`${tableName} ${chain} (its policy or rules that are not kube-proxy's)`);
        }
      }
      const rulesA = ours(a?.rules);
      const rulesB = ours(b?.rules);
      const change = orderedChange(tableName, chain, rulesA && iptablesLines(rulesA, before.family), rulesB && iptablesLines(rulesB, after.family));
      if (change) changes.push(change);
    }
  }
  return { changes, foreign };
}

/** kube-proxy (and kubelet, which kube-proxy backs up) name their chains KUBE-*. */
const KUBE_PREFIX = 'KUBE-';

function jumpsToKubeProxy(rule: Rule): boolean {
  return rule.target?.name.startsWith(KUBE_PREFIX) ?? false;
}

function sameKeys(a: Lines, b: Lines): boolean {
  return a.keys.length === b.keys.length && a.keys.every((k, i) => k === b.keys[i]);
}

function chainNamesOf(table: KernelTable | undefined): string[] {
  return table ? [...table.chains.keys()] : [];
}

/** Built-in chains first in iptables' order, then user chains by name, as iptables-save lists them. */
function saveChainOrder(table: string): (a: string, b: string) => number {
  const rank = (chain: string) => (isBuiltinChain(table, chain) ? (BUILTIN_CHAINS[table] ?? []).indexOf(chain) : Number.MAX_SAFE_INTEGER);
  return (a, b) => rank(a) - rank(b) || compareBytes(a, b);
}

function iptablesLines(rules: readonly Rule[], family: IptablesRuleset['family']): Lines {
  return {
    keys: rules.map((r) => saveRuleLines(r, family).join('\n')),
    texts: rules.map((r) => {
      const { counters: _ignored, ...bare } = r;
      return ruleLine(bare).trimEnd();
    }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// nftables

export function diffNftRules(before: NftRuleset, after: NftRuleset): RuleDiff {
  const key = (t: NftTable) => `${t.family} ${t.name}`;
  const old = new Map(before.tables.map((t) => [key(t), t]));
  const now = new Map(after.tables.map((t) => [key(t), t]));
  const changes: RuleChange[] = [];
  const foreign: string[] = [];
  for (const tableName of unionInOrder([...old.keys()], [...now.keys()])) {
    const a = old.get(tableName);
    const b = now.get(tableName);
    if ((a ?? b)?.name !== KUBE_PROXY_TABLE) {
      if (!a || !b || renderNftDump({ tables: [a] }) !== renderNftDump({ tables: [b] })) foreign.push(`table ${tableName}`);
      continue;
    }
    const [oldChains, newChains] = [indexByName(a?.chains), indexByName(b?.chains)];
    for (const chain of unionInOrder([...oldChains.keys()], [...newChains.keys()]).sort(compareBytes)) {
      const oldChain = oldChains.get(chain);
      const newChain = newChains.get(chain);
      const change = orderedChange(
        tableName,
        chain,
        oldChain && a ? nftChainLines(a, oldChain) : undefined,
        newChain && b ? nftChainLines(b, newChain) : undefined,
        {
          ...(a && oldChain ? { before: declarationLine(a, { chains: [withDefaults(oldChain)] }) } : {}),
          ...(b && newChain ? { after: declarationLine(b, { chains: [withDefaults(newChain)] }) } : {}),
        },
      );
      if (change) changes.push(change);
    }
    const [oldSets, newSets] = [indexByName(a?.sets), indexByName(b?.sets)];
    for (const set of unionInOrder([...oldSets.keys()], [...newSets.keys()]).sort(compareBytes)) {
      const change = setChange(tableName, a, oldSets.get(set), b, newSets.get(set));
      if (change) changes.push(change);
    }
  }
  return { changes, foreign };
}

/** kube-proxy's nftables mode keeps everything in its own table (`ip kube-proxy`, `ip6 kube-proxy`). */
const KUBE_PROXY_TABLE = 'kube-proxy';

function nftChainLines(table: NftTable, chain: NftChain): Lines {
  const prefix = `add rule ${table.family} ${table.name} ${chain.name}`;
  return {
    keys: chain.rules.map((rule) => ruleListText(rule)),
    texts: chain.rules.map((r) => `${prefix} ${r.text}${r.comment === undefined ? '' : ` comment ${goQuote(r.comment)}`}`),
  };
}

/** The `add chain` / `add set` / `add map` line of one object, as the dump renderer writes it. */
function declarationLine(table: NftTable, only: { chains?: NftChain[]; sets?: NftSet[] }): string {
  const text = renderNftDump({ tables: [{ ...table, chains: only.chains ?? [], sets: only.sets ?? [] }] });
  const line = text.split('\n').find((l) => /^add (chain|set|map) /.test(l));
  return line ?? '';
}

/**
 * A listing spells out what a dump leaves to the kernel's defaults (a base chain's `policy accept`, a dynamic
 * set's `size 65535`); both are written out so that the two compare equal.
 */
function withDefaults(chain: NftChain): NftChain {
  return { ...chain, rules: [], ...(chain.base ? { base: { ...chain.base, policy: chain.base.policy ?? 'accept' } } : {}) };
}

const DYNAMIC_SET_SIZE = 65535;

function setWithDefaults(set: NftSet): NftSet {
  const dynamic = set.flags?.includes('dynamic') ?? false;
  return { ...set, elements: [], ...(set.size === undefined && dynamic ? { size: DYNAMIC_SET_SIZE } : {}) };
}

/** Elements compared as a set; the declaration (type, flags, timeout) compared as a line. */
function setChange(table: string, a: NftTable | undefined, old: NftSet | undefined, b: NftTable | undefined, now: NftSet | undefined): RuleChange | undefined {
  const declaration = {
    ...(a && old ? { before: declarationLine(a, { sets: [setWithDefaults(old)] }) } : {}),
    ...(b && now ? { after: declarationLine(b, { sets: [setWithDefaults(now)] }) } : {}),
  };
  const elementLine = (t: NftTable, set: NftSet, text: string) => `add element ${t.family} ${t.name} ${set.name} { ${text} }`;
  const oldKeys = new Set(writtenElements(old).map(elementText));
  const newKeys = new Set(writtenElements(now).map(elementText));
  const removed = a && old ? [...oldKeys].filter((k) => !newKeys.has(k)).map((k) => elementLine(a, old, k)) : [];
  const added = b && now ? [...newKeys].filter((k) => !oldKeys.has(k)).map((k) => elementLine(b, now, k)) : [];
  const declarationChanged = old !== undefined && now !== undefined && declaration.before !== declaration.after;
  if (old && now && removed.length === 0 && added.length === 0 && !declarationChanged) return undefined;
  const lines = [...removed.map((text) => ({ op: '-' as const, text })), ...added.map((text) => ({ op: '+' as const, text }))];
  return {
    table,
    kind: (now ?? old)?.kind ?? 'set',
    name: (now ?? old)?.name ?? '',
    status: !old ? 'added' : !now ? 'removed' : 'changed',
    ...(declarationChanged ? { declaration } : {}),
    removed: removed.length,
    added: added.length,
    hunks: lines.length > 0 ? [{ oldStart: 0, oldLines: removed.length, newStart: 0, newLines: added.length, lines }] : [],
    ordered: false,
  };
}

/** Elements kube-proxy writes: a dynamic set (sessionAffinity's) is filled by packets, its elements are state. */
function writtenElements(set: NftSet | undefined): NftSet['elements'] {
  return !set || set.flags?.includes('dynamic') ? [] : set.elements;
}

function indexByName<T extends { name: string }>(items: readonly T[] | undefined): Map<string, T> {
  return new Map((items ?? []).map((i) => [i.name, i]));
}

/** `a`'s items in order, then `b`'s items that `a` lacks. */
function unionInOrder(a: readonly string[], b: readonly string[]): string[] {
  const seen = new Set(a);
  return [...a, ...b.filter((x) => !seen.has(x))];
}
