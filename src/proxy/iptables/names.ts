/**
 * kube-proxy's chain names: a prefix plus the first 16 characters of base32(sha256(text)).
 * The text is the service port name followed by the lowercase protocol (and the endpoint for KUBE-SEP).
 */
import { Sha256 } from '../sha256.js';

const BASE32_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * `prefix` followed by the RFC 4648 base32 (standard alphabet) of the first bytes of `bytes`, `length`
 * characters of it. Written into one buffer and decoded once: the result is a single flat string rather than
 * a chain of concatenations, which matters for the hundreds of thousands of names a large cluster keeps.
 */
function base32Name(prefix: string, bytes: Uint8Array, length: number): string {
  const out = Buffer.allocUnsafe(prefix.length + length);
  let at = out.write(prefix, 'latin1');
  const end = at + length;
  let buffer = 0;
  let bits = 0;
  for (let i = 0; i < bytes.length && at < end; i++) {
    buffer = ((buffer << 8) | (bytes[i] as number)) & 0xffff;
    bits += 8;
    while (bits >= 5 && at < end) {
      out[at++] = BASE32_ALPHABET.charCodeAt((buffer >>> (bits - 5)) & 31);
      bits -= 5;
    }
  }
  return out.toString('latin1');
}

/**
 * `prefix` + the first 16 characters of base32(sha256(text)). Compilers pass one `sha` for all the names
 * they make (it keeps its working memory); other callers may leave it out.
 */
function hashedName(prefix: string, text: string, sha: Sha256): string {
  return base32Name(prefix, sha.digest(text), 16);
}

export function hashSuffix(text: string, sha = new Sha256()): string {
  return hashedName('', text, sha);
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
export function servicePortChains(portName: string, protocol: string, sha = new Sha256()): ServicePortChains {
  const digest = sha.digest(portName + protocol);
  return {
    cluster: base32Name('KUBE-SVC-', digest, 16),
    local: base32Name('KUBE-SVL-', digest, 16),
    external: base32Name('KUBE-EXT-', digest, 16),
    firewall: base32Name('KUBE-FW-', digest, 16),
  };
}

/** KUBE-SEP-e for one endpoint (`ip:port`) of one service port: the same IP in two services gets two chains. */
export function endpointChain(portName: string, protocol: string, endpoint: string, sha = new Sha256()): string {
  return hashedName('KUBE-SEP-', portName + protocol + endpoint, sha);
}
