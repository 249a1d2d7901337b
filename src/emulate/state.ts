/**
 * State a node keeps between packets: the conntrack table, the `-m recent` lists and the `statistic --mode nth`
 * counters. A trace reads it and never writes it; each enumerated path records its own changes (`Effects`),
 * and a scenario commits the effects of the path that was taken, which is how affinity stickiness appears.
 */
import type { IP } from '../net/ip.js';
import type { Proto } from './packet.js';

export interface Tuple {
  protocol: Proto;
  src: IP;
  sport: number;
  dst: IP;
  dport: number;
}

export interface ConntrackEntry {
  /** As the first packet arrived. */
  original: Tuple;
  /** What a reply looks like: the original with NAT applied, reversed. */
  reply: Tuple;
  dnat: boolean;
  snat: boolean;
  /** Seconds (scenario clock) of the last packet and the idle timeout. */
  lastSeen: number;
  timeout: number;
}

export interface EmulatorState {
  /** Keyed by `tupleKey`, both directions point at the same entry. */
  conntrack: Map<string, ConntrackEntry>;
  /** `recent` list name → address key → timestamps (seconds), oldest first. */
  recent: Map<string, Map<string, number[]>>;
  /** `statistic --mode nth` counters by rule key. */
  nth: Map<string, number>;
}

export function emptyState(): EmulatorState {
  return { conntrack: new Map(), recent: new Map(), nth: new Map() };
}

/** What one path changed; committed by `commitEffects` when that path is the one taken. */
export interface Effects {
  /** `list\u0000address` → timestamps after the path (null = entry removed). */
  recent: Map<string, number[] | null>;
  nth: Map<string, number>;
  conntrack?: ConntrackEntry;
}

export function emptyEffects(): Effects {
  return { recent: new Map(), nth: new Map() };
}

export function cloneEffects(e: Effects): Effects {
  return { recent: new Map(e.recent), nth: new Map(e.nth), ...(e.conntrack ? { conntrack: e.conntrack } : {}) };
}

export function tupleKey(t: Tuple): string {
  return `${t.protocol} ${t.src.family}:${t.src.value} ${t.sport} ${t.dst.value} ${t.dport}`;
}

export function reverse(t: Tuple): Tuple {
  return { protocol: t.protocol, src: t.dst, sport: t.dport, dst: t.src, dport: t.sport };
}

/** Idle timeouts of the Linux conntrack defaults (established TCP, UDP stream, SCTP, ICMP). */
export function conntrackTimeout(protocol: Proto): number {
  switch (protocol) {
    case 'tcp':
      return 432000;
    case 'udp':
      return 120;
    case 'sctp':
      return 210;
    default:
      return 30;
  }
}

export type ConntrackLookup = { entry: ConntrackEntry; direction: 'original' | 'reply' } | undefined;

export function lookupConntrack(state: EmulatorState | undefined, t: Tuple, now: number): ConntrackLookup {
  const entry = state?.conntrack.get(tupleKey(t));
  if (!entry || now - entry.lastSeen > entry.timeout) return undefined;
  return { entry, direction: tupleKey(entry.original) === tupleKey(t) ? 'original' : 'reply' };
}

export function recentKey(list: string, address: string): string {
  return `${list}\u0000${address}`;
}

export function readRecent(state: EmulatorState | undefined, effects: Effects, list: string, address: string): number[] | undefined {
  const key = recentKey(list, address);
  if (effects.recent.has(key)) return effects.recent.get(key) ?? undefined;
  return state?.recent.get(list)?.get(address);
}

/** Applies a path's changes to the node's state. */
export function commitEffects(state: EmulatorState, effects: Effects, now: number): void {
  for (const [key, stamps] of effects.recent) {
    const [list, address] = key.split('\u0000') as [string, string];
    let table = state.recent.get(list);
    if (!table) state.recent.set(list, (table = new Map()));
    if (stamps === null) table.delete(address);
    else table.set(address, stamps);
  }
  for (const [key, value] of effects.nth) state.nth.set(key, value);
  const ct = effects.conntrack;
  if (ct) {
    ct.lastSeen = now;
    state.conntrack.set(tupleKey(ct.original), ct);
    state.conntrack.set(tupleKey(ct.reply), ct);
  }
}
