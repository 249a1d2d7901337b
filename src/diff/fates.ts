/**
 * Which packets change fate between two nodes: every probe, from every source class, is traced through both
 * (all random choices enumerated, so each side gives exact probabilities), and the outcome distributions are
 * compared. A first connection cannot tell sessionAffinity apart from none, so where a side balances over
 * several endpoints a second connection from the same client is traced too, after the first one's state
 * (conntrack, affinity lists or sets) is committed: how often it reaches the same endpoint is part of the fate.
 *
 * Enumerating is exponential in the random choices a packet meets in a row, so the whole comparison has one
 * budget of paths (pathBudget); past it, or past one trace's cap for a single probe, it stops (DiffTooLargeError).
 */
import type { Origin, PacketSpec } from '../emulate/packet.js';
import { commitEffects, emptyState } from '../emulate/state.js';
import { MAX_PATHS, PathLimitError, type Outcome, type TraceDetail, type TraceOptions } from '../emulate/trace.js';
import { compareIP, parseIP } from '../net/ip.js';
import { splitAddressPort } from '../parse/nft.js';
import { compareBytes } from '../render/nft-dump.js';
import { probeText } from './render.js';
import type { Probe } from './probes.js';

/** A node's packet walker (iptables or nftables emulator). */
export type Tracer = (spec: PacketSpec, options?: TraceOptions) => TraceDetail;

export type SourceName = 'pod' | 'node' | 'outside';

/** Where probes start: a client of that class and the address it uses. */
export interface SourceClass {
  name: SourceName;
  origin: Origin;
  address: string;
}

/** One outcome class of a probe and its total probability. */
export interface Fate {
  probability: number;
  /** `address:port` the packet was DNATed to, or null. */
  dnat: string | null;
  /** Where the packet ended: delivered, local, forwarded, dropped, rejected, unreachable (or `not traced`). */
  result: string;
  masquerade: boolean;
  /** A rule on the way could not be evaluated (the emulator does not model it). */
  uncertain: boolean;
  /** Destination address after the walk (the probe's own when nothing translated it). */
  finalDestination: string;
  /** Why the probe could not be traced, when `result` is `not traced`. */
  error?: string;
}

export interface FateChange {
  source: SourceClass;
  probe: Probe;
  before: Fate[];
  after: Fate[];
  /** The first connection's distribution differs (false when only `sameEndpointAgain` changed). */
  firstConnectionChanged: boolean;
  /**
   * Probability that a second connection from the same client reaches the endpoint the first one reached;
   * null on a side that does not balance over several endpoints.
   */
  sameEndpointAgain: { before: number | null; after: number | null };
}

export interface FateComparison {
  changes: FateChange[];
  /** Probes × source classes traced on each side. */
  traced: number;
}

/** Paths each probe packet adds to the budget: both sides and both connections, with hundreds of endpoints to spare. */
export const PATHS_PER_PACKET = 1000;

/**
 * How many paths a comparison of this many probe packets (probes × source classes) may enumerate in all: one
 * trace's cap, plus a share per packet, so a large cluster with a few endpoints per Service always fits and the
 * work stays in proportion to the input; rules whose random choices multiply (a chain of 50% branches reached by
 * every Service) do not, and stop after the first probes instead of running for minutes.
 */
export function pathBudget(packets: number): number {
  return MAX_PATHS + PATHS_PER_PACKET * packets;
}

/** The comparison stopped: one probe had more paths than a trace enumerates, or all of them more than the budget. */
export class DiffTooLargeError extends Error {
  constructor(
    readonly probe: Probe,
    readonly source: SourceClass,
    /** The side whose rules the probe was being traced through. */
    readonly side: 'before' | 'after',
    /** This probe alone passed one trace's cap (MAX_PATHS); else the paths of all the probes so far passed `budget`. */
    readonly alone: boolean,
    readonly budget: number,
    /** Probe packets compared before this one. */
    readonly compared: number,
  ) {
    // The command line words it, with the file names this module does not know (cli/diff.ts).
    super(`${probeText(probe)}: more than ${alone ? MAX_PATHS : budget} paths`);
  }
}

const EPSILON = 1e-9;
/** The first connection's client port; the second connection uses the next one. */
const FIRST_SOURCE_PORT = 40000;

export function compareFates(before: Tracer, after: Tracer, probes: readonly Probe[], sources: readonly SourceClass[], budget = pathBudget(probes.length * sources.length)): FateComparison {
  const changes: FateChange[] = [];
  let traced = 0;
  let left = budget;
  for (const probe of probes) {
    for (const source of sources) {
      traced++;
      // Every trace of this packet (either side, either connection) may use what is left of the budget.
      const metered =
        (trace: Tracer, side: 'before' | 'after'): Tracer =>
        (spec, options) => {
          let detail: TraceDetail;
          try {
            detail = trace(spec, { ...options, maxPaths: left });
          } catch (e) {
            if (e instanceof PathLimitError) throw new DiffTooLargeError(probe, source, side, e.limit >= MAX_PATHS, budget, traced - 1);
            throw e;
          }
          left -= detail.paths.length;
          if (left < 0) throw new DiffTooLargeError(probe, source, side, false, budget, traced - 1);
          return detail;
        };
      const [oldTrace, newTrace] = [metered(before, 'before'), metered(after, 'after')];
      const spec: PacketSpec = {
        protocol: probe.protocol,
        source: source.address,
        destination: probe.destination,
        origin: source.origin,
        ...(probe.port !== undefined ? { destinationPort: probe.port, sourcePort: FIRST_SOURCE_PORT } : {}),
      };
      const old = fatesOf(oldTrace, spec);
      const now = fatesOf(newTrace, spec);
      const again = { before: old.detail ? sameEndpointAgain(oldTrace, spec, old.detail) : null, after: now.detail ? sameEndpointAgain(newTrace, spec, now.detail) : null };
      const stickinessChanged = again.before !== null && again.after !== null && Math.abs(again.before - again.after) > EPSILON;
      const firstConnectionChanged = !sameDistribution(old.fates, now.fates);
      if (firstConnectionChanged || stickinessChanged) changes.push({ source, probe, before: old.fates, after: now.fates, firstConnectionChanged, sameEndpointAgain: again });
    }
  }
  return { changes, traced };
}

/** The outcome distribution of one probe, outcomes that look the same merged. */
function fatesOf(trace: Tracer, spec: PacketSpec): { fates: Fate[]; detail?: TraceDetail } {
  let detail: TraceDetail;
  try {
    detail = trace(spec);
  } catch (e) {
    if (e instanceof DiffTooLargeError) throw e;
    return { fates: [{ probability: 1, dnat: null, result: 'not traced', masquerade: false, uncertain: true, finalDestination: spec.destination, error: (e as Error).message }] };
  }
  const merged = new Map<string, Fate>();
  for (const outcome of detail.trace.outcomes) {
    const fate = fateOf(outcome);
    const key = fateKey(fate);
    const known = merged.get(key);
    if (known) known.probability += fate.probability;
    else merged.set(key, fate);
  }
  return { fates: [...merged.values()].sort(fateOrder), detail };
}

/** Translated outcomes first, by endpoint address and port (numerically), then the rest by their key. */
function fateOrder(a: Fate, b: Fate): number {
  const endpoint = (f: Fate) => {
    const split = f.dnat === null ? undefined : splitAddressPort(f.dnat);
    const ip = split && parseIP(split.address);
    return ip ? { ip, port: split.port ?? 0 } : undefined;
  };
  const [x, y] = [endpoint(a), endpoint(b)];
  if (x && y) return compareIP(x.ip, y.ip) || x.port - y.port || compareBytes(fateKey(a), fateKey(b));
  if (x || y) return x ? -1 : 1;
  return compareBytes(fateKey(a), fateKey(b));
}

function fateOf(o: Outcome): Fate {
  return { probability: o.probability, dnat: o.dnat, result: o.result, masquerade: o.masquerade, uncertain: o.uncertain === true, finalDestination: o.finalDestination };
}

function fateKey(f: Fate): string {
  return [f.dnat ?? '', f.result, f.masquerade, f.uncertain, f.finalDestination, f.error ?? ''].join('\u0000');
}

function sameDistribution(a: readonly Fate[], b: readonly Fate[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((fate, i) => {
    const other = b[i] as Fate;
    return fateKey(fate) === fateKey(other) && Math.abs(fate.probability - other.probability) <= EPSILON;
  });
}

/**
 * Σ over first-connection paths of P(path) × P(second connection DNATed to the same endpoint | that path's
 * state): 1 with sessionAffinity, about 1/n without. Null when the first connection has fewer than two
 * endpoints to choose from.
 */
function sameEndpointAgain(trace: Tracer, spec: PacketSpec, first: TraceDetail): number | null {
  if (spec.destinationPort === undefined) return null;
  const endpoints = new Set(first.paths.map((p) => p.dnat).filter((d) => d !== null));
  if (endpoints.size < 2) return null;
  const second: PacketSpec = { ...spec, sourcePort: FIRST_SOURCE_PORT + 1 };
  const firstShare = (dnat: string) => first.paths.filter((p) => p.dnat === dnat).reduce((sum, p) => sum + p.probability, 0);
  let total = 0;
  for (const path of first.paths) {
    if (path.dnat === null) continue;
    if (path.effects.recent.size === 0 && path.effects.nth.size === 0) {
      // The path left no state a new connection reads (its conntrack entry is for another source port):
      // the second connection is drawn like the first.
      total += path.probability * firstShare(path.dnat);
      continue;
    }
    const state = emptyState();
    commitEffects(state, path.effects, 0);
    const next = trace(second, { state, now: 1 });
    const same = next.trace.outcomes.filter((o) => o.dnat === path.dnat).reduce((sum, o) => sum + o.probability, 0);
    total += path.probability * same;
  }
  return total;
}
