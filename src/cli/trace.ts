/**
 * `kproxy trace`: walk a packet (or a flow table, or N sampled connections) through the rules of a node.
 * The rules come from manifests (compiled, with kube-proxy's base-chain jumps added) or from `--rules FILE`
 * (an iptables-save dump or a restore payload). Returns an exit code: 0 ok, 1 bad input, 2 usage error.
 */
import type { Cluster } from '../cluster/types.js';
import { hasErrors, type Diagnostic } from '../diag/diagnostic.js';
import { buildNode } from '../emulate/node.js';
import { explainTrace } from '../emulate/explain.js';
import { checkFlow, flowPacket, parseFlows, type Flow } from '../emulate/flows.js';
import { parseProto, type Origin, type PacketSpec, type Proto } from '../emulate/packet.js';
import { resolveDestination } from '../emulate/resolve.js';
import { compileRuleset } from '../emulate/ruleset.js';
import { sampleConnections } from '../emulate/scenario.js';
import { createEmulator, tracePacket, type Emulator, type Trace, type TraceDetail, type TraceOptions } from '../emulate/trace.js';
import { createNftEmulator, nftAfterword, sampleNftConnections, traceNftPacket, type NftEmulator } from '../emulate/nft/index.js';
import type { SampleOptions } from '../emulate/scenario.js';
import type { NftRuleset } from '../ir/nftables.js';
import { parseNft } from '../parse/nft.js';
import { compileNftables } from '../proxy/nftables/compile.js';
import { formatProbability } from '../emulate/evaluate.js';
import { loadCluster } from '../index.js';
import { isBuiltinChain, type IptablesRuleset } from '../ir/iptables.js';
import type { NodeConfig } from '../model/node-config.js';
import type { Source } from '../model/load.js';
import { cidrContains, ipFromValue, parseIP } from '../net/ip.js';
import { parseIptables } from '../parse/iptables.js';
import { withBaseChainJumps } from '../proxy/iptables/base-chains.js';
import { compileIptables } from '../proxy/iptables/compile.js';
import { printDiagnostics, usage } from './compile.js';
import { renderTraceMermaid } from '../render/trace-mermaid.js';
import type { CliIO } from './io.js';
import { resolveNodeSettings, type NodeSettingsOptions } from './node-settings.js';
import { readInputs, readText } from './read-inputs.js';
import { runTraceUrl } from './trace-url.js';

/** The command's IO; `readFile` (for --rules and --flows) defaults to the file system. */
export interface TraceIO extends CliIO {
  readFile?(path: string): string;
}

/**
 * A flow table (`--flows FILE`, `kproxy test FILE`): its flows, or the exit code after saying why not
 * (2 when the file cannot be read, 1 with every error of the table).
 */
export function readFlows(file: string, io: TraceIO): { ok: true; flows: Flow[] } | { ok: false; exitCode: number } {
  let text: string;
  try {
    text = (io.readFile ?? readText)(file);
  } catch {
    return { ok: false, exitCode: usage(io, `cannot read ${file}`) };
  }
  const parsed = parseFlows(text, file);
  printDiagnostics(io, parsed.diagnostics);
  if (hasErrors(parsed.diagnostics)) return { ok: false, exitCode: 1 };
  return { ok: true, flows: parsed.flows };
}

/** Rule sources and node settings, shared by `kproxy trace` and `kproxy test`. */
export interface RulesOptions extends NodeSettingsOptions {
  /** iptables-save dump or restore payload instead of (or besides) manifests (an nft dump or listing with --mode nftables). */
  rules?: string;
  /** `iptables` (default) or `nftables`: which ruleset is compiled (or parsed) and emulated. */
  mode?: string;
}

/**
 * Options of `kproxy trace` (commander gives strings; numbers are parsed here):
 *   --src IP  --dst IP|SERVICE-NAME  --dport N  --sport N  --proto tcp|udp|sctp|icmp (default tcp)
 *   --from pod|node|external   --namespace NS (for short Service names; default "default")
 *   --rules FILE  --node-config FILE (+ the node flags of `compile`)  --json
 *   --connections N [--interval SECONDS (default 1)] [--seed S (default 1)]   --flows FILE
 */
export interface TraceCommandOptions extends RulesOptions {
  src?: string;
  dst?: string;
  dport?: string | number;
  sport?: string | number;
  proto?: string;
  from?: string;
  namespace?: string;
  json?: boolean;
  /** `text` (default), `json` (the same as --json) or `mermaid` (one packet's path as a flowchart). */
  format?: string;
  connections?: string | number;
  interval?: string | number;
  seed?: string | number;
  flows?: string;
  /** An HTTP(S) URL to follow through an Ingress (trace-url.ts). */
  url?: string;
}

/** For `program.ts`: the options of `kproxy trace` as [flags, description] pairs, in help order. */
export function describeTraceOptions(): [string, string][] {
  return [
    ['--src <ip>', 'source address (default: a pod on this node, the node IP with --from node, 203.0.113.10 with --from external)'],
    ['--dst <destination>', 'destination: an IP, or a Service name (name, name.namespace, name.namespace.svc.cluster.local)'],
    ['--dport <port>', 'destination port (tcp, udp, sctp)'],
    ['--sport <port>', 'source port (default 40000)'],
    ['--proto <protocol>', 'tcp, udp, sctp or icmp (default tcp)'],
    ['--from <origin>', 'where the packet starts: pod, node or external (default: decided from the source address)'],
    ['--namespace <ns>', 'namespace for short Service names (default "default")'],
    ['--mode <mode>', 'iptables (default), nftables, or both (the same packet through each mode, one after the other)'],
    ['--rules <file>', 'trace through an iptables-save dump or restore payload instead of compiling manifests'],
    ['--node-config <file>', "node settings (conformance config.yaml format); a folder's node.yaml is used by default"],
    ['--json', 'print the trace as JSON (an array with --flows or --connections)'],
    ['--format <format>', 'text (default), json (as --json) or mermaid (one packet\'s path as a flowchart)'],
    ['--connections <n>', 'sample N new connections from the same client, keeping affinity state between them'],
    ['--interval <seconds>', 'seconds between sampled connections (default 1)'],
    ['--seed <n>', 'seed of the random draws when sampling (default 1)'],
    ['--flows <file>', "trace every flow of a kube-proxy flow table (flows.yaml)"],
    ['--url <url>', 'follow an HTTP(S) request through an Ingress: host address, kube-proxy to the controller, L7 rule, backend (--from outside, pod or node)'],
  ];
}

/** An iptables or an nftables emulator; `traceWith` / `sampleWith` dispatch on it. */
export type AnyEmulator = Emulator | NftEmulator;

export function isNftEmulator(emu: AnyEmulator): emu is NftEmulator {
  return (emu as NftEmulator).mode === 'nftables';
}

export function traceWith(emu: AnyEmulator, spec: PacketSpec, options?: TraceOptions): TraceDetail {
  return isNftEmulator(emu) ? traceNftPacket(emu, spec, options) : tracePacket(emu, spec, options);
}

function sampleWith(emu: AnyEmulator, spec: PacketSpec, options: SampleOptions) {
  return isNftEmulator(emu) ? sampleNftConnections(emu, spec, options) : sampleConnections(emu, spec, options);
}

function afterwordFor(emu: AnyEmulator, detail: TraceDetail, cluster: Cluster | undefined): { afterword?: string[] } {
  if (!isNftEmulator(emu)) return {};
  const words = nftAfterword(detail, emu, cluster);
  return words ? { afterword: words } : {};
}

export interface PreparedNode {
  emu: AnyEmulator;
  cluster: Cluster | undefined;
  config: NodeConfig;
  /** Remarks for the explanation (e.g. base-chain jumps added). */
  notes: string[];
  /** The rules the emulator runs (iptables: with the base-chain jumps), for commands that compare them. */
  ruleset: IptablesRuleset | NftRuleset;
  /** The manifest files read, as read (commands that show them need not read them again). */
  sources: Source[];
}

export type Prepared = { ok: true; node: PreparedNode } | { ok: false; exitCode: number };

/** Loads manifests and/or a rules file and the node settings, and builds the emulator. */
export function prepareNode(inputs: readonly string[], options: RulesOptions, io: TraceIO): Prepared {
  const readFile = io.readFile ?? readText;
  const mode = options.mode ?? 'iptables';
  if (mode !== 'iptables' && mode !== 'nftables') return { ok: false, exitCode: usage(io, `--mode must be iptables or nftables, not ${JSON.stringify(mode)}`) };
  if (inputs.length === 0 && !options.rules) return { ok: false, exitCode: usage(io, 'no input: give manifest files or folders, or --rules FILE') };
  const files = inputs.length > 0 ? readInputs(inputs, io.readStdin) : { sources: [], usageErrors: [] as string[], nodeConfigFile: undefined };
  if (files.usageErrors.length > 0) return { ok: false, exitCode: usage(io, ...files.usageErrors) };
  const settings = resolveNodeSettings(options, files.nodeConfigFile);
  if (!settings.ok && settings.usageError) return { ok: false, exitCode: usage(io, settings.usageError) };
  const diagnostics: Diagnostic[] = [...settings.diagnostics];
  let cluster: Cluster | undefined;
  if (files.sources.length > 0) {
    const loaded = loadCluster(files.sources);
    diagnostics.push(...loaded.diagnostics);
    cluster = loaded.cluster;
  }
  if (!settings.ok || hasErrors(diagnostics) || (files.sources.length > 0 && !cluster)) {
    printDiagnostics(io, diagnostics);
    return { ok: false, exitCode: 1 };
  }
  printDiagnostics(io, diagnostics);
  const config = settings.config;
  const notes: string[] = [];
  if (mode === 'nftables') {
    let nft: NftRuleset;
    if (options.rules) {
      const text = readRulesFile(options.rules, readFile);
      if (text === undefined) return { ok: false, exitCode: usage(io, `cannot read ${options.rules}`) };
      const parsed = parseNft(text, options.rules);
      printDiagnostics(io, parsed.diagnostics);
      if (hasErrors(parsed.diagnostics)) return { ok: false, exitCode: 1 };
      nft = parsed.ruleset;
      const family = config.ipFamily === 6 ? 'ip6' : 'ip';
      if (!nft.tables.some((t) => t.name === 'kube-proxy' && t.family === family)) notes.push(`${options.rules} has no table ${family} kube-proxy: tracing through the tables it has`);
    } else {
      nft = compileNftables(cluster as Cluster, config);
    }
    const emu = createNftEmulator(nft, buildNode(config, cluster));
    return { ok: true, node: { emu, cluster, config, notes, ruleset: nft, sources: files.sources } };
  }
  let ruleset: IptablesRuleset;
  if (options.rules) {
    const text = readRulesFile(options.rules, readFile);
    if (text === undefined) return { ok: false, exitCode: usage(io, `cannot read ${options.rules}`) };
    const parsed = parseIptables(text, options.rules, config.ipFamily);
    printDiagnostics(io, parsed.diagnostics);
    if (hasErrors(parsed.diagnostics)) return { ok: false, exitCode: 1 };
    ruleset = parsed.ruleset;
    if (!hasBaseJumps(ruleset)) {
      ruleset = withBaseChainJumps(ruleset);
      notes.push(`${options.rules} has no rules in the built-in chains (a restore payload): kube-proxy's base-chain jumps were added`);
    }
  } else {
    ruleset = withBaseChainJumps(compileIptables(cluster as Cluster, config));
  }
  const emu = createEmulator(compileRuleset(ruleset), buildNode(config, cluster));
  return { ok: true, node: { emu, cluster, config, notes, ruleset, sources: files.sources } };
}

/** The `--rules` file's text, or undefined when it cannot be read. */
function readRulesFile(file: string, readFile: (path: string) => string): string | undefined {
  try {
    return readFile(file);
  } catch {
    return undefined;
  }
}

/** A dump from a node has rules in INPUT/OUTPUT/PREROUTING...; kube-proxy's payload has none. */
function hasBaseJumps(ruleset: IptablesRuleset): boolean {
  return ruleset.tables.some((t) => t.rules.some((r) => isBuiltinChain(t.name, r.chain)));
}

function parseNumber(value: string | number | undefined, what: string, min: number, max: number): number | undefined | Error {
  if (value === undefined) return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n < min || n > max || (what !== 'interval' && !Number.isInteger(n))) {
    return new Error(`--${what} must be ${Number.isInteger(min) && what !== 'interval' ? 'an integer' : 'a number'} between ${min} and ${max}`);
  }
  return n;
}

/** `seen`, when given, collects every trace the command printed (for `--mode both`'s summary). */
export async function runTrace(inputs: readonly string[], options: TraceCommandOptions, io: TraceIO, seen?: Trace[]): Promise<number> {
  if (options.format !== undefined) {
    if (!['text', 'json', 'mermaid'].includes(options.format)) return usage(io, `--format must be text, json or mermaid, not ${JSON.stringify(options.format)}`);
    if (options.json && options.format !== 'json') return usage(io, `--json asks for JSON, --format for ${options.format}: give one of them`);
    if (options.format === 'mermaid' && (options.flows || options.connections !== undefined || options.mode === 'both')) {
      return usage(io, '--format mermaid draws one packet: not with --flows, --connections or --mode both');
    }
    // text and json are the --json switch; only mermaid stays a format below.
    if (options.format !== 'mermaid') options = { ...options, json: options.format === 'json', format: undefined };
  }
  if (options.url !== undefined) return runTraceUrl(inputs, { ...options, url: options.url }, io);
  if (options.mode === 'both') return runBothModes(inputs, options, io);
  const packet = checkPacketOptions(options, io);
  if (typeof packet === 'number') return packet;
  const prepared = prepareNode(inputs, options, io);
  if (!prepared.ok) return prepared.exitCode;
  return traceOnNode(prepared.node, options, packet, io, seen);
}

/** The packet options of `kproxy trace`, parsed; checked before any input is read. */
export interface PacketOptions {
  from: Origin | undefined;
  proto: Proto;
  n: { dport?: number | undefined; sport?: number | undefined; connections?: number | undefined; interval?: number | undefined; seed?: number | undefined };
}

/** Parses and checks the packet options; a usage error's exit code when they are wrong. */
export function checkPacketOptions(options: TraceCommandOptions, io: TraceIO): PacketOptions | number {
  const from = options.from;
  if (from !== undefined && from !== 'pod' && from !== 'node' && from !== 'external') return usage(io, '--from must be pod, node or external');
  const proto = parseProto(options.proto ?? 'tcp');
  if (!proto) return usage(io, `--proto must be tcp, udp, sctp or icmp, not ${JSON.stringify(options.proto)}`);
  const nums = {
    dport: parseNumber(options.dport, 'dport', 1, 65535),
    sport: parseNumber(options.sport, 'sport', 1, 65535),
    connections: parseNumber(options.connections, 'connections', 1, 100000),
    interval: parseNumber(options.interval, 'interval', 0, 1e9),
    seed: parseNumber(options.seed, 'seed', 0, 2 ** 32 - 1),
  };
  for (const v of Object.values(nums)) if (v instanceof Error) return usage(io, v.message);
  const n = nums as { [K in keyof typeof nums]: number | undefined };
  if (options.flows && options.connections !== undefined) return usage(io, '--flows and --connections cannot be combined');
  if (!options.flows && !options.dst) return usage(io, 'give --dst (an IP or a Service name), or --flows FILE');
  return { from, proto, n };
}

/**
 * Traces what `options` ask for (one packet, --connections or --flows) on a node already prepared, so a caller
 * that traces many packets (`kproxy report`) loads and compiles its inputs once.
 */
export async function traceOnNode(node: PreparedNode, options: TraceCommandOptions, packet: PacketOptions, io: TraceIO, seen?: Trace[]): Promise<number> {
  const { from, proto, n } = packet;
  const { emu, cluster, notes } = node;

  if (options.flows) {
    const flows = readFlows(options.flows, io);
    if (!flows.ok) return flows.exitCode;
    const traces: (Trace & { flow: string })[] = [];
    const texts: string[] = [];
    for (const flow of flows.flows) {
      let detail;
      try {
        detail = traceWith(emu, { ...flowPacket(flow), ...(from ? { origin: from } : {}) });
      } catch (e) {
        io.stderr(`kproxy: flow ${JSON.stringify(flow.name)}: ${(e as Error).message}\n`);
        return 1;
      }
      traces.push({ flow: flow.name, ...detail.trace });
      seen?.push(detail.trace);
      if (!options.json) {
        const check = checkFlow(flow, detail.trace);
        texts.push(`=== ${flow.name}: output ${JSON.stringify(check.got.output)}, masq ${check.got.masq}${flow.output !== undefined || flow.masq !== undefined ? (check.pass ? ' (as expected)' : ` (EXPECTED ${check.problems.join('; ')})`) : ''}`);
        texts.push(explainTrace(detail, emu, { ...(cluster ? { cluster } : {}), notes, ...afterwordFor(emu, detail, cluster) }));
      }
    }
    io.stdout(options.json ? `${JSON.stringify(traces, null, 2)}\n` : texts.join('\n'));
    return 0;
  }

  const resolved = resolveDestination(options.dst as string, cluster, options.namespace ?? 'default', emu.node.family);
  const headerNotes = [...notes];
  let destination: string;
  switch (resolved.kind) {
    case 'unknown':
      // A --dst that names nothing is a bad flag value, like a bad --src or --dport.
      return usage(io, `--dst: ${resolved.message}`);
    case 'ip':
      destination = resolved.ip;
      break;
    case 'clusterIP':
      destination = resolved.ip;
      headerNotes.push(`${options.dst} → ${resolved.fqdn} → ${resolved.ip} (the ClusterIP of Service ${resolved.service.namespace}/${resolved.service.name}, as cluster DNS answers)`);
      break;
    case 'headless':
      if (resolved.ips.length === 0) {
        io.stdout(`${resolved.fqdn} is a headless Service (clusterIP: None) with no ready endpoints: cluster DNS returns no address, so there is no packet to trace. kube-proxy writes no rules for headless Services.\n`);
        return 0;
      }
      destination = resolved.ips[0] as string;
      headerNotes.push(
        `${options.dst} → ${resolved.fqdn} is a headless Service: cluster DNS returns the Pod IPs themselves (${resolved.ips.join(', ')}); kube-proxy writes no rules for it. Tracing the first address; a client may pick any.`,
      );
      break;
    case 'externalName': {
      const message = [
        `${resolved.fqdn} is an ExternalName Service: kube-proxy writes no rules for it at all.`,
        `Cluster DNS (CoreDNS) answers a CNAME: ${resolved.fqdn} → ${resolved.externalName}. The client then resolves`,
        `${resolved.externalName} with ordinary DNS and connects to that outside address directly; the packet leaves the`,
        `node by its default route like any other traffic to the Internet, with no Service translation on the way.`,
      ].join('\n');
      if (options.json) io.stdout(`${JSON.stringify({ mode: options.mode ?? 'iptables', destination: options.dst, dns: { name: resolved.fqdn, cname: resolved.externalName }, explanation: message, outcomes: [] }, null, 2)}\n`);
      else io.stdout(`${message}\n`);
      return 0;
    }
  }

  let source = options.src;
  if (source === undefined) {
    const chosen = defaultSource(node, from, destination);
    if (!chosen) return usage(io, 'give --src: no pod address is known on this node');
    source = chosen.ip;
    headerNotes.push(`no --src given: using ${chosen.ip} (${chosen.why})`);
  }
  const spec: PacketSpec = {
    protocol: proto,
    source,
    destination,
    ...(n.dport !== undefined ? { destinationPort: n.dport } : {}),
    ...(n.sport !== undefined ? { sourcePort: n.sport } : {}),
    ...(from ? { origin: from } : {}),
  };
  const srcIP = parseIP(source);
  if (!srcIP) return usage(io, `--src ${JSON.stringify(source)} is not an IP address`);
  if ((proto === 'tcp' || proto === 'udp' || proto === 'sctp') && n.dport === undefined) return usage(io, `--dport is needed for ${proto}`);

  if (n.connections !== undefined) {
    let runs;
    try {
      runs = sampleWith(emu, spec, { connections: n.connections, interval: n.interval ?? 1, seed: n.seed ?? 1 });
      for (const r of runs) seen?.push(r.trace);
    } catch (e) {
      return usage(io, (e as Error).message);
    }
    if (options.json) {
      io.stdout(`${JSON.stringify(runs.map((r) => ({ connection: r.connection, time: r.time, ...r.trace })), null, 2)}\n`);
      return 0;
    }
    const lines = [`${runs.length} connections ${n.interval ?? 1}s apart from ${source} to ${destination}${n.dport ? `:${n.dport}` : ''} (seed ${n.seed ?? 1}):`, ...headerNotes.map((x) => `  ${x}`)];
    const counts = new Map<string, number>();
    for (const r of runs) {
      const o = r.paths[0];
      if (!o) continue;
      const where = o.dnat ?? (o.filterVerdict ? o.filterVerdict : o.finalDestination);
      counts.set(where, (counts.get(where) ?? 0) + 1);
      const sticky = o.hops.some((h) => h.matched && (/--rcheck/.test(h.text) || /^ip6? saddr @affinity-/.test(h.text)));
      const why = sticky ? 'affinity: sent back to the endpoint it used before' : o.hops.some((h) => /random draw/.test(h.reason)) ? `random pick (probability ${formatProbability(o.probability)})` : 'no choice involved';
      lines.push(`  #${String(r.connection).padEnd(4)} t=${r.time}s  sport ${r.trace.packet.sourcePort ?? '-'}  → ${where}  ${o.result}${o.masquerade ? ', masqueraded' : ''}  (${why})`);
    }
    lines.push('', 'Totals:');
    for (const [where, count] of counts) lines.push(`  ${where}: ${count} of ${runs.length}`);
    io.stdout(`${lines.join('\n')}\n`);
    return 0;
  }

  let detail;
  try {
    detail = traceWith(emu, spec);
  } catch (e) {
    return usage(io, (e as Error).message);
  }
  seen?.push(detail.trace);
  if (options.format === 'mermaid') io.stdout(renderTraceMermaid(detail));
  else if (options.json) io.stdout(`${JSON.stringify(detail.trace, null, 2)}\n`);
  else io.stdout(explainTrace(detail, emu, { ...(cluster ? { cluster } : {}), notes: headerNotes, ...afterwordFor(emu, detail, cluster) }));
  return 0;
}

/** A plausible client when --src is not given. */
export function defaultSource(node: PreparedNode, from: Origin | undefined, destination: string): { ip: string; why: string } | undefined {
  const model = node.emu.node;
  if (from === 'node') return model.primaryIP ? { ip: model.primaryIP.text, why: "this node's primary IP" } : { ip: model.family === 4 ? '127.0.0.1' : '::1', why: 'loopback' };
  if (from === 'external') return { ip: model.family === 4 ? '203.0.113.10' : '2001:db8:ffff::10', why: 'a documentation address outside the cluster' };
  const dst = parseIP(destination);
  // A client that is not itself a backend: a free address in this node's pod network.
  const bridge = model.interfaces.find((i) => i.role === 'pods' && i.addresses.length > 0)?.addresses[0];
  for (const net of [bridge?.subnet, model.clusterCIDRs[0]]) {
    if (!net) continue;
    const hostBits = (net.family === 4 ? 32 : 128) - net.prefix;
    if (hostBits < 2) continue;
    for (let offset = hostBits >= 9 ? 254n : 2n; offset >= 2n; offset--) {
      const ip = ipFromValue(net.family, net.network + offset);
      if (!model.pods.has(ip.value) && ip.value !== dst?.value && cidrContains(net, ip)) {
        return { ip: ip.text, why: `a pod address in ${net.text}${net === bridge?.subnet ? ", this node's pod network" : ''}` };
      }
    }
  }
  for (const pod of model.pods.values()) {
    if (pod.local && pod.ip.value !== dst?.value) return { ip: pod.ip.text, why: `pod ${pod.namespace ?? ''}${pod.namespace ? '/' : ''}${pod.name ?? ''} on this node` };
  }
  if (from === undefined && model.primaryIP) return { ip: model.primaryIP.text, why: "no pod network is known: this node's primary IP" };
  return undefined;
}

/**
 * `--mode both`: the same request through iptables mode, then nftables mode, each in full, then one line per
 * mode with its outcomes, so the difference (e.g. ping: lost vs. rejected at once) stands side by side.
 * With --json: `{"iptables": …, "nftables": …}`.
 */
async function runBothModes(inputs: readonly string[], options: TraceCommandOptions, io: TraceIO): Promise<number> {
  const outputs: Record<string, string> = {};
  const summaries: string[] = [];
  for (const mode of ['iptables', 'nftables']) {
    let out = '';
    const traces: Trace[] = [];
    const code = await runTrace(inputs, { ...options, mode }, { ...io, stdout: (text) => (out += text) }, traces);
    if (code !== 0) return code;
    outputs[mode] = out;
    summaries.push(`  ${mode.padEnd(9)} ${summarizeOutcomes(traces)}`);
  }
  if (options.json) io.stdout(`{\n"iptables": ${(outputs.iptables as string).trim()},\n"nftables": ${(outputs.nftables as string).trim()}\n}\n`);
  else io.stdout(`===== iptables mode =====\n${outputs.iptables}\n===== nftables mode =====\n${outputs.nftables}\n===== side by side =====\n${summaries.join('\n')}\n`);
  return 0;
}

/** `50% dnat 10.1.0.1:80 delivered; …` from a trace's JSON (or an array of them, for --flows/--connections). */
function summarizeOutcomes(traces: readonly Trace[]): string {
  return traces
    .map((trace) =>
      (trace.outcomes ?? [])
        .map((o) => `${Math.round(o.probability * 1000) / 10}% ${o.dnat ? `dnat ${o.dnat}` : 'no dnat'}${o.filterVerdict ? ` ${o.filterVerdict}` : ''}${o.masquerade ? ' masq' : ''} → ${o.result}`)
        .join('; ') || 'no packet (see above)',
    )
    .join(' | ');
}
