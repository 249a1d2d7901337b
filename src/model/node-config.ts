/**
 * Node and proxier settings: everything besides the cluster objects that changes the rules kube-proxy writes.
 * Field names follow `../shared/conformance/README.md` (the `--node-config` file format).
 */
import type { IPFamily } from '../net/ip.js';

export type LocalDetectorMode = 'ClusterCIDR' | 'NodeCIDR' | 'BridgeInterface' | 'InterfaceNamePrefix' | 'None';

export interface LocalDetector {
  mode: LocalDetectorMode;
  /** Pod CIDR(s) of the whole cluster, for ClusterCIDR mode. */
  clusterCIDR?: string;
  /** This node's pod CIDR, for NodeCIDR mode. */
  nodeCIDR?: string;
  /** Bridge the pods hang off, for BridgeInterface mode (`-i cbr0`). */
  bridgeInterface?: string;
  /** Pod interface name prefix, for InterfaceNamePrefix mode (`-i veth+`). */
  interfacePrefix?: string;
}

export interface NodeConfig {
  /** 4 writes the iptables payload, 6 the ip6tables one. */
  ipFamily: IPFamily;
  /** Endpoints whose `nodeName` equals this are local. */
  nodeName: string;
  /** The node's primary IP (LoadBalancer source-range `allowFromNode`); may be empty. */
  nodeIP: string;
  /** Every address that is LOCAL on the node (127.0.0.1 and ::1 are always LOCAL as well). */
  nodeIPs: string[];
  /** Interface name -> CIDRs assigned to it; used to resolve `nodePortAddresses`. */
  interfaces: Record<string, string[]>;
  localDetector: LocalDetector;
  /** Pod CIDR of the cluster (routes to other nodes' pods in the emulator); may be empty. */
  clusterCIDR: string;
  /** Service CIDRs (nftables `cluster-ips-check`, emulator routing); may be empty. */
  serviceCIDRs: string[];
  masqueradeAll: boolean;
  masqueradeBit: number;
  /** The literal mark string written in rules: `0x00004000` on a real node, `0x4000` in kube-proxy's tests. */
  masqueradeMark: string;
  /** CIDRs whose node addresses accept NodePorts; empty = all. */
  nodePortAddresses: string[];
  localhostNodePorts: boolean;
  /** The iptables binary supports `MASQUERADE --random-fully`. */
  hasRandomFully: boolean;
  /** `nf_conntrack_tcp_be_liberal` is set: no INVALID drop rule. */
  conntrackTCPLiberal: boolean;
  /** Which nfacct objects exist on the node (kube-proxy adds `-m nfacct` matches only for those). */
  nfacctCounters: {
    ct_state_invalid_dropped_pkts: boolean;
    localhost_nps_accepted_pkts: boolean;
  };
  /** Go duration text, e.g. `30s`, `1h0m0s`. */
  syncPeriod: string;
}

/** Go's `fmt.Sprintf("%#08x", 1<<bit)`: the digits are zero-padded to 8, then `0x` is prefixed. */
export function markForBit(bit: number): string {
  return `0x${(2 ** bit).toString(16).padStart(8, '0')}`;
}
