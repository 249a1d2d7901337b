/**
 * What the iptables and the nftables walkers share: the kernel's side of a packet's path. A path is a packet on
 * its way through a list of steps; the rule sets only decide what happens on the hooks (`table` steps for
 * iptables, `hook` steps for nftables), everything between them — conntrack's NAT reuse, the routing decisions,
 * looping back through lo, leaving the node, confirming the connection — is the same kernel and lives here.
 *
 * Each walker keeps its own path type (extending WalkPath) and its own rule evaluation; this module enumerates
 * the paths, runs the kernel steps and turns a finished path into an outcome (spec emulator §7).
 */
import { describePod, originOf, route, type NodeModel, type Route } from './node.js';
import { ACK, clonePacket, hasPorts, hostPort, makePacket, type Origin, type Packet, type PacketSpec } from './packet.js';
import type { Step } from './hooks.js';
import type { Hook } from './evaluate.js';
import type { Rng } from './rng.js';
import { cloneEffects, conntrackTimeout, emptyEffects, lookupConntrack, reverse, type ConntrackEntry, type Effects, type EmulatorState, type Tuple } from './state.js';
import type { IP } from '../net/ip.js';

/** One visited rule (or a summarized run of skipped rules), spec emulator §7. */
export interface Hop {
  hook: Hook;
  table: string;
  chain: string;
  /** 1-based rule number in the chain (for a skipped run: the first rule of the run). */
  rule: number;
  text: string;
  matched: boolean;
  /** Why it matched, or the first condition that failed. */
  reason: string;
  /** What the rule did ('' when it did not match). */
  action: string;
  /** Present on a summary hop: how many consecutive rules were skipped by the index. */
  skipped?: number;
}

export type Result = 'delivered' | 'local' | 'forwarded' | 'dropped' | 'rejected' | 'unreachable';
export type Verdict = 'ACCEPT' | 'DROP' | 'REJECT';

export interface Outcome {
  probability: number;
  dnat: string | null;
  filterVerdict: Verdict | null;
  masquerade: boolean;
  result: Result;
  finalSource: string;
  finalDestination: string;
  hops: Hop[];
  /** Present (true) when a rule on the path could not be evaluated; see `unsupported`. */
  uncertain?: true;
  unsupported?: string[];
}

export interface TracePacket {
  protocol: string;
  source: string;
  sourcePort?: number;
  destination: string;
  destinationPort?: number;
  icmpType?: number;
  origin: Origin;
}

/** The JSON of `kproxy trace --json` (spec emulator §7). */
export interface Trace {
  mode: 'iptables' | 'nftables';
  packet: TracePacket;
  outcomes: Outcome[];
}

/** A timeline entry for the explanation: a hop, or something the kernel did between rules. */
export type TimelineStep = { hop: Hop } | { event: string; hook?: Hook };

/** An outcome with what only the explanation and the scenario runner need. */
export interface PathOutcome extends Outcome {
  timeline: TimelineStep[];
  effects: Effects;
  route: Route | undefined;
  rejectWith?: string;
  /** Present (true) when MASQUERADE found no address on the way out and the packet was dropped. */
  masqueradeFailed?: true;
  /** Reason a chain policy or the kernel ended the path. */
  endReason: string;
}

export interface TraceDetail {
  trace: Trace;
  paths: PathOutcome[];
  packet: Packet;
  origin: Origin;
  /** Per-trace remarks (source chosen, conntrack hit, ...). */
  notes: string[];
}

export interface TraceOptions {
  state?: EmulatorState;
  /** Scenario clock in seconds (recent lists, conntrack timeouts). */
  now?: number;
  /** Sample one path with this RNG instead of enumerating all of them. */
  rng?: Rng;
  /** Give up (PathLimitError) past this many paths; at most, and by default, MAX_PATHS. */
  maxPaths?: number;
}

/** The steps between the hooks, the same in both modes. */
export type KernelStep = Exclude<Step, { kind: 'table' }>;

/** What a walker's path holds for the kernel; `S` is the walker's own step type. */
export interface WalkPath<S> {
  prob: number;
  pkt: Packet;
  /** An existing conntrack entry this packet belongs to (NAT comes from it, not from the rules). */
  ctEntry?: { entry: ConntrackEntry; direction: 'original' | 'reply' };
  /** The NAT hooks already ran (or must not run) for destination / source manipulation. */
  natDst: boolean;
  natSrc: boolean;
  /** This connection's destination / source was rewritten by a rule (conntrack remembers it). */
  ctDnat: boolean;
  ctSnat: boolean;
  /** Conntrack ignores the packet (NOTRACK): no entry is created. */
  untracked: boolean;
  steps: S[];
  at: number;
  timeline: TimelineStep[];
  effects: Effects;
  dnat: string | null;
  filterVerdict: Verdict | null;
  snatDone: boolean;
  markedMasq: boolean;
  unsupported: string[];
  route: Route | undefined;
  result?: Result;
  rejectWith?: string;
  masqueradeFailed?: true;
  endReason: string;
  origTuple: Tuple;
}

/** The parts of a new path that do not depend on the mode. */
export function newWalkPath<S>(node: NodeModel, pkt: Packet, origin: Origin, steps: S[]): WalkPath<S> {
  if (origin === 'pod') {
    const pod = node.pods.get(pkt.src.value);
    pkt.inIface = pod && !pod.local && node.uplink ? node.uplink : node.podInterface(pkt.src);
  } else if (origin === 'external') pkt.inIface = node.uplink ?? 'eth0';
  const from =
    origin === 'node'
      ? 'sent by a process on the node'
      : origin === 'pod'
        ? `from ${describePod(node.pods.get(pkt.src.value))}, arriving on ${pkt.inIface}`
        : `from outside the node, arriving on ${pkt.inIface}`;
  return {
    prob: 1,
    pkt,
    natDst: false,
    natSrc: false,
    ctDnat: false,
    ctSnat: false,
    untracked: false,
    steps,
    at: 0,
    timeline: [{ event: `the packet is ${from}` }],
    effects: emptyEffects(),
    dnat: null,
    filterVerdict: null,
    snatDone: false,
    markedMasq: false,
    unsupported: [],
    route: undefined,
    endReason: '',
    origTuple: { protocol: pkt.protocol, src: pkt.src, sport: pkt.sport, dst: pkt.dst, dport: pkt.dport },
  };
}

/** A copy of a path to follow another branch: the parts either branch may change are copied. */
export function cloneWalkPath<P extends WalkPath<unknown>>(p: P): P {
  return { ...p, pkt: clonePacket(p.pkt), steps: p.steps.slice(), timeline: p.timeline.slice(), effects: cloneEffects(p.effects), unsupported: p.unsupported.slice() };
}

/** What a walker supplies to `walk`: its first path, how to run a path to its end, how to finish it. */
export interface Walker<P> {
  start(pkt: Packet, origin: Origin): P;
  /** Runs a path until it ends, pushing the alternatives of random choices onto `work`. */
  run(path: P, work: P[]): void;
  finish(path: P): PathOutcome;
}

/** The most paths one packet's trace enumerates (each branch of a random choice is a path). */
export const MAX_PATHS = 100000;

/** A trace gave up: the packet has more paths through the rules than it was allowed to enumerate. */
export class PathLimitError extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} paths: the ruleset branches too much to enumerate`);
  }
}

/** Builds the packet, enumerates every path (or the one sampled path) and collects the outcomes. */
export function walk<P>(mode: Trace['mode'], node: NodeModel, spec: PacketSpec | Packet, walker: Walker<P>, maxPaths = MAX_PATHS): TraceDetail {
  const limit = Math.min(maxPaths, MAX_PATHS);
  let pkt: Packet;
  if ('src' in spec) pkt = clonePacket(spec);
  else {
    const made = makePacket(spec);
    if (!made.ok) throw new Error(made.message);
    pkt = made.packet;
  }
  const origin: Origin = ('origin' in spec && spec.origin) || originOf(node, pkt.src);
  const work: P[] = [walker.start(clonePacket(pkt), origin)];
  const done: P[] = [];
  while (work.length > 0) {
    const path = work.pop() as P;
    walker.run(path, work);
    done.push(path);
    if (done.length > limit) throw new PathLimitError(limit);
  }
  const paths = done.map((p) => walker.finish(p));
  const packet: TracePacket = {
    protocol: pkt.protocol,
    source: pkt.src.text,
    ...(hasPorts(pkt.protocol) ? { sourcePort: pkt.sport } : {}),
    destination: pkt.dst.text,
    ...(hasPorts(pkt.protocol) ? { destinationPort: pkt.dport } : { icmpType: pkt.icmpType }),
    origin,
  };
  return { trace: { mode, packet, outcomes: paths.map(toOutcome) }, paths, packet: pkt, origin, notes: [] };
}

/** The JSON-ready part of an outcome (drops the explanation timeline and the state changes). */
export function toOutcome(p: PathOutcome): Outcome {
  const o: Outcome = {
    probability: p.probability,
    dnat: p.dnat,
    filterVerdict: p.filterVerdict,
    masquerade: p.masquerade,
    result: p.result,
    finalSource: p.finalSource,
    finalDestination: p.finalDestination,
    hops: p.hops,
  };
  if (p.uncertain) {
    o.uncertain = true;
    o.unsupported = p.unsupported ?? [];
  }
  return o;
}

/** The path's next step; at the end of the steps the packet has arrived (the path ends as local). */
export function nextStep<S>(path: WalkPath<S>): S | undefined {
  const step = path.steps[path.at++];
  if (step === undefined) endPath(path, 'local', 'the packet reached the end of its path');
  return step;
}

export function endPath<S>(path: WalkPath<S>, result: Result, reason: string): void {
  path.result = result;
  path.endReason = reason;
}

/**
 * Conntrack lookup: a packet of a known connection skips the NAT hooks and reuses the connection's
 * translation. Returns true for such a packet. `natWord` names what is skipped ("nat table", "nat chains").
 */
export function conntrackLookup<S>(path: WalkPath<S>, state: EmulatorState | undefined, now: number, natWord: string): boolean {
  const found = lookupConntrack(state, path.origTuple, now);
  if (!found) {
    path.timeline.push({ event: `conntrack: no existing connection, this is a NEW one (the ${natWord} decide${natWord.endsWith('s') ? '' : 's'} its translation)` });
    return false;
  }
  path.ctEntry = found;
  path.natDst = path.natSrc = true;
  if (path.pkt.protocol === 'tcp') path.pkt.tcpFlags = ACK;
  path.timeline.push({
    event: `conntrack: the packet belongs to a known connection (${found.direction === 'reply' ? 'a reply' : 'original direction'}); the ${natWord} ${natWord.endsWith('s') ? 'are' : 'is'} not consulted, the connection's translation is reused`,
  });
  return true;
}

/** Established packets: the NAT hooks reuse the connection's translation instead of the rules. */
export function applyConntrackNat<S>(path: WalkPath<S>, manip: 'dst' | 'src', hook: Hook): void {
  const found = path.ctEntry;
  if (!found) return;
  const e = found.entry;
  // A packet ends up as the inverse of the other direction's tuple.
  const target = found.direction === 'original' ? reverse(e.reply) : reverse(e.original);
  const pkt = path.pkt;
  if (manip === 'dst' && (pkt.dst.value !== target.dst.value || pkt.dport !== target.dport)) {
    const before = hostPort(pkt.dst, pkt.dport, pkt.protocol);
    pkt.dst = target.dst;
    pkt.dport = target.dport;
    path.timeline.push({ event: `conntrack (${hook}): destination ${before} → ${hostPort(pkt.dst, pkt.dport, pkt.protocol)} (${found.direction === 'reply' ? 'undoing the source NAT' : "the connection's DNAT"})`, hook });
  }
  if (manip === 'src' && (pkt.src.value !== target.src.value || pkt.sport !== target.sport)) {
    const before = hostPort(pkt.src, pkt.sport, pkt.protocol);
    pkt.src = target.src;
    pkt.sport = target.sport;
    path.timeline.push({ event: `conntrack (${hook}): source ${before} → ${hostPort(pkt.src, pkt.sport, pkt.protocol)} (${found.direction === 'reply' ? 'undoing the DNAT: the reply comes from the address the client asked for' : "the connection's SNAT"})`, hook });
  }
}

/** The hook steps a walker runs after a routing decision: local delivery, forwarding, looping back in. */
export interface AfterRouting<S> {
  input: () => S[];
  forward: () => S[];
  /** A locally generated packet to one of the node's addresses comes back in through lo. */
  loopback: () => S[];
}

/** Runs a kernel step (everything but the rule hooks). */
export function kernelStep<S>(path: WalkPath<S>, step: Exclude<KernelStep, { kind: 'conntrack' }>, node: NodeModel, after: AfterRouting<S>): void {
  const pkt = path.pkt;
  switch (step.kind) {
    case 'route-out': {
      const r = route(node, pkt.dst);
      if (!r) return endPath(path, 'unreachable', `no route to ${pkt.dst.text}: connect() fails with "Network is unreachable" before any hook`);
      path.route = r;
      pkt.outIface = r.iface;
      path.timeline.push({ event: `routing: ${describeRoute(r, pkt.dst)}` });
      return;
    }
    case 'reroute': {
      if (pkt.dst.value === path.origTuple.dst.value && path.route) return;
      const r = route(node, pkt.dst);
      if (!r) return endPath(path, 'unreachable', `no route to the new destination ${pkt.dst.text}`);
      path.route = r;
      pkt.outIface = r.iface;
      path.timeline.push({ event: `routing again (the destination changed): ${describeRoute(r, pkt.dst)}` });
      return;
    }
    case 'route-in': {
      const r = route(node, pkt.dst);
      if (!r) return endPath(path, 'unreachable', `no route to ${pkt.dst.text}: the node answers ICMP network unreachable`);
      path.route = r;
      path.timeline.push({ event: `routing: ${describeRoute(r, pkt.dst)}` });
      if (r.kind === 'local') path.steps.splice(path.at, 0, ...after.input());
      else {
        pkt.outIface = r.iface;
        path.steps.splice(path.at, 0, ...after.forward());
      }
      return;
    }
    case 'out': {
      const r = path.route;
      if (r?.kind === 'local') {
        pkt.inIface = 'lo';
        pkt.outIface = '';
        path.timeline.push({ event: 'the destination is this node: the packet loops back in through lo' });
        path.steps.splice(path.at, 0, ...after.loopback());
        return;
      }
      if (r?.kind === 'pod') endPath(path, 'delivered', `it leaves on ${r.iface} to ${describePod(r.pod ?? node.pods.get(pkt.dst.value))}`);
      else endPath(path, 'forwarded', `it leaves the node on ${r?.iface ?? '?'}${r?.via ? ` toward ${r.via}` : ''}`);
      return;
    }
    case 'deliver-local':
      endPath(path, 'local', "it is delivered to the node's own network stack");
      return;
  }
}

export function describeRoute(r: Route, dst: IP): string {
  switch (r.kind) {
    case 'local':
      return `${dst.text} is an address of this node`;
    case 'pod':
      return `${dst.text} is ${describePod(r.pod)}, reached through ${r.iface}`;
    case 'remote-pod':
      return `${dst.text} is ${describePod(r.pod)}${r.via ? `; routed to ${r.via}` : ''} through ${r.iface}`;
    case 'link':
      return `${dst.text} is on the network of ${r.iface} (${r.destination.text})`;
    case 'other-nodes':
      return `${dst.text} is in the cluster's pod range ${r.destination.text} but not on this node: it goes to another node through ${r.iface}`;
    case 'default':
      return `${dst.text} is not local and matches no specific route: it follows the default route out of ${r.iface}`;
  }
}

/** A finished path as an outcome; a connection that got through is confirmed in conntrack (replies are un-NATed). */
export function finishPath<S>(path: WalkPath<S>, node: NodeModel, now: number): PathOutcome {
  const pkt = path.pkt;
  const result = path.result ?? 'local';
  const hops: Hop[] = [];
  for (const s of path.timeline) if ('hop' in s) hops.push(s.hop);
  if (result === 'delivered' || result === 'local' || result === 'forwarded') {
    if (path.ctEntry) path.effects.conntrack = path.ctEntry.entry;
    else if (!path.untracked) {
      const final: Tuple = { protocol: pkt.protocol, src: pkt.src, sport: pkt.sport, dst: pkt.dst, dport: pkt.dport };
      path.effects.conntrack = { original: path.origTuple, reply: reverse(final), dnat: path.ctDnat, snat: path.ctSnat, lastSeen: now, timeout: conntrackTimeout(pkt.protocol) };
    }
  }
  const out: PathOutcome = {
    probability: path.prob,
    dnat: path.dnat,
    filterVerdict: path.filterVerdict,
    masquerade: path.snatDone || path.markedMasq,
    result,
    finalSource: pkt.src.text,
    finalDestination: hostPort(pkt.dst, pkt.dport, pkt.protocol),
    hops,
    timeline: path.timeline,
    effects: path.effects,
    route: path.route && !path.route.pod && node.pods.has(pkt.dst.value) ? { ...path.route, pod: node.pods.get(pkt.dst.value) } : path.route,
    endReason: path.endReason,
  };
  if (path.rejectWith) out.rejectWith = path.rejectWith;
  if (path.masqueradeFailed) out.masqueradeFailed = true;
  if (path.unsupported.length > 0) {
    out.uncertain = true;
    out.unsupported = [...new Set(path.unsupported)];
  }
  return out;
}
