/**
 * The node a packet crosses (spec emulator §1): its LOCAL addresses, its interfaces, its routes and the pods
 * it knows about. Built once from the node settings and, when known, the cluster's Pods, EndpointSlices and
 * Nodes. A ClusterIP is deliberately absent: in iptables mode it is not an address of any interface and has
 * no route of its own, it only exists as a match in NAT rules.
 */
import type { Cluster } from '../cluster/types.js';
import type { NodeConfig } from '../model/node-config.js';
import { cidrContains, hostCIDR, isLoopback, parseCIDR, parseIP, type CIDR, type IP, type IPFamily } from '../net/ip.js';

export type InterfaceRole = 'loopback' | 'pods' | 'uplink' | 'other';

export interface NodeInterface {
  name: string;
  /** Addresses assigned to the interface, with the subnet each one makes directly reachable. */
  addresses: { ip: IP; subnet: CIDR }[];
  role: InterfaceRole;
}

export interface PodRef {
  ip: IP;
  namespace?: string;
  name?: string;
  nodeName?: string;
  /** Runs on this node (its traffic enters through its own veth or the pod bridge). */
  local: boolean;
}

export type RouteKind = 'local' | 'pod' | 'remote-pod' | 'link' | 'other-nodes' | 'default';

export interface Route {
  destination: CIDR;
  kind: RouteKind;
  /** Outgoing interface. */
  iface: string;
  /** For routes through another node: its name, when known. */
  via?: string;
  pod?: PodRef;
}

export interface NodeModel {
  name: string;
  family: IPFamily;
  primaryIP: IP | undefined;
  /** nodeIPs of the family (127.0.0.0/8 and ::1 are LOCAL too, checked by `isLocal`). */
  localAddresses: IP[];
  interfaces: NodeInterface[];
  /** The interface of the default route: where `external` packets come from and unknown destinations go. */
  uplink: string | undefined;
  /** Known pods of the whole cluster by address (this family). */
  pods: Map<bigint, PodRef>;
  /** Pod CIDRs of the cluster: sources inside are pods. */
  clusterCIDRs: CIDR[];
  serviceCIDRs: CIDR[];
  /** Routes, most specific first (host routes to pods are in `hostRoutes`). */
  routes: Route[];
  /** Host routes (one pod each), by address: a cluster has many pods, so these are looked up, not scanned. */
  hostRoutes: Map<bigint, Route>;
  /** Local pods reach the node through this interface; describes local-detector modes that match `-i`. */
  podInterface(ip: IP): string;
}

const LOOPBACK4 = parseCIDR('127.0.0.0/8') as CIDR;

export function buildNode(config: NodeConfig, cluster?: Cluster): NodeModel {
  const family = config.ipFamily;
  const ofFamily = <T extends { family: IPFamily }>(x: T | undefined): x is T => x !== undefined && x.family === family;

  const localAddresses = config.nodeIPs.map((t) => parseIP(t, { sloppy: true })).filter(ofFamily);
  const clusterCIDRs = uniqueCIDRs(
    [config.clusterCIDR, config.localDetector.clusterCIDR ?? ''].flatMap((t) => t.split(',')).map((t) => parseCIDR(t.trim(), { sloppy: true })).filter(ofFamily),
  );
  const serviceCIDRs = config.serviceCIDRs.map((t) => parseCIDR(t, { sloppy: true })).filter(ofFamily);
  const detector = config.localDetector;

  const interfaces: NodeInterface[] = [];
  for (const [name, cidrs] of Object.entries(config.interfaces)) {
    const addresses: NodeInterface['addresses'] = [];
    for (const text of cidrs) {
      const slash = text.indexOf('/');
      const ip = parseIP(slash < 0 ? text : text.slice(0, slash), { sloppy: true });
      const subnet = slash < 0 ? (ip ? hostCIDR(ip) : undefined) : parseCIDR(text, { sloppy: true });
      if (ofFamily(ip) && subnet) addresses.push({ ip, subnet });
    }
    interfaces.push({ name, addresses, role: 'other' });
  }
  for (const iface of interfaces) {
    if (iface.name === 'lo' || iface.addresses.some((a) => isLoopback(a.ip))) iface.role = 'loopback';
    else if (
      (detector.mode === 'BridgeInterface' && detector.bridgeInterface === iface.name) ||
      (detector.mode === 'InterfaceNamePrefix' && detector.interfacePrefix && iface.name.startsWith(detector.interfacePrefix)) ||
      (iface.addresses.length > 0 && iface.addresses.every((a) => clusterCIDRs.some((c) => cidrContains(c, a.ip))))
    ) iface.role = 'pods';
  }
  const uplinkIface =
    interfaces.find((i) => i.name === 'eth0' && i.role !== 'pods') ??
    interfaces.find((i) => i.role === 'other' && i.addresses.length > 0) ??
    interfaces.find((i) => i.role === 'other');
  if (uplinkIface) uplinkIface.role = 'uplink';
  // A node config without interfaces still has a way out: call it eth0.
  const uplink = uplinkIface?.name ?? (interfaces.length === 0 ? 'eth0' : undefined);

  const primaryIP = ofFamily(parseIP(config.nodeIP, { sloppy: true })) ? parseIP(config.nodeIP, { sloppy: true }) : localAddresses[0];

  const pods = new Map<bigint, PodRef>();
  const addPod = (text: string, ref: Omit<PodRef, 'ip' | 'local'>) => {
    const ip = parseIP(text, { sloppy: true });
    if (!ofFamily(ip)) return;
    const existing = pods.get(ip.value);
    const merged: PodRef = { ...existing, ...stripUndefined(ref), ip, local: false };
    merged.local = merged.nodeName !== undefined && merged.nodeName === config.nodeName;
    pods.set(ip.value, merged);
  };
  for (const slice of cluster?.slices ?? []) {
    for (const ep of slice.endpoints) {
      const [ns, name] = ep.pod?.split('/') ?? [];
      for (const address of ep.addresses) addPod(address, { nodeName: ep.nodeName, namespace: ns, name });
    }
  }
  for (const pod of cluster?.pods ?? []) {
    if (pod.podIP) addPod(pod.podIP, { namespace: pod.namespace, name: pod.name, nodeName: pod.nodeName });
  }

  const podInterface = (ip: IP): string => {
    if (detector.mode === 'BridgeInterface' && detector.bridgeInterface) return detector.bridgeInterface;
    const bridge = interfaces.find((i) => i.role === 'pods' && i.addresses.some((a) => cidrContains(a.subnet, ip)));
    if (bridge) return bridge.name;
    const suffix = (ip.value & 0xffffffffn).toString(16).padStart(8, '0');
    if (detector.mode === 'InterfaceNamePrefix' && detector.interfacePrefix) return `${detector.interfacePrefix}${suffix}`.slice(0, 15);
    return `veth${suffix}`;
  };

  const routes: Route[] = [];
  const hostRoutes = new Map<bigint, Route>();
  for (const pod of pods.values()) {
    if (pod.local) hostRoutes.set(pod.ip.value, { destination: hostCIDR(pod.ip), kind: 'pod', iface: podInterface(pod.ip), pod });
    else if (uplink) hostRoutes.set(pod.ip.value, { destination: hostCIDR(pod.ip), kind: 'remote-pod', iface: uplink, ...(pod.nodeName ? { via: pod.nodeName } : {}), pod });
  }
  for (const iface of interfaces) {
    if (iface.role === 'loopback') continue;
    for (const a of iface.addresses) {
      routes.push({ destination: a.subnet, kind: iface.role === 'pods' ? 'pod' : 'link', iface: iface.name });
    }
  }
  for (const node of cluster?.nodes ?? []) {
    if (node.name === config.nodeName || !uplink) continue;
    for (const text of node.podCIDRs) {
      const cidr = parseCIDR(text, { sloppy: true });
      if (ofFamily(cidr)) routes.push({ destination: cidr, kind: 'remote-pod', iface: uplink, via: node.name });
    }
  }
  if (uplink) {
    for (const cidr of clusterCIDRs) routes.push({ destination: cidr, kind: 'other-nodes', iface: uplink });
    routes.push({ destination: defaultRoute(family), kind: 'default', iface: uplink });
  }
  // Longest prefix first; the sort is stable, so equal prefixes keep the order above (pods before links).
  routes.sort((a, b) => b.destination.prefix - a.destination.prefix);

  return {
    name: config.nodeName,
    family,
    primaryIP,
    localAddresses,
    interfaces,
    uplink,
    pods,
    clusterCIDRs,
    serviceCIDRs,
    routes,
    hostRoutes,
    podInterface,
  };
}

function defaultRoute(family: IPFamily): CIDR {
  return parseCIDR(family === 4 ? '0.0.0.0/0' : '::/0') as CIDR;
}

function uniqueCIDRs(list: CIDR[]): CIDR[] {
  const seen = new Set<string>();
  return list.filter((c) => !seen.has(c.text) && seen.add(c.text));
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** The LOCAL set of `-m addrtype` and of the routing decision: nodeIPs, 127.0.0.0/8, ::1. */
export function isLocal(node: NodeModel, ip: IP): boolean {
  if (ip.family === 4 ? cidrContains(LOOPBACK4, ip) : ip.value === 1n) return true;
  for (const a of node.localAddresses) if (a.value === ip.value && a.family === ip.family) return true;
  return false;
}

/** The routing decision for a destination; undefined = no route (`Network is unreachable`). */
export function route(node: NodeModel, ip: IP): Route | undefined {
  if (isLocal(node, ip)) return { destination: hostCIDR(ip), kind: 'local', iface: 'lo' };
  const host = node.hostRoutes.get(ip.value);
  if (host && host.destination.family === ip.family) return host;
  for (const r of node.routes) if (cidrContains(r.destination, ip)) return r;
  return undefined;
}

/** Default origin of a packet from its source address (spec emulator §2). */
export function originOf(node: NodeModel, src: IP): 'pod' | 'node' | 'external' {
  if (isLocal(node, src)) return 'node';
  if (node.pods.has(src.value)) return 'pod';
  if (node.clusterCIDRs.some((c) => cidrContains(c, src))) return 'pod';
  if (node.interfaces.some((i) => i.role === 'pods' && i.addresses.some((a) => cidrContains(a.subnet, src)))) return 'pod';
  return 'external';
}

/** The address MASQUERADE picks on an outgoing interface: the interface's own, else the node's primary IP. */
export function interfaceAddress(node: NodeModel, iface: string, toward?: IP): IP | undefined {
  const found = node.interfaces.find((i) => i.name === iface);
  const addresses = (found?.addresses ?? []).filter((a) => !isLoopback(a.ip));
  const onLink = toward ? addresses.find((a) => cidrContains(a.subnet, toward)) : undefined;
  return onLink?.ip ?? addresses[0]?.ip ?? node.primaryIP;
}

export function describePod(pod: PodRef | undefined): string {
  if (!pod) return 'a pod';
  const name = pod.name ? `pod ${pod.namespace ? `${pod.namespace}/` : ''}${pod.name}` : 'a pod';
  return pod.local ? `${name} on this node` : `${name}${pod.nodeName ? ` on ${pod.nodeName}` : ' on another node'}`;
}
