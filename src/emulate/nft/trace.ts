/**
 * The nftables packet walker (`kproxy trace --mode nftables`). It follows a packet through the node's hooks in
 * kernel order and, on each hook, through every base chain attached to it (all tables of the packet's family and
 * `inet`), lowest priority first. Rules are evaluated statement by statement from their typed view (ir/nftables):
 * matches against values, CIDRs, ranges and named or anonymous sets; verdict maps with concatenated keys (looked
 * up by hash, so a trace costs the same at 10 or 10,000 services); `numgen random mod N` enumerated (each map key
 * with probability 1/N, the values no key finds as one more branch, so N may be 2^32-1) or sampled with an RNG;
 * `fib … type local` against the node's LOCAL set; `ct state`; dynamic sets (`update @set { ip saddr }`, timeouts)
 * kept in the emulator state as `recent`-style entries; `dnat to`, `masquerade`, marks, `reject` (ICMP port
 * unreachable), `drop`, `jump`/`goto`/`return`.
 *
 * It reuses the iptables emulator's node model, packets, conntrack state, result shape (Trace/PathOutcome, spec
 * emulator §7) and explanation (explainTrace). Like the iptables walker it is pure: each outcome carries the state
 * changes of its path, committed by `sampleNftConnections` for the path taken.
 */
import { parseIP } from '../../net/ip.js';
import type { NftChain, NftElement, NftExpr, NftOperand, NftRule, NftRuleset, NftSet, NftStatement, NftTable, NftVerdict } from '../../ir/nftables.js';
import { verdictText } from '../../ir/nftables.js';
import type { Hook } from '../evaluate.js';
import type { Step } from '../hooks.js';
import { interfaceAddress, type NodeModel } from '../node.js';
import { hasPorts, hostPort, type Origin, type Packet, type PacketSpec } from '../packet.js';
import type { Rng } from '../rng.js';
import { readRecent, recentKey, type EmulatorState } from '../state.js';
import { applyConntrackNat, cloneWalkPath, conntrackLookup, endPath, finishPath, kernelStep, newWalkPath, nextStep, walk, type AfterRouting, type Hop, type TraceDetail, type TraceOptions, type WalkPath } from '../walk.js';
import { bitwise, describeValue, fieldValue, parseNumber, valueKey, valueMatches, writtenKey, type FieldContext, type Value } from './values.js';

interface SetIndex {
  set: NftSet;
  /** Canonical key (parts joined by NUL) → element, for elements of exact values. */
  exact: Map<string, NftElement>;
  /** Elements with CIDRs or ranges: scanned. */
  ranges: NftElement[];
  /** Elements are added at run time (`update @set`): membership also looks at the emulator state. */
  dynamic: boolean;
}

interface CompiledTable {
  table: NftTable;
  chains: Map<string, NftChain>;
  sets: Map<string, SetIndex>;
}

interface BaseRef {
  t: CompiledTable;
  chain: NftChain;
  type: string;
  hook: Hook;
  priority: number;
}

/** A loaded nftables ruleset on a node. */
export interface NftEmulator {
  mode: 'nftables';
  ruleset: NftRuleset;
  node: NodeModel;
  tables: CompiledTable[];
  /** Base chains per `family hook`, in priority order. */
  hooks: Map<string, BaseRef[]>;
}

const HOOKS: readonly Hook[] = ['prerouting', 'input', 'forward', 'output', 'postrouting'];

/** Indexes the ruleset's sets and base chains once. */
export function createNftEmulator(ruleset: NftRuleset, node: NodeModel): NftEmulator {
  const tables: CompiledTable[] = [];
  const hooks = new Map<string, BaseRef[]>();
  for (const table of ruleset.tables) {
    if (table.family !== 'ip' && table.family !== 'ip6' && table.family !== 'inet') continue;
    const t: CompiledTable = { table, chains: new Map(table.chains.map((c) => [c.name, c])), sets: new Map() };
    const updated = new Set<string>();
    for (const c of table.chains) for (const r of c.rules) for (const s of r.statements) if (s.kind === 'set-update') updated.add(s.set.replace(/^@/, ''));
    for (const set of table.sets) t.sets.set(set.name, indexSet(set, updated.has(set.name)));
    tables.push(t);
    for (const chain of table.chains) {
      const b = chain.base;
      if (!b || !HOOKS.includes(b.hook as Hook)) continue;
      for (const fam of table.family === 'inet' ? ['ip', 'ip6'] : [table.family]) {
        const key = `${fam} ${b.hook}`;
        const list = hooks.get(key) ?? [];
        list.push({ t, chain, type: b.type, hook: b.hook as Hook, priority: b.priority });
        hooks.set(key, list);
      }
    }
  }
  for (const list of hooks.values()) list.sort((a, b) => a.priority - b.priority);
  return { mode: 'nftables', ruleset, node, tables, hooks };
}

function indexSet(set: NftSet, updated: boolean): SetIndex {
  const idx: SetIndex = { set, exact: new Map(), ranges: [], dynamic: updated || (set.flags ?? []).some((f) => f === 'dynamic' || f === 'timeout') };
  for (const e of set.elements) addElement(idx, e);
  return idx;
}

function addElement(idx: SetIndex, e: NftElement): void {
  const parts = e.key.map(writtenKey);
  if (parts.every((p) => p !== undefined)) {
    const k = parts.join('\u0000');
    if (!idx.exact.has(k)) idx.exact.set(k, e);
  } else idx.ranges.push(e);
}

// ---------------------------------------------------------------------------------------------------------
// Paths

/** The iptables path's steps, with a whole hook (every base chain on it, by priority) instead of one table. */
type NStep = Exclude<Step, { kind: 'table' }> | { kind: 'hook'; hook: Hook };

interface Frame {
  t: CompiledTable;
  chain: NftChain;
  pos: number;
}

interface Path extends WalkPath<NStep> {
  /** What `ct state` matches. */
  ctState: string;
  /** Base chains of the current hook still to run, by priority. */
  queue: BaseRef[];
  base?: BaseRef;
  frames: Frame[];
  /** A numgen draw forced for the rule about to be evaluated (enumeration or sampling). */
  forced?: Draw;
}

/** A numgen outcome: the value the rule sees, and how many of the modulus' values it stands for (same branch). */
interface Draw {
  value: number;
  count: number;
}

interface Env {
  emu: NftEmulator;
  state: EmulatorState | undefined;
  now: number;
  rng: Rng | undefined;
}

const MAX_DEPTH = 64;

/** The `recent`-list name under which a dynamic nft set's elements live in the emulator state. */
export function dynamicSetKey(t: NftTable, set: string): string {
  return `nft ${t.family} ${t.name} ${set}`;
}

export function traceNftPacket(emu: NftEmulator, spec: PacketSpec | Packet, options: TraceOptions = {}): TraceDetail {
  const env: Env = { emu, state: options.state, now: options.now ?? 0, rng: options.rng };
  return walk('nftables', emu.node, spec, {
    start: (pkt, origin) => initialPath(env, pkt, origin),
    run: (path, work) => runPath(path, env, work),
    finish: (path) => finishPath(path, emu.node, env.now),
  }, options.maxPaths);
}

function initialPath(env: Env, pkt: Packet, origin: Origin): Path {
  const steps: NStep[] =
    origin === 'node'
      ? [{ kind: 'route-out' }, { kind: 'conntrack' }, { kind: 'hook', hook: 'output' }, { kind: 'reroute' }, { kind: 'hook', hook: 'postrouting' }, { kind: 'out' }]
      : [{ kind: 'conntrack' }, { kind: 'hook', hook: 'prerouting' }, { kind: 'route-in' }];
  return { ...newWalkPath(env.emu.node, pkt, origin, steps), ctState: 'new', queue: [], frames: [] };
}

function clonePath(p: Path): Path {
  return { ...cloneWalkPath(p), queue: p.queue.slice(), frames: p.frames.map((f) => ({ ...f })) };
}

function runPath(path: Path, env: Env, work: Path[]): void {
  while (!path.result) {
    if (path.frames.length > 0) {
      runChain(path, env, work);
      continue;
    }
    const next = path.queue.shift();
    if (next) {
      enterBase(path, next);
      continue;
    }
    const step = nextStep(path);
    if (!step) return;
    doStep(path, step, env);
  }
}

/** Which NAT a nat-type base chain on this hook decides. */
function natManip(hook: Hook): 'dst' | 'src' {
  return hook === 'prerouting' || hook === 'output' ? 'dst' : 'src';
}

function enterBase(path: Path, b: BaseRef): void {
  if (b.type === 'nat') {
    const manip = natManip(b.hook);
    if (manip === 'dst' ? path.natDst : path.natSrc) {
      applyConntrackNat(path, manip, b.hook);
      return;
    }
    if (manip === 'dst') path.natDst = true;
    else path.natSrc = true;
  }
  path.base = b;
  if (b.chain.rules.length === 0) {
    fallOffBase(path);
    return;
  }
  path.frames = [{ t: b.t, chain: b.chain, pos: 0 }];
}

function fallOffBase(path: Path): void {
  const b = path.base as BaseRef;
  path.frames = [];
  if (b.chain.base?.policy === 'drop') {
    path.timeline.push({ hop: { hook: b.hook, table: tableLabel(b.t), chain: b.chain.name, rule: b.chain.rules.length + 1, text: 'policy drop', matched: true, reason: 'end of the base chain', action: 'policy drop' } });
    endPath(path, 'dropped', `the ${b.chain.name} base chain's policy is drop`);
  }
}

function tableLabel(t: CompiledTable): string {
  return `${t.table.family} ${t.table.name}`;
}

/** The hooks each routing decision leads through. */
const AFTER_ROUTING: AfterRouting<NStep> = {
  input: () => [{ kind: 'hook', hook: 'input' }, { kind: 'deliver-local' }],
  forward: () => [{ kind: 'hook', hook: 'forward' }, { kind: 'hook', hook: 'postrouting' }, { kind: 'out' }],
  loopback: () => [{ kind: 'hook', hook: 'prerouting' }, { kind: 'route-in' }],
};

function doStep(path: Path, step: NStep, env: Env): void {
  switch (step.kind) {
    case 'hook': {
      path.queue = (env.emu.hooks.get(`${path.pkt.family === 4 ? 'ip' : 'ip6'} ${step.hook}`) ?? []).slice();
      if (step.hook === 'postrouting' && path.ctEntry && path.queue.every((b) => b.type !== 'nat')) applyConntrackNat(path, 'src', step.hook);
      return;
    }
    case 'conntrack':
      if (conntrackLookup(path, env.state, env.now, 'nat chains')) path.ctState = 'established';
      return;
    default:
      kernelStep(path, step, env.emu.node, AFTER_ROUTING);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Chains and rules

function runChain(path: Path, env: Env, work: Path[]): void {
  const frame = path.frames[path.frames.length - 1] as Frame;
  if (frame.pos >= frame.chain.rules.length) {
    path.frames.pop();
    if (path.frames.length === 0) fallOffBase(path);
    return;
  }
  const rule = frame.chain.rules[frame.pos] as NftRule;
  const ruleNo = frame.pos + 1;
  // numgen: enumerate its outcomes (count/N each) unless sampling; the pure matches before it are checked first.
  // A modulus that is not a positive integer (IR not from the parser) is left unforced: the lookup is uncertain.
  if (path.forced === undefined) {
    const ng = rule.statements.find((s) => s.kind === 'vmap' && s.key.kind === 'numgen') as Extract<NftStatement, { kind: 'vmap' }> | undefined;
    if (ng && ng.key.kind === 'numgen' && Number.isSafeInteger(ng.key.mod) && ng.key.mod > 0) {
      const miss = firstMiss(path, env, frame, rule);
      if (miss === undefined) {
        const n = ng.key.mod;
        const offset = ng.key.offset ?? 0;
        if (env.rng) {
          path.forced = { value: (env.rng() % n) + offset, count: 1 };
          path.prob /= n;
        } else {
          const draws = numgenDraws(path, env, frame.t, ng.map, n, offset);
          // The first draw continues on this path; the others are pushed so they run next, in value order.
          for (let i = draws.length - 1; i >= 1; i--) {
            const other = clonePath(path);
            other.forced = draws[i] as Draw;
            other.prob = (other.prob * (draws[i] as Draw).count) / n;
            work.push(other);
          }
          path.forced = draws[0] as Draw;
          path.prob = (path.prob * (draws[0] as Draw).count) / n;
        }
      }
    }
  }
  frame.pos++;
  const forced = path.forced;
  path.forced = undefined;
  evalRule(path, env, frame, rule, ruleNo, forced);
}

/**
 * The outcomes of `numgen … mod N [offset O] vmap MAP`, read from the map's keys rather than from the N values
 * (N may be 2^32-1): between two consecutive key boundaries every value finds the same element, so each element
 * some value finds is one draw (an exact key: 1 value of N), and all the values no key finds are one more draw.
 * In the order of their first value, as enumerating value by value gave them.
 */
function numgenDraws(path: Path, env: Env, t: CompiledTable, map: NftOperand, n: number, offset: number): Draw[] {
  const end = offset + n;
  // No map to find a verdict in (a missing set, a plain value): every value gives the same miss.
  const idx = map.kind === 'value' ? null : operandIndex(t, map);
  if (idx === null) return [{ value: offset, count: n }];
  const cuts = new Set<number>([offset]);
  // Every number written in a key (ends of ranges, list items) and the one after it bound a stretch of values.
  for (const e of idx.set.elements) {
    for (const part of e.key) {
      for (const piece of part.split(/[,-]/)) {
        const v = parseNumber(piece);
        if (v === undefined) continue;
        if (v > offset && v < end) cuts.add(v);
        if (v + 1 > offset && v + 1 < end) cuts.add(v + 1);
      }
    }
  }
  const starts = [...cuts].sort((a, b) => a - b);
  const draws = new Map<NftElement | undefined, Draw>();
  starts.forEach((from, i) => {
    const to = starts[i + 1] ?? end;
    const found = lookupIn(path, env, t, idx, [{ t: 'num', n: from }]).found;
    const known = draws.get(found);
    if (known) known.count += to - from;
    else draws.set(found, { value: from, count: to - from });
  });
  return [...draws.values()];
}

/** The first failing leading pure match of a rule (before any statement with effects), or undefined. */
function firstMiss(path: Path, env: Env, frame: Frame, rule: NftRule): string | undefined {
  for (const s of rule.statements) {
    if (s.kind !== 'match') return undefined;
    const r = evalMatch(path, env, frame.t, s);
    if (r.ok !== true) return r.why;
  }
  return undefined;
}

function fctx(path: Path, env: Env): FieldContext {
  return { pkt: path.pkt, node: env.emu.node, ctState: path.ctState };
}

type Eval = { ok: true; why: string } | { ok: false; why: string } | { ok: 'unknown'; why: string };

function exprValue(path: Path, env: Env, e: NftExpr, forced: number | undefined): Value[] | undefined | null {
  switch (e.kind) {
    case 'field': {
      const v = fieldValue(e.name, fctx(path, env));
      return v === null ? null : v === undefined ? undefined : [v];
    }
    case 'numgen':
      return forced === undefined ? null : [{ t: 'num', n: forced }];
    case 'bitwise': {
      const inner = exprValue(path, env, e.left, forced);
      const m = parseNumber(e.value);
      if (!inner || inner.length !== 1 || inner[0]?.t !== 'num' || m === undefined) return inner === undefined ? undefined : null;
      return [{ t: 'num', n: bitwise(e.op, inner[0].n, m) }];
    }
    case 'concat': {
      const out: Value[] = [];
      for (const p of e.parts) {
        const v = exprValue(path, env, p, forced);
        if (!v) return v;
        out.push(...v);
      }
      return out;
    }
  }
}

function exprText(e: NftExpr): string {
  switch (e.kind) {
    case 'field':
      return e.name;
    case 'numgen':
      return `numgen ${e.mode} mod ${e.mod}${e.offset ? ` offset ${e.offset}` : ''}`;
    case 'bitwise':
      return `${exprText(e.left)} ${e.op} ${e.value}`;
    case 'concat':
      return e.parts.map(exprText).join(' . ');
  }
}

type Lookup = { found: NftElement | undefined; dynamicHit?: boolean };

/** Looks a key up in a set or map operand (named or anonymous). */
function lookup(path: Path, env: Env, t: CompiledTable, operand: NftOperand, key: Value[]): Lookup | null {
  if (operand.kind === 'value') return { found: key.length === 1 && valueMatches(key[0] as Value, operand.value) ? { key: [operand.value] } : undefined };
  const idx = operandIndex(t, operand);
  return idx && lookupIn(path, env, t, idx, key);
}

/** The index of a named set (null when it does not exist) or of an anonymous one, built for the occasion. */
function operandIndex(t: CompiledTable, operand: Exclude<NftOperand, { kind: 'value' }>): SetIndex | null {
  if (operand.kind === 'set-ref') return t.sets.get(operand.name.replace(/^@/, '')) ?? null;
  const idx: SetIndex = { set: { kind: 'set', name: '', type: '', elements: operand.elements }, exact: new Map(), ranges: [], dynamic: false };
  for (const e of operand.elements) addElement(idx, e);
  return idx;
}

function lookupIn(path: Path, env: Env, t: CompiledTable, idx: SetIndex, key: Value[]): Lookup {
  const k = key.map(valueKey).join('\u0000');
  const hit = idx.exact.get(k);
  if (hit) return { found: hit };
  for (const e of idx.ranges) if (e.key.length === key.length && e.key.every((part, i) => valueMatches(key[i] as Value, part))) return { found: e };
  if (idx.dynamic && key.length === 1) {
    const stamps = readRecent(env.state, path.effects, dynamicSetKey(t.table, idx.set.name), k);
    const last = stamps?.[stamps.length - 1];
    const timeout = idx.set.timeout;
    if (last !== undefined && (timeout === undefined || env.now - last <= timeout)) return { found: { key: [k] }, dynamicHit: true };
  }
  return { found: undefined };
}

function operandText(o: NftOperand): string {
  if (o.kind === 'value') return o.value;
  if (o.kind === 'set-ref') return `@${o.name.replace(/^@/, '')}`;
  return `{ ${o.elements.map((e) => e.key.join(' . ')).join(', ')} }`;
}

function evalMatch(path: Path, env: Env, t: CompiledTable, s: Extract<NftStatement, { kind: 'match' }>): Eval {
  const left = exprText(s.left);
  const v = exprValue(path, env, s.left, undefined);
  if (v === null) return { ok: 'unknown', why: `${left} is not modelled` };
  if (v === undefined) return { ok: false, why: `the packet has no ${left} (protocol ${path.pkt.protocol})` };
  const shown = v.map((x) => (s.left.kind === 'field' && /l4proto|protocol/.test(s.left.name) ? path.pkt.protocol : s.left.kind === 'bitwise' || (s.left.kind === 'field' && /mark/.test(s.left.name)) ? (x.t === 'num' ? `0x${x.n.toString(16)}` : describeValue(x)) : describeValue(x))).join(' . ');
  if (s.op !== '==' && s.op !== '!=') {
    const a = v[0];
    const b = s.right.kind === 'value' ? parseNumber(s.right.value) : undefined;
    if (!a || a.t !== 'num' || b === undefined) return { ok: 'unknown', why: `${left} ${s.op} ${operandText(s.right)} is not modelled` };
    const holds = s.op === '<' ? a.n < b : s.op === '>' ? a.n > b : s.op === '<=' ? a.n <= b : a.n >= b;
    return { ok: holds, why: `${left} is ${shown}` };
  }
  const r = lookup(path, env, t, s.right, v);
  if (r === null) return { ok: 'unknown', why: `set ${operandText(s.right)} does not exist` };
  let inIt = r.found !== undefined;
  // `ct state new` is written `new`; a list `established,related` is one value with commas.
  if (!inIt && s.right.kind === 'value') inIt = v.length === 1 && valueMatches(v[0] as Value, s.right.value);
  const holds = s.op === '==' ? inIt : !inIt;
  const rel = s.right.kind === 'value' ? (inIt ? (s.right.value.includes('/') ? 'in' : '') : s.right.value.includes('/') ? 'not in' : 'not') : inIt ? 'in' : 'not in';
  const setNote = r.dynamicHit ? ' (added by an earlier packet, still within its timeout)' : '';
  // A field reads `ip daddr 10.96.0.10 is in @cluster-ips`; a computed value says what it computed to.
  const subject = s.left.kind === 'bitwise' ? `${left} gives ${shown}, which` : `${left} ${shown}`;
  return { ok: holds, why: `${subject} is ${rel ? `${rel} ` : ''}${operandText(s.right)}${setNote}` };
}

function recordMiss(path: Path, frame: Frame, ruleNo: number, rule: NftRule, reason: string): void {
  path.timeline.push({ hop: { hook: (path.base as BaseRef).hook, table: tableLabel(frame.t), chain: frame.chain.name, rule: ruleNo, text: rule.text, matched: false, reason, action: '' } });
}

function evalRule(path: Path, env: Env, frame: Frame, rule: NftRule, ruleNo: number, draw: Draw | undefined): void {
  const forced = draw?.value;
  const hook = (path.base as BaseRef).hook;
  const reasons: string[] = [];
  const actions: string[] = [];
  const where = `${tableLabel(frame.t)} ${frame.chain.name} rule ${ruleNo}`;
  let hop: Hop | undefined;
  const pushHop = () => {
    hop = { hook, table: tableLabel(frame.t), chain: frame.chain.name, rule: ruleNo, text: rule.text, matched: true, reason: reasons.length ? reasons.join('; ') : 'every packet matches (no conditions)', action: '' };
    path.timeline.push({ hop });
  };
  const finishHop = (more?: string) => {
    if (more) actions.push(more);
    if (!hop) pushHop();
    (hop as Hop).action = actions.join(', ') || 'nothing: continue with the next rule';
  };
  for (const s of rule.statements) {
    switch (s.kind) {
      case 'match': {
        const r = evalMatch(path, env, frame.t, s);
        if (r.ok === true) {
          reasons.push(r.why);
          continue;
        }
        if (r.ok === 'unknown') {
          path.unsupported.push(`${where}: ${rule.text}`);
          recordMiss(path, frame, ruleNo, rule, `cannot evaluate: ${r.why}; assumed not to match, so the outcome is uncertain`);
        } else recordMiss(path, frame, ruleNo, rule, r.why);
        return;
      }
      case 'vmap': {
        const key = exprValue(path, env, s.key, forced);
        const keyText = exprText(s.key);
        if (key === undefined) return recordMiss(path, frame, ruleNo, rule, `the packet has no ${keyText} (protocol ${path.pkt.protocol})`);
        const r = key === null ? null : lookup(path, env, frame.t, s.map, key);
        if (r === null || key === null) {
          path.unsupported.push(`${where}: ${rule.text}`);
          return recordMiss(path, frame, ruleNo, rule, `cannot evaluate the ${keyText} lookup; assumed no match, so the outcome is uncertain`);
        }
        const shown = s.key.kind === 'numgen' ? drawText(draw, s.key.mod, r.found) : `${keyText} is ${key.map((v, i) => (s.key.kind === 'concat' && s.key.parts[i]?.kind === 'field' && /l4proto/.test((s.key.parts[i] as { name: string }).name) ? path.pkt.protocol : describeValue(v))).join(' . ')}`;
        if (!r.found || r.found.value?.kind !== 'verdict') {
          return recordMiss(path, frame, ruleNo, rule, `${shown}, not in ${operandText(s.map).slice(0, 80)}`);
        }
        reasons.push(`${shown}${s.key.kind === 'numgen' ? ` (probability ${draw?.count ?? 1}/${s.key.mod})` : ''}, found in ${s.map.kind === 'set-ref' ? `@${s.map.name}` : 'the map'}${r.found.comment ? ` (${r.found.comment})` : ''}`);
        pushHop();
        return applyVerdict(path, frame, r.found.value.verdict, hop as Hop, actions, where);
      }
      case 'verdict':
        pushHop();
        return applyVerdict(path, frame, s.verdict, hop as Hop, actions, where);
      case 'reject': {
        const w = s.with?.join(' ');
        path.filterVerdict ??= 'REJECT';
        path.rejectWith = w ?? (path.pkt.family === 4 ? 'icmp-port-unreachable' : 'icmp6-port-unreachable');
        finishHop(`reject${w ? ` with ${w}` : ''}`);
        path.frames = [];
        endPath(path, 'rejected', `rejected by ${where}: the node answers at once with ${w ? w : path.pkt.family === 4 ? 'ICMP port unreachable' : 'ICMPv6 port unreachable'}${hasPorts(path.pkt.protocol) ? ' (the client sees "connection refused")' : ''}`);
        return;
      }
      case 'counter':
        continue;
      case 'log':
        actions.push('logged');
        continue;
      case 'set-field': {
        if (s.field !== 'meta mark' && s.field !== 'mark') {
          path.unsupported.push(`${where}: ${s.field} set`);
          actions.push(`${s.field} set … not modelled`);
          continue;
        }
        const v = s.value.kind === 'value' ? parseNumber(s.value.value) : exprValue(path, env, s.value, forced)?.[0];
        const n = typeof v === 'number' ? v : v?.t === 'num' ? v.n : undefined;
        if (n === undefined) {
          path.unsupported.push(`${where}: mark set`);
          continue;
        }
        const before = path.pkt.mark;
        path.pkt.mark = n >>> 0;
        let a = `mark 0x${before.toString(16)} → 0x${path.pkt.mark.toString(16)}`;
        if (frame.chain.name === 'mark-for-masquerade' && !path.markedMasq) {
          path.markedMasq = true;
          a += ' (marked for masquerading)';
        }
        actions.push(a);
        continue;
      }
      case 'set-update': {
        const name = s.set.replace(/^@/, '');
        const key = exprValue(path, env, s.key, forced);
        if (!key || key.length !== 1 || s.op === 'delete') {
          path.unsupported.push(`${where}: ${s.op} @${name}`);
          continue;
        }
        const k = valueKey(key[0] as Value);
        const list = dynamicSetKey(frame.t.table, name);
        const had = readRecent(env.state, path.effects, list, k);
        if (s.op === 'add' && had && had.length) continue;
        path.effects.recent.set(recentKey(list, k), [env.now]);
        const timeout = frame.t.sets.get(name)?.set.timeout;
        actions.push(`${s.op} @${name} { ${k} }${timeout !== undefined ? ` (remembered for ${timeout}s)` : ''}`);
        continue;
      }
      case 'masquerade': {
        const pkt = path.pkt;
        const before = pkt.src.text;
        const address = interfaceAddress(env.emu.node, pkt.outIface, pkt.dst);
        if (!address) {
          finishHop(`masquerade: ${pkt.outIface} has no address, the packet is dropped`);
          path.frames = [];
          path.masqueradeFailed = true;
          return endPath(path, 'dropped', `masquerade found no address on ${pkt.outIface}`);
        }
        pkt.src = address;
        path.snatDone = true;
        path.ctSnat = true;
        finishHop(`masquerade${s.flags.length ? ` ${s.flags.join(' ')}` : ''}: source ${before} → ${address.text} (the address of ${pkt.outIface || 'the outgoing interface'})`);
        path.frames = [];
        return;
      }
      case 'nat': {
        const pkt = path.pkt;
        const ip = parseIP(s.address.replace(/^\[|\]$/g, ''));
        if (!ip) {
          path.unsupported.push(`${where}: ${s.type} to ${s.address}`);
          finishHop(`${s.type} to ${s.address}: not modelled`);
          continue;
        }
        if (s.type === 'dnat') {
          const before = hostPort(pkt.dst, pkt.dport, pkt.protocol);
          pkt.dst = ip;
          if (s.port !== undefined && hasPorts(pkt.protocol)) pkt.dport = s.port;
          path.dnat = hostPort(pkt.dst, pkt.dport, pkt.protocol);
          path.ctDnat = true;
          finishHop(`dnat: destination ${before} → ${path.dnat}`);
        } else {
          const before = pkt.src.text;
          pkt.src = ip;
          if (s.port !== undefined && hasPorts(pkt.protocol)) pkt.sport = s.port;
          path.snatDone = true;
          path.ctSnat = true;
          finishHop(`snat: source ${before} → ${ip.text}`);
        }
        path.frames = [];
        return;
      }
      case 'unknown':
        path.unsupported.push(`${where}: ${s.words.join(' ')}`);
        actions.push(`${s.words.join(' ')}: not modelled, assumed to continue`);
        continue;
    }
  }
  finishHop();
}

/** What a numgen draw was: one value, or a stretch of values that share an element (or no element at all). */
function drawText(draw: Draw | undefined, mod: number, found: NftElement | undefined): string {
  if (!draw || draw.count === 1) return `the random number is ${draw?.value}`;
  return found ? `the random number is in ${found.key.join(' . ')}` : `the random number is one of ${draw.count} values (probability ${draw.count}/${mod})`;
}

function applyVerdict(path: Path, frame: Frame, v: NftVerdict, hop: Hop, actions: string[], where: string): void {
  actions.push(verdictText(v));
  hop.action = actions.join(', ');
  switch (v.kind) {
    case 'continue':
      return;
    case 'accept':
      path.filterVerdict ??= 'ACCEPT';
      hop.action += `: the ${(path.base as BaseRef).chain.name} base chain lets the packet through`;
      path.frames = [];
      return;
    case 'drop':
      path.filterVerdict ??= 'DROP';
      path.frames = [];
      return endPath(path, 'dropped', `dropped by ${where}`);
    case 'return':
      path.frames.pop();
      if (path.frames.length === 0) fallOffBase(path);
      return;
    case 'jump':
    case 'goto': {
      const target = frame.t.chains.get(v.chain);
      if (!target) {
        path.unsupported.push(`${where}: ${v.kind} to a missing chain ${v.chain}`);
        hop.action += ' (no such chain: ignored)';
        return;
      }
      if (v.kind === 'goto') path.frames.pop();
      if (path.frames.length >= MAX_DEPTH) {
        path.frames = [];
        return endPath(path, 'dropped', 'the chains nest too deep (the kernel would refuse such a ruleset)');
      }
      path.frames.push({ t: frame.t, chain: target, pos: 0 });
      return;
    }
  }
}
