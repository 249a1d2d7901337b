/**
 * What kube-proxy knows of a node before it syncs, read from a dump of that node (`iptables-save`, or the
 * payload of an earlier compile): the nat chains it holds, for the stale-chain cleanup (spec §4.7), and for a
 * partial sync (§8) which Services count as unchanged.
 *
 * kube-proxy calls a Service unchanged when neither it nor its EndpointSlices changed since its last sync. A
 * dump does not say what changed, so kproxy calls a Service unchanged when the node already holds every one
 * of its own chains (KUBE-SVC/SVL/EXT/FW/SEP) with exactly the rules a full sync writes, and none it would not
 * write: the Services a partial sync may leave alone without changing the outcome. Rules are compared as
 * iptables-save prints them (render/save.ts), the one form a node's dump and a payload both reduce to.
 */
import type { Cluster } from '../../cluster/types.js';
import type { IPFamily } from '../../net/ip.js';
import type { IptablesRuleset } from '../../ir/iptables.js';
import type { NodeConfig } from '../../model/node-config.js';
import { applyRuleset, saveRuleLines, type KernelTable } from '../../render/save.js';
import { proxyServicePorts, type ProxyServicePort } from '../service-ports.js';
import { compileIptables, type PreviousSync } from './compile.js';
import { endpointChain, servicePortChains } from './names.js';
import { Sha256 } from '../sha256.js';

export function previousSync(cluster: Cluster, config: NodeConfig, node: IptablesRuleset, options: { partial: boolean }): PreviousSync {
  const nodeNat = applyRuleset(node).get('nat');
  const natChains = nodeNat ? [...nodeNat.chains.keys()] : [];
  if (!options.partial || !nodeNat) return { natChains, unchangedServices: new Set() };

  const fullNat = applyRuleset(compileIptables(cluster, config)).get('nat') as KernelTable;
  const sha = new Sha256();
  /** Service → whether every chain of every one of its ports is already on the node as a full sync writes it. */
  const unchanged = new Map<string, boolean>();
  for (const svc of proxyServicePorts(cluster, config)) {
    const service = `${svc.service.namespace}/${svc.service.name}`;
    const same = ownChainNames(svc, sha).every((chain) => sameChain(fullNat, nodeNat, chain, config.ipFamily));
    unchanged.set(service, (unchanged.get(service) ?? true) && same);
  }
  return { natChains, unchangedServices: new Set([...unchanged].filter(([, same]) => same).map(([service]) => service)) };
}

/** Every chain name the port could own: its four policy chains and a KUBE-SEP per endpoint, ready or not. */
function ownChainNames(svc: ProxyServicePort, sha: Sha256): string[] {
  const chains = servicePortChains(svc.portName, svc.protocol, sha);
  return [
    chains.cluster,
    chains.local,
    chains.external,
    chains.firewall,
    ...svc.endpoints.map((ep) => endpointChain(svc.portName, svc.protocol, ep.text, sha)),
  ];
}

/** Both tables lack the chain, or both hold it with the same rules as iptables-save prints them. */
function sameChain(full: KernelTable, node: KernelTable, name: string, family: IPFamily): boolean {
  const want = full.chains.get(name);
  const have = node.chains.get(name);
  if (!want || !have) return !want && !have;
  if (want.rules.length !== have.rules.length) return false;
  return want.rules.every((rule, i) => {
    const other = have.rules[i];
    return other !== undefined && saveRuleLines(rule, family).join('\n') === saveRuleLines(other, family).join('\n');
  });
}
