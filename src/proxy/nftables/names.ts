/**
 * kube-proxy's nftables names (spec kube-proxy-nftables.md §4.1). Unlike iptables mode, the readable service
 * port text stays in the name: `service-P4ZYZVCF-testing/service/tcp/http`. The type prefix (`service-`,
 * `endpoint-`, ...) sits outside the hashed text, so every chain of one service port shares the same hash.
 */
import type { ProxyEndpoint, ProxyServicePort } from '../service-ports.js';
import { hashSuffix } from '../iptables/names.js';
import { Sha256 } from '../sha256.js';

/** knftables' NameLengthMax (256) less room for the prefix kube-proxy adds. */
const MAX_BASE_LENGTH = 240;

/** `HASH8-text`, cut to 237 characters plus `...` when longer than 240. A compile passes one `sha` for all. */
export function hashedName(text: string, sha = new Sha256()): string {
  const name = `${hashSuffix(text, sha).slice(0, 8)}-${text}`;
  return name.length > MAX_BASE_LENGTH ? `${name.slice(0, MAX_BASE_LENGTH - 3)}...` : name;
}

/** The spec port name of a service port (`""` when unnamed), recovered from `ns/name[:port]`. */
export function specPortName(svc: ProxyServicePort): string {
  const prefix = `${svc.service.namespace}/${svc.service.name}`;
  return svc.portName.length > prefix.length ? svc.portName.slice(prefix.length + 1) : '';
}

/** `ns/svc/proto/portName`: the text every chain of the service port is named after. */
export function servicePortText(svc: ProxyServicePort): string {
  return `${svc.service.namespace}/${svc.service.name}/${svc.protocol}/${specPortName(svc)}`;
}

export interface NftServicePortNames {
  /** `service-…`: cluster traffic policy chain. */
  cluster: string;
  /** `local-…`: local traffic policy chain. */
  local: string;
  /** `external-…`: NodePort, externalIP and LoadBalancer IP traffic. */
  external: string;
  /** `firewall-…`: LoadBalancer source-range check. */
  firewall: string;
}

export function servicePortNames(svc: ProxyServicePort, sha = new Sha256()): NftServicePortNames {
  const base = hashedName(servicePortText(svc), sha);
  return { cluster: flat(`service-${base}`), local: flat(`local-${base}`), external: flat(`external-${base}`), firewall: flat(`firewall-${base}`) };
}

export interface NftEndpointNames {
  /** `endpoint-…`: DNAT to this endpoint. */
  chain: string;
  /** `affinity-…`: client IPs recently sent to this endpoint (ClientIP session affinity). */
  affinitySet: string;
}

/** The same endpoint in two service ports gets two chains; IPv6 colons become dots, as `:` is not allowed. */
export function endpointNames(svc: ProxyServicePort, endpoint: ProxyEndpoint, sha = new Sha256()): NftEndpointNames {
  const base = hashedName(`${servicePortText(svc)}__${endpoint.ip.replaceAll(':', '.')}/${endpoint.port}`, sha);
  return { chain: flat(`endpoint-${base}`), affinitySet: flat(`affinity-${base}`) };
}

/**
 * The text as one flat string. Template literals build ropes (V8 cons strings); a ruleset keeps 100,000s of
 * names and rule texts that are sorted and printed, and every comparison or copy of a rope walks its pieces.
 * Reading a character makes V8 flatten the rope in place (and the garbage collector then drops the rope's
 * shell), which costs half of copying the text through a buffer.
 */
export function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}
