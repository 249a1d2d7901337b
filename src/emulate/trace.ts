/**
 * The packet walker: follows one packet through the node's hooks in kernel order (hooks.ts), table by table,
 * chain by chain, rule by rule. Random balancing is enumerated: at every `statistic --mode random` rule the path
 * splits in two with the exact probabilities, so a trace returns every possible outcome and its probability
 * (summing to 1). With an RNG the walker samples one path instead, the way the kernel draws.
 *
 * Pure: the node state (conntrack, recent lists) is read, never written; each outcome carries the changes its
 * path would make, and `sampleConnections` commits the ones of the path taken.
 */
import { parseIP, type IP } from '../net/ip.js';
import {
  applyMark,
  FAIL,
  formatProbability,
  hex,
  MATCH,
  RANDOM,
  UNKNOWN,
  type CtInfo,
  type Hook,
  type MatchContext,
} from './evaluate.js';
import { initialSteps, NAT_MANIP, type Step } from './hooks.js';
import { describePod, interfaceAddress, originOf, route, type NodeModel, type Route } from './node.js';
import { ACK, clonePacket, hasPorts, hostPort, makePacket, type Origin, type Packet, type PacketSpec } from './packet.js';
import { randomMatches, statisticThreshold, type Rng } from './rng.js';
import type { CompiledChain, CompiledRule, CompiledRuleset } from './ruleset.js';
import {
  cloneEffects,
  conntrackTimeout,
  emptyEffects,
  lookupConntrack,
  reverse,
  type ConntrackEntry,
  type Effects,
  type EmulatorState,
  type Tuple,
} from './state.js';

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

export interface Emulator {
  rules: CompiledRuleset;
  node: NodeModel;
}

export interface TraceOptions {
  state?: EmulatorState;
  /** Scenario clock in seconds (recent lists, conntrack timeouts). */
  now?: number;
  /** Sample one path with this RNG instead of enumerating all of them. */
  rng?: Rng;
}

interface Frame {
  chain: CompiledChain;
  pos: number;
}

interface Path {
  prob: number;
  pkt: Packet;
  ct: CtInfo;
  /** An existing conntrack entry this packet belongs to (NAT comes from it, not from the nat table). */
  ctEntry?: { entry: ConntrackEntry; direction: 'original' | 'reply' };
  untracked: boolean;
  /** The nat table already ran (or may not run) for destination / source manipulation. */
  natDst: boolean;
  natSrc: boolean;
  steps: Step[];
  at: number;
  /** Table traversal in progress. */
  frames: Frame[];
  current?: { hook: Hook; table: string; builtin: CompiledChain };
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
  endReason: string;
  origTuple: Tuple;
}

interface Env {
  emu: Emulator;
  state: EmulatorState | undefined;
  now: number;
  rng: Rng | undefined;
}

const MAX_DEPTH = 100;
const MAX_PATHS = 100000;

export function createEmulator(rules: CompiledRuleset, node: NodeModel): Emulator {
  return { rules, node };
}

/** Traces the first packet of a new connection (or, with state, whatever packet it is) through the node. */
export function tracePacket(emu: Emulator, spec: PacketSpec | Packet, options: TraceOptions = {}): TraceDetail {
  const notes: string[] = [];
  let pkt: Packet;
  if ('src' in spec) pkt = clonePacket(spec);
  else {
    const made = makePacket(spec);
    if (!made.ok) throw new Error(made.message);
    pkt = made.packet;
  }
  const origin: Origin = ('origin' in spec && spec.origin) || originOf(emu.node, pkt.src);
  const env: Env = { emu, state: options.state, now: options.now ?? 0, rng: options.rng };
  const start = initialPath(env, clonePacket(pkt), origin);
  const done: Path[] = [];
  const work: Path[] = [start];
  while (work.length > 0) {
    const path = work.pop() as Path;
    runPath(path, env, work);
    done.push(path);
    if (done.length > MAX_PATHS) throw new Error(`more than ${MAX_PATHS} paths: the ruleset branches too much to enumerate`);
  }
  const paths = done.map((p) => finish(p, env));
  const packet: TracePacket = {
    protocol: pkt.protocol,
    source: pkt.src.text,
    ...(hasPorts(pkt.protocol) ? { sourcePort: pkt.sport } : {}),
    destination: pkt.dst.text,
    ...(hasPorts(pkt.protocol) ? { destinationPort: pkt.dport } : { icmpType: pkt.icmpType }),
    origin,
  };
  return { trace: { mode: 'iptables', packet, outcomes: paths.map(toOutcome) }, paths, packet: pkt, origin, notes };
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

function initialPath(env: Env, pkt: Packet, origin: Origin): Path {
  const node = env.emu.node;
  if (origin === 'pod') {
    const pod = node.pods.get(pkt.src.value);
    pkt.inIface = pod && !pod.local && node.uplink ? node.uplink : node.podInterface(pkt.src);
  } else if (origin === 'external') {
    pkt.inIface = node.uplink ?? 'eth0';
  }
  const origTuple: Tuple = { protocol: pkt.protocol, src: pkt.src, sport: pkt.sport, dst: pkt.dst, dport: pkt.dport };
  const path: Path = {
    prob: 1,
    pkt,
    ct: { state: 'NEW', direction: 'original', dnat: false, snat: false, seenReply: false, confirmed: false, original: origTuple },
    untracked: false,
    natDst: false,
    natSrc: false,
    steps: initialSteps(origin),
    at: 0,
    frames: [],
    timeline: [],
    effects: emptyEffects(),
    dnat: null,
    filterVerdict: null,
    snatDone: false,
    markedMasq: false,
    unsupported: [],
    route: undefined,
    endReason: '',
    origTuple,
  };
  const from =
    origin === 'node'
      ? 'sent by a process on the node'
      : origin === 'pod'
        ? `from ${describePod(node.pods.get(pkt.src.value))}, arriving on ${pkt.inIface}`
        : `from outside the node, arriving on ${pkt.inIface}`;
  path.timeline.push({ event: `the packet is ${from}` });
  return path;
}

function clonePath(p: Path): Path {
  return {
    ...p,
    pkt: clonePacket(p.pkt),
    ct: { ...p.ct },
    steps: p.steps.slice(),
    frames: p.frames.map((f) => ({ ...f })),
    timeline: p.timeline.slice(),
    effects: cloneEffects(p.effects),
    unsupported: p.unsupported.slice(),
  };
}

function ctx(path: Path, env: Env, hook: Hook): MatchContext {
  return { pkt: path.pkt, ct: path.ct, effects: path.effects, state: env.state, now: env.now, node: env.emu.node, hook, details: new Map() };
}

/** Runs a path until it ends, pushing the alternatives of random rules onto `work`. */
function runPath(path: Path, env: Env, work: Path[]): void {
  for (;;) {
    if (path.result) return;
    if (path.frames.length > 0) {
      runTable(path, env, work);
      if (path.result) return;
      continue;
    }
    const step = path.steps[path.at++];
    if (!step) {
      end(path, 'local', 'the packet reached the end of its path');
      return;
    }
    doStep(path, step, env);
  }
}

function end(path: Path, result: Result, reason: string): void {
  path.result = result;
  path.endReason = reason;
}

function doStep(path: Path, step: Step, env: Env): void {
  const node = env.emu.node;
  const pkt = path.pkt;
  switch (step.kind) {
    case 'table': {
      const manip = NAT_MANIP[step.chain];
      if (step.table === 'nat' && manip) {
        if (manip === 'dst' ? path.natDst : path.natSrc) {
          applyConntrackNat(path, manip, step.hook);
          return;
        }
        if (manip === 'dst') path.natDst = true;
        else path.natSrc = true;
      }
      const chain = env.emu.rules.tables.get(step.table)?.chains.get(step.chain);
      if (!chain || chain.rules.length === 0) {
        if (chain && chain.policy === 'DROP') applyPolicy(path, step.hook, chain);
        return;
      }
      path.current = { hook: step.hook, table: step.table, builtin: chain };
      path.frames = [{ chain, pos: 0 }];
      return;
    }
    case 'conntrack': {
      if (path.untracked) {
        path.ct.state = 'UNTRACKED';
        path.natDst = path.natSrc = true;
        path.timeline.push({ event: 'conntrack: the packet is not tracked (NOTRACK), so no NAT applies' });
        return;
      }
      const found = lookupConntrack(env.state, path.origTuple, env.now);
      if (!found) {
        path.timeline.push({ event: 'conntrack: no existing connection, this is a NEW one (the nat table decides its translation)' });
        return;
      }
      path.ctEntry = found;
      const e = found.entry;
      path.ct = {
        state: 'ESTABLISHED',
        direction: found.direction,
        dnat: e.dnat,
        snat: e.snat,
        seenReply: true,
        confirmed: true,
        original: e.original,
      };
      path.natDst = path.natSrc = true;
      if (pkt.protocol === 'tcp') pkt.tcpFlags = ACK;
      path.timeline.push({
        event: `conntrack: the packet belongs to a known connection (${found.direction === 'reply' ? 'a reply' : 'original direction'}); the nat table is not consulted, the connection's translation is reused`,
      });
      return;
    }
    case 'route-out': {
      const r = route(node, pkt.dst);
      if (!r) {
        end(path, 'unreachable', `no route to ${pkt.dst.text}: connect() fails with "Network is unreachable" before any hook`);
        return;
      }
      path.route = r;
      pkt.outIface = r.iface;
      path.timeline.push({ event: `routing: ${describeRoute(r, pkt.dst)}` });
      return;
    }
    case 'reroute': {
      if (pkt.dst.value === path.origTuple.dst.value && path.route) return;
      const r = route(node, pkt.dst);
      if (!r) {
        end(path, 'unreachable', `no route to the new destination ${pkt.dst.text}`);
        return;
      }
      path.route = r;
      pkt.outIface = r.iface;
      path.timeline.push({ event: `routing again (the destination changed): ${describeRoute(r, pkt.dst)}` });
      return;
    }
    case 'route-in': {
      const r = route(node, pkt.dst);
      if (!r) {
        end(path, 'unreachable', `no route to ${pkt.dst.text}: the node answers ICMP network unreachable`);
        return;
      }
      path.route = r;
      path.timeline.push({ event: `routing: ${describeRoute(r, pkt.dst)}` });
      if (r.kind === 'local') {
        path.steps.splice(path.at, 0, ...[
          { kind: 'table', hook: 'input', table: 'mangle', chain: 'INPUT' },
          { kind: 'table', hook: 'input', table: 'filter', chain: 'INPUT' },
          { kind: 'table', hook: 'input', table: 'nat', chain: 'INPUT' },
          { kind: 'deliver-local' },
        ] satisfies Step[]);
      } else {
        pkt.outIface = r.iface;
        path.steps.splice(path.at, 0, ...[
          { kind: 'table', hook: 'forward', table: 'mangle', chain: 'FORWARD' },
          { kind: 'table', hook: 'forward', table: 'filter', chain: 'FORWARD' },
          { kind: 'table', hook: 'postrouting', table: 'mangle', chain: 'POSTROUTING' },
          { kind: 'table', hook: 'postrouting', table: 'nat', chain: 'POSTROUTING' },
          { kind: 'out' },
        ] satisfies Step[]);
      }
      return;
    }
    case 'out': {
      const r = path.route;
      if (r?.kind === 'local') {
        // Sent to one of the node's own addresses: it loops back in through lo and up the input path.
        pkt.inIface = 'lo';
        pkt.outIface = '';
        path.timeline.push({ event: 'the destination is this node: the packet loops back in through lo' });
        path.steps.splice(path.at, 0, ...[
          { kind: 'table', hook: 'prerouting', table: 'raw', chain: 'PREROUTING' },
          { kind: 'table', hook: 'prerouting', table: 'mangle', chain: 'PREROUTING' },
          { kind: 'table', hook: 'prerouting', table: 'nat', chain: 'PREROUTING' },
          { kind: 'route-in' },
        ] satisfies Step[]);
        return;
      }
      if (r?.kind === 'pod') end(path, 'delivered', `it leaves on ${r.iface} to ${describePod(r.pod ?? node.pods.get(pkt.dst.value))}`);
      else end(path, 'forwarded', `it leaves the node on ${r?.iface ?? '?'}${r?.via ? ` toward ${r.via}` : ''}`);
      return;
    }
    case 'deliver-local':
      end(path, 'local', "it is delivered to the node's own network stack");
      return;
  }
}

/** Established packets: the nat hooks reuse the connection's translation instead of the nat table. */
function applyConntrackNat(path: Path, manip: 'dst' | 'src', hook: Hook): void {
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
    path.timeline.push({ event: `conntrack (${hook}): destination ${before} → ${hostPort(pkt.dst, pkt.dport, pkt.protocol)} (${found.direction === 'reply' ? 'undoing the source NAT' : 'the connection\'s DNAT'})`, hook });
  }
  if (manip === 'src' && (pkt.src.value !== target.src.value || pkt.sport !== target.sport)) {
    const before = hostPort(pkt.src, pkt.sport, pkt.protocol);
    pkt.src = target.src;
    pkt.sport = target.sport;
    path.timeline.push({ event: `conntrack (${hook}): source ${before} → ${hostPort(pkt.src, pkt.sport, pkt.protocol)} (${found.direction === 'reply' ? 'undoing the DNAT: the reply comes from the address the client asked for' : "the connection's SNAT"})`, hook });
  }
}

function applyPolicy(path: Path, hook: Hook, chain: CompiledChain): void {
  if (chain.policy === 'DROP') {
    path.timeline.push({ hop: { hook, table: chain.table, chain: chain.name, rule: chain.rules.length + 1, text: `:${chain.name} DROP`, matched: true, reason: 'end of the built-in chain', action: 'policy DROP' } });
    end(path, 'dropped', `the ${chain.table} ${chain.name} chain's policy is DROP`);
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

/** Walks the chains of the current table until the table gives its verdict (or the path ends). */
function runTable(path: Path, env: Env, work: Path[]): void {
  const cur = path.current as NonNullable<Path['current']>;
  const hook = cur.hook;
  for (;;) {
    const frame = path.frames[path.frames.length - 1];
    if (!frame) {
      // Fell off (or returned from) the built-in chain: its policy decides.
      applyPolicy(path, hook, cur.builtin);
      return;
    }
    const chain = frame.chain;
    if (frame.pos >= chain.rules.length) {
      path.frames.pop();
      continue;
    }
    const runId = chain.runAt[frame.pos] as number;
    if (runId >= 0) {
      const run = chain.runs[runId] as CompiledChain['runs'][number];
      const key = run.by === 'destination' ? path.pkt.dst.text : hasPorts(path.pkt.protocol) ? path.pkt.dport : -1;
      const positions = run.positions.get(key);
      let next = run.end;
      if (positions) {
        for (const p of positions) {
          if (p >= frame.pos) {
            next = p;
            break;
          }
        }
      }
      if (next > frame.pos) {
        const skipped = next - frame.pos;
        const what = run.by === 'destination' ? 'other destinations' : 'other destination ports';
        path.timeline.push({
          hop: {
            hook,
            table: chain.table,
            chain: chain.name,
            rule: frame.pos + 1,
            text: '',
            matched: false,
            reason: `${skipped.toLocaleString('en-US')} ${skipped === 1 ? 'rule' : 'rules'} for ${what} did not match`,
            action: '',
            skipped,
          },
        });
        frame.pos = next;
        continue;
      }
    }
    const rule = chain.rules[frame.pos] as CompiledRule;
    const c = ctx(path, env, hook);
    const verdict = matchRule(path, rule, c, env, work, hook);
    frame.pos++;
    if (!verdict) continue;
    const done = applyTarget(path, rule, c, env, hook);
    if (done) {
      path.frames = [];
      path.current = undefined;
      return;
    }
  }
}

/** Evaluates a rule's conditions; true when it matched (a hop is recorded for non-matches here). */
function matchRule(path: Path, rule: CompiledRule, c: MatchContext, env: Env, work: Path[], hook: Hook): boolean {
  const ms = rule.matchers;
  for (let i = 0; i < ms.length; i++) {
    const m = ms[i] as (typeof ms)[number];
    const r = m.test(c);
    if (r === MATCH) continue;
    if (r === FAIL) {
      recordMiss(path, rule, hook, m.why(c));
      return false;
    }
    // Anything later that certainly fails makes the question moot.
    for (let j = i + 1; j < ms.length; j++) {
      const later = ms[j] as (typeof ms)[number];
      if (later.pure && later.test(c) === FAIL) {
        recordMiss(path, rule, hook, later.why(c));
        return false;
      }
    }
    if (r === UNKNOWN) {
      const why = `cannot evaluate \`${m.text}\`: ${m.why(c)}; assumed not to match, so the outcome is uncertain`;
      path.unsupported.push(`${rule.table} ${rule.chain} #${rule.number}: ${m.text}`);
      recordMiss(path, rule, hook, why);
      return false;
    }
    if (r === RANDOM) {
      const p = m.probability as number;
      if (env.rng) {
        if (randomMatches(env.rng, statisticThreshold(p))) {
          path.prob *= p;
          continue;
        }
        path.prob *= 1 - p;
        recordMiss(path, rule, hook, `the random draw passed over this rule (probability ${formatProbability(1 - p)})`);
        return false;
      }
      const other = clonePath(path);
      other.prob *= 1 - p;
      recordMiss(other, rule, hook, `the random draw passed over this rule (probability ${formatProbability(1 - p)})`);
      (other.frames[other.frames.length - 1] as Frame).pos++;
      work.push(other);
      path.prob *= p;
    }
  }
  return true;
}

function recordMiss(path: Path, rule: CompiledRule, hook: Hook, reason: string): void {
  path.timeline.push({ hop: { hook, table: rule.table, chain: rule.chain, rule: rule.number, text: rule.text, matched: false, reason, action: '' } });
}

function matchedReason(rule: CompiledRule, c: MatchContext): string {
  const parts = rule.matchers.filter((m) => !m.text.startsWith('-m tcp') && !m.text.startsWith('-m udp') && !m.text.startsWith('-m sctp')).map((m) => m.why(c));
  return parts.length ? parts.join('; ') : 'every packet matches (no conditions)';
}

/** Applies a matched rule's target; true when the table's traversal is over (verdict or NAT). */
function applyTarget(path: Path, rule: CompiledRule, c: MatchContext, env: Env, hook: Hook): boolean {
  const pkt = path.pkt;
  const t = rule.target;
  const hop: Hop = { hook, table: rule.table, chain: rule.chain, rule: rule.number, text: rule.text, matched: true, reason: matchedReason(rule, c), action: '' };
  path.timeline.push({ hop });
  if (!t) {
    hop.action = 'nothing (the rule has no target): continue with the next rule';
    return false;
  }
  switch (t.kind) {
    case 'jump':
    case 'goto': {
      const target = env.emu.rules.tables.get(rule.table)?.chains.get(t.chain) as CompiledChain;
      hop.action = `${t.kind} ${t.chain}`;
      if (t.kind === 'goto') path.frames.pop();
      if (path.frames.length >= MAX_DEPTH) {
        path.unsupported.push(`${rule.table} ${rule.chain} #${rule.number}: chains nested deeper than ${MAX_DEPTH}`);
        end(path, 'dropped', 'the chains loop (the kernel would refuse such a ruleset)');
        return true;
      }
      path.frames.push({ chain: target, pos: 0 });
      return false;
    }
    case 'RETURN':
      hop.action = 'RETURN';
      path.frames.pop();
      if (path.frames.length === 0) {
        applyPolicy(path, hook, (path.current as NonNullable<Path['current']>).builtin);
        return true;
      }
      return false;
    case 'ACCEPT':
      hop.action = `ACCEPT: the ${rule.table} table lets the packet through this hook`;
      path.filterVerdict ??= 'ACCEPT';
      return true;
    case 'DROP':
      hop.action = 'DROP';
      path.filterVerdict ??= 'DROP';
      end(path, 'dropped', `dropped by ${rule.table} ${rule.chain} rule ${rule.number}`);
      return true;
    case 'REJECT':
      hop.action = `REJECT with ${t.with}`;
      path.filterVerdict ??= 'REJECT';
      path.rejectWith = t.with;
      end(path, 'rejected', `rejected by ${rule.table} ${rule.chain} rule ${rule.number}: the client gets ${rejectDescription(t.with)}`);
      return true;
    case 'DNAT': {
      const before = hostPort(pkt.dst, pkt.dport, pkt.protocol);
      pkt.dst = t.to.ip;
      if (t.to.port !== undefined && hasPorts(pkt.protocol)) pkt.dport = t.to.port;
      path.dnat = hostPort(pkt.dst, pkt.dport, pkt.protocol);
      path.ct.dnat = true;
      hop.action = `DNAT: destination ${before} → ${path.dnat}${t.range ? ' (first address of the range)' : ''}`;
      return true;
    }
    case 'REDIRECT': {
      const before = hostPort(pkt.dst, pkt.dport, pkt.protocol);
      const local = hook === 'output' ? localhost(pkt) : interfaceAddress(env.emu.node, pkt.inIface) ?? localhost(pkt);
      pkt.dst = local;
      if (t.port !== undefined && hasPorts(pkt.protocol)) pkt.dport = t.port;
      path.dnat = hostPort(pkt.dst, pkt.dport, pkt.protocol);
      path.ct.dnat = true;
      hop.action = `REDIRECT: destination ${before} → ${path.dnat} (this node)`;
      return true;
    }
    case 'SNAT': {
      const before = pkt.src.text;
      pkt.src = t.to.ip;
      if (t.to.port !== undefined && hasPorts(pkt.protocol)) pkt.sport = t.to.port;
      path.snatDone = true;
      path.ct.snat = true;
      hop.action = `SNAT: source ${before} → ${pkt.src.text}`;
      return true;
    }
    case 'MASQUERADE': {
      const before = pkt.src.text;
      const address = interfaceAddress(env.emu.node, pkt.outIface, pkt.dst);
      if (!address) {
        hop.action = `MASQUERADE: ${pkt.outIface} has no address, the packet is dropped`;
        end(path, 'dropped', `MASQUERADE found no address on ${pkt.outIface}`);
        return true;
      }
      pkt.src = address;
      if (t.port !== undefined && hasPorts(pkt.protocol)) pkt.sport = t.port;
      path.snatDone = true;
      path.ct.snat = true;
      hop.action = `MASQUERADE: source ${before} → ${address.text} (the address of ${pkt.outIface || 'the outgoing interface'})`;
      return true;
    }
    case 'MARK': {
      const before = pkt.mark;
      pkt.mark = applyMark(pkt.mark, t);
      hop.action = `MARK ${t.text}: mark ${hex(before)} → ${hex(pkt.mark)}`;
      const mask = env.emu.rules.masqueradeMask;
      if ((mask !== undefined && mask !== 0 && (pkt.mark & mask) >>> 0 === mask) || rule.chain === 'KUBE-MARK-MASQ') {
        if (!path.markedMasq) hop.action += ' (marked for masquerading)';
        path.markedMasq = true;
      }
      return false;
    }
    case 'LOG':
      hop.action = `LOG${t.prefix ? ` with prefix ${JSON.stringify(t.prefix)}` : ''}: logged, continue`;
      return false;
    case 'NOTRACK':
      hop.action = 'NOTRACK: conntrack will ignore this packet';
      path.untracked = true;
      return false;
    case 'unknown':
      hop.action = `${t.name}: not modelled (${t.why}); assumed to continue, so the outcome is uncertain`;
      path.unsupported.push(`${rule.table} ${rule.chain} #${rule.number}: -j ${t.name}`);
      return false;
  }
}

function localhost(pkt: Packet): IP {
  return parseIP(pkt.family === 4 ? '127.0.0.1' : '::1') as IP;
}

export function rejectDescription(w: string): string {
  switch (w) {
    case 'tcp-reset':
      return 'a TCP reset (connection refused)';
    case 'icmp-port-unreachable':
    case 'icmp6-port-unreachable':
      return 'ICMP port unreachable (connection refused)';
    case 'icmp-host-unreachable':
    case 'icmp6-addr-unreachable':
      return 'ICMP host unreachable (no route to host)';
    case 'icmp-net-unreachable':
    case 'icmp6-no-route':
      return 'ICMP network unreachable';
    case 'icmp-admin-prohibited':
    case 'icmp6-adm-prohibited':
      return 'ICMP administratively prohibited';
    default:
      return `ICMP ${w}`;
  }
}

function finish(path: Path, env: Env): PathOutcome {
  const pkt = path.pkt;
  const result = path.result ?? 'local';
  const hops: Hop[] = [];
  for (const s of path.timeline) if ('hop' in s) hops.push(s.hop);
  // A connection that got through is confirmed in conntrack; its reply will be un-NATed.
  if (result === 'delivered' || result === 'local' || result === 'forwarded') {
    if (path.ctEntry) {
      path.effects.conntrack = path.ctEntry.entry;
    } else if (!path.untracked) {
      const final: Tuple = { protocol: pkt.protocol, src: pkt.src, sport: pkt.sport, dst: pkt.dst, dport: pkt.dport };
      path.effects.conntrack = {
        original: path.origTuple,
        reply: reverse(final),
        dnat: path.ct.dnat,
        snat: path.ct.snat,
        lastSeen: env.now,
        timeout: conntrackTimeout(pkt.protocol),
      };
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
    route: path.route && !path.route.pod && env.emu.node.pods.has(pkt.dst.value) ? { ...path.route, pod: env.emu.node.pods.get(pkt.dst.value) } : path.route,
    endReason: path.endReason,
  };
  if (path.rejectWith) out.rejectWith = path.rejectWith;
  if (path.unsupported.length > 0) {
    out.uncertain = true;
    out.unsupported = [...new Set(path.unsupported)];
  }
  return out;
}

