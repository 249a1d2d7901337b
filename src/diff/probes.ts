/**
 * The packets `kproxy diff` sends through both nodes: one per address and port a Service can be reached on.
 * They are read from the manifests when a side has them (ClusterIPs, NodePorts on the node IP, external IPs,
 * LoadBalancer ingress IPs, a ping to each ClusterIP), and from the rules themselves (a dump of a node has no
 * manifests): the destinations kube-proxy's entry chains and maps match on. Both sides contribute, so a
 * Service that exists on one side only is probed on both.
 */
import type { Cluster } from '../cluster/types.js';
import type { NodeModel } from '../emulate/node.js';
import type { Proto } from '../emulate/packet.js';
import type { IptablesRuleset, MatchPart } from '../ir/iptables.js';
import type { NftRuleset, NftSet } from '../ir/nftables.js';
import { bitsOf, cidrContains, compareIP, parseCIDR, parseIP, type IP } from '../net/ip.js';

export type ProbeKind = 'cluster IP' | 'external IP' | 'load balancer IP' | 'service IP' | 'node port';

export interface Probe {
  protocol: Proto;
  /** Canonical address text. */
  destination: string;
  /** Destination port; absent for ICMP. */
  port?: number;
  kind: ProbeKind;
  /** The Service it belongs to (`namespace/name` or `namespace/name:port`), when known. */
  service?: string;
}

const PROTOCOLS: ReadonlySet<string> = new Set(['tcp', 'udp', 'sctp']);

/** Every Service address × port of the manifests, and a ping to each ClusterIP. */
export function probesFromCluster(cluster: Cluster, node: NodeModel): Probe[] {
  const probes: Probe[] = [];
  for (const svc of cluster.services) {
    if (svc.type === 'ExternalName') continue;
    const clusterIPs = addressesOf([svc.clusterIP, ...svc.clusterIPs], node);
    const externalIPs = addressesOf(svc.externalIPs, node);
    const ingressIPs = addressesOf(
      svc.loadBalancerIngress.map((i) => i.ip ?? ''),
      node,
    );
    const name = `${svc.namespace}/${svc.name}`;
    for (const ip of clusterIPs) probes.push({ protocol: node.family === 6 ? 'icmpv6' : 'icmp', destination: ip.text, kind: 'cluster IP', service: name });
    for (const port of svc.ports) {
      const protocol = port.protocol.toLowerCase() as Proto;
      const service = port.name ? `${name}:${port.name}` : name;
      const add = (ip: IP, number: number, kind: ProbeKind) => probes.push({ protocol, destination: ip.text, port: number, kind, service });
      for (const ip of clusterIPs) add(ip, port.port, 'cluster IP');
      for (const ip of externalIPs) add(ip, port.port, 'external IP');
      for (const ip of ingressIPs) add(ip, port.port, 'load balancer IP');
      if (port.nodePort > 0 && node.primaryIP) add(node.primaryIP, port.nodePort, 'node port');
    }
  }
  return probes;
}

/** Host addresses of the node's family among texts as written (`None`, `""` and CIDRs are skipped). */
function addressesOf(texts: readonly string[], node: NodeModel): IP[] {
  const seen = new Map<bigint, IP>();
  for (const text of texts) {
    const ip = parseIP(text.trim(), { sloppy: true });
    if (ip && ip.family === node.family && !seen.has(ip.value)) seen.set(ip.value, ip);
  }
  return [...seen.values()];
}

/** Chains whose rules name the Service destinations: the entry points of nat and filter. */
const IPTABLES_ENTRY_CHAINS: ReadonlySet<string> = new Set(['KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS']);

/**
 * Destinations of the rules in KUBE-SERVICES, KUBE-EXTERNAL-SERVICES and KUBE-NODEPORTS (both tables, so
 * Services without endpoints, which only have filter rules, count too): `-d HOST -p P --dport N` is a Service
 * address; `-p P --dport N` without a host destination is a NodePort, probed on the node's primary IP.
 */
export function probesFromIptables(ruleset: IptablesRuleset, node: NodeModel): Probe[] {
  const probes: Probe[] = [];
  for (const table of ruleset.tables) {
    for (const rule of table.rules) {
      if (!IPTABLES_ENTRY_CHAINS.has(rule.chain)) continue;
      const protocol = positive(rule.parts, 'protocol');
      const dport = rule.parts.find((p) => p.kind === 'option' && !p.negated && (p.name === 'dport' || p.name === 'destination-port'));
      const port = dport?.kind === 'option' && /^[0-9]+$/.test(dport.args[0] ?? '') ? Number(dport.args[0]) : undefined;
      if (protocol?.kind !== 'protocol' || !PROTOCOLS.has(protocol.protocol) || port === undefined) continue;
      const destination = positive(rule.parts, 'destination');
      const host = destination?.kind === 'destination' ? hostAddress(destination.address, node) : undefined;
      const comment = commentPart(rule.parts);
      const service = comment?.split(' ')[0]?.includes('/') ? comment.split(' ')[0] : undefined;
      const base = { protocol: protocol.protocol as Proto, port, ...(service ? { service } : {}) };
      if (host) probes.push({ ...base, destination: host.text, kind: kindFromComment(comment, host, node) });
      else if (!destination && node.primaryIP) probes.push({ ...base, destination: node.primaryIP.text, kind: 'node port' });
      else if (destination?.kind === 'destination' && isLoopbackRange(destination.address) && node.primaryIP) {
        // KUBE-NODEPORTS' `-d 127.0.0.0/8` rule (localhost NodePorts): the same NodePort.
        probes.push({ ...base, destination: node.primaryIP.text, kind: 'node port' });
      }
    }
  }
  for (const probe of [...probes]) {
    if (probe.kind === 'cluster IP') probes.push({ protocol: node.family === 6 ? 'icmpv6' : 'icmp', destination: probe.destination, kind: 'cluster IP', ...(probe.service ? { service: probe.service.split(':')[0] as string } : {}) });
  }
  return probes;
}

function positive(parts: readonly MatchPart[], kind: 'protocol' | 'destination'): MatchPart | undefined {
  return parts.find((p) => p.kind === kind && !p.negated);
}

function commentPart(parts: readonly MatchPart[]): string | undefined {
  const part = parts.find((p) => p.kind === 'option' && p.module === 'comment' && p.name === 'comment');
  return part?.kind === 'option' ? part.args[0] : undefined;
}

/** `10.96.0.10` or `10.96.0.10/32` (a single host) of the node's family, else undefined. */
function hostAddress(text: string, node: NodeModel): IP | undefined {
  const cidr = text.includes('/') ? parseCIDR(text, { sloppy: true }) : undefined;
  if (cidr && cidr.prefix !== bitsOf(cidr.family)) return undefined;
  const ip = parseIP(text.split('/')[0] as string, { sloppy: true });
  return ip && ip.family === node.family ? ip : undefined;
}

function isLoopbackRange(text: string): boolean {
  return text === '127.0.0.0/8' || text === '::1/128';
}

/** kube-proxy's comments say which address it is (`ns/name:port cluster IP`); else the Service CIDR decides. */
function kindFromComment(comment: string | undefined, ip: IP, node: NodeModel): ProbeKind {
  if (comment?.endsWith(' cluster IP')) return 'cluster IP';
  if (comment?.endsWith(' external IP')) return 'external IP';
  if (comment?.endsWith(' loadbalancer IP')) return 'load balancer IP';
  return node.serviceCIDRs.some((c) => cidrContains(c, ip)) ? 'cluster IP' : 'service IP';
}

/**
 * Keys of the maps and sets of nftables mode: `addr . proto . port` elements (service-ips, no-endpoint-services,
 * firewall-ips) are Service addresses, `proto . port` elements (service-nodeports, no-endpoint-nodeports) are
 * NodePorts, and the addresses of a plain address set named cluster-ips are pinged.
 */
export function probesFromNft(ruleset: NftRuleset, node: NodeModel): Probe[] {
  const probes: Probe[] = [];
  const family = node.family === 6 ? 'ip6' : 'ip';
  const addressType = node.family === 6 ? 'ipv6_addr' : 'ipv4_addr';
  for (const table of ruleset.tables) {
    if (table.family !== family && table.family !== 'inet') continue;
    const clusterIPs = new Set(table.sets.find((s) => s.name === 'cluster-ips')?.elements.map((e) => e.key[0]) ?? []);
    for (const set of table.sets) {
      const types = set.type.split(' . ').map((t) => t.trim());
      const shape = types.join(' ');
      for (const element of set.elements) {
        const service = serviceOfVerdict(set, element.value);
        const extra = service ? { service } : {};
        if (shape === `${addressType} inet_proto inet_service`) {
          const [address, protocol, port] = element.key as [string, string, string];
          const ip = hostAddress(address, node);
          if (!ip || !PROTOCOLS.has(protocol) || !/^[0-9]+$/.test(port)) continue;
          const kind: ProbeKind = clusterIPs.has(address) ? 'cluster IP' : node.serviceCIDRs.some((c) => cidrContains(c, ip)) ? 'cluster IP' : 'service IP';
          probes.push({ protocol: protocol as Proto, destination: ip.text, port: Number(port), kind, ...extra });
        } else if (shape === 'inet_proto inet_service' && node.primaryIP) {
          const [protocol, port] = element.key as [string, string];
          if (!PROTOCOLS.has(protocol) || !/^[0-9]+$/.test(port)) continue;
          probes.push({ protocol: protocol as Proto, destination: node.primaryIP.text, port: Number(port), kind: 'node port', ...extra });
        } else if (set.name === 'cluster-ips' && shape === addressType) {
          const ip = hostAddress(element.key[0] ?? '', node);
          if (ip) probes.push({ protocol: node.family === 6 ? 'icmpv6' : 'icmp', destination: ip.text, kind: 'cluster IP' });
        }
      }
    }
  }
  return probes;
}

/** `goto service-HASH-ns/name/proto/port` → `ns/name:port` (the Service a map element sends to). */
function serviceOfVerdict(set: NftSet, value: NftSet['elements'][number]['value']): string | undefined {
  if (set.kind !== 'map' || value?.kind !== 'verdict') return undefined;
  const verdict = value.verdict;
  if (verdict.kind !== 'goto' && verdict.kind !== 'jump') return undefined;
  const m = /^(?:service|external)-[A-Z0-9]{8}-([^/]+)\/([^/]+)\/[^/]+\/(.*)$/.exec(verdict.chain);
  if (!m) return undefined;
  return m[3] ? `${m[1]}/${m[2]}:${m[3]}` : `${m[1]}/${m[2]}`;
}

export function probeKey(probe: Probe): string {
  return `${probe.protocol} ${probe.destination} ${probe.port ?? ''}`;
}

/**
 * One probe per (protocol, address, port), the first list's kind and name winning (the manifests', when a side
 * has them), sorted by address, then port, then protocol.
 */
export function mergeProbes(...lists: readonly Probe[][]): Probe[] {
  const byKey = new Map<string, Probe>();
  for (const list of lists) {
    for (const probe of list) {
      const key = probeKey(probe);
      const known = byKey.get(key);
      if (!known) byKey.set(key, probe);
      else if (!known.service && probe.service) byKey.set(key, { ...known, service: probe.service });
    }
  }
  return [...byKey.values()].sort(compareProbes);
}

function compareProbes(a: Probe, b: Probe): number {
  const ipA = parseIP(a.destination) as IP;
  const ipB = parseIP(b.destination) as IP;
  return compareIP(ipA, ipB) || (a.port ?? 0) - (b.port ?? 0) || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0);
}
