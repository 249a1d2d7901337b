/**
 * Cluster + node settings → the iptables-restore payload kube-proxy (iptables mode) writes on a full sync
 * (spec kube-proxy-iptables.md §4–§7). Only the payload: the jumps from the built-in chains are added by
 * base-chains.ts, as kube-proxy adds them with separate iptables calls.
 */
import type { Cluster } from '../../cluster/types.js';
import { PartInterner, ruleFromArgs } from '../../ir/args.js';
import type { ChainDecl, DeletedChain, IptablesRuleset, MatchPart, Rule, Target } from '../../ir/iptables.js';
import type { NodeConfig } from '../../model/node-config.js';
import { cidrContains, parseCIDR, parseIP } from '../../net/ip.js';
import { categorizeEndpoints, proxyServicePorts, type ProxyEndpoint, type ProxyServicePort } from '../service-ports.js';
import { localDetectorArgs, type LocalDetectorArgs } from './local-detector.js';
import { endpointChain, servicePortChains } from './names.js';
import { nodePortDestinations } from './nodeport-addresses.js';
import { probabilityFor } from './probability.js';
import { Sha256 } from '../sha256.js';

/** Above this many endpoints in total kube-proxy drops most per-endpoint comments (large-cluster mode). */
export const LARGE_CLUSTER_ENDPOINTS_THRESHOLD = 1000;

/** The two buffers of each table: chain declarations first, then rules (as kube-proxy concatenates them). */
class TableWriter {
  readonly chains: ChainDecl[] = [];
  readonly rules: Rule[] = [];
  /** `-X` lines, each placed before the rules written after it. */
  readonly deleted: DeletedChain[] = [];
  /** Rules repeat the same few parts (`-m comment`, `-p tcp`, `-j KUBE-MARK-MASQ`): one frozen copy each. */
  private readonly intern = new PartInterner();
  chain(name: string): void {
    this.chains.push({ name });
  }
  deleteChain(name: string): void {
    this.deleted.push({ name, beforeRule: this.rules.length });
  }
  rule(chain: string, ...args: string[]): void {
    const built = ruleFromArgs(chain, args);
    const parts = this.interned(built.parts);
    this.rules.push(built.target ? { chain, parts, target: this.intern.target(built.target) } : { chain, parts });
  }
  /**
   * A rule from parts the caller built, exactly as `rule` would read their words: the per-endpoint rules
   * (most of a large payload) skip building and re-reading argument vectors.
   */
  ruleOf(chain: string, parts: readonly MatchPart[] | SharedParts, target: Target): void {
    const own = isShared(parts) ? parts.parts : this.interned(parts);
    this.rules.push({ chain, parts: own, target: this.intern.target(target) });
  }
  /** `parts` interned, in one array for every rule of a service port that writes the same matches. */
  sharedParts(parts: readonly MatchPart[]): SharedParts {
    return { parts: this.interned(parts) };
  }
  private interned(parts: readonly MatchPart[]): MatchPart[] {
    // Exact-size array: a pushed-to array keeps spare capacity, which adds up over 300k rules.
    const out = new Array<MatchPart>(parts.length);
    for (let k = 0; k < parts.length; k++) out[k] = this.intern.part(parts[k] as MatchPart);
    return out;
  }
}

/** Interned parts that many rules hold as one array (not frozen: renderers iterate plain arrays fastest). */
interface SharedParts {
  parts: MatchPart[];
}

function isShared(parts: readonly MatchPart[] | SharedParts): parts is SharedParts {
  return !Array.isArray(parts);
}

/** The parts `-m NAME` and `--OPTION VALUE` read into (see partsFromArgs), for TableWriter.ruleOf. */
function modulePart(name: string): MatchPart {
  return { kind: 'module', name };
}
function optionPart(module: string, name: string, args: string[]): MatchPart {
  return { kind: 'option', module, name, negated: false, args };
}
function jump(name: string): Target {
  return { name, goto: false, options: [] };
}

interface SyncSettings {
  config: NodeConfig;
  mark: string;
  detector: LocalDetectorArgs | undefined;
  localhostNodePorts: boolean;
  largeCluster: boolean;
  /** `-m statistic --mode random --probability P` per number of endpoints left (none for the last), built
   * once (kube-proxy caches the texts too) as one shared array of interned parts. */
  statistic: (endpointsLeft: number) => SharedParts;
  /** Hashes every chain name of this compile. */
  sha: Sha256;
}

/**
 * What kube-proxy knows of the node before this sync (spec §4.7, §8); without it the payload is a full sync
 * on a node without stale chains. previous.ts reads it from a dump of the node.
 */
export interface PreviousSync {
  /** The nat chains on the node (`iptables-save -t nat`): kube-proxy's own that this sync does not write are deleted. */
  natChains: readonly string[];
  /** Partial sync: Services (`namespace/name`) unchanged since the last sync, whose own chains are left as they are. */
  unchangedServices: ReadonlySet<string>;
}

/** The chains kube-proxy owns per Service, the only ones its stale-chain cleanup deletes. */
export const SERVICE_CHAIN_PREFIXES: readonly string[] = ['KUBE-SVC-', 'KUBE-SVL-', 'KUBE-EXT-', 'KUBE-FW-', 'KUBE-SEP-'];

export function compileIptables(cluster: Cluster, config: NodeConfig, previous?: PreviousSync): IptablesRuleset {
  const servicePorts = proxyServicePorts(cluster, config);
  const totalEndpoints = servicePorts.reduce((sum, svc) => sum + svc.endpoints.length, 0);
  const nodePorts = nodePortDestinations(config);
  const filter = new TableWriter();
  const nat = new TableWriter();
  const settings: SyncSettings = {
    config,
    mark: config.masqueradeMark,
    detector: localDetectorArgs(config),
    localhostNodePorts: nodePorts.localhostNodePorts,
    largeCluster: totalEndpoints > LARGE_CLUSTER_ENDPOINTS_THRESHOLD,
    // The last endpoint (1 left) takes what is left: no statistic match.
    statistic: memoize((n) =>
      nat.sharedParts(
        n === 1
          ? []
          : [
              modulePart('statistic'),
              optionPart('statistic', 'mode', ['random']),
              optionPart('statistic', 'probability', [probabilityFor(n)]),
            ],
      ),
    ),
    sha: new Sha256(),
  };
  const ipv4 = config.ipFamily === 4;
  const m = settings.mark;

  for (const name of ['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-FORWARD', 'KUBE-NODEPORTS', 'KUBE-PROXY-FIREWALL']) {
    filter.chain(name);
  }
  for (const name of ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ']) nat.chain(name);

  nat.rule('KUBE-POSTROUTING', '-m', 'mark', '!', '--mark', `${m}/${m}`, '-j', 'RETURN');
  nat.rule('KUBE-POSTROUTING', '-j', 'MARK', '--xor-mark', m);
  nat.rule(
    'KUBE-POSTROUTING', '-m', 'comment', '--comment', 'kubernetes service traffic requiring SNAT', '-j', 'MASQUERADE',
    ...(config.hasRandomFully ? ['--random-fully'] : []),
  );
  nat.rule('KUBE-MARK-MASQ', '-j', 'MARK', '--or-mark', m);

  if (ipv4 && settings.localhostNodePorts) {
    // route_localnet makes 127.0.0.1 NodePorts work, and opens a hole this rule closes again.
    filter.chain('KUBE-FIREWALL');
    filter.rule(
      'KUBE-FIREWALL', '-m', 'comment', '--comment', 'block incoming localnet connections',
      '-d', '127.0.0.0/8', '!', '-s', '127.0.0.0/8', '-m', 'conntrack', '!', '--ctstate', 'RELATED,ESTABLISHED,DNAT',
      '-j', 'DROP',
    );
  }

  // A partial sync computes the own chains of an unchanged Service as usual and throws them away (spec §8).
  const skipped = new TableWriter();
  for (const svc of servicePorts) {
    const unchanged = previous?.unchangedServices.has(`${svc.service.namespace}/${svc.service.name}`) ?? false;
    writeServicePort(svc, settings, filter, nat, unchanged ? skipped : nat);
  }
  if (previous) {
    // Stale chains are flushed by a chain line and deleted by -X, before the final KUBE-NODEPORTS jump (§4.7).
    // kube-proxy visits them in Go map order, which is random; sorted is one of those orders.
    const active = new Set([...nat.chains, ...skipped.chains].map((chain) => chain.name));
    const stale = previous.natChains
      .filter((chain) => SERVICE_CHAIN_PREFIXES.some((prefix) => chain.startsWith(prefix)) && !active.has(chain))
      .sort();
    for (const chain of stale) {
      nat.chain(chain);
      nat.deleteChain(chain);
    }
  }

  const nodePortsComment = 'kubernetes service nodeports; NOTE: this must be the last rule in this chain';
  if (nodePorts.matchAll) {
    const notLoopback = ipv4 ? (settings.localhostNodePorts ? [] : ['!', '-d', '127.0.0.0/8']) : ['!', '-d', '::1/128'];
    nat.rule(
      'KUBE-SERVICES', '-m', 'comment', '--comment', nodePortsComment, '-m', 'addrtype', '--dst-type', 'LOCAL',
      ...notLoopback, '-j', 'KUBE-NODEPORTS',
    );
  } else {
    for (const ip of nodePorts.addresses) {
      nat.rule('KUBE-SERVICES', '-m', 'comment', '--comment', nodePortsComment, '-d', ip, '-j', 'KUBE-NODEPORTS');
    }
  }

  if (!config.conntrackTCPLiberal) {
    filter.rule(
      'KUBE-FORWARD', '-m', 'conntrack', '--ctstate', 'INVALID',
      ...(config.nfacctCounters.ct_state_invalid_dropped_pkts
        ? ['-m', 'nfacct', '--nfacct-name', 'ct_state_invalid_dropped_pkts']
        : []),
      '-j', 'DROP',
    );
  }
  filter.rule(
    'KUBE-FORWARD', '-m', 'comment', '--comment', 'kubernetes forwarding rules', '-m', 'mark', '--mark', `${m}/${m}`,
    '-j', 'ACCEPT',
  );
  filter.rule(
    'KUBE-FORWARD', '-m', 'comment', '--comment', 'kubernetes forwarding conntrack rule',
    '-m', 'conntrack', '--ctstate', 'RELATED,ESTABLISHED', '-j', 'ACCEPT',
  );

  return {
    family: config.ipFamily,
    tables: [
      { name: 'filter', chains: filter.chains, rules: filter.rules, deletedChains: [] },
      { name: 'nat', chains: nat.chains, rules: nat.rules, deletedChains: nat.deleted },
    ],
  };
}

/**
 * Everything one service port writes, in kube-proxy's order (spec §4.3). Steps 1-6 go to the shared chains of
 * `filter` and `nat`; the Service's own chains and their rules (steps 7-12) to `own`, which is `nat` except for
 * an unchanged Service in a partial sync.
 */
function writeServicePort(svc: ProxyServicePort, settings: SyncSettings, filter: TableWriter, nat: TableWriter, own: TableWriter): void {
  const { cluster, local, allReachable, hasAny } = categorizeEndpoints(svc);
  const chains = servicePortChains(svc.portName, svc.protocol, settings.sha);
  const name = svc.portName;
  const proto = ['-m', svc.protocol, '-p', svc.protocol];
  const port = String(svc.port);

  const usesClusterChain = cluster.length > 0 && svc.usesClusterEndpoints;
  const usesLocalChain = local.length > 0 && svc.usesLocalEndpoints;
  const internalChain = svc.internalPolicyLocal ? chains.local : chains.cluster;
  const externalPolicyChain = svc.externalPolicyLocal ? chains.local : chains.cluster;
  const hasInternal = hasAny && !(svc.internalPolicyLocal && local.length === 0);
  const hasExternal = hasAny && !(svc.externalPolicyLocal && local.length === 0);
  const usesExtChain = hasAny && svc.externallyAccessible;
  const usesFW = hasAny && svc.loadBalancerVIPs.length > 0 && svc.loadBalancerSourceRanges.length > 0;
  const lbTarget = usesFW ? chains.firewall : chains.external;

  // Without usable endpoints the filter table answers instead of nat: REJECT when there are none at all,
  // DROP when there are some but none this policy may use.
  const verdict = !hasAny ? 'REJECT' : 'DROP';
  const verdictComment = !hasAny ? `${name} has no endpoints` : `${name} has no local endpoints`;

  // 1. ClusterIP
  if (hasInternal) {
    nat.rule('KUBE-SERVICES', '-m', 'comment', '--comment', `${name} cluster IP`, ...proto, '-d', svc.clusterIP, '--dport', port, '-j', internalChain);
  } else {
    filter.rule('KUBE-SERVICES', '-m', 'comment', '--comment', verdictComment, ...proto, '-d', svc.clusterIP, '--dport', port, '-j', verdict);
  }
  // 2. externalIPs
  for (const ip of svc.externalIPs) {
    if (hasAny) {
      nat.rule('KUBE-SERVICES', '-m', 'comment', '--comment', `${name} external IP`, ...proto, '-d', ip, '--dport', port, '-j', chains.external);
    }
    if (!hasExternal) {
      filter.rule('KUBE-EXTERNAL-SERVICES', '-m', 'comment', '--comment', verdictComment, ...proto, '-d', ip, '--dport', port, '-j', verdict);
    }
  }
  // 3. LoadBalancer VIPs
  for (const ip of svc.loadBalancerVIPs) {
    if (hasAny) {
      nat.rule('KUBE-SERVICES', '-m', 'comment', '--comment', `${name} loadbalancer IP`, ...proto, '-d', ip, '--dport', port, '-j', lbTarget);
    }
    if (usesFW) {
      filter.rule('KUBE-PROXY-FIREWALL', '-m', 'comment', '--comment', `${name} traffic not accepted by ${chains.firewall}`, ...proto, '-d', ip, '--dport', port, '-j', 'DROP');
    }
  }
  // 4. LoadBalancer VIPs without usable endpoints for external traffic
  if (!hasExternal) {
    for (const ip of svc.loadBalancerVIPs) {
      filter.rule('KUBE-EXTERNAL-SERVICES', '-m', 'comment', '--comment', verdictComment, ...proto, '-d', ip, '--dport', port, '-j', verdict);
    }
  }
  // 5. NodePort: never through KUBE-FW (NodePorts are not subject to loadBalancerSourceRanges)
  if (svc.nodePort !== 0) {
    const nodePort = String(svc.nodePort);
    if (hasAny) {
      if (settings.localhostNodePorts && settings.config.ipFamily === 4 && settings.config.nfacctCounters.localhost_nps_accepted_pkts) {
        nat.rule('KUBE-NODEPORTS', '-m', 'comment', '--comment', name, ...proto, '-d', '127.0.0.0/8', '--dport', nodePort, '-m', 'nfacct', '--nfacct-name', 'localhost_nps_accepted_pkts', '-j', chains.external);
      }
      nat.rule('KUBE-NODEPORTS', '-m', 'comment', '--comment', name, ...proto, '--dport', nodePort, '-j', chains.external);
    }
    if (!hasExternal) {
      filter.rule('KUBE-EXTERNAL-SERVICES', '-m', 'comment', '--comment', verdictComment, '-m', 'addrtype', '--dst-type', 'LOCAL', ...proto, '--dport', nodePort, '-j', verdict);
    }
  }
  // 6. health check node port (always tcp, written even without endpoints)
  if (svc.healthCheckNodePort !== 0) {
    filter.rule('KUBE-NODEPORTS', '-m', 'comment', '--comment', `${name} health check node port`, '-m', 'tcp', '-p', 'tcp', '--dport', String(svc.healthCheckNodePort), '-j', 'ACCEPT');
  }
  // 7. ClusterIP masquerade, in the internal policy chain
  if (hasInternal) {
    const match = ['-m', 'comment', '--comment', `${name} cluster IP`, ...proto, '-d', svc.clusterIP, '--dport', port];
    if (settings.config.masqueradeAll) own.rule(internalChain, ...match, '-j', 'KUBE-MARK-MASQ');
    else if (settings.detector) own.rule(internalChain, ...match, ...settings.detector.ifNotLocal, '-j', 'KUBE-MARK-MASQ');
  }
  // 8. external destinations
  if (usesExtChain) {
    own.chain(chains.external);
    if (!svc.externalPolicyLocal) {
      own.rule(chains.external, '-m', 'comment', '--comment', `masquerade traffic for ${name} external destinations`, '-j', 'KUBE-MARK-MASQ');
    } else {
      // Pods reaching an external address short-circuit to the cluster chain, as if out to the LB and back.
      if (settings.detector) {
        own.rule(chains.external, '-m', 'comment', '--comment', `pod traffic for ${name} external destinations`, ...settings.detector.ifLocal, '-j', chains.cluster);
      }
      own.rule(chains.external, '-m', 'comment', '--comment', `masquerade LOCAL traffic for ${name} external destinations`, '-m', 'addrtype', '--src-type', 'LOCAL', '-j', 'KUBE-MARK-MASQ');
      own.rule(chains.external, '-m', 'comment', '--comment', `route LOCAL traffic for ${name} external destinations`, '-m', 'addrtype', '--src-type', 'LOCAL', '-j', chains.cluster);
    }
    if (hasExternal) own.rule(chains.external, '-j', externalPolicyChain);
  }
  // 9. LoadBalancer source-range firewall
  if (usesFW) {
    own.chain(chains.firewall);
    let allowFromNode = false;
    for (const range of svc.loadBalancerSourceRanges) {
      own.rule(chains.firewall, '-m', 'comment', '--comment', `${name} loadbalancer IP`, '-s', range, '-j', chains.external);
      if (settings.config.nodeIP !== '' && cidrTextContains(range, settings.config.nodeIP)) allowFromNode = true;
    }
    if (allowFromNode) {
      for (const ip of svc.loadBalancerVIPs) {
        own.rule(chains.firewall, '-m', 'comment', '--comment', `${name} loadbalancer IP`, '-s', ip, '-j', chains.external);
      }
    }
    // No -j: the packet falls through un-DNATed and filter KUBE-PROXY-FIREWALL drops it.
    own.rule(chains.firewall, '-m', 'comment', '--comment', `other traffic to ${name} will be dropped by KUBE-PROXY-FIREWALL`);
  }
  // Each KUBE-SEP name once per endpoint: the policy chains and the endpoint chains all need it.
  const sepChains = new Map<ProxyEndpoint, string>();
  const sepChain = (ep: ProxyEndpoint): string => {
    let chain = sepChains.get(ep);
    if (chain === undefined) sepChains.set(ep, (chain = endpointChain(svc.portName, svc.protocol, ep.text, settings.sha)));
    return chain;
  };
  // 10, 11. policy chains
  if (usesClusterChain) {
    own.chain(chains.cluster);
    writeServiceToEndpointRules(own, svc, chains.cluster, cluster, settings, sepChain);
  }
  if (usesLocalChain) {
    own.chain(chains.local);
    writeServiceToEndpointRules(own, svc, chains.local, local, settings, sepChain);
  }
  // 12. endpoint chains
  // `-m comment --comment NAME`
  const comment = settings.largeCluster ? [] : [modulePart('comment'), optionPart('comment', 'comment', [name])];
  // `-m PROTO -p PROTO`
  const protocolMatch = [modulePart(svc.protocol), { kind: 'protocol', negated: false, protocol: svc.protocol } as const];
  // Without affinity every endpoint's DNAT rule has the same matches: one array for all of them.
  const dnatParts = svc.stickySeconds === undefined ? own.sharedParts([...comment, ...protocolMatch]) : undefined;
  const markMasq = jump('KUBE-MARK-MASQ');
  for (const ep of allReachable) {
    const chain = sepChain(ep);
    own.chain(chain);
    // Hairpin: a pod reaching itself through the Service must be SNATed or the reply would bypass conntrack.
    // `-s IP -j KUBE-MARK-MASQ`
    own.ruleOf(chain, [...comment, { kind: 'source', negated: false, address: ep.ip }], markMasq);
    // `[-m recent --name CHAIN --set] -m PROTO -p PROTO -j DNAT --to-destination EP`
    own.ruleOf(
      chain,
      dnatParts ?? [...comment, modulePart('recent'), optionPart('recent', 'name', [chain]), optionPart('recent', 'set', []), ...protocolMatch],
      { name: 'DNAT', goto: false, options: [{ name: 'to-destination', args: [ep.text] }] },
    );
  }
}

function writeServiceToEndpointRules(
  nat: TableWriter,
  svc: ProxyServicePort,
  chain: string,
  endpoints: readonly ProxyEndpoint[],
  settings: SyncSettings,
  sepChain: (ep: ProxyEndpoint) => string,
): void {
  const comment = (ep: { text: string }) =>
    settings.largeCluster ? [] : ['-m', 'comment', '--comment', `${svc.portName} -> ${ep.text}`];
  if (svc.stickySeconds !== undefined) {
    for (const ep of endpoints) {
      const target = sepChain(ep);
      nat.rule(chain, ...comment(ep), '-m', 'recent', '--name', target, '--rcheck', '--seconds', String(svc.stickySeconds), '--reap', '-j', target);
    }
  }
  endpoints.forEach((ep, i) => {
    // `-m statistic --mode random --probability P` (shared arrays: without comments they are the whole match)
    const statistic = settings.statistic(endpoints.length - i);
    // `-m comment --comment "NAME -> EP"`
    const parts = settings.largeCluster
      ? statistic
      : [modulePart('comment'), optionPart('comment', 'comment', [`${svc.portName} -> ${ep.text}`]), ...statistic.parts];
    nat.ruleOf(chain, parts, jump(sepChain(ep)));
  });
}


function memoize<T>(compute: (n: number) => T): (n: number) => T {
  const cache = new Map<number, T>();
  return (n) => {
    let value = cache.get(n);
    if (value === undefined) cache.set(n, (value = compute(n)));
    return value;
  };
}

function cidrTextContains(cidrText: string, ipText: string): boolean {
  const cidr = parseCIDR(cidrText, { sloppy: true });
  const ip = parseIP(ipText, { sloppy: true });
  return cidr !== undefined && ip !== undefined && cidrContains(cidr, ip);
}
