/**
 * A ruleset made ready for tracing: chains by name, each rule's matches compiled once (addresses parsed to
 * numbers), and long runs of "one destination per rule" rules — KUBE-SERVICES, KUBE-NODEPORTS — indexed by
 * destination address or port, so a packet only evaluates the rules that could match it. The walker still
 * reports how many rules it skipped, so the explanation stays complete.
 */
import { argsOfRule } from '../ir/args.js';
import { isBuiltinChain, type IptablesRuleset, type Rule } from '../ir/iptables.js';
import type { IPFamily } from '../net/ip.js';
import { quoteRestoreWord } from '../parse/tokenize.js';
import { compileMatchers, compileTarget, parseNet, type CompiledTarget, type Matcher } from './evaluate.js';

export interface CompiledRule {
  table: string;
  chain: string;
  /** 1-based position in the chain, as `iptables -L --line-numbers` counts. */
  number: number;
  /** The rule as written (`-A CHAIN ...`). */
  text: string;
  matchers: Matcher[];
  target: CompiledTarget | undefined;
  /** Rule-level problems found while compiling (unknown target, ...). */
  notes: string[];
  /** The rule only matches packets to this one address: its canonical text (indexing key). */
  destinationKey?: string;
  /** The rule only matches packets to this one destination port (indexing key). */
  portKey?: number;
}

/** A run of consecutive rules, each bound to one key; `positions` maps a key to its rules (ascending). */
export interface IndexedRun {
  by: 'destination' | 'port';
  start: number;
  end: number;
  positions: Map<string | number, number[]>;
}

export interface CompiledChain {
  table: string;
  name: string;
  builtin: boolean;
  /** Built-in chains: what happens at their end. */
  policy: 'ACCEPT' | 'DROP';
  rules: CompiledRule[];
  runs: IndexedRun[];
  /** For each rule position, the index of the run it belongs to, or -1. */
  runAt: Int32Array;
}

export interface CompiledTable {
  name: string;
  chains: Map<string, CompiledChain>;
}

export interface CompiledRuleset {
  family: IPFamily;
  tables: Map<string, CompiledTable>;
  /** Mark bits that KUBE-POSTROUTING masquerades (from its `! --mark M/M -j RETURN` rule), if recognised. */
  masqueradeMask: number | undefined;
  ruleCount: number;
}

/** Runs shorter than this are cheap enough to walk rule by rule. */
const MIN_INDEXED_RUN = 16;

export function compileRuleset(ruleset: IptablesRuleset): CompiledRuleset {
  const tables = new Map<string, CompiledTable>();
  let ruleCount = 0;
  for (const table of ruleset.tables) {
    const chains = new Map<string, CompiledChain>();
    const declare = (name: string, policy?: string) => {
      if (chains.has(name)) return;
      chains.set(name, {
        table: table.name,
        name,
        builtin: isBuiltinChain(table.name, name),
        policy: policy === 'DROP' ? 'DROP' : 'ACCEPT',
        rules: [],
        runs: [],
        runAt: new Int32Array(0),
      });
    };
    for (const decl of table.chains) declare(decl.name, decl.policy);
    // A restore payload may append to built-in chains it never declares.
    for (const rule of table.rules) if (!chains.has(rule.chain) && isBuiltinChain(table.name, rule.chain)) declare(rule.chain);
    const deleted = new Set(table.deletedChains.map((d) => d.name));
    for (const name of deleted) chains.delete(name);
    const exists = (name: string) => chains.has(name);
    for (const rule of table.rules) {
      const chain = chains.get(rule.chain);
      if (!chain) continue;
      const number = chain.rules.length + 1;
      chain.rules.push(new LazyRule(table.name, number, rule, exists));
      ruleCount++;
    }
    for (const chain of chains.values()) indexChain(chain);
    tables.set(table.name, { name: table.name, chains });
  }
  return { family: ruleset.family, tables, masqueradeMask: findMasqueradeMask(tables), ruleCount };
}

/**
 * Matches and target are compiled on first use: a 100,000-rule dump is mostly rules no traced packet reaches,
 * and parsing all their addresses up front would dominate the time to the first trace.
 */
class LazyRule implements CompiledRule {
  private keys: { destination: string | undefined; port: number | undefined } | undefined;
  private compiledMatchers: Matcher[] | undefined;
  private compiledTarget: { value: CompiledTarget | undefined } | undefined;
  private renderedText: string | undefined;

  constructor(
    readonly table: string,
    readonly number: number,
    private readonly rule: Rule,
    private readonly exists: (name: string) => boolean,
  ) {}

  get destinationKey(): string | undefined {
    return this.indexKeys().destination;
  }

  get portKey(): number | undefined {
    return this.indexKeys().port;
  }

  /** Read on first use too: only long chains are indexed, and a parsed dump reads a rule's parts on demand. */
  private indexKeys(): { destination: string | undefined; port: number | undefined } {
    if (this.keys) return this.keys;
    const parts = this.rule.parts;
    const dest = parts.filter((p) => p.kind === 'destination');
    const only = dest[0];
    const destination = dest.length === 1 && only?.kind === 'destination' && !only.negated ? hostKey(only.address) : undefined;
    const ports = parts.filter((p) => p.kind === 'option' && (p.name === 'dport' || p.name === 'destination-port'));
    const port = ports[0];
    const portKey =
      ports.length === 1 && port?.kind === 'option' && !port.negated && /^[0-9]+$/.test(port.args[0] ?? '') ? Number(port.args[0]) : undefined;
    this.keys = { destination, port: portKey };
    return this.keys;
  }

  get chain(): string {
    return this.rule.chain;
  }

  get text(): string {
    this.renderedText ??=
      this.rule.origin?.text.trim().replace(/^\[\d+:\d+\]\s+/, '') ?? `-A ${this.rule.chain} ${argsOfRule(this.rule).map(quoteRestoreWord).join(' ')}`.trimEnd();
    return this.renderedText;
  }

  get matchers(): Matcher[] {
    this.compiledMatchers ??= compileMatchers(this.rule, `${this.table}/${this.rule.chain}/${this.number}`);
    return this.compiledMatchers;
  }

  get target(): CompiledTarget | undefined {
    this.compiledTarget ??= { value: compileTarget(this.rule.target, this.exists) };
    return this.compiledTarget.value;
  }

  get notes(): string[] {
    const t = this.target;
    return t?.kind === 'unknown' ? [t.why] : [];
  }
}

/**
 * The canonical text of a single-address `-d` (what `IP.text` of a packet would be), the index key. Plain
 * dotted quads are canonical as written; anything else goes through net/ip.
 */
function hostKey(address: string): string | undefined {
  const bare = address.endsWith('/32') || address.endsWith('/128') ? address.slice(0, address.lastIndexOf('/')) : address;
  if (/^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/.test(bare)) return bare;
  const net = parseNet(address);
  return net?.host ? net.text : undefined;
}

function indexChain(chain: CompiledChain): void {
  const n = chain.rules.length;
  const runAt = new Int32Array(n).fill(-1);
  // No run can be long enough: leave the rules unread.
  if (n < MIN_INDEXED_RUN) {
    chain.runAt = runAt;
    return;
  }
  const addRuns = (by: IndexedRun['by'], keyOf: (r: CompiledRule) => string | number | undefined) => {
    let i = 0;
    while (i < n) {
      if (runAt[i] !== -1 || keyOf(chain.rules[i] as CompiledRule) === undefined) {
        i++;
        continue;
      }
      let j = i;
      while (j < n && runAt[j] === -1 && keyOf(chain.rules[j] as CompiledRule) !== undefined) j++;
      if (j - i >= MIN_INDEXED_RUN) {
        const positions = new Map<string | number, number[]>();
        for (let k = i; k < j; k++) {
          const key = keyOf(chain.rules[k] as CompiledRule) as string | number;
          const list = positions.get(key);
          if (list) list.push(k);
          else positions.set(key, [k]);
        }
        const id = chain.runs.length;
        chain.runs.push({ by, start: i, end: j, positions });
        runAt.fill(id, i, j);
      }
      i = j;
    }
  };
  addRuns('destination', (r) => r.destinationKey);
  addRuns('port', (r) => r.portKey);
  chain.runAt = runAt;
}

/** KUBE-POSTROUTING starts with `-m mark ! --mark M/M -j RETURN`: the bits of M mean "masquerade me". */
function findMasqueradeMask(tables: Map<string, CompiledTable>): number | undefined {
  const chain = tables.get('nat')?.chains.get('KUBE-POSTROUTING');
  for (const rule of chain?.rules ?? []) {
    const m = /-m mark ! --mark (0x[0-9a-fA-F]+|[0-9]+)(?:\/(0x[0-9a-fA-F]+|[0-9]+))?/.exec(rule.text);
    if (m && rule.target?.kind === 'RETURN') return Number(m[2] ?? m[1]) >>> 0;
  }
  const markMasq = tables.get('nat')?.chains.get('KUBE-MARK-MASQ')?.rules[0]?.target;
  if (markMasq?.kind === 'MARK' && markMasq.op === 'or') return markMasq.value;
  return undefined;
}
