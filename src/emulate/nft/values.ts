/**
 * Values of the nftables evaluator: what a selector (`ip daddr`, `meta l4proto`, `th dport`, `ct state`, `fib daddr
 * type`, ...) yields for a packet, how it compares with a value written in nft syntax (addresses, CIDRs, ranges,
 * protocol names, hex numbers), and the canonical key text that lets set and map lookups be hash lookups.
 */
import { cidrContains, parseCIDR, parseIP, type IP } from '../../net/ip.js';
import { isLocal, type NodeModel } from '../node.js';
import { hasPorts, PROTOCOL_NUMBERS, type Packet } from '../packet.js';

export type Value = { t: 'ip'; ip: IP } | { t: 'num'; n: number } | { t: 'str'; s: string };

/** What a field selector needs besides the packet. */
export interface FieldContext {
  pkt: Packet;
  node: NodeModel;
  /** `new`, `established`, ... */
  ctState: string;
}

const PROTO_NAMES: Readonly<Record<string, number>> = { ...PROTOCOL_NUMBERS, 'ipv6-icmp': 58, 'icmp6': 58 };

/** The value of a field for this packet; undefined = the packet has no such field (the match fails); null = not modelled. */
export function fieldValue(name: string, c: FieldContext): Value | undefined | null {
  const pkt = c.pkt;
  switch (name) {
    case 'ip saddr':
    case 'ip6 saddr':
      return (name === 'ip saddr') === (pkt.family === 4) ? { t: 'ip', ip: pkt.src } : undefined;
    case 'ip daddr':
    case 'ip6 daddr':
      return (name === 'ip daddr') === (pkt.family === 4) ? { t: 'ip', ip: pkt.dst } : undefined;
    case 'meta l4proto':
    case 'ip protocol':
    case 'ip6 nexthdr':
      return { t: 'num', n: PROTOCOL_NUMBERS[pkt.protocol] };
    case 'th dport':
      return hasPorts(pkt.protocol) ? { t: 'num', n: pkt.dport } : undefined;
    case 'th sport':
      return hasPorts(pkt.protocol) ? { t: 'num', n: pkt.sport } : undefined;
    case 'meta mark':
    case 'mark':
      return { t: 'num', n: pkt.mark };
    case 'ct state':
      return { t: 'str', s: c.ctState };
    case 'fib daddr type':
      return { t: 'str', s: isLocal(c.node, pkt.dst) ? 'local' : 'unicast' };
    case 'fib saddr type':
      return { t: 'str', s: isLocal(c.node, pkt.src) ? 'local' : 'unicast' };
    case 'iifname':
    case 'meta iifname':
    case 'iif':
    case 'meta iif':
      return { t: 'str', s: pkt.inIface };
    case 'oifname':
    case 'meta oifname':
    case 'oif':
    case 'meta oif':
      return { t: 'str', s: pkt.outIface };
    case 'meta nfproto':
      return { t: 'str', s: pkt.family === 4 ? 'ipv4' : 'ipv6' };
  }
  const m = /^(tcp|udp|sctp) (dport|sport)$/.exec(name);
  if (m) {
    if (pkt.protocol !== m[1]) return undefined;
    return { t: 'num', n: m[2] === 'dport' ? pkt.dport : pkt.sport };
  }
  return null;
}

export function parseNumber(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (t in PROTO_NAMES) return PROTO_NAMES[t];
  if (/^0x[0-9a-f]+$/.test(t)) return Number.parseInt(t, 16);
  if (/^\d+$/.test(t)) return Number(t);
  return undefined;
}

/** Canonical text of a packet value, as set keys are indexed. */
export function valueKey(v: Value): string {
  return v.t === 'ip' ? v.ip.text : v.t === 'num' ? String(v.n) : v.s.toLowerCase();
}

/** Canonical text of a written element part when it is one exact value; undefined for CIDRs, ranges and lists. */
export function writtenKey(text: string): string | undefined {
  if (text.includes('/') || text.includes(',') || /^[^:]+-[^:]+$/.test(text)) {
    if (!/^[a-z][a-z-]*$/i.test(text)) return undefined;
  }
  const ip = parseIP(text);
  if (ip) return ip.text;
  const n = parseNumber(text);
  if (n !== undefined) return String(n);
  return text.toLowerCase();
}

/** Does the packet value equal / fall inside the written value (CIDR, range `a-b`, list `a,b`)? */
export function valueMatches(v: Value, text: string): boolean {
  if (text.includes(',') ) return text.split(',').some((p) => valueMatches(v, p.trim()));
  if (v.t === 'ip') {
    if (text.includes('/')) {
      const c = parseCIDR(text, { sloppy: true });
      return c !== undefined && cidrContains(c, v.ip);
    }
    const dash = text.indexOf('-');
    if (dash > 0) {
      const a = parseIP(text.slice(0, dash));
      const b = parseIP(text.slice(dash + 1));
      return !!a && !!b && a.family === v.ip.family && v.ip.value >= a.value && v.ip.value <= b.value;
    }
    const ip = parseIP(text);
    return ip !== undefined && ip.family === v.ip.family && ip.value === v.ip.value;
  }
  if (v.t === 'num') {
    const dash = text.indexOf('-');
    if (dash > 0) {
      const a = parseNumber(text.slice(0, dash));
      const b = parseNumber(text.slice(dash + 1));
      return a !== undefined && b !== undefined && v.n >= a && v.n <= b;
    }
    return parseNumber(text) === v.n;
  }
  return v.s.toLowerCase() === text.toLowerCase();
}

/** `a & m`, `a | m`, `a ^ m` on 32-bit numbers. */
export function bitwise(op: 'and' | 'or' | 'xor', a: number, m: number): number {
  return (op === 'and' ? a & m : op === 'or' ? a | m : a ^ m) >>> 0;
}

export function describeValue(v: Value): string {
  if (v.t === 'ip') return v.ip.text;
  if (v.t === 'num') return String(v.n);
  return v.s;
}
