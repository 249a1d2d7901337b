/**
 * kube-proxy's chain names: a prefix plus the first 16 characters of base32(sha256(text)).
 * The text is the service port name followed by the lowercase protocol (and the endpoint for KUBE-SEP).
 */
import { hash } from 'node:crypto';

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (standard alphabet) of the first bytes of `bytes`, enough for `length` characters. */
function base32Prefix(bytes: Uint8Array, length: number): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < length) {
      out += BASE32_ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= length) break;
    buffer &= (1 << bits) - 1;
  }
  return out;
}

export function hashSuffix(text: string): string {
  // crypto.hash is the one-shot form: about 3× cheaper than createHash for short inputs.
  return base32Prefix(hash('sha256', text, 'buffer'), 16);
}

export interface ServicePortChains {
  /** KUBE-SVC-h: cluster traffic policy chain. */
  cluster: string;
  /** KUBE-SVL-h: local traffic policy chain. */
  local: string;
  /** KUBE-EXT-h: traffic to external destinations (NodePort, externalIPs, LoadBalancer IPs). */
  external: string;
  /** KUBE-FW-h: LoadBalancer source-range firewall. */
  firewall: string;
}

/** Chains of one service port; `portName` is `ns/name[:port]`, `protocol` lowercase. */
export function servicePortChains(portName: string, protocol: string): ServicePortChains {
  const h = hashSuffix(portName + protocol);
  return { cluster: `KUBE-SVC-${h}`, local: `KUBE-SVL-${h}`, external: `KUBE-EXT-${h}`, firewall: `KUBE-FW-${h}` };
}

/** KUBE-SEP-e for one endpoint (`ip:port`) of one service port: the same IP in two services gets two chains. */
export function endpointChain(portName: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${hashSuffix(portName + protocol + endpoint)}`;
}
