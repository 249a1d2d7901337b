/**
 * The packet emulator (iptables mode), in the order it is used:
 *
 *   ruleset IR ──withBaseChainJumps (compiled payloads only)──► compileRuleset ─┐
 *   NodeConfig + Cluster ──buildNode─────────────────────────────────────┴► createEmulator ──► tracePacket ──► explainTrace
 *                                                                                            └► sampleConnections (seeded)
 */
export { withBaseChainJumps } from '../proxy/iptables/base-chains.js';
export { explainTrace, type ExplainOptions } from './explain.js';
export { checkFlow, flowAnswer, flowPacket, parseFlows, type Flow, type FlowCheck } from './flows.js';
export { buildNode, isLocal, originOf, route, type NodeModel } from './node.js';
export { makePacket, type Origin, type PacketSpec, type Proto } from './packet.js';
export { resolveDestination, type Resolution } from './resolve.js';
export { mulberry32, type Rng } from './rng.js';
export { compileRuleset, type CompiledRuleset } from './ruleset.js';
export { samplePacket, sampleConnections, tracePacketAndCommit, type ConnectionTrace, type SampleOptions } from './scenario.js';
export { commitEffects, emptyState, type EmulatorState } from './state.js';
export { createEmulator, toOutcome, tracePacket, type Emulator, type Hop, type Outcome, type Result, type Trace, type TraceDetail, type TraceOptions } from './trace.js';
