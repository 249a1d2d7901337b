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
import { interfaceAddress, type NodeModel } from './node.js';
import { hasPorts, hostPort, type Origin, type Packet, type PacketSpec } from './packet.js';
import { randomMatches, statisticThreshold, type Rng } from './rng.js';
import type { CompiledChain, CompiledRule, CompiledRuleset } from './ruleset.js';
import type { EmulatorState } from './state.js';
import { applyConntrackNat, cloneWalkPath, conntrackLookup, endPath, finishPath, kernelStep, newWalkPath, nextStep, walk, type AfterRouting, type Hop, type TraceDetail, type TraceOptions, type WalkPath } from './walk.js';

export { describeRoute, MAX_PATHS, PathLimitError, toOutcome } from './walk.js';
export type { Hop, Outcome, PathOutcome, Result, TimelineStep, Trace, TraceDetail, TraceOptions, TracePacket, Verdict } from './walk.js';

export interface Emulator {
  rules: CompiledRuleset;
  node: NodeModel;
}

interface Frame {
  chain: CompiledChain;
  pos: number;
}

interface Path extends WalkPath<Step> {
  /** What `-m conntrack` sees of the packet's connection. */
  ct: CtInfo;
  /** Table traversal in progress. */
  frames: Frame[];
  current?: { hook: Hook; table: string; builtin: CompiledChain };
}

interface Env {
  emu: Emulator;
  state: EmulatorState | undefined;
  now: number;
  rng: Rng | undefined;
}

const MAX_DEPTH = 100;

export function createEmulator(rules: CompiledRuleset, node: NodeModel): Emulator {
  return { rules, node };
}

/** Traces the first packet of a new connection (or, with state, whatever packet it is) through the node. */
export function tracePacket(emu: Emulator, spec: PacketSpec | Packet, options: TraceOptions = {}): TraceDetail {
  const env: Env = { emu, state: options.state, now: options.now ?? 0, rng: options.rng };
  return walk('iptables', emu.node, spec, {
    start: (pkt, origin) => initialPath(env, pkt, origin),
    run: (path, work) => runPath(path, env, work),
    finish: (path) => {
      path.ctDnat = path.ct.dnat;
      path.ctSnat = path.ct.snat;
      return finishPath(path, emu.node, env.now);
    },
  }, options.maxPaths);
}

function initialPath(env: Env, pkt: Packet, origin: Origin): Path {
  const core = newWalkPath(env.emu.node, pkt, origin, initialSteps(origin));
  const ct: CtInfo = { state: 'NEW', direction: 'original', dnat: false, snat: false, seenReply: false, confirmed: false, original: core.origTuple };
  return { ...core, ct, frames: [] };
}

function clonePath(p: Path): Path {
  return { ...cloneWalkPath(p), ct: { ...p.ct }, frames: p.frames.map((f) => ({ ...f })) };
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
    const step = nextStep(path);
    if (!step) return;
    doStep(path, step, env);
  }
}

/** The iptables tables each routing decision leads through. */
const AFTER_ROUTING: AfterRouting<Step> = {
  input: () => [
    { kind: 'table', hook: 'input', table: 'mangle', chain: 'INPUT' },
    { kind: 'table', hook: 'input', table: 'filter', chain: 'INPUT' },
    { kind: 'table', hook: 'input', table: 'nat', chain: 'INPUT' },
    { kind: 'deliver-local' },
  ],
  forward: () => [
    { kind: 'table', hook: 'forward', table: 'mangle', chain: 'FORWARD' },
    { kind: 'table', hook: 'forward', table: 'filter', chain: 'FORWARD' },
    { kind: 'table', hook: 'postrouting', table: 'mangle', chain: 'POSTROUTING' },
    { kind: 'table', hook: 'postrouting', table: 'nat', chain: 'POSTROUTING' },
    { kind: 'out' },
  ],
  loopback: () => [
    { kind: 'table', hook: 'prerouting', table: 'raw', chain: 'PREROUTING' },
    { kind: 'table', hook: 'prerouting', table: 'mangle', chain: 'PREROUTING' },
    { kind: 'table', hook: 'prerouting', table: 'nat', chain: 'PREROUTING' },
    { kind: 'route-in' },
  ],
};

function doStep(path: Path, step: Step, env: Env): void {
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
      if (!conntrackLookup(path, env.state, env.now, 'nat table')) return;
      const { entry, direction } = path.ctEntry as NonNullable<Path['ctEntry']>;
      path.ct = { state: 'ESTABLISHED', direction, dnat: entry.dnat, snat: entry.snat, seenReply: true, confirmed: true, original: entry.original };
      return;
    }
    default:
      kernelStep(path, step, env.emu.node, AFTER_ROUTING);
  }
}

function applyPolicy(path: Path, hook: Hook, chain: CompiledChain): void {
  if (chain.policy === 'DROP') {
    path.timeline.push({ hop: { hook, table: chain.table, chain: chain.name, rule: chain.rules.length + 1, text: `:${chain.name} DROP`, matched: true, reason: 'end of the built-in chain', action: 'policy DROP' } });
    endPath(path, 'dropped', `the ${chain.table} ${chain.name} chain's policy is DROP`);
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
        endPath(path, 'dropped', 'the chains loop (the kernel would refuse such a ruleset)');
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
      endPath(path, 'dropped', `dropped by ${rule.table} ${rule.chain} rule ${rule.number}`);
      return true;
    case 'REJECT':
      hop.action = `REJECT with ${t.with}`;
      path.filterVerdict ??= 'REJECT';
      path.rejectWith = t.with;
      endPath(path, 'rejected', `rejected by ${rule.table} ${rule.chain} rule ${rule.number}: the client gets ${rejectDescription(t.with)}`);
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
        path.masqueradeFailed = true;
        endPath(path, 'dropped', `MASQUERADE found no address on ${pkt.outIface}`);
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
