/**
 * The one place that knows how IP addresses are spelled. Everything else holds `IP` / `CIDR` values
 * (family + numeric value + canonical text) and asks this module to parse, compare and contain.
 * ip-num validates the spelling; the numeric form is kept as a bigint so containment is cheap.
 */
import { IPv6, Validator, collapseIPv6Number } from 'ip-num';

export type IPFamily = 4 | 6;

export interface IP {
  family: IPFamily;
  /** Address as an unsigned integer (32 or 128 bits). */
  value: bigint;
  /** Canonical text, as Go's net.IP.String() prints it (no leading zeros; RFC 5952 for IPv6). */
  text: string;
}

export interface CIDR {
  family: IPFamily;
  /** Network address (host bits cleared). */
  network: bigint;
  prefix: number;
  /** Canonical `network/prefix`, as Go's net.IPNet.String() prints it. */
  text: string;
}

/**
 * Parses an IP. `sloppy` accepts IPv4 octets with leading zeros (`10.001.2.3`), as Kubernetes'
 * ParseIPSloppy does for fields validated before the strict rules existed.
 */
export function parseIP(text: string, options: { sloppy?: boolean } = {}): IP | undefined {
  if (text.includes('.') && !text.includes(':')) return parseIPv4(text, options.sloppy ?? false);
  if (text.includes(':')) return parseIPv6(text);
  return undefined;
}

function parseIPv4(text: string, sloppy: boolean): IP | undefined {
  // One pass over the characters, no split or regex: this runs for every endpoint of a large input.
  // Four decimal octets ≤ 255 are the whole IPv4 grammar: no need to ask ip-num again.
  let value = 0;
  let octet = 0;
  let digits = 0;
  let octets = 0;
  let canonical = true;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e; // a '.' past the end closes the last octet
    if (c === 0x2e) {
      if (digits === 0 || octet > 255) return undefined;
      value = value * 256 + octet;
      octets++;
      octet = 0;
      digits = 0;
      continue;
    }
    if (c < 0x30 || c > 0x39 || digits === 3) return undefined;
    if (digits === 1 && octet === 0) {
      // A leading zero (`010`): only sloppy parsing takes it, and the canonical text drops it.
      if (!sloppy) return undefined;
      canonical = false;
    }
    octet = octet * 10 + (c - 0x30);
    digits++;
  }
  if (octets !== 4) return undefined;
  // Without leading zeros the input already is the canonical text: keep it rather than build a copy.
  return { family: 4, value: BigInt(value), text: canonical ? text : formatIPv4(BigInt(value)) };
}

function parseIPv6(text: string): IP | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !Validator.isValidIPv6String(text)[0]) return undefined;
  const value = IPv6.fromString(text).getValue();
  return { family: 6, value, text: formatIPv6(value) };
}

export function ipFromValue(family: IPFamily, value: bigint): IP {
  return { family, value, text: family === 4 ? formatIPv4(value) : formatIPv6(value) };
}

function formatIPv4(value: bigint): string {
  const n = Number(value);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

function formatIPv6(value: bigint): string {
  // IPv4-mapped addresses print as dotted quads, as Go does.
  if (value >> 32n === 0xffffn) return formatIPv4(value & 0xffffffffn);
  const groups: string[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(((value >> shift) & 0xffffn).toString(16));
  return collapseIPv6Number(groups.join(':'));
}

/** Parses `addr/prefix`; the address may have host bits set (they are cleared, as Go's ParseCIDR does). */
export function parseCIDR(text: string, options: { sloppy?: boolean } = {}): CIDR | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIP(text.slice(0, slash), options);
  const prefixText = text.slice(slash + 1);
  if (!ip || !/^[0-9]{1,3}$/.test(prefixText)) return undefined;
  if (!(options.sloppy ?? false) && prefixText.length > 1 && prefixText.startsWith('0')) return undefined;
  const prefix = Number(prefixText);
  if (prefix > bitsOf(ip.family)) return undefined;
  return makeCIDR(ip.family, ip.value, prefix);
}

export function makeCIDR(family: IPFamily, address: bigint, prefix: number): CIDR {
  const network = address & maskOf(family, prefix);
  return { family, network, prefix, text: `${ipFromValue(family, network).text}/${prefix}` };
}

/** A single address as a host route (`/32` or `/128`). */
export function hostCIDR(ip: IP): CIDR {
  return makeCIDR(ip.family, ip.value, bitsOf(ip.family));
}

export function cidrContains(cidr: CIDR, ip: IP): boolean {
  return cidr.family === ip.family && (ip.value & maskOf(cidr.family, cidr.prefix)) === cidr.network;
}

/** True when `inner` lies entirely inside `outer`. */
export function cidrContainsCIDR(outer: CIDR, inner: CIDR): boolean {
  return (
    outer.family === inner.family &&
    inner.prefix >= outer.prefix &&
    (inner.network & maskOf(outer.family, outer.prefix)) === outer.network
  );
}

export function isLoopback(ip: IP): boolean {
  return ip.family === 4 ? ip.value >> 24n === 127n : ip.value === 1n;
}

export function bitsOf(family: IPFamily): number {
  return family === 4 ? 32 : 128;
}

function maskOf(family: IPFamily, prefix: number): bigint {
  const bits = BigInt(bitsOf(family));
  const all = (1n << bits) - 1n;
  return prefix === 0 ? 0n : (all >> (bits - BigInt(prefix))) << (bits - BigInt(prefix));
}

/** Orders addresses numerically within a family, IPv4 first. */
export function compareIP(a: IP, b: IP): number {
  if (a.family !== b.family) return a.family - b.family;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}
