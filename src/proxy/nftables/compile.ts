/**
 * Cluster + node settings → the ruleset kube-proxy's nftables mode writes on a full sync: one table
 * (`ip kube-proxy` / `ip6 kube-proxy`) holding the fixed skeleton of spec kube-proxy-nftables.md §3 and, per
 * service port, the elements, chains and sets of §4. The result is the table's final state (what knftables'
 * fake `Dump()` shows); objects are added in kube-proxy's order, the renderers sort.
 */
import type { Cluster } from '../../cluster/types.js';
import type { NftChain, NftElement, NftExpr, NftFamily, NftRuleset, NftSet, NftStatement, NftTable, NftVerdict } from '../../ir/nftables.js';
import type { NodeConfig } from '../../model/node-config.js';
import { cidrContains, parseCIDR, parseIP } from '../../net/ip.js';
import { ruleFromText } from '../../parse/nft.js';
import { categorizeEndpoints, proxyServicePorts, type ProxyEndpoint, type ProxyServicePort } from '../service-ports.js';
import { localDetectorArgs } from '../iptables/local-detector.js';
import { nodePortDestinations } from '../iptables/nodeport-addresses.js';
import { endpointNames, flat, servicePortNames } from './names.js';
import { Sha256 } from '../sha256.js';

export const TABLE_NAME = 'kube-proxy';
export const TABLE_COMMENT = 'rules for kube-proxy';

/** The base chains (§3.1): name, type, hook, priority as knftables dumps it (named priorities resolved). */
export const BASE_CHAINS: readonly { name: string; type: string; hook: string; priority: number }[] = [
  { name: 'filter-prerouting-pre-dnat', type: 'filter', hook: 'prerouting', priority: -110 },
  { name: 'filter-output-pre-dnat', type: 'filter', hook: 'output', priority: -110 },
  { name: 'filter-input', type: 'filter', hook: 'input', priority: 0 },
  { name: 'filter-forward', type: 'filter', hook: 'forward', priority: 0 },
  { name: 'filter-output', type: 'filter', hook: 'output', priority: 0 },
  { name: 'nat-prerouting', type: 'nat', hook: 'prerouting', priority: -100 },
  { name: 'nat-output', type: 'nat', hook: 'output', priority: -100 },
  { name: 'nat-postrouting', type: 'nat', hook: 'postrouting', priority: 100 },
];

/**
 * Jumps from the base chains into the top-level chains (§3.2), in kube-proxy's order, which fixes the order
 * within each base chain. cluster-ips-check comes last so it sees packets after DNAT (priority 0 > -100).
 */
const JUMP_CHAINS: readonly { from: string; filter: string; to: string }[] = [
  { from: 'filter-input', filter: 'ct state new', to: 'nodeport-endpoints-check' },
  { from: 'filter-input', filter: 'ct state new', to: 'service-endpoints-check' },
  { from: 'filter-forward', filter: 'ct state new', to: 'service-endpoints-check' },
  { from: 'filter-output', filter: 'ct state new', to: 'service-endpoints-check' },
  { from: 'filter-prerouting-pre-dnat', filter: 'ct state new', to: 'firewall-check' },
  { from: 'filter-output-pre-dnat', filter: 'ct state new', to: 'firewall-check' },
  { from: 'nat-output', filter: '', to: 'services' },
  { from: 'nat-prerouting', filter: '', to: 'services' },
  { from: 'nat-postrouting', filter: '', to: 'masquerading' },
  { from: 'filter-forward', filter: 'ct state new', to: 'cluster-ips-check' },
  { from: 'filter-output', filter: 'ct state new', to: 'cluster-ips-check' },
];

const MARK_MASQ = 'mark-for-masquerade';
const REJECT_CHAIN = 'reject-chain';
const VERDICT_KEY = (addr: string) => `${addr} . inet_proto . inet_service`;

/**
 * Appends chains, sets, rules and elements to one table; names must be added before rules are added to them.
 * Chains, sets and element keys are indexed, so a 10,000-service cluster compiles in linear time.
 */
class TableWriter {
  readonly table: NftTable;
  private readonly chains = new Map<string, NftChain>();
  private readonly sets = new Map<string, { set: NftSet; keys: Map<string, number> }>();
  constructor(family: NftFamily) {
    this.table = { family, name: TABLE_NAME, comment: TABLE_COMMENT, chains: [], sets: [] };
  }
  hasChain(name: string): boolean {
    return this.chains.has(name);
  }
  chain(name: string, extra?: Partial<Omit<NftChain, 'name' | 'rules'>>): NftChain {
    const chain = this.unindexedChain(name, extra);
    this.chains.set(name, chain);
    return chain;
  }
  /**
   * A chain that rules reach only through the returned object, not by name: the endpoint chains, 100,000s of
   * them in a large cluster, where indexing every name costs more than the rest of creating the chain.
   */
  unindexedChain(name: string, extra?: Partial<Omit<NftChain, 'name' | 'rules'>>): NftChain {
    const chain: NftChain = extra ? { name, ...extra, rules: [] } : { name, rules: [] };
    this.table.chains.push(chain);
    return chain;
  }
  set(declaration: Omit<NftSet, 'elements'>): void {
    const set: NftSet = { ...declaration, elements: [] };
    this.sets.set(set.name, { set, keys: new Map() });
    this.table.sets.push(set);
  }
  /**
   * A rule whose typed view is built by the caller: the per-endpoint rules are most of a large ruleset, and
   * parsing each one back costs more than the rest of the compile. A test checks these views against
   * the parser on every fixture.
   */
  ruleWith(chain: string | NftChain, text: string, statements: NftStatement[]): void {
    const target = typeof chain === 'string' ? this.chains.get(chain) : chain;
    if (!target) throw new Error(`internal: no chain ${String(chain)}`);
    target.rules.push({ text: flat(text), statements });
  }
  /** `text` is the rule as kube-proxy's Concat joins it; the comment is dumped after it. */
  rule(chain: string, text: string, comment?: string): void {
    const target = this.chains.get(chain);
    const parsed = ruleFromText(text);
    if (!target || parsed.problems.length > 0) {
      throw new Error(`internal: bad nftables rule for ${chain}: ${text}: ${parsed.problems.map((p) => p.message).join('; ')}`);
    }
    if (comment !== undefined) parsed.rule.comment = comment;
    target.rules.push(parsed.rule);
  }
  element(set: string, element: NftElement): void {
    const target = this.sets.get(set);
    if (!target) throw new Error(`internal: no set ${set}`);
    // Re-adding a key replaces its value in place, as in a knftables transaction.
    const key = element.key.join(' . ');
    const index = target.keys.get(key);
    if (index !== undefined) {
      target.set.elements[index] = element;
    } else {
      target.keys.set(key, target.set.elements.length);
      target.set.elements.push(element);
    }
  }
}

/** Everything the per-service-port writer needs from the node settings. */
interface SyncSettings {
  /** `ip` or `ip6`: the payload protocol keyword, also the table family. */
  ipX: 'ip' | 'ip6';
  /** `ipv4_addr` or `ipv6_addr`: the address type of sets. */
  addrType: string;
  mark: string;
  masqueradeAll: boolean;
  /** `ip saddr 10.0.0.0/8` / `ip saddr != 10.0.0.0/8`; undefined when no detector is implemented. */
  detector: { ifLocal: string; ifNotLocal: string } | undefined;
  /** The primary node IP, for the LoadBalancer source-range self-allow. */
  nodeIP: string;
  /** Statements every endpoint chain repeats, built once: a large ruleset has 100,000s of endpoint chains. */
  shared: SharedStatements;
  /** Hashes every chain and set name of this compile. */
  sha: Sha256;
}

interface SharedStatements {
  /** `ip saddr` (`ip6 saddr`). */
  saddr: NftExpr;
  /** `jump mark-for-masquerade`. */
  jumpMarkMasq: NftStatement;
  /** `meta l4proto PROTO`, per protocol. */
  l4proto: Readonly<Record<ProxyServicePort['protocol'], NftStatement>>;
}

/** Frozen, as many rules share each of them. */
function sharedStatements(ipX: 'ip' | 'ip6'): SharedStatements {
  const l4proto = (value: string): NftStatement =>
    deepFreeze({ kind: 'match', left: { kind: 'field', name: 'meta l4proto' }, op: '==', right: { kind: 'value', value } });
  return {
    saddr: deepFreeze({ kind: 'field', name: `${ipX} saddr` }),
    jumpMarkMasq: deepFreeze({ kind: 'verdict', verdict: { kind: 'jump', chain: MARK_MASQ } }),
    l4proto: { tcp: l4proto('tcp'), udp: l4proto('udp'), sctp: l4proto('sctp') },
  };
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) if (typeof child === 'object' && child !== null) deepFreeze(child as object);
  return Object.freeze(value);
}

export function compileNftables(cluster: Cluster, config: NodeConfig): NftRuleset {
  const ipX = config.ipFamily === 4 ? 'ip' : 'ip6';
  const addrType = config.ipFamily === 4 ? 'ipv4_addr' : 'ipv6_addr';
  const settings: SyncSettings = {
    ipX,
    addrType,
    mark: config.masqueradeMark,
    masqueradeAll: config.masqueradeAll,
    detector: nftLocalDetector(config, ipX),
    nodeIP: config.nodeIP,
    shared: sharedStatements(ipX),
    sha: new Sha256(),
  };
  const w = new TableWriter(ipX);
  const m = settings.mark;

  // §3.1 base chains, §3.2 the top-level chains they jump to.
  for (const bc of BASE_CHAINS) w.chain(bc.name, { base: { type: bc.type, hook: bc.hook, priority: bc.priority } });
  for (const jump of JUMP_CHAINS) {
    if (!w.hasChain(jump.to)) w.chain(jump.to);
    w.rule(jump.from, `${jump.filter === '' ? '' : `${jump.filter} `}jump ${jump.to}`);
  }

  // §3.4 masquerading: endpoint/service chains set the mark, postrouting masquerades marked packets once.
  w.chain(MARK_MASQ);
  w.rule(MARK_MASQ, `mark set mark or ${m}`);
  w.rule('masquerading', `mark and ${m} == 0 return`);
  w.rule('masquerading', `mark set mark xor ${m}`);
  w.rule('masquerading', 'masquerade fully-random');

  // cluster-ips-check: anything still addressed to a ClusterIP after DNAT hit no service port: refuse it;
  // an unallocated address of the service CIDRs is dropped.
  w.set({ kind: 'set', name: 'cluster-ips', type: addrType, comment: 'Active ClusterIPs' });
  w.rule('cluster-ips-check', `${ipX} daddr @cluster-ips reject`, 'Reject traffic to invalid ports of ClusterIPs');
  // One pre-joined argument in kube-proxy, hence `a,b` without spaces inside the braces.
  const serviceCIDRs = config.serviceCIDRs
    .flatMap((text) => {
      const cidr = parseCIDR(text.trim(), { sloppy: true });
      return cidr && cidr.family === config.ipFamily ? [cidr.text] : [];
    })
    .join(',');
  if (serviceCIDRs !== '') {
    w.rule('cluster-ips-check', `${ipX} daddr { ${serviceCIDRs} } drop`, 'Drop traffic to unallocated ClusterIPs');
  }

  // NodePort destinations: a set of node addresses, or "any local address but loopback" (match-all).
  const nodePorts = nftNodePortAddresses(config);
  const noLocalhost = `${ipX} daddr != ${config.ipFamily === 4 ? '127.0.0.0/8' : '::1'}`;
  if (!nodePorts.matchAll) {
    w.set({ kind: 'set', name: 'nodeport-ips', type: addrType, comment: 'IPs that accept NodePort traffic' });
    for (const ip of nodePorts.addresses) w.element('nodeport-ips', { key: [ip] });
  }

  // No-endpoint verdict maps, checked in the filter stage before anything reaches nat.
  w.set({
    kind: 'map', name: 'no-endpoint-services', type: VERDICT_KEY(addrType), dataType: 'verdict',
    comment: 'vmap to drop or reject packets to services with no endpoints',
  });
  w.set({
    kind: 'map', name: 'no-endpoint-nodeports', type: 'inet_proto . inet_service', dataType: 'verdict',
    comment: 'vmap to drop or reject packets to service nodeports with no endpoints',
  });
  w.chain(REJECT_CHAIN, { comment: 'helper for @no-endpoint-services / @no-endpoint-nodeports' });
  w.rule(REJECT_CHAIN, 'reject');
  w.rule('service-endpoints-check', `${ipX} daddr . meta l4proto . th dport vmap @no-endpoint-services`);
  w.rule(
    'nodeport-endpoints-check',
    nodePorts.matchAll
      ? `${noLocalhost} meta l4proto . th dport vmap @no-endpoint-nodeports`
      : `${ipX} daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports`,
  );

  // LoadBalancer source ranges, checked before DNAT.
  w.set({
    kind: 'map', name: 'firewall-ips', type: VERDICT_KEY(addrType), dataType: 'verdict',
    comment: 'destinations that are subject to LoadBalancerSourceRanges',
  });
  w.rule('firewall-check', `${ipX} daddr . meta l4proto . th dport vmap @firewall-ips`);

  // Service dispatch: one verdict-map lookup for every service IP, one for every NodePort.
  w.set({
    kind: 'map', name: 'service-ips', type: VERDICT_KEY(addrType), dataType: 'verdict',
    comment: 'ClusterIP, ExternalIP and LoadBalancer IP traffic',
  });
  w.set({ kind: 'map', name: 'service-nodeports', type: 'inet_proto . inet_service', dataType: 'verdict', comment: 'NodePort traffic' });
  w.rule('services', `${ipX} daddr . meta l4proto . th dport vmap @service-ips`);
  w.rule(
    'services',
    nodePorts.matchAll
      ? `fib daddr type local ${noLocalhost} meta l4proto . th dport vmap @service-nodeports`
      : `${ipX} daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports`,
  );

  for (const svc of proxyServicePorts(cluster, config)) writeServicePort(svc, settings, w);
  return { tables: [w.table] };
}

/** Everything one service port writes (§4.2–§4.9). */
function writeServicePort(svc: ProxyServicePort, s: SyncSettings, w: TableWriter): void {
  const { cluster, local, allReachable, hasAny } = categorizeEndpoints(svc);
  const names = servicePortNames(svc, s.sha);
  const proto = svc.protocol;
  const port = svc.port;

  // §4.2 decision variables.
  const usesClusterPolicyChain = cluster.length > 0 && svc.usesClusterEndpoints;
  const usesLocalPolicyChain = local.length > 0 && svc.usesLocalEndpoints;
  const internalChain = svc.internalPolicyLocal ? names.local : names.cluster;
  const hasInternal = svc.internalPolicyLocal ? local.length > 0 : hasAny;
  const externalPolicyChain = svc.externalPolicyLocal ? names.local : names.cluster;
  const hasExternal = svc.externalPolicyLocal ? local.length > 0 : hasAny;
  // Deliberately not hasExternal: eTP Local without local endpoints still short-circuits pods and the node.
  const usesExternalChain = hasAny && svc.externallyAccessible;
  const usesFirewall = svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  // With no endpoints at all the packet is rejected; with endpoints this policy may not use, dropped.
  const noEndpoint: NftVerdict = { kind: 'goto', chain: REJECT_CHAIN };
  const internalVerdict: NftVerdict = !hasAny ? noEndpoint : { kind: 'drop' };
  const externalVerdict: NftVerdict = !hasAny ? noEndpoint : { kind: 'drop' };
  const goto = (chain: string): NftVerdict => ({ kind: 'goto', chain });
  const noEndpointElement = (key: string[], verdict: NftVerdict): NftElement => ({
    key,
    comment: svc.portName,
    value: { kind: 'verdict', verdict },
  });

  // §4.9 endpoint chains, created first so the policy chains can name them.
  const endpointChains = new Map<string, string>();
  const { saddr, jumpMarkMasq, l4proto } = s.shared;
  for (const ep of allReachable) {
    const epNames = endpointNames(svc, ep, s.sha);
    endpointChains.set(ep.text, epNames.chain);
    const chain = w.unindexedChain(epNames.chain);
    if (svc.stickySeconds !== undefined) {
      w.set({ kind: 'set', name: epNames.affinitySet, type: s.addrType, flags: ['dynamic', 'timeout'], timeout: svc.stickySeconds });
    }
    // Hairpin: an endpoint reaching itself through the service must be masqueraded, or it answers itself.
    w.ruleWith(chain, `${s.ipX} saddr ${ep.ip} jump ${MARK_MASQ}`, [
      { kind: 'match', left: saddr, op: '==', right: { kind: 'value', value: ep.ip } },
      jumpMarkMasq,
    ]);
    if (svc.stickySeconds !== undefined) {
      w.ruleWith(chain, `update @${epNames.affinitySet} { ${s.ipX} saddr }`, [
        { kind: 'set-update', op: 'update', set: epNames.affinitySet, key: saddr },
      ]);
    }
    w.ruleWith(chain, `meta l4proto ${proto} dnat to ${s.ipX === 'ip' ? ep.ip : `[${ep.ip}]`}:${ep.port}`, [
      l4proto[proto],
      { kind: 'nat', type: 'dnat', address: ep.ip, port: ep.port, flags: [] },
    ]);
  }

  // §4.3 set and map elements.
  w.element('cluster-ips', { key: [svc.clusterIP] });
  const clusterKey = [svc.clusterIP, proto, String(port)];
  if (hasInternal) w.element('service-ips', { key: clusterKey, value: { kind: 'verdict', verdict: goto(internalChain) } });
  else w.element('no-endpoint-services', noEndpointElement(clusterKey, internalVerdict));

  for (const ip of svc.externalIPs) {
    const key = [ip, proto, String(port)];
    if (hasAny) w.element('service-ips', { key, value: { kind: 'verdict', verdict: goto(names.external) } });
    if (!hasExternal) w.element('no-endpoint-services', noEndpointElement(key, externalVerdict));
  }
  for (const ip of svc.loadBalancerVIPs) {
    const key = [ip, proto, String(port)];
    if (hasAny) w.element('service-ips', { key, value: { kind: 'verdict', verdict: goto(names.external) } });
    if (usesFirewall) {
      // The firewall chain is created below; elements are checked against chains only when dumped.
      w.element('firewall-ips', { key, value: { kind: 'verdict', verdict: goto(names.firewall) } });
    }
    if (!hasExternal) w.element('no-endpoint-services', noEndpointElement(key, externalVerdict));
  }
  if (svc.nodePort !== 0) {
    const key = [proto, String(svc.nodePort)];
    if (hasAny) w.element('service-nodeports', { key, value: { kind: 'verdict', verdict: goto(names.external) } });
    if (!hasExternal) w.element('no-endpoint-nodeports', noEndpointElement(key, externalVerdict));
  }

  // §4.4 + §4.7 + §4.8 policy chains.
  if (usesClusterPolicyChain) w.chain(names.cluster);
  if (usesLocalPolicyChain) w.chain(names.local);
  if (hasInternal) {
    // Traffic to the ClusterIP from outside the pod network is masqueraded so replies come back through us.
    if (s.masqueradeAll) w.rule(internalChain, `${s.ipX} daddr ${svc.clusterIP} jump ${MARK_MASQ}`);
    else if (s.detector) w.rule(internalChain, `${s.ipX} daddr ${svc.clusterIP} ${s.detector.ifNotLocal} jump ${MARK_MASQ}`);
  }
  if (usesClusterPolicyChain) writeBalancing(w, s, svc, names.cluster, cluster, endpointChains);
  if (usesLocalPolicyChain) writeBalancing(w, s, svc, names.local, local, endpointChains);

  // §4.5 external chain.
  if (usesExternalChain) {
    w.chain(names.external);
    if (!svc.externalPolicyLocal) {
      // eTP Cluster: the source may be anywhere, so replies must come back through this node.
      w.rule(names.external, `jump ${MARK_MASQ}`);
    } else {
      // eTP Local keeps the client IP for outside traffic; pods and the node itself may use any endpoint.
      if (s.detector) w.rule(names.external, `${s.detector.ifLocal} goto ${names.cluster}`, 'short-circuit pod traffic');
      w.rule(names.external, `fib saddr type local jump ${MARK_MASQ}`, 'masquerade local traffic');
      w.rule(names.external, `fib saddr type local goto ${names.cluster}`, 'short-circuit local traffic');
    }
    if (hasExternal) w.rule(names.external, `goto ${externalPolicyChain}`);
  }

  // §4.6 firewall chain: one drop rule for sources outside the ranges; allowed packets fall off the end.
  if (usesFirewall) {
    w.chain(names.firewall);
    const sources = [...svc.loadBalancerSourceRanges];
    const nodeIP = parseIP(s.nodeIP);
    const allowFromNode =
      nodeIP !== undefined &&
      svc.loadBalancerSourceRanges.some((text) => {
        const cidr = parseCIDR(text);
        return cidr !== undefined && cidrContains(cidr, nodeIP);
      });
    // VIP-style load balancers loop the node's own traffic back with the VIP as source.
    if (allowFromNode) sources.push(...svc.loadBalancerVIPs);
    w.rule(names.firewall, `${s.ipX} saddr != { ${sources.join(' , ')} } drop`);
  }
}

/** Affinity lookups (one per endpoint, in endpoint order), then the random pick over the chain's endpoints. */
function writeBalancing(
  w: TableWriter,
  s: SyncSettings,
  svc: ProxyServicePort,
  chain: string,
  endpoints: readonly ProxyEndpoint[],
  endpointChains: ReadonlyMap<string, string>,
): void {
  const chainOf = (ep: ProxyEndpoint): string => {
    const name = endpointChains.get(ep.text);
    if (name === undefined) throw new Error(`internal: no endpoint chain for ${ep.text}`);
    return name;
  };
  if (svc.stickySeconds !== undefined) {
    for (const ep of endpoints) {
      w.rule(chain, `${s.ipX} saddr @${endpointNames(svc, ep, s.sha).affinitySet} goto ${chainOf(ep)}`);
    }
  }
  const entries = endpoints.map((ep, i) => `${i} : goto ${chainOf(ep)}`).join(' , ');
  w.ruleWith(chain, `numgen random mod ${endpoints.length} vmap { ${entries} }`, [
    {
      kind: 'vmap',
      key: { kind: 'numgen', mode: 'random', mod: endpoints.length },
      map: {
        kind: 'anon-set',
        elements: endpoints.map((ep, i) => ({ key: [String(i)], value: { kind: 'verdict', verdict: { kind: 'goto', chain: chainOf(ep) } } })),
      },
    },
  ]);
}

/**
 * kube-proxy's local-traffic detector in nft words (§2.6), from the same CIDR/interface choice iptables mode
 * makes. Interface detectors use `iif`, as the spec's proxier version writes them.
 */
function nftLocalDetector(config: NodeConfig, ipX: string): SyncSettings['detector'] {
  const args = localDetectorArgs(config);
  if (!args) return undefined;
  const [flag, value] = args.ifLocal as [string, string];
  if (flag === '-s') return { ifLocal: `${ipX} saddr ${value}`, ifNotLocal: `${ipX} saddr != ${value}` };
  const name = value.endsWith('+') ? `${value.slice(0, -1)}*` : value;
  return { ifLocal: `iif ${name}`, ifNotLocal: `iif != ${name}` };
}

/**
 * NodePort addresses for nftables mode: the iptables resolution with loopback always excluded (nftables mode
 * never serves NodePorts on localhost, whatever localhostNodePorts says).
 */
export function nftNodePortAddresses(config: NodeConfig): { matchAll: boolean; addresses: string[] } {
  const { matchAll, addresses } = nodePortDestinations({ ...config, localhostNodePorts: false });
  return { matchAll, addresses };
}
