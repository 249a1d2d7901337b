/**
 * Packets as the emulator sees them: the 5-tuple plus what the kernel keeps beside it on the way through
 * the hooks (the skb mark, the interfaces). Addresses are parsed once (net/ip) and compared as numbers.
 */
import { parseIP, type IP, type IPFamily } from '../net/ip.js';

/** Transport protocols the emulator understands by name; anything else is carried as its number. */
export type Proto = 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmpv6';

/** Where a packet enters the node (spec emulator §2). */
export type Origin = 'pod' | 'node' | 'external';

/** What the user asks to trace (`kproxy trace --src --dst --dport ...`). */
export interface PacketSpec {
  protocol: Proto;
  source: string;
  destination: string;
  /** Defaults to an ephemeral port (40000) for tcp/udp/sctp. */
  sourcePort?: number;
  destinationPort?: number;
  /** ICMP type; defaults to echo request. */
  icmpType?: number;
  /** Overrides the origin derived from the source address. */
  origin?: Origin;
}

/** A packet in flight: mutable, one copy per enumerated path. */
export interface Packet {
  family: IPFamily;
  protocol: Proto;
  src: IP;
  dst: IP;
  sport: number;
  dport: number;
  icmpType: number;
  /** The skb mark (`-m mark`, `MARK`), an unsigned 32-bit number. */
  mark: number;
  /** Incoming interface ('' when the packet was generated locally), as `-i` sees it. */
  inIface: string;
  /** Outgoing interface ('' before the routing decision), as `-o` sees it. */
  outIface: string;
  /** TCP flags of this packet (a first packet is a SYN). */
  tcpFlags: ReadonlySet<string>;
}

export const EPHEMERAL_PORT = 40000;
export const ICMP_ECHO_REQUEST = 8;
const ICMPV6_ECHO_REQUEST = 128;

/** IANA protocol numbers, for `-p 6` and for printing. */
export const PROTOCOL_NUMBERS: Readonly<Record<Proto, number>> = { tcp: 6, udp: 17, sctp: 132, icmp: 1, icmpv6: 58 };

export function hasPorts(protocol: Proto): boolean {
  return protocol === 'tcp' || protocol === 'udp' || protocol === 'sctp';
}

export function parseProto(text: string): Proto | undefined {
  const t = text.toLowerCase();
  if (t === 'tcp' || t === 'udp' || t === 'sctp' || t === 'icmp') return t;
  if (t === 'icmpv6' || t === 'ipv6-icmp' || t === 'icmp6') return 'icmpv6';
  return undefined;
}

export type PacketResult = { ok: true; packet: Packet } | { ok: false; message: string };

/** Builds the first packet of a new connection from a spec; errors are user errors (bad address, port). */
export function makePacket(spec: PacketSpec): PacketResult {
  const src = parseIP(spec.source);
  if (!src) return { ok: false, message: `source ${JSON.stringify(spec.source)} is not an IP address` };
  const dst = parseIP(spec.destination);
  if (!dst) return { ok: false, message: `destination ${JSON.stringify(spec.destination)} is not an IP address` };
  if (src.family !== dst.family) return { ok: false, message: `source ${src.text} and destination ${dst.text} are of different IP families` };
  let protocol = spec.protocol;
  if (protocol === 'icmp' && dst.family === 6) protocol = 'icmpv6';
  const ports = hasPorts(protocol);
  const dport = spec.destinationPort;
  if (ports && (dport === undefined || !validPort(dport))) {
    return { ok: false, message: `${protocol} needs a destination port between 1 and 65535` };
  }
  const sport = spec.sourcePort ?? EPHEMERAL_PORT;
  if (ports && !validPort(sport)) return { ok: false, message: 'the source port must be between 1 and 65535' };
  return {
    ok: true,
    packet: {
      family: src.family,
      protocol,
      src,
      dst,
      sport: ports ? sport : 0,
      dport: ports ? (dport as number) : 0,
      icmpType: spec.icmpType ?? (protocol === 'icmpv6' ? ICMPV6_ECHO_REQUEST : ICMP_ECHO_REQUEST),
      mark: 0,
      inIface: '',
      outIface: '',
      tcpFlags: protocol === 'tcp' ? SYN : NO_FLAGS,
    },
  };
}

const SYN: ReadonlySet<string> = new Set(['SYN']);
export const ACK: ReadonlySet<string> = new Set(['ACK']);
const NO_FLAGS: ReadonlySet<string> = new Set();

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

export function clonePacket(p: Packet): Packet {
  return { ...p };
}

/** `10.0.0.1:80`, `[2001:db8::1]:80`, or the bare address for protocols without ports. */
export function hostPort(ip: IP, port: number, protocol: Proto): string {
  if (!hasPorts(protocol)) return ip.text;
  return ip.family === 6 ? `[${ip.text}]:${port}` : `${ip.text}:${port}`;
}

export function describePacket(p: Packet): string {
  if (!hasPorts(p.protocol)) return `${p.protocol} ${p.src.text} → ${p.dst.text}${p.icmpType === ICMP_ECHO_REQUEST || p.icmpType === ICMPV6_ECHO_REQUEST ? ' (echo request)' : ` (type ${p.icmpType})`}`;
  return `${p.protocol} ${hostPort(p.src, p.sport, p.protocol)} → ${hostPort(p.dst, p.dport, p.protocol)}`;
}
