/**
 * The jumps from iptables' built-in chains into kube-proxy's chains (spec §9). kube-proxy ensures them with
 * separate `iptables -N/-C/-I ... 1` calls, outside the restore payload; each is inserted at position 1,
 * so on a fresh node the rules of one built-in chain end up in the reverse of this list's order.
 */
import { ruleFromArgs } from '../../ir/args.js';
import { BUILTIN_CHAINS, type IptablesRuleset, type Rule, type Table } from '../../ir/iptables.js';

interface BaseJump {
  table: string;
  from: string;
  to: string;
  extra: string[];
  comment: string | undefined;
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];

export const BASE_CHAIN_JUMPS: readonly BaseJump[] = [
  { table: 'filter', from: 'INPUT', to: 'KUBE-EXTERNAL-SERVICES', extra: NEW, comment: 'kubernetes externally-visible service portals' },
  { table: 'filter', from: 'FORWARD', to: 'KUBE-EXTERNAL-SERVICES', extra: NEW, comment: 'kubernetes externally-visible service portals' },
  { table: 'filter', from: 'INPUT', to: 'KUBE-NODEPORTS', extra: [], comment: 'kubernetes health check service ports' },
  { table: 'filter', from: 'FORWARD', to: 'KUBE-SERVICES', extra: NEW, comment: 'kubernetes service portals' },
  { table: 'filter', from: 'OUTPUT', to: 'KUBE-SERVICES', extra: NEW, comment: 'kubernetes service portals' },
  { table: 'filter', from: 'FORWARD', to: 'KUBE-FORWARD', extra: [], comment: 'kubernetes forwarding rules' },
  { table: 'filter', from: 'INPUT', to: 'KUBE-PROXY-FIREWALL', extra: NEW, comment: 'kubernetes load balancer firewall' },
  { table: 'filter', from: 'OUTPUT', to: 'KUBE-PROXY-FIREWALL', extra: NEW, comment: 'kubernetes load balancer firewall' },
  { table: 'filter', from: 'FORWARD', to: 'KUBE-PROXY-FIREWALL', extra: NEW, comment: 'kubernetes load balancer firewall' },
  { table: 'nat', from: 'OUTPUT', to: 'KUBE-SERVICES', extra: [], comment: 'kubernetes service portals' },
  { table: 'nat', from: 'PREROUTING', to: 'KUBE-SERVICES', extra: [], comment: 'kubernetes service portals' },
  { table: 'nat', from: 'POSTROUTING', to: 'KUBE-POSTROUTING', extra: [], comment: 'kubernetes postrouting rules' },
  // kubelet's KUBE-FIREWALL jumps, which kube-proxy also ensures in case kubelet does not.
  { table: 'filter', from: 'INPUT', to: 'KUBE-FIREWALL', extra: [], comment: undefined },
  { table: 'filter', from: 'OUTPUT', to: 'KUBE-FIREWALL', extra: [], comment: undefined },
];

/** Empty chains kube-proxy creates to notice when someone flushes its tables. */
const CANARY_CHAIN = 'KUBE-PROXY-CANARY';
const CANARY_TABLES = ['mangle', 'nat', 'filter'];

/** Arguments of one jump rule, as `iptables -I FROM 1 <args>` receives them. */
export function baseJumpArgs(jump: BaseJump): string[] {
  const comment = jump.comment === undefined ? [] : ['-m', 'comment', '--comment', jump.comment];
  return [...jump.extra, ...comment, '-j', jump.to];
}

/**
 * The node's tables after kube-proxy's first full sync on a fresh node: built-in chains with ACCEPT policy,
 * the base-chain jumps, the canary chains, and the payload. Chains jumped to but absent from the payload
 * are created empty (`iptables -N`), as kube-proxy does.
 */
export function withBaseChainJumps(payload: IptablesRuleset): IptablesRuleset {
  const tables = new Map<string, Table>();
  for (const name of ['filter', 'nat', 'mangle']) {
    tables.set(name, {
      name,
      chains: (BUILTIN_CHAINS[name] ?? []).map((chain) => ({ name: chain, policy: 'ACCEPT' })),
      rules: [],
      deletedChains: [],
    });
  }
  const jumpRules = new Map<string, Rule[]>();
  for (const jump of BASE_CHAIN_JUMPS) {
    const table = tables.get(jump.table) as Table;
    if (!table.chains.some((chain) => chain.name === jump.to)) table.chains.push({ name: jump.to });
    const rules = jumpRules.get(jump.table) ?? [];
    jumpRules.set(jump.table, [ruleFromArgs(jump.from, baseJumpArgs(jump)), ...rules]);
  }
  for (const name of CANARY_TABLES) (tables.get(name) as Table).chains.push({ name: CANARY_CHAIN });
  for (const [name, rules] of jumpRules) (tables.get(name) as Table).rules.push(...rules);

  for (const source of payload.tables) {
    let table = tables.get(source.name);
    if (!table) tables.set(source.name, (table = { name: source.name, chains: [], rules: [], deletedChains: [] }));
    // A Set and plain loops: payloads of large clusters have 100,000 chains and 300,000 rules.
    const declared = new Set(table.chains.map((chain) => chain.name));
    for (const chain of source.chains) {
      if (declared.has(chain.name)) continue;
      declared.add(chain.name);
      table.chains.push(chain);
    }
    const offset = table.rules.length;
    for (const rule of source.rules) table.rules.push(rule);
    for (const d of source.deletedChains) table.deletedChains.push({ ...d, beforeRule: d.beforeRule + offset });
  }
  return { family: payload.family, tables: [...tables.values()] };
}
