/**
 * The nftables ruleset IR: what a knftables dump (`add table …` / `add rule …` lines) or an `nft list ruleset`
 * listing says, as plain data.
 *
 * Objects are kept in insertion order; renderers sort (render/nft-dump.ts, render/nft-list.ts). A rule keeps
 * the text it was written with (`text`, the knftables Concat output, so a dump reproduces byte for byte) and a
 * typed view of its statements (`statements`, parsed from that text by parse/nft.ts) that the list renderer prints
 * in nft's own spelling and that an emulator evaluates. Values in the typed view stay text as written in nft
 * syntax (`10.0.0.0/8`, `tcp`, `0x4000`); numbers that nft reformats are normalised by the list renderer.
 */

/** nftables address families: `ip` (IPv4), `ip6`, `inet` (both), `arp`, `bridge`, `netdev`. */
export type NftFamily = 'ip' | 'ip6' | 'inet' | 'arp' | 'bridge' | 'netdev';

export interface NftRuleset {
  /** Tables in insertion order (renderers sort by family, then name, as knftables does). */
  tables: NftTable[];
}

export interface NftTable {
  family: NftFamily;
  name: string;
  /** Table comment (`comment "rules for kube-proxy"`), stored by the kernel as user data. */
  comment?: string;
  /** Table flags, e.g. `dormant`. */
  flags?: string[];
  /** Base and regular chains, in insertion order. */
  chains: NftChain[];
  /** Named sets and maps, in insertion order. */
  sets: NftSet[];
}

/** A base chain's attachment to a netfilter hook: only base chains see packets directly. */
export interface NftBaseChain {
  /** `filter`, `nat` or `route`: which expressions and verdicts the chain may use. */
  type: string;
  /** Netfilter hook: `prerouting`, `input`, `forward`, `output`, `postrouting` (`ingress`, `egress` for netdev). */
  hook: string;
  /** Ordering among chains on the same hook, lower first; named priorities are stored as numbers (dstnat = -100). */
  priority: number;
  /** What happens to a packet that falls off the end: `accept` (the default) or `drop`. */
  policy?: string;
  /** Interface of a netdev/ingress chain. */
  device?: string;
}

export interface NftChain {
  name: string;
  /** Present for base chains only. */
  base?: NftBaseChain;
  comment?: string;
  /** Rules in evaluation order. */
  rules: NftRule[];
}

export interface NftRule {
  /**
   * The rule body as written: knftables joins its Concat arguments with single spaces, so this is the dump
   * text word for word (`text.split(' ')` gives the words). Excludes the trailing `comment "…"`. One string
   * rather than a word list keeps a 100,000-rule ruleset small.
   */
  text: string;
  /** The typed view of `text`, statement by statement, in order. */
  statements: NftStatement[];
  /** Rule comment (`comment "…"` at the end of the rule). */
  comment?: string;
  /** Kernel handle, when parsed from `nft -a list` output; never rendered in a dump. */
  handle?: number;
  /** Where a parsed rule came from: 1-based line and the exact text of the line. */
  origin?: { line: number; text: string };
}

/** A named set (`kind: 'set'`) or map (`kind: 'map'`; with `verdict` data type, a verdict map). */
export interface NftSet {
  kind: 'set' | 'map';
  name: string;
  /** Key type as written, a concatenation joined by ` . `: `ipv4_addr . inet_proto . inet_service`. */
  type: string;
  /** When the set was declared with `typeof EXPR` instead of `type`, the expression text. */
  typeof?: string;
  /** Map data type (`verdict`, `ipv4_addr`, ...); absent for sets. */
  dataType?: string;
  /** `constant`, `interval`, `timeout`, `dynamic`, ... in written order. */
  flags?: string[];
  /** Default element lifetime in seconds (`timeout 10800s`); elements refresh it on `update`. */
  timeout?: number;
  /** Garbage-collection interval in seconds. */
  gcInterval?: number;
  /** Maximum number of elements (the kernel defaults dynamic sets to 65535). */
  size?: number;
  /** `performance` or `memory`. */
  policy?: string;
  /** Adjacent/overlapping intervals are merged on insertion. */
  autoMerge?: boolean;
  comment?: string;
  /** Elements in insertion order. */
  elements: NftElement[];
}

export interface NftElement {
  /** The key, one value per concatenated type: `['172.30.0.41', 'tcp', '80']`. */
  key: string[];
  comment?: string;
  /** Seconds this element lives (`timeout 30s` on the element); absent = the set's timeout. */
  timeout?: number;
  /** Map data: a verdict for verdict maps, else the data words. */
  value?: NftMapValue;
}

export type NftMapValue = { kind: 'verdict'; verdict: NftVerdict } | { kind: 'data'; parts: string[] };

/** Verdicts: terminal (`accept`, `drop`), flow control (`jump`, `goto`, `return`, `continue`). */
export type NftVerdict =
  | { kind: 'accept' | 'drop' | 'return' | 'continue' }
  | { kind: 'jump' | 'goto'; chain: string };

/**
 * An expression that yields a value from the packet or its metadata.
 * - `field`: a selector printed as words, e.g. `ip daddr`, `ip saddr`, `meta l4proto`, `th dport`, `tcp dport`,
 *   `meta mark`, `ct state`, `iif`, `iifname`, `fib daddr type` (the fib result type of the destination).
 * - `numgen`: a number generator, `numgen random mod N [offset O]`.
 * - `bitwise`: `EXPR & M` (`and`), `EXPR | M` (`or`), `EXPR ^ M` (`xor`) with a constant.
 * - `concat`: `A . B . C`, for concatenated set keys.
 */
export type NftExpr =
  | { kind: 'field'; name: string }
  | { kind: 'numgen'; mode: 'random' | 'inc'; mod: number; offset?: number }
  | { kind: 'bitwise'; op: 'and' | 'or' | 'xor'; left: NftExpr; value: string }
  | { kind: 'concat'; parts: NftExpr[] };

/** The right-hand side of a match: one value, a named set, or an anonymous set `{ a, b }`. */
export type NftOperand =
  | { kind: 'value'; value: string }
  | { kind: 'set-ref'; name: string }
  | { kind: 'anon-set'; elements: NftElement[] };

export type NftStatement =
  /** `LEFT [op] RIGHT`: the rule stops here unless it holds. `op` is `==` unless written `!=` (or `<`, ...). */
  | { kind: 'match'; left: NftExpr; op: '==' | '!=' | '<' | '>' | '<=' | '>='; right: NftOperand }
  /** `KEY vmap @map` / `KEY vmap { k : verdict, ... }`: look the key up and execute the stored verdict. */
  | { kind: 'vmap'; key: NftExpr; map: NftOperand }
  | { kind: 'verdict'; verdict: NftVerdict }
  /** `reject` (ICMP port unreachable in ip/ip6 tables), optionally `with …` words. */
  | { kind: 'reject'; with?: string[] }
  /** `counter` (anonymous, with its packet/byte counts when listed) or `counter name "N"` (a named counter object). */
  | { kind: 'counter'; packets?: bigint; bytes?: bigint; name?: string }
  /** `FIELD set VALUE`, e.g. `mark set mark or 0x4000` (`meta mark set meta mark | 0x00004000`). */
  | { kind: 'set-field'; field: string; value: NftExpr | { kind: 'value'; value: string } }
  /** `masquerade [fully-random] [...]`: SNAT to the outgoing interface's address. */
  | { kind: 'masquerade'; flags: string[] }
  /** `dnat to ADDR[:PORT]` / `snat to …`; `family` when written `dnat ip to …` (inet tables). */
  | { kind: 'nat'; type: 'dnat' | 'snat'; family?: string; address: string; port?: number; flags: string[] }
  /** `update @set { KEY }` / `add @set { KEY }`: insert or refresh the key in a dynamic set. */
  | { kind: 'set-update'; op: 'update' | 'add' | 'delete'; set: string; key: NftExpr }
  | { kind: 'log'; words: string[] }
  /** Anything else, kept as its words so it still renders and reports. */
  | { kind: 'unknown'; words: string[] };

/** knftables' priority names and their numbers (nft's standard priorities for ip/ip6/inet). */
export const NFT_PRIORITIES: Readonly<Record<string, number>> = {
  raw: -300,
  mangle: -150,
  dstnat: -100,
  filter: 0,
  security: 50,
  srcnat: 100,
};

/** The table of a family and name, if any. */
export function findTable(ruleset: NftRuleset, family: NftFamily, name: string): NftTable | undefined {
  return ruleset.tables.find((t) => t.family === family && t.name === name);
}

export function findChain(table: NftTable, name: string): NftChain | undefined {
  return table.chains.find((c) => c.name === name);
}

export function findSet(table: NftTable, name: string): NftSet | undefined {
  return table.sets.find((s) => s.name === name);
}

export function verdictText(verdict: NftVerdict): string {
  return verdict.kind === 'jump' || verdict.kind === 'goto' ? `${verdict.kind} ${verdict.chain}` : verdict.kind;
}
