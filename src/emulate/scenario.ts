/**
 * Sequences of packets on one node, with state kept between them (spec emulator §5): conntrack entries, the
 * `recent` lists behind sessionAffinity, nth counters. Each packet is sampled with the seeded RNG (one path,
 * drawn the way the kernel draws) and the changes of the path taken are committed before the next packet.
 */
import { hasPorts, makePacket, type PacketSpec } from './packet.js';
import { mulberry32, type Rng } from './rng.js';
import { commitEffects, emptyState, type EmulatorState } from './state.js';
import { tracePacket, type Emulator, type TraceDetail } from './trace.js';

export interface ConnectionTrace extends TraceDetail {
  /** 1-based connection number and its start time (seconds). */
  connection: number;
  time: number;
}

export interface SampleOptions {
  connections: number;
  /** Seconds between connection starts. */
  interval: number;
  seed: number;
  /** Start from this state (default: a fresh node); it is updated in place. */
  state?: EmulatorState;
  /** Time of the first connection (default 0). */
  start?: number;
}

/**
 * N new connections from the same client to the same destination, each from a fresh source port, so that
 * only the affinity state (not conntrack) links them.
 */
export function sampleConnections(emu: Emulator, spec: PacketSpec, options: SampleOptions): ConnectionTrace[] {
  return sampleConnectionsWith((packetSpec, traceOptions) => tracePacket(emu, packetSpec, traceOptions), spec, options);
}

/** The same sampling for any mode: `trace` is that mode's walker (iptables or nftables). */
export function sampleConnectionsWith(
  trace: (spec: PacketSpec, options: { state: EmulatorState; now: number; rng: Rng }) => TraceDetail,
  spec: PacketSpec,
  options: SampleOptions,
): ConnectionTrace[] {
  const state = options.state ?? emptyState();
  const rng = mulberry32(options.seed);
  const made = makePacket(spec);
  if (!made.ok) throw new Error(made.message);
  const base = spec.sourcePort ?? 40000;
  const out: ConnectionTrace[] = [];
  for (let i = 0; i < options.connections; i++) {
    const time = (options.start ?? 0) + i * options.interval;
    const packetSpec: PacketSpec = hasPorts(made.packet.protocol) ? { ...spec, sourcePort: ((base - 1024 + i) % 64512) + 1024 } : spec;
    const detail = trace(packetSpec, { state, now: time, rng });
    const taken = detail.paths[0];
    if (taken) commitEffects(state, taken.effects, time);
    out.push({ ...detail, connection: i + 1, time });
  }
  return out;
}

export function samplePacket(emu: Emulator, spec: PacketSpec, state: EmulatorState, rng: Rng, now: number): TraceDetail {
  const detail = tracePacket(emu, spec, { state, now, rng });
  const taken = detail.paths[0];
  if (taken) commitEffects(state, taken.effects, now);
  return detail;
}

/** Enumerates, then commits the outcome at `index` (tests and scripted scenarios pick the path themselves). */
export function tracePacketAndCommit(emu: Emulator, spec: PacketSpec, state: EmulatorState, now: number, index = 0): TraceDetail {
  const detail = tracePacket(emu, spec, { state, now });
  const chosen = detail.paths[index];
  if (chosen) commitEffects(state, chosen.effects, now);
  return detail;
}
