/**
 * The iptables ruleset IR: what an `iptables-restore` payload or an `iptables-save` dump says, as plain data.
 *
 * A rule is kept as the ordered list of its parts, exactly in the order they were written, because the two
 * texts we must reproduce byte for byte order them differently: kube-proxy writes
 * `-m comment --comment C -m tcp -p tcp -d IP --dport 80 ! -s CIDR -j X`, and iptables-save prints the
 * same rule as `! -s CIDR -d IP/32 -p tcp -m comment --comment C -m tcp --dport 80 -j X`.
 * Renderers decide the order (render/); the emulator reads the parts by kind (emulate/).
 */
import type { IPFamily } from '../net/ip.js';

export interface IptablesRuleset {
  /** 4 for iptables, 6 for ip6tables. */
  family: IPFamily;
  /** Tables in the order they appear. */
  tables: Table[];
}

export interface Table {
  /** `filter`, `nat`, `mangle`, `raw` or `security`. */
  name: string;
  /** Chains declared with `:NAME POLICY [packets:bytes]`, in declaration order. */
  chains: ChainDecl[];
  /** Every `-A` rule of the table in the order written (rules of different chains may interleave). */
  rules: Rule[];
  /** `-X NAME` lines; `beforeRule` is the index in `rules` the line precedes (rules.length = after all). */
  deletedChains: DeletedChain[];
}

export interface ChainDecl {
  name: string;
  /** Built-in chains carry their policy (`ACCEPT`/`DROP`); user chains have none (`-`). */
  policy?: string;
  /** `[packets:bytes]`; absent means `[0:0]`. */
  counters?: Counters;
}

export interface Counters {
  packets: bigint;
  bytes: bigint;
}

export interface DeletedChain {
  name: string;
  beforeRule: number;
}

export interface Rule {
  /** Chain the rule is appended to (`-A CHAIN`). */
  chain: string;
  /** Matches in written order. */
  parts: MatchPart[];
  /** `-j`/`-g` target; absent for a rule that only counts or comments (kube-proxy's KUBE-FW trailer). */
  target?: Target;
  /** `[packets:bytes]` prefix of `iptables-save -c` output. */
  counters?: Counters;
  /** Where a parsed rule came from: its line number (1-based) and the exact text of the line. */
  origin?: { line: number; text: string };
}

/** One match of a rule. Every kind can be negated with `!` (kept in `negated`). */
export type MatchPart =
  /** `-s`/`-d`: address or CIDR exactly as written (`10.0.0.1`, `10.0.0.0/8`, `10.0.0.1/32`). */
  | { kind: 'source' | 'destination'; negated: boolean; address: string }
  /** `-p PROTO` (`tcp`, `udp`, `sctp`, `icmp`, a number, ...). */
  | { kind: 'protocol'; negated: boolean; protocol: string }
  /** `-i`/`-o`: interface name; a trailing `+` matches every name with that prefix. */
  | { kind: 'inInterface' | 'outInterface'; negated: boolean; name: string }
  /** `-m NAME`: loads a match extension; its options follow as `option` parts. */
  | { kind: 'module'; name: string }
  /**
   * `[!] --NAME ARG...`: an option of match extension `module` (the `-m` it belongs to, or the
   * protocol's implicit module for `--dport`/`--sport`). `name` has no leading dashes.
   */
  | { kind: 'option'; module: string; name: string; negated: boolean; args: string[] };

export interface Target {
  /** `ACCEPT`, `DROP`, `RETURN`, `REJECT`, `DNAT`, `MARK`, ... or a user chain name. */
  name: string;
  /** True for `-g` (goto) instead of `-j`. */
  goto: boolean;
  /** Target options in written order, e.g. `{name: 'to-destination', args: ['10.1.0.1:80']}`. */
  options: TargetOption[];
}

export interface TargetOption {
  name: string;
  args: string[];
}

/** Targets that are not chains: iptables' built-in verdicts and the target extensions kube-proxy meets. */
export const TERMINAL_TARGETS: ReadonlySet<string> = new Set([
  'ACCEPT', 'DROP', 'RETURN', 'REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'MARK', 'LOG', 'CONNMARK',
  'REDIRECT', 'NOTRACK', 'CT', 'TPROXY', 'QUEUE', 'NFQUEUE', 'TRACE', 'AUDIT', 'CHECKSUM', 'TCPMSS',
]);

/** iptables' built-in chains per table, in the order iptables-save prints them. */
export const BUILTIN_CHAINS: Readonly<Record<string, readonly string[]>> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

export function isBuiltinChain(table: string, chain: string): boolean {
  return BUILTIN_CHAINS[table]?.includes(chain) ?? false;
}
