/**
 * What each match and target of a rule means, compiled once per rule into small closures so that tracing many
 * packets costs no parsing. A match answers MATCH / FAIL / UNKNOWN / RANDOM and can say why in plain words.
 * UNKNOWN is for modules and options the emulator does not model (physdev, set, owner, ...): the walker reports
 * them and flags the outcome uncertain instead of guessing.
 */
import type { MatchPart, Rule, Target } from '../ir/iptables.js';
import { parseCIDR, parseIP, type IP, type IPFamily } from '../net/ip.js';
import { isLocal, type NodeModel } from './node.js';
import { hasPorts, PROTOCOL_NUMBERS, type Packet, type Proto } from './packet.js';
import { readRecent, recentKey, type EmulatorState, type Effects, type Tuple } from './state.js';

export type Hook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';

export type CtState = 'NEW' | 'ESTABLISHED' | 'RELATED' | 'INVALID' | 'UNTRACKED';

/** The conntrack view of the packet being traced. */
export interface CtInfo {
  state: CtState;
  direction: 'original' | 'reply';
  /** The connection's destination / source was rewritten (ctstate DNAT / SNAT). */
  dnat: boolean;
  snat: boolean;
  /** A reply has been seen (ctstatus SEEN_REPLY/ASSURED). */
  seenReply: boolean;
  /** The entry is in the table already (ctstatus CONFIRMED). */
  confirmed: boolean;
  /** The original-direction tuple of the connection. */
  original: Tuple;
}

/** Everything a match may look at. */
export interface MatchContext {
  pkt: Packet;
  ct: CtInfo;
  effects: Effects;
  state: EmulatorState | undefined;
  now: number;
  node: NodeModel;
  hook: Hook;
  /** What stateful matches saw when they were tested (their state may have changed since). */
  details: Map<Matcher, string>;
}

export const FAIL = 0;
export const MATCH = 1;
export const UNKNOWN = 2;
/** Decided by a random draw: see `Matcher.probability`. */
export const RANDOM = 3;
export type MatchCode = typeof FAIL | typeof MATCH | typeof UNKNOWN | typeof RANDOM;

export interface Matcher {
  /** The rule words this condition came from, e.g. `-d 172.30.0.41` or `-m recent --rcheck --seconds 10800`. */
  text: string;
  /** No side effects and no randomness: may be tested out of order. */
  pure: boolean;
  /** For RANDOM: the probability that the condition holds. */
  probability?: number;
  test(c: MatchContext): MatchCode;
  /** Plain-words reason for the answer `test` gave. */
  why(c: MatchContext): string;
}

// ---------------------------------------------------------------------------------------------------------
// Addresses and ports

interface Net {
  family: IPFamily;
  network: bigint;
  mask: bigint;
  /** Exactly one address (/32, /128). */
  host: boolean;
  text: string;
}

function maskFor(family: IPFamily, prefix: number): bigint {
  const bits = family === 4 ? 32n : 128n;
  const all = (1n << bits) - 1n;
  return prefix === 0 ? 0n : all ^ ((1n << (bits - BigInt(prefix))) - 1n);
}

const CANONICAL_V4 = /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

/**
 * An address as written in a rule. Dotted quads without leading zeros (nearly every address kube-proxy writes)
 * are read here directly; the general parser in net/ip is thorough but costs microseconds per address, which
 * adds up on 100,000-rule dumps.
 */
export function parseRuleIP(text: string): IP | undefined {
  if (CANONICAL_V4.test(text)) {
    let value = 0;
    for (const octet of text.split('.')) value = value * 256 + Number(octet);
    return { family: 4, value: BigInt(value), text };
  }
  return parseIP(text, { sloppy: true });
}

/** `-s`/`-d` arguments: `a.b.c.d`, `a.b.c.d/len`, `a.b.c.d/255.255.0.0`, IPv6 likewise. */
export function parseNet(text: string): Net | undefined {
  const slash = text.indexOf('/');
  const tailText = slash < 0 ? '' : text.slice(slash + 1);
  if (slash >= 0 && /^[0-9]{1,3}$/.test(tailText) && CANONICAL_V4.test(text.slice(0, slash))) {
    const ip = parseRuleIP(text.slice(0, slash)) as IP;
    const prefix = Number(tailText);
    if (prefix > 32) return undefined;
    const mask = maskFor(4, prefix);
    const network = ip.value & mask;
    const host = prefix === 32;
    const netText = host ? ip.text : network === ip.value ? text : undefined;
    if (netText !== undefined) return { family: 4, network, mask, host, text: netText };
  }
  if (slash < 0) {
    const ip = parseRuleIP(text);
    if (!ip) return undefined;
    return { family: ip.family, network: ip.value, mask: maskFor(ip.family, ip.family === 4 ? 32 : 128), host: true, text: ip.text };
  }
  const tail = text.slice(slash + 1);
  let prefixText = tail;
  if (tail.includes('.') || (tail.includes(':') && !/^[0-9]+$/.test(tail))) {
    const m = parseIP(tail, { sloppy: true });
    if (!m) return undefined;
    const bits = m.family === 4 ? 32 : 128;
    const ones = m.value.toString(2).padStart(bits, '0');
    if (!/^1*0*$/.test(ones)) return undefined; // non-contiguous masks are not modelled
    prefixText = String(ones.indexOf('0') < 0 ? bits : ones.indexOf('0'));
  }
  const cidr = parseCIDR(`${text.slice(0, slash)}/${prefixText}`, { sloppy: true });
  if (!cidr) return undefined;
  const full = cidr.family === 4 ? 32 : 128;
  return {
    family: cidr.family,
    network: cidr.network,
    mask: maskFor(cidr.family, cidr.prefix),
    host: cidr.prefix === full,
    text: cidr.prefix === full ? cidr.text.slice(0, cidr.text.indexOf('/')) : cidr.text,
  };
}

function inNet(net: Net, ip: IP): boolean {
  return ip.family === net.family && (ip.value & net.mask) === net.network;
}

interface PortRange {
  lo: number;
  hi: number;
}

function parsePortRange(text: string): PortRange | undefined {
  const colon = text.indexOf(':');
  const num = (t: string, dflt: number) => (t === '' ? dflt : /^[0-9]+$/.test(t) && Number(t) <= 65535 ? Number(t) : NaN);
  const lo = colon < 0 ? num(text, NaN) : num(text.slice(0, colon), 0);
  const hi = colon < 0 ? lo : num(text.slice(colon + 1), 65535);
  return Number.isNaN(lo) || Number.isNaN(hi) ? undefined : { lo, hi };
}

function portsText(ranges: PortRange[]): string {
  return ranges.map((r) => (r.lo === r.hi ? String(r.lo) : `${r.lo}-${r.hi}`)).join(',');
}

function protocolNumber(text: string): number | 'all' | undefined {
  const t = text.toLowerCase();
  if (t === 'all' || t === '0') return 'all';
  if (/^[0-9]+$/.test(t)) return Number(t);
  if (t === 'ipv6-icmp' || t === 'icmp6') return 58;
  return (PROTOCOL_NUMBERS as Record<string, number>)[t];
}

// ---------------------------------------------------------------------------------------------------------
// Building the matchers of a rule

const not = (negated: boolean) => (negated ? '! ' : '');

function unknownMatcher(text: string, why: string): Matcher {
  return { text, pure: true, test: () => UNKNOWN, why: () => why };
}

function basicMatcher(part: Exclude<MatchPart, { kind: 'module' | 'option' }>): Matcher {
  switch (part.kind) {
    case 'source':
    case 'destination': {
      const flag = part.kind === 'source' ? '-s' : '-d';
      const text = `${not(part.negated)}${flag} ${part.address}`;
      const net = parseNet(part.address);
      if (!net) return unknownMatcher(text, `cannot read the address ${JSON.stringify(part.address)} (host names are not resolved)`);
      const word = part.kind;
      const pick = part.kind === 'source' ? (c: MatchContext) => c.pkt.src : (c: MatchContext) => c.pkt.dst;
      const target = net.host ? net.text : `the range ${net.text}`;
      return {
        text,
        pure: true,
        test: (c) => (inNet(net, pick(c)) !== part.negated ? MATCH : FAIL),
        why: (c) => {
          const inside = inNet(net, pick(c));
          const is = net.host ? (inside ? 'is' : 'is not') : inside ? 'is in' : 'is not in';
          return `${word} ${pick(c).text} ${is} ${target}`;
        },
      };
    }
    case 'protocol': {
      const text = `${not(part.negated)}-p ${part.protocol}`;
      const num = protocolNumber(part.protocol);
      if (num === undefined) return unknownMatcher(text, `unknown protocol ${part.protocol}`);
      const holds = (p: Proto) => num === 'all' || PROTOCOL_NUMBERS[p] === num;
      return {
        text,
        pure: true,
        test: (c) => (holds(c.pkt.protocol) !== part.negated ? MATCH : FAIL),
        why: (c) => `protocol is ${c.pkt.protocol}${holds(c.pkt.protocol) === part.negated ? `, the rule wants ${part.negated ? 'anything but ' : ''}${part.protocol}` : ''}`,
      };
    }
    case 'inInterface':
    case 'outInterface': {
      const flag = part.kind === 'inInterface' ? '-i' : '-o';
      const text = `${not(part.negated)}${flag} ${part.name}`;
      const wildcard = part.name.endsWith('+');
      const stem = wildcard ? part.name.slice(0, -1) : part.name;
      const pick = part.kind === 'inInterface' ? (c: MatchContext) => c.pkt.inIface : (c: MatchContext) => c.pkt.outIface;
      const holds = (name: string) => (wildcard ? name.startsWith(stem) && name !== '' : name === stem);
      const which = part.kind === 'inInterface' ? 'in' : 'out';
      return {
        text,
        pure: true,
        test: (c) => (holds(pick(c)) !== part.negated ? MATCH : FAIL),
        why: (c) => {
          const name = pick(c);
          if (name === '') return `the packet has no ${which}going interface at this hook`;
          return `${which}going interface is ${name}${holds(name) === part.negated ? `, the rule wants ${part.negated ? 'anything but ' : ''}${part.name}` : ''}`;
        },
      };
    }
  }
}

/** A `-m NAME` with the options that follow it. */
interface MatchGroup {
  module: string;
  options: Extract<MatchPart, { kind: 'option' }>[];
}

function groupParts(parts: readonly MatchPart[]): { basics: Exclude<MatchPart, { kind: 'module' | 'option' }>[]; groups: MatchGroup[] } {
  const basics: Exclude<MatchPart, { kind: 'module' | 'option' }>[] = [];
  const groups: MatchGroup[] = [];
  for (const part of parts) {
    if (part.kind === 'module') groups.push({ module: part.name, options: [] });
    else if (part.kind === 'option') {
      let group: MatchGroup | undefined;
      for (let k = groups.length - 1; k >= 0; k--) {
        if (groups[k]?.module === part.module) {
          group = groups[k];
          break;
        }
      }
      // `-p tcp --dport 80` without `-m tcp`: the protocol's implicit match.
      if (!group) groups.push((group = { module: part.module, options: [] }));
      group.options.push(part);
    } else basics.push(part);
  }
  // The kernel checks the IP header fields first (addresses, interfaces, protocol), then the matches in order.
  const order = { source: 0, destination: 1, inInterface: 2, outInterface: 3, protocol: 4 } as const;
  basics.sort((a, b) => order[a.kind] - order[b.kind]);
  return { basics, groups };
}

function optionText(o: Extract<MatchPart, { kind: 'option' }>): string {
  return `${not(o.negated)}--${o.name}${o.args.length ? ` ${o.args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}` : ''}`;
}

/** Modules whose every option is understood, and the ones that never change the answer. */
const NO_OP_MODULES = new Set(['comment', 'nfacct', 'limit']);

export function compileMatchers(rule: Rule, ruleKey: string): Matcher[] {
  const { basics, groups } = groupParts(rule.parts);
  const matchers: Matcher[] = basics.map(basicMatcher);
  for (const group of groups) {
    if (NO_OP_MODULES.has(group.module)) continue;
    matchers.push(...groupMatchers(group, ruleKey));
  }
  return matchers;
}

function groupMatchers(group: MatchGroup, ruleKey: string): Matcher[] {
  const m = group.module;
  const gtext = `-m ${m}${group.options.length ? ` ${group.options.map(optionText).join(' ')}` : ''}`;
  switch (m) {
    case 'tcp':
    case 'udp':
    case 'sctp':
      return [protoModuleMatcher(m), ...group.options.map((o) => portOption(m, o))];
    case 'icmp':
    case 'icmp6':
    case 'icmpv6':
      return group.options.map((o) => icmpOption(o));
    case 'multiport':
      return group.options.map((o) => multiportOption(o));
    case 'addrtype':
      return group.options.map((o) => addrtypeOption(o));
    case 'conntrack':
      return group.options.map((o) => conntrackOption(o));
    case 'state':
      return group.options.map((o) => (o.name === 'state' ? ctstateMatcher(o, 'state') : unknownMatcher(optionText(o), `option --${o.name} of -m state is not modelled`)));
    case 'mark':
      return group.options.map((o) => markOption(o));
    case 'statistic':
      return [statisticMatcher(group, gtext, ruleKey)];
    case 'recent':
      return [recentMatcher(group, gtext)];
    default:
      return [unknownMatcher(gtext, `the emulator does not model -m ${m}`)];
  }
}

function protoModuleMatcher(m: 'tcp' | 'udp' | 'sctp'): Matcher {
  // `-m tcp` only sees TCP packets (iptables also insists on `-p tcp`).
  return {
    text: `-m ${m}`,
    pure: true,
    test: (c) => (c.pkt.protocol === m ? MATCH : FAIL),
    why: (c) => `protocol is ${c.pkt.protocol}${c.pkt.protocol === m ? '' : `, not ${m}`}`,
  };
}

function portOption(m: 'tcp' | 'udp' | 'sctp', o: Extract<MatchPart, { kind: 'option' }>): Matcher {
  const text = optionText(o);
  const name = o.name;
  if (name === 'dport' || name === 'destination-port' || name === 'sport' || name === 'source-port') {
    const range = parsePortRange(o.args[0] ?? '');
    if (!range) return unknownMatcher(text, `cannot read the port ${JSON.stringify(o.args[0])}`);
    const dest = name === 'dport' || name === 'destination-port';
    const pick = dest ? (c: MatchContext) => c.pkt.dport : (c: MatchContext) => c.pkt.sport;
    const holds = (c: MatchContext) => c.pkt.protocol === m && pick(c) >= range.lo && pick(c) <= range.hi;
    const word = dest ? 'destination port' : 'source port';
    const want = portsText([range]);
    return {
      text,
      pure: true,
      test: (c) => (holds(c) !== o.negated ? MATCH : FAIL),
      why: (c) =>
        holds(c) !== o.negated
          ? `${word} ${pick(c)}${o.negated ? ` is not ${want}` : ''}`
          : `${word} is ${pick(c)}, the rule wants ${o.negated ? 'anything but ' : ''}${want}`,
    };
  }
  if (m === 'tcp' && (name === 'syn' || name === 'tcp-flags')) {
    let maskFlags: string[];
    let setFlags: string[];
    if (name === 'syn') {
      maskFlags = ['SYN', 'RST', 'ACK', 'FIN'];
      setFlags = ['SYN'];
    } else {
      const expand = (t: string) => (t === 'ALL' ? ['SYN', 'ACK', 'FIN', 'RST', 'URG', 'PSH'] : t === 'NONE' ? [] : t.split(','));
      maskFlags = expand(o.args[0] ?? '');
      setFlags = expand(o.args[1] ?? '');
    }
    const holds = (c: MatchContext) => maskFlags.every((f) => c.pkt.tcpFlags.has(f) === setFlags.includes(f));
    return {
      text,
      pure: true,
      test: (c) => (c.pkt.protocol === 'tcp' && holds(c) !== o.negated ? MATCH : FAIL),
      why: (c) => `TCP flags are ${[...c.pkt.tcpFlags].join(',') || 'none'}`,
    };
  }
  return unknownMatcher(text, `option --${name} of -m ${m} is not modelled`);
}

const ICMP_TYPES: Record<string, number> = {
  'echo-reply': 0, pong: 0, 'destination-unreachable': 3, 'echo-request': 8, ping: 8, 'time-exceeded': 11,
  'port-unreachable': 3, 'host-unreachable': 3, 'network-unreachable': 3, redirect: 5,
};
const ICMP6_TYPES: Record<string, number> = {
  'echo-request': 128, 'echo-reply': 129, 'destination-unreachable': 1, 'packet-too-big': 2, 'time-exceeded': 3,
  'neighbour-solicitation': 135, 'neighbor-solicitation': 135, 'neighbour-advertisement': 136, 'neighbor-advertisement': 136,
  'router-solicitation': 133, 'router-advertisement': 134,
};

function icmpOption(o: Extract<MatchPart, { kind: 'option' }>): Matcher {
  const text = optionText(o);
  const arg = (o.args[0] ?? '').toLowerCase();
  const v6 = o.name === 'icmpv6-type';
  if (arg === 'any') {
    return { text, pure: true, test: (c) => ((c.pkt.protocol === (v6 ? 'icmpv6' : 'icmp')) !== o.negated ? MATCH : FAIL), why: (c) => `protocol is ${c.pkt.protocol}` };
  }
  const typeText = arg.split('/')[0] ?? '';
  const type = /^[0-9]+$/.test(typeText) ? Number(typeText) : (v6 ? ICMP6_TYPES : ICMP_TYPES)[typeText];
  if (type === undefined) return unknownMatcher(text, `unknown ICMP type ${arg}`);
  const holds = (c: MatchContext) => c.pkt.protocol === (v6 ? 'icmpv6' : 'icmp') && c.pkt.icmpType === type;
  return {
    text,
    pure: true,
    test: (c) => (holds(c) !== o.negated ? MATCH : FAIL),
    why: (c) => (hasPorts(c.pkt.protocol) ? `protocol is ${c.pkt.protocol}` : `ICMP type is ${c.pkt.icmpType}, the rule wants ${o.negated ? 'anything but ' : ''}${arg}`),
  };
}

function multiportOption(o: Extract<MatchPart, { kind: 'option' }>): Matcher {
  const text = optionText(o);
  const ranges = (o.args[0] ?? '').split(',').map(parsePortRange);
  if (ranges.some((r) => r === undefined)) return unknownMatcher(text, `cannot read the port list ${JSON.stringify(o.args[0])}`);
  const list = ranges as PortRange[];
  const within = (p: number) => list.some((r) => p >= r.lo && p <= r.hi);
  let pick: (c: MatchContext) => number[];
  let word: string;
  switch (o.name) {
    case 'dports':
    case 'destination-ports':
      pick = (c) => [c.pkt.dport];
      word = 'destination port';
      break;
    case 'sports':
    case 'source-ports':
      pick = (c) => [c.pkt.sport];
      word = 'source port';
      break;
    case 'ports':
      pick = (c) => [c.pkt.sport, c.pkt.dport];
      word = 'source or destination port';
      break;
    default:
      return unknownMatcher(text, `option --${o.name} of -m multiport is not modelled`);
  }
  const holds = (c: MatchContext) => hasPorts(c.pkt.protocol) && pick(c).some(within);
  return {
    text,
    pure: true,
    test: (c) => (holds(c) !== o.negated ? MATCH : FAIL),
    why: (c) => `${word} ${pick(c).join('/')} ${holds(c) ? 'is' : 'is not'} in ${portsText(list)}`,
  };
}

function addrtypeOption(o: Extract<MatchPart, { kind: 'option' }>): Matcher {
  const text = optionText(o);
  if (o.name !== 'src-type' && o.name !== 'dst-type') return unknownMatcher(text, `option --${o.name} of -m addrtype is not modelled`);
  const types = (o.args[0] ?? '').split(',').map((t) => t.toUpperCase());
  const known = new Set(['LOCAL', 'UNICAST', 'BROADCAST', 'MULTICAST', 'UNSPEC', 'ANYCAST', 'BLACKHOLE', 'UNREACHABLE', 'PROHIBIT', 'THROW', 'NAT', 'XRESOLVE']);
  const bad = types.find((t) => !known.has(t));
  if (bad) return unknownMatcher(text, `unknown address type ${bad}`);
  const pick = o.name === 'src-type' ? (c: MatchContext) => c.pkt.src : (c: MatchContext) => c.pkt.dst;
  const word = o.name === 'src-type' ? 'source' : 'destination';
  const holds = (c: MatchContext) => types.some((t) => addressType(c.node, pick(c)) === t);
  return {
    text,
    pure: true,
    test: (c) => (holds(c) !== o.negated ? MATCH : FAIL),
    why: (c) => {
      const t = addressType(c.node, pick(c));
      return t === 'LOCAL' ? `${word} ${pick(c).text} is an address of this node (LOCAL)` : `${word} ${pick(c).text} is not an address of this node (it is ${t})`;
    },
  };
}

/** The kernel's route type of an address on this node (only the kinds a node model can know). */
function addressType(node: NodeModel, ip: IP): string {
  if (isLocal(node, ip)) return 'LOCAL';
  if (ip.value === 0n) return 'UNSPEC';
  if (ip.family === 4) {
    if (ip.value >> 28n === 0xen) return 'MULTICAST';
    if (ip.value === 0xffffffffn) return 'BROADCAST';
    for (const iface of node.interfaces) {
      for (const a of iface.addresses) {
        const hostBits = 32 - a.subnet.prefix;
        if (hostBits >= 2 && ip.value === (a.subnet.network | ((1n << BigInt(hostBits)) - 1n))) return 'BROADCAST';
      }
    }
    return 'UNICAST';
  }
  return ip.value >> 120n === 0xffn ? 'MULTICAST' : 'UNICAST';
}

function ctstateMatcher(o: Extract<MatchPart, { kind: 'option' }>, module: 'conntrack' | 'state'): Matcher {
  const text = optionText(o);
  const states = (o.args[0] ?? '').split(',').map((s) => s.toUpperCase());
  const known = module === 'conntrack' ? ['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED', 'SNAT', 'DNAT'] : ['NEW', 'ESTABLISHED', 'RELATED', 'INVALID', 'UNTRACKED'];
  const bad = states.find((s) => !known.includes(s));
  if (bad) return unknownMatcher(text, `unknown connection state ${bad}`);
  const has = (c: MatchContext, s: string) => (s === 'DNAT' ? c.ct.dnat : s === 'SNAT' ? c.ct.snat : c.ct.state === s);
  const holds = (c: MatchContext) => states.some((s) => has(c, s));
  return {
    text,
    pure: true,
    test: (c) => (holds(c) !== o.negated ? MATCH : FAIL),
    why: (c) => `connection state is ${describeCt(c.ct)}`,
  };
}

export function describeCt(ct: CtInfo): string {
  const flags = [ct.dnat ? 'DNAT' : '', ct.snat ? 'SNAT' : ''].filter(Boolean);
  return `${ct.state}${flags.length ? ` (${flags.join(', ')})` : ''}${ct.direction === 'reply' ? ', reply direction' : ''}`;
}

function conntrackOption(o: Extract<MatchPart, { kind: 'option' }>): Matcher {
  const text = optionText(o);
  switch (o.name) {
    case 'ctstate':
      return ctstateMatcher(o, 'conntrack');
    case 'ctstatus': {
      const wanted = (o.args[0] ?? '').split(',').map((s) => s.toUpperCase());
      const flag = (c: MatchContext, s: string) =>
        s === 'CONFIRMED' ? c.ct.confirmed : s === 'SEEN_REPLY' || s === 'ASSURED' ? c.ct.seenReply : s === 'NONE' ? !c.ct.seenReply && !c.ct.confirmed : s === 'EXPECTED' ? false : undefined;
      if (wanted.some((s) => flag({ ct: { confirmed: false, seenReply: false } } as MatchContext, s) === undefined)) {
        return unknownMatcher(text, `unknown conntrack status in ${o.args[0]}`);
      }
      const holds = (c: MatchContext) => wanted.some((s) => flag(c, s) === true);
      return { text, pure: true, test: (c) => (holds(c) !== o.negated ? MATCH : FAIL), why: (c) => `connection status: ${c.ct.confirmed ? 'confirmed' : 'unconfirmed'}${c.ct.seenReply ? ', replies seen' : ''}` };
    }
    case 'ctdir': {
      const want = (o.args[0] ?? '').toUpperCase() === 'REPLY' ? 'reply' : 'original';
      return { text, pure: true, test: (c) => ((c.ct.direction === want) !== o.negated ? MATCH : FAIL), why: (c) => `packet travels in the ${c.ct.direction} direction` };
    }
    case 'ctproto': {
      const num = protocolNumber(o.args[0] ?? '');
      if (num === undefined) return unknownMatcher(text, `unknown protocol ${o.args[0]}`);
      const holds = (c: MatchContext) => num === 'all' || PROTOCOL_NUMBERS[c.ct.original.protocol] === num;
      return { text, pure: true, test: (c) => (holds(c) !== o.negated ? MATCH : FAIL), why: (c) => `connection protocol is ${c.ct.original.protocol}` };
    }
    case 'ctorigsrc':
    case 'ctorigdst': {
      const net = parseNet(o.args[0] ?? '');
      if (!net) return unknownMatcher(text, `cannot read the address ${JSON.stringify(o.args[0])}`);
      const pick = o.name === 'ctorigsrc' ? (c: MatchContext) => c.ct.original.src : (c: MatchContext) => c.ct.original.dst;
      return {
        text,
        pure: true,
        test: (c) => (inNet(net, pick(c)) !== o.negated ? MATCH : FAIL),
        why: (c) => `original ${o.name === 'ctorigsrc' ? 'source' : 'destination'} ${pick(c).text} ${inNet(net, pick(c)) ? 'is' : 'is not'} in ${net.text}`,
      };
    }
    case 'ctorigsrcport':
    case 'ctorigdstport': {
      const range = parsePortRange(o.args[0] ?? '');
      if (!range) return unknownMatcher(text, `cannot read the port ${JSON.stringify(o.args[0])}`);
      const pick = o.name === 'ctorigsrcport' ? (c: MatchContext) => c.ct.original.sport : (c: MatchContext) => c.ct.original.dport;
      const holds = (c: MatchContext) => pick(c) >= range.lo && pick(c) <= range.hi;
      return { text, pure: true, test: (c) => (holds(c) !== o.negated ? MATCH : FAIL), why: (c) => `original port ${pick(c)}` };
    }
    default:
      return unknownMatcher(text, `option --${o.name} of -m conntrack is not modelled`);
  }
}

function parseMarkValue(text: string): { value: number; mask: number } | undefined {
  const [v, m] = text.split('/');
  const num = (t: string | undefined) => (t !== undefined && /^(0x[0-9a-f]+|[0-9]+)$/i.test(t) ? Number(t) >>> 0 : undefined);
  const value = num(v);
  const mask = m === undefined ? 0xffffffff : num(m);
  return value === undefined || mask === undefined ? undefined : { value, mask };
}

export function hex(n: number): string {
  return `0x${(n >>> 0).toString(16)}`;
}

function markOption(o: Extract<MatchPart, { kind: 'option' }>): Matcher {
  const text = optionText(o);
  const mv = o.name === 'mark' ? parseMarkValue(o.args[0] ?? '') : undefined;
  if (!mv) return unknownMatcher(text, `cannot read the mark ${JSON.stringify(o.args[0])}`);
  const holds = (c: MatchContext) => ((c.pkt.mark & mv.mask) >>> 0) === mv.value;
  return {
    text,
    pure: true,
    test: (c) => (holds(c) !== o.negated ? MATCH : FAIL),
    why: (c) => `packet mark is ${hex(c.pkt.mark)}${holds(c) ? ' (has' : ' (lacks'} the bits ${hex(mv.value)}/${hex(mv.mask)})`,
  };
}

function statisticMatcher(group: MatchGroup, text: string, ruleKey: string): Matcher {
  const opt = (name: string) => group.options.find((o) => o.name === name);
  const mode = opt('mode')?.args[0];
  if (mode === 'random') {
    const po = opt('probability');
    const p = Number(po?.args[0]);
    if (!po || !Number.isFinite(p) || p < 0 || p > 1) return unknownMatcher(text, 'cannot read the probability');
    const probability = po.negated ? 1 - p : p;
    return {
      text,
      pure: false,
      probability,
      test: () => (probability >= 1 ? MATCH : probability <= 0 ? FAIL : RANDOM),
      why: () => `a random draw; this rule is taken with probability ${formatProbability(probability)}`,
    };
  }
  if (mode === 'nth') {
    const every = Number(opt('every')?.args[0]);
    const start = Number(opt('packet')?.args[0] ?? 0);
    const negated = opt('every')?.negated ?? false;
    if (!Number.isInteger(every) || every < 1 || !Number.isInteger(start) || start >= every) return unknownMatcher(text, 'cannot read --every/--packet');
    const key = `nth ${ruleKey}`;
    // Kernel: the counter starts at --packet; each packet advances it modulo --every and matches on reaching 0.
    const next = (c: MatchContext) => {
      const count = c.effects.nth.get(key) ?? c.state?.nth.get(key) ?? start;
      return count === every - 1 ? 0 : count + 1;
    };
    return {
      text,
      pure: false,
      test: (c) => {
        const n = next(c);
        c.effects.nth.set(key, n);
        return (n === 0) !== negated ? MATCH : FAIL;
      },
      why: (c) => `every ${every}th packet: the counter is now ${c.effects.nth.get(key) ?? start}`,
    };
  }
  return unknownMatcher(text, `statistic mode ${mode ?? '(none)'} is not modelled`);
}

export function formatProbability(p: number): string {
  const pct = p * 100;
  const digits = Math.abs(pct - Math.round(pct)) < 1e-9 ? 0 : pct >= 10 ? 1 : pct >= 1 ? 2 : 4;
  return `${Number(pct.toFixed(digits))}%`;
}

function recentMatcher(group: MatchGroup, text: string): Matcher {
  const opt = (name: string) => group.options.find((o) => o.name === name);
  const unsupported = group.options.find((o) => !['name', 'set', 'rcheck', 'update', 'remove', 'seconds', 'reap', 'hitcount', 'mask', 'rsource', 'rdest'].includes(o.name));
  if (unsupported) return unknownMatcher(text, `option --${unsupported.name} of -m recent is not modelled`);
  const action = (['set', 'rcheck', 'update', 'remove'] as const).find((a) => opt(a));
  if (!action) return unknownMatcher(text, '-m recent without --set/--rcheck/--update/--remove');
  const negated = opt(action)?.negated ?? false;
  const list = opt('name')?.args[0] ?? 'DEFAULT';
  const seconds = opt('seconds') ? Number(opt('seconds')?.args[0]) : 0;
  const hitcount = opt('hitcount') ? Number(opt('hitcount')?.args[0]) : 0;
  const reap = opt('reap') !== undefined;
  const useDest = opt('rdest') !== undefined;
  const maskText = opt('mask')?.args[0];
  const maskIP = maskText ? parseIP(maskText) : undefined;
  if ((maskText && !maskIP) || !Number.isFinite(seconds) || !Number.isFinite(hitcount)) return unknownMatcher(text, 'cannot read the -m recent options');
  const addressOf = (c: MatchContext) => {
    const ip = useDest ? c.pkt.dst : c.pkt.src;
    const masked = maskIP && maskIP.family === ip.family ? ip.value & maskIP.value : ip.value;
    return `${ip.family}:${masked}`;
  };
  const who = useDest ? 'destination' : 'source';
  // Runs xt_recent's logic; `record` decides whether the change goes to the path's effects.
  const run = (c: MatchContext, record: boolean): { hit: boolean; detail: string } => {
    const address = addressOf(c);
    const key = recentKey(list, address);
    const stamps = readRecent(c.state, c.effects, list, address);
    const addr = (useDest ? c.pkt.dst : c.pkt.src).text;
    if (!stamps || stamps.length === 0) {
      if (action === 'set') {
        if (record) c.effects.recent.set(key, [c.now]);
        return { hit: true, detail: `adds ${who} ${addr} to the list ${list}` };
      }
      return { hit: false, detail: `${who} ${addr} is not in the list ${list}` };
    }
    if (action === 'set') {
      if (record) c.effects.recent.set(key, [...stamps, c.now].slice(-20));
      return { hit: true, detail: `refreshes ${who} ${addr} in the list ${list}` };
    }
    if (action === 'remove') {
      if (record) c.effects.recent.set(key, null);
      return { hit: true, detail: `removes ${who} ${addr} from the list ${list}` };
    }
    let hit: boolean;
    let detail: string;
    const last = stamps[stamps.length - 1] as number;
    if (seconds > 0 || hitcount > 0) {
      const since = c.now - seconds;
      let hits = 0;
      hit = false;
      for (const s of stamps) {
        if (seconds > 0 && s < since) continue;
        if (hitcount === 0 || ++hits >= hitcount) {
          hit = true;
          break;
        }
      }
      const age = c.now - last;
      detail = hit
        ? `${who} ${addr} is in the list ${list}, last seen ${age}s ago${seconds > 0 ? ` (within ${seconds}s)` : ''}`
        : `${who} ${addr} is in the list ${list} but was last seen ${age}s ago${seconds > 0 ? `, more than ${seconds}s` : ''}`;
      if (reap && seconds > 0 && record) {
        const kept = stamps.filter((s) => s >= since);
        c.effects.recent.set(key, kept.length ? kept : null);
      }
    } else {
      hit = true;
      detail = `${who} ${addr} is in the list ${list}`;
    }
    if (action === 'update' && hit && record) {
      const base = readRecent(c.state, c.effects, list, address) ?? [];
      c.effects.recent.set(key, [...base, c.now].slice(-20));
    }
    return { hit, detail };
  };
  const matcher: Matcher = {
    text,
    pure: false,
    test: (c) => {
      const r = run(c, true);
      c.details.set(matcher, r.detail);
      return r.hit !== negated ? MATCH : FAIL;
    },
    why: (c) => c.details.get(matcher) ?? run(c, false).detail,
  };
  return matcher;
}

// ---------------------------------------------------------------------------------------------------------
// Targets

export type CompiledTarget =
  | { kind: 'jump' | 'goto'; chain: string }
  | { kind: 'ACCEPT' | 'DROP' | 'RETURN' | 'NOTRACK' }
  | { kind: 'REJECT'; with: string }
  | { kind: 'DNAT'; to: Endpoint; text: string; range: boolean }
  | { kind: 'SNAT'; to: Endpoint; text: string; range: boolean }
  | { kind: 'MASQUERADE'; port?: number }
  | { kind: 'REDIRECT'; port?: number }
  | { kind: 'MARK'; op: 'set' | 'xset' | 'or' | 'and' | 'xor'; value: number; mask: number; text: string }
  | { kind: 'LOG'; prefix: string }
  | { kind: 'unknown'; name: string; why: string };

export interface Endpoint {
  ip: IP;
  port?: number;
}

/** `ip`, `ip:port`, `ip-ip2:port-port2`, `[v6]:port`, `v6`: the first address and port are used. */
export function parseNatTo(text: string): { to: Endpoint; range: boolean } | undefined {
  let host = text;
  let portText: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return undefined;
    host = text.slice(1, close);
    if (text[close + 1] === ':') portText = text.slice(close + 2);
  } else if ((text.match(/:/g) ?? []).length === 1) {
    [host, portText] = text.split(':') as [string, string];
  }
  const [first, second] = host.split('-');
  const ip = parseRuleIP(first ?? '');
  if (!ip) return undefined;
  let port: number | undefined;
  let range = second !== undefined;
  if (portText !== undefined && portText !== '') {
    const [p1, p2] = portText.split('-');
    port = Number(p1);
    if (!Number.isInteger(port) || port < 0 || port > 65535) return undefined;
    if (p2 !== undefined) range = true;
  }
  return { to: port === undefined ? { ip } : { ip, port }, range };
}

export function compileTarget(target: Target | undefined, chainExists: (name: string) => boolean): CompiledTarget | undefined {
  if (!target) return undefined;
  const opt = (name: string) => target.options.find((o) => o.name === name)?.args[0];
  const name = target.name;
  if (!['ACCEPT', 'DROP', 'RETURN', 'REJECT', 'DNAT', 'SNAT', 'MASQUERADE', 'REDIRECT', 'MARK', 'LOG', 'NOTRACK', 'CT'].includes(name) || chainExists(name)) {
    if (chainExists(name)) return { kind: target.goto ? 'goto' : 'jump', chain: name };
    return { kind: 'unknown', name, why: `there is no chain or modelled target named ${name}` };
  }
  switch (name) {
    case 'ACCEPT':
    case 'DROP':
    case 'RETURN':
    case 'NOTRACK':
      return { kind: name };
    case 'REJECT':
      return { kind: 'REJECT', with: opt('reject-with') ?? 'icmp-port-unreachable' };
    case 'DNAT':
    case 'SNAT': {
      const arg = opt(name === 'DNAT' ? 'to-destination' : 'to-source');
      const parsed = arg === undefined ? undefined : parseNatTo(arg);
      if (!parsed) return { kind: 'unknown', name, why: `cannot read ${name} ${arg ?? '(no address)'}` };
      return { kind: name, to: parsed.to, text: arg as string, range: parsed.range };
    }
    case 'MASQUERADE':
    case 'REDIRECT': {
      const ports = opt('to-ports');
      const port = ports === undefined ? undefined : Number(ports.split(/[-:]/)[0]);
      return port === undefined || !Number.isInteger(port) ? { kind: name } : { kind: name, port };
    }
    case 'MARK': {
      for (const [option, op] of [['set-xmark', 'xset'], ['set-mark', 'set'], ['or-mark', 'or'], ['and-mark', 'and'], ['xor-mark', 'xor']] as const) {
        const arg = opt(option);
        if (arg === undefined) continue;
        const mv = parseMarkValue(arg);
        if (!mv) break;
        return { kind: 'MARK', op, value: mv.value, mask: mv.mask, text: `--${option} ${arg}` };
      }
      return { kind: 'unknown', name, why: 'cannot read the MARK options' };
    }
    case 'LOG':
      return { kind: 'LOG', prefix: opt('log-prefix') ?? '' };
    case 'CT':
      return target.options.some((o) => o.name === 'notrack') ? { kind: 'NOTRACK' } : { kind: 'unknown', name, why: 'CT options other than --notrack are not modelled' };
    default:
      return { kind: 'unknown', name, why: `target ${name} is not modelled` };
  }
}

/** The new mark after a MARK target. */
export function applyMark(mark: number, t: Extract<CompiledTarget, { kind: 'MARK' }>): number {
  switch (t.op) {
    case 'xset':
      return ((mark & ~t.mask) ^ t.value) >>> 0;
    case 'set':
      return ((mark & ~t.mask) | t.value) >>> 0;
    case 'or':
      return (mark | t.value) >>> 0;
    case 'and':
      return (mark & t.value) >>> 0;
    case 'xor':
      return (mark ^ t.value) >>> 0;
  }
}
