/**
 * The order in which a packet meets the netfilter hooks and tables (spec emulator §3). Incoming packets (from a
 * pod or from outside) start at PREROUTING; locally generated ones start with a route lookup and OUTPUT. The
 * routing decision in the middle picks INPUT or FORWARD, which the walker inserts when it gets there.
 */
import type { Hook } from './evaluate.js';
import type { Origin } from './packet.js';

export type Step =
  | { kind: 'table'; hook: Hook; table: string; chain: string }
  /** Conntrack lookup: a NEW connection, or a packet of a known one (whose NAT is then reused). */
  | { kind: 'conntrack' }
  /** Route lookup of a locally generated packet, before any hook (no route = connect() fails). */
  | { kind: 'route-out' }
  /** After nat OUTPUT: route again if the destination was rewritten. */
  | { kind: 'reroute' }
  /** Routing decision of an incoming packet: local delivery (INPUT) or forwarding (FORWARD). */
  | { kind: 'route-in' }
  /** Leaves through the chosen interface (or loops back in through lo). */
  | { kind: 'out' }
  | { kind: 'deliver-local' };

/** nat chains and the kind of NAT they decide: destination NAT before routing, source NAT after it. */
export const NAT_MANIP: Readonly<Record<string, 'dst' | 'src' | undefined>> = {
  PREROUTING: 'dst',
  OUTPUT: 'dst',
  POSTROUTING: 'src',
  INPUT: 'src',
};

export function initialSteps(origin: Origin): Step[] {
  if (origin === 'node') {
    return [
      { kind: 'route-out' },
      { kind: 'table', hook: 'output', table: 'raw', chain: 'OUTPUT' },
      { kind: 'conntrack' },
      { kind: 'table', hook: 'output', table: 'mangle', chain: 'OUTPUT' },
      { kind: 'table', hook: 'output', table: 'nat', chain: 'OUTPUT' },
      { kind: 'reroute' },
      { kind: 'table', hook: 'output', table: 'filter', chain: 'OUTPUT' },
      { kind: 'table', hook: 'postrouting', table: 'mangle', chain: 'POSTROUTING' },
      { kind: 'table', hook: 'postrouting', table: 'nat', chain: 'POSTROUTING' },
      { kind: 'out' },
    ];
  }
  return [
    { kind: 'table', hook: 'prerouting', table: 'raw', chain: 'PREROUTING' },
    { kind: 'conntrack' },
    { kind: 'table', hook: 'prerouting', table: 'mangle', chain: 'PREROUTING' },
    { kind: 'table', hook: 'prerouting', table: 'nat', chain: 'PREROUTING' },
    { kind: 'route-in' },
  ];
}
