/**
 * The flows the lab sends: given (kube-proxy's flow-table format) or generated from the cluster — every
 * service port × {pod, node, outside} source × {ClusterIP, NodePort, external IP, LoadBalancer IP}, plus a
 * ping to each ClusterIP from the pod source.
 */
import type { Cluster, Service } from '../cluster/types.js';
import { flowPacket, type Flow } from '../emulate/flows.js';
import type { NodeModel } from '../emulate/node.js';
import { originOf } from '../emulate/node.js';
import type { Origin, PacketSpec } from '../emulate/packet.js';
import { endpointListeners } from './topology.js';
import { cidrContains, ipFromValue, parseCIDR, parseIP, type IP } from '../net/ip.js';

export interface LabFlow {
  name: string;
  /** The packet, as `kproxy trace` takes it (origin always set: it decides the sending namespace). */
  spec: PacketSpec & { origin: Origin };
}

/** Addresses of the generated sources. */
export interface LabSources {
  /** A free address of the pod network (undefined: the node has no pod CIDR). */
  pod: string | undefined;
  node: string;
  outside: string;
  /** An outside address outside every loadBalancerSourceRanges (for firewall flows), when some Service has ranges. */
  outsideDenied?: string;
}

/** Documentation addresses (RFC 5737) for outside clients, the first ones no Service or node uses. */
const OUTSIDE_CANDIDATES = ['203.0.113.10', '198.51.100.10', '192.0.2.10', '203.0.113.200', '198.51.100.200', '192.0.2.200'];

export function fromFlowTable(flows: readonly Flow[], node: NodeModel): LabFlow[] {
  return flows.map((flow) => {
    const spec = flowPacket(flow);
    const source = parseIP(spec.source);
    return { name: flow.name, spec: { ...spec, origin: source ? originOf(node, source) : 'external' } };
  });
}

/** A pod-network address no pod or endpoint uses, for the pod client. */
export function freePodAddress(node: NodeModel, taken: ReadonlySet<string>): string | undefined {
  // This node's pod subnet when the config names one (a bridge like cni0), else the cluster's pod CIDR.
  const bridge = node.interfaces.find((i) => i.role === 'pods')?.addresses[0]?.subnet;
  for (const network of [bridge, node.clusterCIDRs[0]]) {
    if (!network || network.family !== 4 || network.prefix > 24) continue;
    // Count down from .250 of the first /24: clear of the .1 gateways and of the low addresses examples use.
    for (let offset = 250n; offset >= 2n; offset--) {
      const ip = ipFromValue(4, network.network + offset);
      if (!node.pods.has(ip.value) && !taken.has(ip.text) && cidrContains(network, ip)) return ip.text;
    }
  }
  return undefined;
}

export function labSources(cluster: Cluster, node: NodeModel, endpointAddresses: ReadonlySet<string>): LabSources {
  const taken = new Set([...endpointAddresses, ...node.localAddresses.map((ip) => ip.text)]);
  for (const s of cluster.services) {
    for (const text of [s.clusterIP, ...s.clusterIPs, ...s.externalIPs, ...s.loadBalancerIngress.map((i) => i.ip ?? '')]) {
      const ip = parseIP(text, { sloppy: true });
      if (ip) taken.add(ip.text);
    }
  }
  const ranges = cluster.services.flatMap((s) => s.loadBalancerSourceRanges.map((r) => parseCIDR(r.trim(), { sloppy: true })).filter((c) => c !== undefined));
  const free = OUTSIDE_CANDIDATES.filter((a) => !taken.has(a));
  // The outside client is allowed by every source range when it can be; a second one is denied by them.
  const allowed = free.find((a) => ranges.every((r) => cidrContains(r, parseIP(a) as IP))) ?? free[0] ?? '203.0.113.10';
  const sources: LabSources = { pod: freePodAddress(node, endpointAddresses), node: node.primaryIP?.text ?? '127.0.0.1', outside: allowed };
  const denied = free.find((a) => ranges.length > 0 && !ranges.some((r) => cidrContains(r, parseIP(a) as IP)));
  if (denied) sources.outsideDenied = denied;
  return sources;
}

/** The first endpoint address of the Service that is a pod on this node. */
function localEndpoint(cluster: Cluster, node: NodeModel, service: Service): string | undefined {
  for (const slice of cluster.slices) {
    if (slice.namespace !== service.namespace || slice.serviceName !== service.name || slice.addressType !== 'IPv4') continue;
    for (const endpoint of slice.endpoints) {
      for (const address of endpoint.addresses) {
        const ip = parseIP(address, { sloppy: true });
        if (ip && node.pods.get(ip.value)?.local) return ip.text;
      }
    }
  }
  return undefined;
}

function hasRules(service: Service): boolean {
  return service.type !== 'ExternalName' && service.clusterIP !== '' && service.clusterIP !== 'None';
}

/** The generated flows of a cluster, from the default sources (a free pod address, the node IP, an outside address). */
export function defaultFlows(cluster: Cluster, node: NodeModel): LabFlow[] {
  const endpoints = new Set(endpointListeners(cluster).listeners.map((l) => l.ip));
  return generateFlows(cluster, node, labSources(cluster, node, endpoints));
}

export function generateFlows(cluster: Cluster, node: NodeModel, sources: LabSources): LabFlow[] {
  const flows: LabFlow[] = [];
  const senders: { origin: Origin; ip: string }[] = [
    ...(sources.pod ? [{ origin: 'pod' as const, ip: sources.pod }] : []),
    { origin: 'node', ip: sources.node },
    { origin: 'external', ip: sources.outside },
  ];
  for (const service of cluster.services) {
    if (!hasRules(service)) continue;
    const clusterIP = parseIP(service.clusterIP, { sloppy: true });
    if (!clusterIP || clusterIP.family !== 4) continue;
    const name = `${service.namespace}/${service.name}`;
    for (const port of service.ports) {
      const protocol = port.protocol === 'TCP' ? 'tcp' : port.protocol === 'UDP' ? 'udp' : 'sctp';
      const targets: { what: string; ip: string; port: number }[] = [{ what: 'ClusterIP', ip: clusterIP.text, port: port.port }];
      // NodePorts on every node address (addrtype LOCAL, or the nodePortAddresses the config names).
      if (port.nodePort > 0) for (const ip of node.localAddresses) targets.push({ what: 'NodePort', ip: ip.text, port: port.nodePort });
      for (const ip of service.externalIPs) targets.push({ what: 'external IP', ip, port: port.port });
      for (const ingress of service.loadBalancerIngress) if (ingress.ip) targets.push({ what: 'LB IP', ip: ingress.ip, port: port.port });
      // NodePorts on localhost (iptables mode's localhostNodePorts; nftables mode has none): from the node itself.
      if (port.nodePort > 0) targets.push({ what: 'NodePort on localhost', ip: '127.0.0.1', port: port.nodePort });
      for (const target of targets) {
        const ip = parseIP(target.ip, { sloppy: true });
        if (!ip || ip.family !== 4) continue;
        const from = ip.text === '127.0.0.1' ? [{ origin: 'node' as const, ip: '127.0.0.1' }] : [...senders];
        if (target.what === 'LB IP' && sources.outsideDenied) from.push({ origin: 'external', ip: sources.outsideDenied });
        for (const sender of from) {
          flows.push({
            name: `${sender.origin} ${sender.ip} → ${name}:${port.name || port.port} ${target.what} ${ip.text}:${target.port}/${protocol}`,
            spec: { protocol, source: sender.ip, destination: ip.text, destinationPort: target.port, origin: sender.origin },
          });
        }
      }
    }
    if (sources.pod) {
      flows.push({ name: `pod ${sources.pod} → ${name} ping ClusterIP ${clusterIP.text}`, spec: { protocol: 'icmp', source: sources.pod, destination: clusterIP.text, origin: 'pod' } });
    }
    // Hairpin: a local endpoint of the Service calls the Service (it may get itself back, masqueraded).
    const self = localEndpoint(cluster, node, service);
    const first = service.ports.find((p) => p.protocol !== 'SCTP');
    if (self && first) {
      const protocol = first.protocol === 'TCP' ? 'tcp' : 'udp';
      flows.push({
        name: `pod ${self} (an endpoint) → ${name}:${first.name || first.port} ClusterIP ${clusterIP.text}:${first.port}/${protocol} (hairpin)`,
        spec: { protocol, source: self, destination: clusterIP.text, destinationPort: first.port, origin: 'pod' },
      });
    }
  }
  return flows;
}
