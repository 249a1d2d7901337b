/**
 * The lab network, as a plan (pure data, nothing runs here): which namespaces exist, how they are wired, which
 * addresses and routes each holds, where the agents listen and from where each source address sends.
 *
 *   client-ext ─┐  (outside sources)                                               ┌─ pod1 … podN (local endpoints)
 *   node2 ──────┼─ br0 of world (100.64.0.1, router) ─ eth0 of node ─ pod bridge ──┤
 *   (remote     │  (outside endpoints on lo,            (node IPs,     or a veth   └─ client-pod (pod sources)
 *    endpoints) ┘   blackhole for the rest)              the rules)     per pod
 *
 * node, node2 and client-ext hang off world's bridge: node's eth0 holds the node IPs and routes by default
 * through world; remote pods are routed to node2; outside clients send every service address (ClusterIP,
 * external IP, LoadBalancer IP, node IP) to the node, the way an upstream router would. Local pods send
 * everything to the node (default route via 169.254.1.1, which the node answers by proxy ARP), so pod-to-pod
 * and hairpin traffic is routed through the rules, never bridged past them. World drops what nobody owns (a
 * blackhole default route), so a packet the node lets out toward nowhere times out instead of looping.
 */
import type { Cluster } from '../cluster/types.js';
import { isLocal, route, type NodeModel } from '../emulate/node.js';
import type { Origin } from '../emulate/packet.js';
import type { NodeConfig } from '../model/node-config.js';
import { parseIP, type IP } from '../net/ip.js';
import type { Listener } from './agent.js';

export type NamespaceRole = 'node' | 'node2' | 'world' | 'client-pod' | 'client-ext' | 'pod';

export interface NamespacePlan {
  name: string;
  role: NamespaceRole;
  /** `ip -batch` lines run after every link exists: addresses, links up, routes. */
  commands: string[];
  /** `sysctl -w` settings, applied after the commands. */
  sysctls: string[];
  /** What the agent of this namespace listens on (none: no agent). */
  listeners: Listener[];
}

/** A veth pair: `ip -n ns link add name type veth peer name peerName netns peerNs`. */
export interface LinkPlan {
  ns: string;
  name: string;
  peerNs: string;
  peerName: string;
}

export interface TopologyPlan {
  /** In creation order. */
  namespaces: NamespacePlan[];
  links: LinkPlan[];
  /** Source address → the namespace that sends from it. */
  senders: Map<string, string>;
  /** Address → namespace that holds it (anything else ends in world's blackhole). */
  owners: Map<string, string>;
  /** Endpoint ports the lab cannot serve (SCTP: Node.js has no SCTP sockets). */
  unserved: string[];
}

export interface TopologyInput {
  prefix: string;
  config: NodeConfig;
  node: NodeModel;
  cluster: Cluster | undefined;
  /** Every source address a flow will send from, with the origin the emulator gives it. */
  sources: readonly { ip: string; origin: Origin }[];
  mode: 'iptables' | 'nftables';
}

/** Transit addresses on world's bridge, outside any usual node or pod range. */
const WORLD_ADDRESS = '100.64.0.1';
const NODE2_ADDRESS = '100.64.0.2';
/** The next hop every pod uses; the node's proxy ARP answers for it. */
const POD_GATEWAY = '169.254.1.1';

/** Why the lab cannot build a topology for this node, or undefined. */
export function topologyProblem(config: NodeConfig, node: NodeModel): string | undefined {
  if (config.ipFamily !== 4) return 'the lab builds IPv4 networks only (ipFamily IPv6 is not supported)';
  if (!node.primaryIP) return 'the lab needs the node IP (nodeIP or nodeIPs in the node config)';
  return undefined;
}

/** Proxy ARP without its random reply delay (up to 0.8 s by default, longer than a lab connection may wait). */
function proxyArp(iface: string): string[] {
  return [`net.ipv4.conf.${iface}.proxy_arp=1`, `net.ipv4.neigh.${iface}.proxy_delay=0`];
}

/** The bridge local pods hang off, with the addresses the node config gives it (none: routed veths). */
export function podBridge(config: NodeConfig, node: NodeModel): { name: string; addresses: string[] } | undefined {
  const name = config.localDetector.mode === 'BridgeInterface' ? config.localDetector.bridgeInterface : node.interfaces.find((i) => i.role === 'pods')?.name;
  if (!name) return undefined;
  return { name, addresses: (config.interfaces[name] ?? []).filter((cidr) => parseIP(cidr.split('/')[0] ?? '')?.family === 4) };
}

/** Endpoint address:port/protocol of every slice of the cluster (IPv4). */
export function endpointListeners(cluster: Cluster | undefined): { listeners: Listener[]; unserved: string[] } {
  const listeners: Listener[] = [];
  const unserved: string[] = [];
  const seen = new Set<string>();
  for (const slice of cluster?.slices ?? []) {
    if (slice.addressType !== 'IPv4') continue;
    for (const port of slice.ports) {
      if (!port.port) continue;
      for (const endpoint of slice.endpoints) {
        for (const address of endpoint.addresses) {
          const ip = parseIP(address, { sloppy: true });
          if (!ip || ip.family !== 4) continue;
          const key = `${ip.text}:${port.port}/${port.protocol}`;
          if (seen.has(key)) continue;
          seen.add(key);
          if (port.protocol === 'SCTP') unserved.push(key);
          else listeners.push({ ip: ip.text, port: port.port, proto: port.protocol === 'TCP' ? 'tcp' : 'udp' });
        }
      }
    }
  }
  return { listeners, unserved };
}

export function planTopology(input: TopologyInput): TopologyPlan {
  const { prefix, config, node } = input;
  const primary = (node.primaryIP as IP).text;
  const namespaces = new Map<NamespaceRole | string, NamespacePlan>();
  const ns = (key: string, role: NamespaceRole): NamespacePlan => {
    let plan = namespaces.get(key);
    // No ICMP rate limit (one error per peer per second after a burst of 6, by default): the lab asks for many
    // port unreachables in a row, and the emulator, like kube-proxy, says nothing about rate limits.
    if (!plan) namespaces.set(key, (plan = { name: `${prefix}-${key}`, role, commands: ['link set lo up'], sysctls: ['net.ipv4.icmp_ratelimit=0'], listeners: [] }));
    return plan;
  };
  const nodeNs = ns('node', 'node');
  const world = ns('world', 'world');
  const links: LinkPlan[] = [];
  const owners = new Map<string, string>();
  const senders = new Map<string, string>();
  const hostVeth = (ip: IP) => {
    const prefixName = config.localDetector.mode === 'InterfaceNamePrefix' && config.localDetector.interfacePrefix ? config.localDetector.interfacePrefix : 'veth';
    return `${prefixName}${ip.value.toString(16).padStart(8, '0')}`.slice(0, 15);
  };

  // world: the bridge every non-pod namespace hangs off, the default gateway, and the home of outside endpoints.
  world.commands.push('link add br0 type bridge', `addr add ${WORLD_ADDRESS}/32 dev br0`, 'link set br0 up', 'route add blackhole default');
  world.sysctls.push('net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0');
  const bridgePort = (peer: NamespacePlan, port: string, peerName = 'eth0') => {
    links.push({ ns: world.name, name: port, peerNs: peer.name, peerName });
    world.commands.push(`link set ${port} master br0`, `link set ${port} up`);
    peer.commands.push(`link set ${peerName} up`);
  };

  // node: every node IP on its uplink, the way kube-proxy's node has them; default route through world.
  const uplink = node.uplink ?? 'eth0';
  bridgePort(nodeNs, 'w-node', uplink);
  for (const address of node.localAddresses) {
    if (address.family !== 4 || address.text.startsWith('127.')) continue;
    const configured = node.interfaces.flatMap((i) => i.addresses).find((a) => a.ip.value === address.value);
    nodeNs.commands.push(`addr add ${address.text}/${configured?.subnet.prefix ?? 32} dev ${uplink}`);
    world.commands.push(`route add ${address.text}/32 dev br0`);
    owners.set(address.text, nodeNs.name);
  }
  owners.set('127.0.0.1', nodeNs.name);
  nodeNs.commands.push(`route add default via ${WORLD_ADDRESS} dev ${uplink} onlink`);
  nodeNs.sysctls.push('net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0', 'net.ipv4.conf.all.send_redirects=0');
  // kube-proxy's iptables mode sets route_localnet so that 127.0.0.1:NodePort can be DNATed to a pod.
  if (input.mode === 'iptables' && config.localhostNodePorts) nodeNs.sysctls.push('net.ipv4.conf.all.route_localnet=1');

  // A pod bridge when the node config names one (cni0 of bridge CNIs, the BridgeInterface detector's bridge):
  // pods become its ports, and the node answers and masquerades from the bridge's own address, as the
  // emulator assumes. Pods still send everything through the node (hairpin on), so no pod traffic is bridged
  // past the rules. Without a bridge, each pod has its own routed veth.
  const bridge = podBridge(config, node);
  if (bridge) {
    nodeNs.commands.push(`link add ${bridge.name} type bridge`, ...bridge.addresses.map((a) => `addr add ${a} dev ${bridge.name}`), `link set ${bridge.name} up`);
    nodeNs.sysctls.push(...proxyArp(bridge.name));
  }
  let podCount = 0;
  const attachPod = (plan: NamespacePlan, ips: IP[]) => {
    const veth = hostVeth(ips[0] as IP);
    links.push({ ns: nodeNs.name, name: veth, peerNs: plan.name, peerName: 'eth0' });
    if (bridge) nodeNs.commands.push(`link set ${veth} master ${bridge.name}`, `link set dev ${veth} type bridge_slave hairpin on`);
    else nodeNs.sysctls.push(...proxyArp(veth));
    nodeNs.commands.push(`link set ${veth} up`);
    plan.commands.push('link set eth0 up');
    for (const ip of ips) {
      plan.commands.push(`addr add ${ip.text}/32 dev eth0`);
      nodeNs.commands.push(`route add ${ip.text}/32 dev ${bridge ? bridge.name : veth}`);
      world.commands.push(`route add ${ip.text}/32 via ${primary} dev br0 onlink`);
      owners.set(ip.text, plan.name);
    }
    plan.commands.push(`route add ${POD_GATEWAY} dev eth0 scope link`, `route add default via ${POD_GATEWAY} dev eth0`);
  };
  let node2: NamespacePlan | undefined;
  const remote = (ip: IP) => {
    if (!node2) {
      node2 = ns('node2', 'node2');
      bridgePort(node2, 'w-node2');
      node2.commands.push(`addr add ${NODE2_ADDRESS}/32 dev eth0`, `route add default via ${WORLD_ADDRESS} dev eth0 onlink`);
      node2.sysctls.push('net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0');
      world.commands.push(`route add ${NODE2_ADDRESS}/32 dev br0`);
    }
    node2.commands.push(`addr add ${ip.text}/32 dev lo`);
    nodeNs.commands.push(`route add ${ip.text}/32 via ${NODE2_ADDRESS} dev ${uplink} onlink`);
    world.commands.push(`route add ${ip.text}/32 via ${NODE2_ADDRESS} dev br0 onlink`);
    owners.set(ip.text, node2.name);
    return node2;
  };

  /** The namespace holding an endpoint address: the node, a local pod, node2 (other nodes' pods) or world. */
  const place = (ip: IP): NamespacePlan => {
    const owner = owners.get(ip.text);
    if (owner) return [...namespaces.values()].find((p) => p.name === owner) as NamespacePlan;
    if (isLocal(node, ip)) return nodeNs;
    const kind = route(node, ip)?.kind;
    if (kind === 'pod') {
      const plan = ns(`pod${++podCount}`, 'pod');
      attachPod(plan, [ip]);
      return plan;
    }
    if (kind === 'remote-pod' || kind === 'other-nodes') return remote(ip);
    world.commands.push(`addr add ${ip.text}/32 dev lo`);
    owners.set(ip.text, world.name);
    return world;
  };

  const { listeners, unserved } = endpointListeners(input.cluster);
  for (const listener of listeners) {
    const ip = parseIP(listener.ip) as IP;
    if (ip.text.startsWith('127.')) continue;
    place(ip).listeners.push(listener);
  }

  const podClients: IP[] = [];
  const outside: IP[] = [];
  for (const source of input.sources) {
    const ip = parseIP(source.ip);
    if (!ip || ip.family !== 4 || senders.has(ip.text) || podClients.some((c) => c.value === ip.value) || outside.some((c) => c.value === ip.value)) continue;
    const owner = owners.get(ip.text) ?? (isLocal(node, ip) ? nodeNs.name : undefined);
    if (owner) senders.set(ip.text, owner);
    else if (source.origin === 'pod') podClients.push(ip);
    else outside.push(ip);
  }
  if (podClients.length > 0) {
    const clientPod = ns('client-pod', 'client-pod');
    attachPod(clientPod, podClients);
    for (const ip of podClients) senders.set(ip.text, clientPod.name);
  }
  if (outside.length > 0) {
    const clientExt = ns('client-ext', 'client-ext');
    bridgePort(clientExt, 'w-ext');
    for (const ip of outside) {
      clientExt.commands.push(`addr add ${ip.text}/32 dev eth0`);
      world.commands.push(`route add ${ip.text}/32 dev br0`);
      senders.set(ip.text, clientExt.name);
      owners.set(ip.text, clientExt.name);
    }
    // An upstream router that sends every service address to the node.
    clientExt.commands.push(`route add default via ${primary} dev eth0 onlink`);
  }

  return { namespaces: [...namespaces.values()], links, senders, owners, unserved };
}
