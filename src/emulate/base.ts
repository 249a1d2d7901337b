/**
 * A compiled payload as it sits on a node: kube-proxy's base-chain jumps (proxy/iptables/base-chains.ts) plus the
 * payload. Same result as `withBaseChainJumps(payload)`, merged with a Set so that 100,000-chain payloads stay
 * linear.
 */
import type { IptablesRuleset, Table } from '../ir/iptables.js';
import { withBaseChainJumps } from '../proxy/iptables/base-chains.js';

export function nodeRuleset(payload: IptablesRuleset): IptablesRuleset {
  const base = withBaseChainJumps({ family: payload.family, tables: [] });
  const tables = new Map<string, Table>(base.tables.map((t) => [t.name, { ...t, chains: [...t.chains], rules: [...t.rules], deletedChains: [...t.deletedChains] }]));
  for (const source of payload.tables) {
    let table = tables.get(source.name);
    if (!table) tables.set(source.name, (table = { name: source.name, chains: [], rules: [], deletedChains: [] }));
    const known = new Set(table.chains.map((c) => c.name));
    for (const chain of source.chains) {
      if (!known.has(chain.name)) {
        known.add(chain.name);
        table.chains.push(chain);
      }
    }
    const offset = table.rules.length;
    for (const rule of source.rules) table.rules.push(rule);
    for (const d of source.deletedChains) table.deletedChains.push({ ...d, beforeRule: d.beforeRule + offset });
  }
  return { family: payload.family, tables: [...tables.values()] };
}
