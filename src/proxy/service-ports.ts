/**
 * kube-proxy's view of Services and their endpoints, shared by the iptables and nftables modes:
 * one entry per service port, with the node-independent flags and the merged, sorted endpoint list
 * (pkg/proxy serviceport.go, endpointslicecache.go), and the per-node categorization (topology.go).
 */
import type { Cluster, EndpointSlice, Protocol, Service } from '../cluster/types.js';
import type { NodeConfig } from '../model/node-config.js';
import { isCanonicalIPv4 } from '../model/schemas.js';
import { parseCIDR, parseIP, type IPFamily } from '../net/ip.js';

export interface ProxyEndpoint {
  ip: string;
  port: number;
  /** `ip:port` (`[ip]:port` for IPv6): the endpoint's identity, hashed into KUBE-SEP names. */
  text: string;
  isLocal: boolean;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

export interface ProxyServicePort {
  service: Service;
  /** `ns/name` or `ns/name:port`: what comments and hashes use. */
  portName: string;
  /** Lowercase protocol as written in rules. */
  protocol: 'tcp' | 'udp' | 'sctp';
  port: number;
  nodePort: number;
  /** Canonical clusterIP of the proxier's family. */
  clusterIP: string;
  externalIPs: string[];
  loadBalancerVIPs: string[];
  /** Canonical `network/len`, whitespace trimmed, proxier family only. */
  loadBalancerSourceRanges: string[];
  /** Seconds of ClientIP affinity; undefined without affinity. */
  stickySeconds: number | undefined;
  externalPolicyLocal: boolean;
  internalPolicyLocal: boolean;
  healthCheckNodePort: number;
  externallyAccessible: boolean;
  usesClusterEndpoints: boolean;
  usesLocalEndpoints: boolean;
  /** Every endpoint (ready or not), deduplicated and sorted as strings by `text`. */
  endpoints: ProxyEndpoint[];
}

export interface CategorizedEndpoints {
  cluster: ProxyEndpoint[];
  local: ProxyEndpoint[];
  allReachable: ProxyEndpoint[];
  hasAny: boolean;
}

/** Service ports kube-proxy programs for this node's family, sorted by (portName, protocol). */
export function proxyServicePorts(cluster: Cluster, config: NodeConfig): ProxyServicePort[] {
  const slicesByService = groupSlices(cluster.slices, config.ipFamily);
  const result: ProxyServicePort[] = [];
  const addresses: AddressCache = new Map();
  for (const service of cluster.services) {
    const clusterIP = familyClusterIP(service, config.ipFamily);
    if (clusterIP === undefined) continue;
    const slices = slicesByService.get(`${service.namespace}/${service.name}`) ?? [];
    for (const port of service.ports) {
      result.push(makeServicePort(service, port.name, port.protocol, port.port, port.nodePort, clusterIP, slices, config, addresses));
    }
  }
  return result.sort((a, b) => compareText(a.portName, b.portName) || compareText(a.protocol, b.protocol));
}

/** Headless and ExternalName Services get no rules; nor do Services without a clusterIP of our family. */
function familyClusterIP(service: Service, family: IPFamily): string | undefined {
  if (service.type === 'ExternalName' || service.clusterIP === '' || service.clusterIP === 'None') return undefined;
  const candidates = service.clusterIPs.length > 0 ? service.clusterIPs : [service.clusterIP];
  for (const candidate of candidates) {
    const ip = parseIP(candidate, { sloppy: true });
    if (ip && ip.family === family) return ip.text;
  }
  return undefined;
}

function groupSlices(slices: readonly EndpointSlice[], family: IPFamily): Map<string, EndpointSlice[]> {
  const wanted = family === 4 ? 'IPv4' : 'IPv6';
  const groups = new Map<string, EndpointSlice[]>();
  const ordered = [...slices].sort((a, b) => compareText(a.name, b.name));
  for (const slice of ordered) {
    if (slice.serviceName === undefined || slice.addressType !== wanted) continue;
    const key = `${slice.namespace}/${slice.serviceName}`;
    const group = groups.get(key);
    if (group) group.push(slice);
    else groups.set(key, [slice]);
  }
  return groups;
}

function makeServicePort(
  service: Service,
  name: string,
  protocol: Protocol,
  port: number,
  nodePort: number,
  clusterIP: string,
  slices: readonly EndpointSlice[],
  config: NodeConfig,
  addresses: AddressCache,
): ProxyServicePort {
  const family = config.ipFamily;
  const externalIPs = canonicalIPs(service.externalIPs, family);
  const loadBalancerVIPs = canonicalIPs(
    service.loadBalancerIngress.filter((ing) => ing.ip && ing.ipMode !== 'Proxy').map((ing) => ing.ip as string),
    family,
  );
  const loadBalancerSourceRanges = service.loadBalancerSourceRanges.flatMap((text) => {
    const cidr = parseCIDR(text.trim(), { sloppy: true });
    return cidr && cidr.family === family ? [cidr.text] : [];
  });
  // The API's ExternallyAccessible: an unset type does not count, only a literal ClusterIP with externalIPs.
  const serviceExternallyAccessible =
    service.type === 'LoadBalancer' ||
    service.type === 'NodePort' ||
    (service.type === 'ClusterIP' && service.externalIPs.length > 0);
  const externalPolicyLocal = serviceExternallyAccessible && service.externalTrafficPolicy === 'Local';
  const internalPolicyLocal = service.internalTrafficPolicy === 'Local';
  const externallyAccessible = nodePort !== 0 || loadBalancerVIPs.length > 0 || externalIPs.length > 0;
  const portName = `${service.namespace}/${service.name}${name === '' ? '' : `:${name}`}`;
  return {
    service,
    portName,
    protocol: protocol.toLowerCase() as ProxyServicePort['protocol'],
    port,
    nodePort,
    clusterIP,
    externalIPs,
    loadBalancerVIPs,
    loadBalancerSourceRanges,
    stickySeconds: service.sessionAffinity === 'ClientIP' ? service.sessionAffinityTimeoutSeconds : undefined,
    externalPolicyLocal,
    internalPolicyLocal,
    healthCheckNodePort:
      service.type === 'LoadBalancer' && externalPolicyLocal ? service.healthCheckNodePort : 0,
    externallyAccessible,
    usesClusterEndpoints: !internalPolicyLocal || externallyAccessible,
    usesLocalEndpoints: internalPolicyLocal || (externalPolicyLocal && externallyAccessible),
    endpoints: endpointsFor(slices, name, protocol, config, addresses),
  };
}

function canonicalIPs(texts: readonly string[], family: IPFamily): string[] {
  return texts.flatMap((text) => {
    const ip = parseIP(text, { sloppy: true });
    return ip && ip.family === family ? [ip.text] : [];
  });
}

/** Family and canonical text of an endpoint address (null when it does not parse). */
interface AddressInfo {
  family: IPFamily;
  text: string;
}

/** Parsed endpoint addresses by their text, so an address served on several ports is parsed once. */
type AddressCache = Map<string, AddressInfo | null>;

function addressOf(text: string, cache: AddressCache): AddressInfo | null {
  // A canonical IPv4 address is its own canonical text: no need to parse it, nor to remember it.
  if (isCanonicalIPv4(text)) return { family: 4, text };
  let info = cache.get(text);
  if (info === undefined) {
    const ip = parseIP(text, { sloppy: true });
    info = ip ? { family: ip.family, text: ip.text } : null;
    cache.set(text, info);
  }
  return info;
}

/** Merges the slices' endpoints for one (port name, protocol): dedup by `ip:port`, sorted as strings. */
function endpointsFor(
  slices: readonly EndpointSlice[],
  portName: string,
  protocol: Protocol,
  config: NodeConfig,
  addresses: AddressCache,
): ProxyEndpoint[] {
  const byText = new Map<string, ProxyEndpoint>();
  for (const slice of slices) {
    for (const slicePort of slice.ports) {
      if (slicePort.name === null || !slicePort.port) continue;
      if (slicePort.name !== portName || slicePort.protocol !== protocol) continue;
      for (const endpoint of slice.endpoints) {
        const first = endpoint.addresses[0];
        if (first === undefined) continue;
        const ip = addressOf(first, addresses);
        if (ip === null || ip.family !== config.ipFamily) continue;
        const text = ip.family === 6 ? `[${ip.text}]:${slicePort.port}` : `${ip.text}:${slicePort.port}`;
        const candidate: ProxyEndpoint = {
          ip: ip.text,
          port: slicePort.port,
          text,
          isLocal: endpoint.nodeName !== undefined && endpoint.nodeName !== '' && endpoint.nodeName === config.nodeName,
          ready: endpoint.ready ?? true,
          serving: endpoint.serving ?? true,
          terminating: endpoint.terminating ?? false,
        };
        // A non-terminating copy wins over a terminating one; otherwise the later copy replaces the earlier.
        const existing = byText.get(text);
        if (!existing || !candidate.terminating) byText.set(text, candidate);
      }
    }
  }
  return [...byText.values()].sort((a, b) => compareText(a.text, b.text));
}

/** kube-proxy's CategorizeEndpoints, without topology hints. */
export function categorizeEndpoints(svc: ProxyServicePort): CategorizedEndpoints {
  const eps = svc.endpoints;
  let hasAny = false;
  let cluster: ProxyEndpoint[] = [];
  if (svc.usesClusterEndpoints) {
    cluster = eps.filter((ep) => ep.ready);
    if (cluster.length === 0) cluster = eps.filter((ep) => ep.serving && ep.terminating);
    hasAny = cluster.length > 0;
  }
  if (!svc.usesLocalEndpoints) return { cluster, local: [], allReachable: cluster, hasAny };

  let hasLocalReady = false;
  let hasLocalServingTerminating = false;
  for (const ep of eps) {
    if (ep.ready) {
      hasAny = true;
      if (ep.isLocal) hasLocalReady = true;
    } else if (ep.serving && ep.terminating) {
      hasAny = true;
      if (ep.isLocal) hasLocalServingTerminating = true;
    }
  }
  let local: ProxyEndpoint[] = [];
  const fallback = !hasLocalReady && hasLocalServingTerminating;
  if (hasLocalReady) local = eps.filter((ep) => ep.ready && ep.isLocal);
  else if (fallback) local = eps.filter((ep) => ep.isLocal && ep.serving && ep.terminating);

  if (!svc.usesClusterEndpoints) return { cluster, local, allReachable: local, hasAny };
  if (!fallback) return { cluster, local, allReachable: cluster, hasAny };
  const union = new Map<string, ProxyEndpoint>();
  for (const ep of [...cluster, ...local]) union.set(ep.text, ep);
  return { cluster, local, allReachable: [...union.values()].sort((a, b) => compareText(a.text, b.text)), hasAny };
}

export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
