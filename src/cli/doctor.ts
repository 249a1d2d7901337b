/**
 * `kproxy doctor`: reads manifests (or a `kubectl get … -o yaml` dump) and the node settings, and prints what
 * makes each Service not work or work unexpectedly. `--ping TARGET` adds a client's ping, traced through
 * the rules of both proxy modes. Exit code: 1 when a Service is broken (an error finding), 0 when there are
 * only warnings and notes, 2 on usage errors.
 */
import type { Command } from 'commander';
import { makePacket } from '../emulate/packet.js';
import { resolveDestination } from '../emulate/resolve.js';
import { diagnose, type PingProbe, type PingTrace } from '../doctor/index.js';
import { renderDoctorJson, renderDoctorText } from '../doctor/render.js';
import type { NodeModel } from '../emulate/node.js';
import { parseIP } from '../net/ip.js';
import { printDiagnostics, usage } from './compile.js';
import { resolveNodeSettings, type NodeSettingsOptions } from './node-settings.js';
import { readInputs } from './read-inputs.js';
import { prepareNode, traceWith, type PreparedNode, type TraceIO } from './trace.js';

export interface DoctorOptions extends NodeSettingsOptions {
  json?: boolean;
  /** Targets a client pings: ClusterIPs, Service names, any IP. */
  ping?: string[];
  pingFrom?: string;
  namespace?: string;
}

/** Adds doctor's own options to its command (program.ts adds the node flags). */
export function addDoctorOptions(command: Command): Command {
  return command
    .option('--json', 'print the findings as JSON: [{code, severity, service, file, line, col, message, hint}]')
    .option('--ping <target>', 'a client pings this ClusterIP, Service name or IP: trace it in both proxy modes and explain (repeatable)', (value: string, previous: string[] = []) => [...previous, value])
    .option('--ping-from <ip>', 'source address of --ping (default: a pod on this node, else the node IP)')
    .option('--namespace <ns>', 'namespace for short Service names in --ping (default "default")')
    .option('--node-config <file>', "node settings (conformance config.yaml format); a folder's node.yaml is used by default");
}

export async function runDoctor(inputs: readonly string[], options: DoctorOptions, io: TraceIO): Promise<number> {
  // Standard input can be read once, and --ping reads the inputs again.
  let stdin: string | undefined;
  const once: TraceIO = { ...io, readStdin: () => (stdin ??= io.readStdin()) };
  const files = readInputs(inputs, once.readStdin);
  if (files.usageErrors.length > 0) return usage(io, ...files.usageErrors);
  if (options.pingFrom !== undefined && !parseIP(options.pingFrom)) return usage(io, `--ping-from ${JSON.stringify(options.pingFrom)} is not an IP address`);
  const settings = resolveNodeSettings(options, files.nodeConfigFile);
  if (!settings.ok && settings.usageError) return usage(io, settings.usageError);
  printDiagnostics(io, settings.diagnostics);
  if (!settings.ok) return 1;

  const pings: PingProbe[] = [];
  const targets = options.ping ?? [];
  const nodes = targets.length > 0 ? pingNodes(inputs, options, once) : [];
  for (const target of targets) {
    const probe = nodes ? probePing(target, nodes, options) : { target, unavailable: 'the input has errors, so there are no rules to trace it through' };
    if ('usageError' in probe) return usage(io, probe.usageError);
    pings.push(probe);
  }
  const report = diagnose({ sources: files.sources, config: settings.config, pings });
  io.stdout(options.json ? renderDoctorJson(report) : renderDoctorText(report));
  return report.findings.some((f) => f.severity === 'error') ? 1 : 0;
}

/** The node in each proxy mode, built once for every --ping; undefined when the input has errors. */
function pingNodes(inputs: readonly string[], options: DoctorOptions, io: TraceIO): [PingTrace['mode'], PreparedNode][] | undefined {
  const nodes: [PingTrace['mode'], PreparedNode][] = [];
  for (const mode of ['iptables', 'nftables'] as const) {
    // Diagnostics are doctor's findings already: the emulator's copy of them is not printed twice.
    const prepared = prepareNode(inputs, { ...options, mode }, { ...io, stderr: () => {} });
    if (!prepared.ok) return undefined;
    nodes.push([mode, prepared.node]);
  }
  return nodes;
}

/** Resolves the ping's target as cluster DNS would and traces the echo request in iptables and nftables mode. */
function probePing(target: string, nodes: [PingTrace['mode'], PreparedNode][], options: DoctorOptions): PingProbe | { usageError: string } {
  const { emu, cluster } = (nodes[0] as [string, PreparedNode])[1];
  const resolution = resolveDestination(target, cluster, options.namespace ?? 'default', emu.node.family);
  if (resolution.kind === 'unknown') return { usageError: `--ping: ${resolution.message}` };
  const destination = resolution.kind === 'ip' || resolution.kind === 'clusterIP' ? resolution.ip : resolution.kind === 'headless' ? resolution.ips[0] : undefined;
  if (destination === undefined) return { target, resolution, source: options.pingFrom ?? '', traces: [] };
  const source = options.pingFrom ?? defaultPingSource(emu.node, destination);
  if (source === undefined) return { usageError: '--ping: no pod on this node and no node IP are known: give --ping-from' };
  const protocol = emu.node.family === 6 ? 'icmpv6' : 'icmp';
  // A --ping-from of the other family, or not an address at all, is the user's to fix, not a trace to make.
  const packet = makePacket({ protocol, source, destination });
  if (!packet.ok) return { usageError: `--ping: ${packet.message}` };
  const traces = nodes.map(([mode, node]): PingTrace => ({ mode, detail: traceWith(node.emu, { protocol, source, destination }) }));
  return { target, resolution, source, traces };
}

/** A pod on this node (the usual client) other than the destination, else the node itself. */
function defaultPingSource(node: NodeModel, destination: string): string | undefined {
  for (const pod of node.pods.values()) if (pod.local && pod.ip.text !== destination) return pod.ip.text;
  return node.primaryIP?.text;
}
