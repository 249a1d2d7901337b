/**
 * Which node addresses accept NodePorts (kube-proxy's NodePortAddresses), and whether NodePorts on
 * 127.0.0.1 stay enabled (`localhostNodePorts` is forced off when no configured CIDR covers loopback).
 */
import type { NodeConfig } from '../../model/node-config.js';
import { cidrContains, compareIP, isLoopback, parseCIDR, parseIP, type CIDR, type IP } from '../../net/ip.js';

export interface NodePortDestinations {
  /** No CIDR of our family, or a zero CIDR: one `--dst-type LOCAL` rule. */
  matchAll: boolean;
  /** Otherwise: the node addresses inside the CIDRs, sorted, one KUBE-NODEPORTS jump each. */
  addresses: string[];
  localhostNodePorts: boolean;
}

export function nodePortDestinations(config: NodeConfig): NodePortDestinations {
  const cidrs = config.nodePortAddresses
    .map((text) => parseCIDR(text.trim(), { sloppy: true }))
    .filter((cidr): cidr is CIDR => cidr !== undefined && cidr.family === config.ipFamily);
  const matchAll = cidrs.length === 0 || cidrs.some((cidr) => cidr.prefix === 0);
  const loopbackStart = parseIP('127.0.0.0') as IP;
  const loopbackCovered =
    matchAll || cidrs.some((cidr) => cidr.family === 4 && (cidr.network >> 24n === 127n || cidrContains(cidr, loopbackStart)));
  const localhostNodePorts = config.localhostNodePorts && (config.ipFamily !== 4 || loopbackCovered);
  if (matchAll) return { matchAll, addresses: [], localhostNodePorts };

  const seen = new Map<string, IP>();
  for (const addresses of Object.values(config.interfaces)) {
    for (const text of addresses) {
      const ip = parseIP(text.split('/')[0] ?? '', { sloppy: true });
      if (!ip || ip.family !== config.ipFamily || !cidrs.some((cidr) => cidrContains(cidr, ip))) continue;
      // Loopback NodePorts never work on IPv6, and on IPv4 only with route_localnet (localhostNodePorts).
      if (isLoopback(ip) && (ip.family === 6 || !localhostNodePorts)) continue;
      seen.set(ip.text, ip);
    }
  }
  const addresses = [...seen.values()].sort(compareIP).map((ip) => ip.text);
  return { matchAll, addresses, localhostNodePorts };
}
