/**
 * The nftables emulator (`kproxy trace --mode nftables`):
 *
 *   NftRuleset (compileNftables or parseNft) + NodeModel (buildNode) ──createNftEmulator──► traceNftPacket ──► explainTrace
 *                                                                                         └► sampleNftConnections (seeded, state kept)
 *
 * Results have the iptables emulator's shape (Trace with mode "nftables", PathOutcome), so flowAnswer/checkFlow and
 * explainTrace work unchanged; `nftAfterword` gives the ICMP-to-a-ClusterIP explanation of nftables mode.
 */
import type { Cluster } from '../../cluster/types.js';
import { hasPorts, type PacketSpec } from '../packet.js';
import { sampleConnectionsWith, type ConnectionTrace, type SampleOptions } from '../scenario.js';
import type { TraceDetail } from '../trace.js';
import { traceNftPacket, type NftEmulator } from './trace.js';

export { createNftEmulator, dynamicSetKey, traceNftPacket, type NftEmulator } from './trace.js';

/** N new connections from one client (fresh source ports), sampled, with conntrack and affinity sets kept. */
export function sampleNftConnections(emu: NftEmulator, spec: PacketSpec, options: SampleOptions): ConnectionTrace[] {
  return sampleConnectionsWith((packetSpec, traceOptions) => traceNftPacket(emu, packetSpec, traceOptions), spec, options);
}

/** Closing remarks for packets without ports (ping) in nftables mode; undefined = the generic ones. */
export function nftAfterword(detail: TraceDetail, emu: NftEmulator, cluster?: Cluster): string[] | undefined {
  const pkt = detail.packet;
  if (hasPorts(pkt.protocol)) return undefined;
  const dst = pkt.dst;
  const service = cluster?.services.find((s) => s.clusterIP === dst.text || s.clusterIPs.includes(dst.text));
  const named = service ? ` (Service ${service.namespace}/${service.name})` : '';
  const p = detail.paths[0];
  if (!p) return undefined;
  const lastHop = p.hops[p.hops.length - 1];
  const byCheck = lastHop?.chain === 'cluster-ips-check';
  if (p.result === 'rejected' && byCheck) {
    return [
      `Why ping fails: ${dst.text}${named} is a ClusterIP. It is not an address of any interface; kube-proxy only`,
      `translates the exact (address, protocol, port) tuples of the Service's tcp/udp/sctp ports, so an ICMP echo`,
      `request matches no element of @service-ips and is never DNATed. In nftables mode it then reaches`,
      `cluster-ips-check (from filter-${lastHop.hook}, new connections only): \`ip daddr @cluster-ips reject\`, so the node`,
      `answers at once with ICMP port unreachable — ping reports an error immediately instead of timing out.`,
      `(In iptables mode there is no such rule: the echo request is just routed off the node and lost, 100% loss.)`,
      `Test the Service's port with TCP or UDP instead (kproxy trace … --proto tcp --dport PORT).`,
    ];
  }
  if (p.result === 'dropped' && byCheck) {
    return [
      `${dst.text} is inside the Service CIDR but is not an allocated ClusterIP: cluster-ips-check drops it`,
      `(\`ip daddr { <service CIDRs> } drop\`), so the client gets no answer and times out.`,
    ];
  }
  if (p.result === 'delivered') return [`The pod answers the echo request: its reply goes back through conntrack as an established packet.`];
  if (p.result === 'local') return [`The node answers the echo request itself.`];
  void emu;
  return undefined;
}
