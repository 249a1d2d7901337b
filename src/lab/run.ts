/**
 * One lab run: predict every flow with the emulator, build the planned network, load the rules, start the
 * agents, send the flows for real, compare, and always tear everything down again.
 *
 *   flows ──trace──► predictions ──planTopology──► plan ──netns──► namespaces + rules + agents
 *                                                                   │ probers send, agents answer
 *   predictions + observations ──compareFlow──► results             ▼
 */
import type { ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Cluster } from '../cluster/types.js';
import type { NodeModel } from '../emulate/node.js';
import type { PacketSpec } from '../emulate/packet.js';
import type { TraceDetail } from '../emulate/trace.js';
import type { NodeConfig } from '../model/node-config.js';
import { agentProgram } from './agent.js';
import { clientProgram, type Probe, type ProbeResult } from './client.js';
import { CHI_SQUARE_P_MIN, compareFlow, predict, type FlowComparison, type LabHosts, type Prediction } from './compare.js';
import type { LabFlow } from './flows.js';
import {
  createNamespace,
  destroySession,
  ipBatch,
  iptablesRestore,
  LabError,
  nfacctAdd,
  nftLoad,
  removeStaleNamespaces,
  setSysctls,
  startProgram,
  type LabSession,
} from './netns.js';
import { labRules } from './rules.js';
import { planTopology, topologyProblem, type TopologyPlan } from './topology.js';

export interface LabOptions {
  cluster: Cluster;
  config: NodeConfig;
  /** The emulator's node model (the topology mirrors its addresses and routes). */
  node: NodeModel;
  mode: 'iptables' | 'nftables';
  /** iptables-restore flavour in iptables mode. */
  backend: 'nft' | 'legacy';
  flows: readonly LabFlow[];
  /** The emulator, as `kproxy trace` runs it. */
  trace(spec: PacketSpec): TraceDetail;
  /** Connections for flows with more than one predicted fate (the chi-square sample). */
  connections: number;
  /** Connections for flows with session affinity (all must reach one endpoint). */
  affinityConnections: number;
  /** Benchmarks: exactly this many connections per flow, one after the other (timings without contention). */
  sequentialConnections?: number;
  /** How long a connection may take before it counts as a timeout. */
  timeoutMs: number;
  /** The session that owns what is created; the caller keeps it to clean up on a signal. */
  session: LabSession;
}

export interface FlowResult {
  flow: LabFlow;
  /** Why the flow was not sent (then prediction and comparison are absent). */
  skipped?: string;
  prediction?: Prediction;
  connections: number;
  comparison?: FlowComparison;
  /** Time each connection took (connect to answer, refusal or timeout), in milliseconds. */
  milliseconds?: number[];
}

export interface LabReport {
  mode: 'iptables' | 'nftables';
  results: FlowResult[];
  /** Milliseconds spent in each phase. */
  timings: { topology: number; rules: number; agents: number; probes: number };
  notes: string[];
}

export async function runLab(options: LabOptions): Promise<LabReport> {
  const problem = topologyProblem(options.config, options.node);
  if (problem) throw new LabError(problem);
  const notes: string[] = [];
  const traced = options.flows.map((flow) => traceFlow(flow, options));
  const sources = traced.filter((t) => !t.skipped).map((t) => ({ ip: t.flow.spec.source, origin: t.flow.spec.origin }));
  const plan = planTopology({ prefix: options.session.prefix, config: options.config, node: options.node, cluster: options.cluster, sources, mode: options.mode });
  if (plan.unserved.length > 0) notes.push(`no agent for ${plan.unserved.join(', ')} (Node.js has no SCTP sockets)`);
  const hosts = labHosts(plan);
  const timings = { topology: 0, rules: 0, agents: 0, probes: 0 };
  const results: FlowResult[] = [];
  const stale = removeStaleNamespaces();
  if (stale.length > 0) notes.push(`removed namespaces of an earlier run that did not clean up: ${stale.join(', ')}`);
  try {
    let t = performance.now();
    buildTopology(plan, options.session);
    timings.topology = performance.now() - t;
    t = performance.now();
    loadRules(plan, options);
    timings.rules = performance.now() - t;
    t = performance.now();
    // Agents and probers start together: each is a Node.js process, and starting one takes a few hundred ms.
    const probers = new Map([...new Set(plan.senders.values())].map((ns) => [ns, startProber(options.session, ns)]));
    const started = await Promise.allSettled([
      ...plan.namespaces.filter((ns) => ns.listeners.length > 0).map((ns) => startProgram(options.session, ns.name, agentProgram, [ns.listeners])),
      ...probers.values(),
    ]);
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    timings.agents = performance.now() - t;
    t = performance.now();
    let nextId = 1;
    const sendNow = (sender: string, probe: Omit<Probe, 'id'>) => (probers.get(sender) as Promise<Prober>).then((p) => p.send({ ...probe, id: nextId++ }));
    // Flows with session affinity go one at a time: two first connections of one client racing through the
    // same Service would each set an affinity entry, and the client would then rightly see two endpoints.
    const oneAtATime = serialQueue();
    const send: SendProbe = (sender, probe, sticky) => (sticky ? oneAtATime(() => sendNow(sender, probe)) : sendNow(sender, probe));
    // Flows run a few at a time: most of a lab run is waiting (timeouts, ping's one second), not work.
    await inBatches(
      traced.map((item, index) => async () => {
        results[index] = await probeFlow(item, plan, hosts, options, send, notes);
      }),
      FLOWS_AT_ONCE,
    );
    timings.probes = performance.now() - t;
  } finally {
    destroySession(options.session);
  }
  return { mode: options.mode, results, timings, notes };
}

const FLOWS_AT_ONCE = 8;

/** Sends a probe from a namespace's prober; `sticky` probes wait for each other. */
type SendProbe = (sender: string, probe: Omit<Probe, 'id'>, sticky: boolean) => Promise<ProbeResult>;

/** Runs the functions given to it one after the other, in call order. */
function serialQueue(): <T>(run: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (run) => {
    const result = tail.then(run);
    tail = result.catch(() => undefined);
    return result;
  };
}

async function inBatches(tasks: (() => Promise<void>)[], width: number): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) await (tasks[next++] as () => Promise<void>)();
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, worker));
}

async function probeFlow(
  { flow, detail, skipped }: Traced,
  plan: TopologyPlan,
  hosts: LabHosts,
  options: LabOptions,
  send: SendProbe,
  notes: string[],
): Promise<FlowResult> {
  if (skipped || !detail) return { flow, skipped: skipped ?? 'no trace', connections: 0 };
  const prediction = predict(detail, hosts);
  const sender = plan.senders.get(flow.spec.source);
  if (!sender) return { flow, skipped: `no namespace can send from ${flow.spec.source}`, prediction, connections: 0 };
  const connections = options.sequentialConnections ?? (prediction.sticky ? options.affinityConnections : prediction.fates.length > 1 ? options.connections : 1);
  const probe: Omit<Probe, 'id'> = {
    kind: flow.spec.protocol === 'icmp' ? 'ping' : flow.spec.protocol === 'udp' ? 'udp' : 'tcp',
    src: flow.spec.source,
    dst: flow.spec.destination,
    port: flow.spec.destinationPort ?? 0,
    count: flow.spec.protocol === 'icmp' ? 1 : connections,
    timeoutMs: options.timeoutMs,
    // Affinity is checked across connections made one after the other, as a client would.
    concurrency: prediction.sticky || options.sequentialConnections !== undefined ? 1 : 32,
  };
  let sent = await send(sender, probe, prediction.sticky);
  let comparison = compareFlow(prediction, sent.observations, flow.spec.source);
  // p < 0.001 happens by chance once in a thousand tests, and a suite runs many: a second, independent
  // sample decides. A real bias fails both; chance fails both once in a million.
  if (onlyChiSquareFailed(comparison)) {
    const first = comparison.observed;
    sent = await send(sender, probe, prediction.sticky);
    comparison = compareFlow(prediction, sent.observations, flow.spec.source);
    notes.push(`${flow.name}: chi-square failed on the first sample (${first}), so a second sample decided`);
  }
  return { flow, prediction, connections: probe.count, comparison, milliseconds: sent.milliseconds };
}

function onlyChiSquareFailed(comparison: FlowComparison): boolean {
  return comparison.problems.length === 1 && comparison.chiSquare !== undefined && comparison.chiSquare.p < CHI_SQUARE_P_MIN;
}

interface Traced {
  flow: LabFlow;
  detail?: TraceDetail;
  skipped?: string;
}

function traceFlow(flow: LabFlow, options: LabOptions): Traced {
  if (flow.spec.protocol === 'sctp') return { flow, skipped: 'SCTP: Node.js has no SCTP sockets to send or answer with' };
  if (flow.spec.protocol !== 'tcp' && flow.spec.protocol !== 'udp' && flow.spec.protocol !== 'icmp') return { flow, skipped: `protocol ${flow.spec.protocol} is not sent by the lab` };
  try {
    return { flow, detail: options.trace(flow.spec) };
  } catch (e) {
    return { flow, skipped: `the emulator cannot trace it: ${(e as Error).message}` };
  }
}

function labHosts(plan: TopologyPlan): LabHosts {
  const served = new Set(plan.namespaces.flatMap((ns) => ns.listeners.map((l) => `${l.ip}:${l.port}/${l.proto}`)));
  return {
    serves: (endpoint, proto) => served.has(`${endpoint}/${proto}`),
    owns: (ip) => plan.owners.has(ip) || ip.startsWith('127.'),
  };
}

function buildTopology(plan: TopologyPlan, session: LabSession): void {
  for (const ns of plan.namespaces) createNamespace(session, ns.name);
  const links = new Map<string, string[]>();
  for (const link of plan.links) {
    const commands = links.get(link.ns) ?? [];
    commands.push(`link add ${link.name} type veth peer name ${link.peerName} netns ${link.peerNs}`);
    links.set(link.ns, commands);
  }
  for (const [ns, commands] of links) ipBatch(ns, commands);
  for (const ns of plan.namespaces) ipBatch(ns.name, ns.commands);
  for (const ns of plan.namespaces) setSysctls(ns.name, ns.sysctls);
}

function loadRules(plan: TopologyPlan, options: LabOptions): void {
  const node = plan.namespaces.find((ns) => ns.role === 'node');
  if (!node) throw new LabError('the plan has no node namespace');
  const rules = labRules(options.cluster, options.config, options.mode);
  for (const name of rules.nfacctObjects) nfacctAdd(node.name, name);
  for (const text of rules.texts) {
    if (rules.mode === 'nftables') nftLoad(node.name, text);
    else iptablesRestore(node.name, options.backend, text);
  }
}

interface Prober {
  send(probe: Probe): Promise<ProbeResult>;
}

async function startProber(session: LabSession, ns: string): Promise<Prober> {
  const child: ChildProcess = await startProgram(session, ns, clientProgram, []);
  const waiting = new Map<number, { resolve(result: ProbeResult): void; reject(error: Error): void }>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const result = JSON.parse(line) as ProbeResult;
    waiting.get(result.id)?.resolve(result);
    waiting.delete(result.id);
  });
  child.on('exit', (code) => {
    for (const w of waiting.values()) w.reject(new LabError(`the prober in ${ns} exited (${code})`));
    waiting.clear();
  });
  return {
    send: (probe) =>
      new Promise((resolve, reject) => {
        waiting.set(probe.id, { resolve, reject });
        child.stdin?.write(`${JSON.stringify(probe)}\n`);
      }),
  };
}
