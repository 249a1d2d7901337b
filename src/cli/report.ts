/**
 * `kproxy report INPUTS --html out.html [--trace "src,dst,dport,proto" ...]`: one self-contained page with the
 * Services, the chain graph, traces of some packets and the rules. The traces are `kproxy trace` itself, run
 * with captured output, so the page explains exactly what the command line would.
 */
import { writeFileSync } from 'node:fs';
import type { Cluster, Service } from '../cluster/types.js';
import type { IptablesRuleset } from '../ir/iptables.js';
import type { NftRuleset } from '../ir/nftables.js';
import { renderNftList } from '../render/nft-list.js';
import { renderSave } from '../render/save.js';
import { buildIptablesChainGraph, buildNftChainGraph, type ChainGraph } from '../render/chain-graph.js';
import { renderReportHtml, type ServiceRow, type TraceSection } from '../report/html.js';
import { VERSION } from '../version.js';
import { usage } from './compile.js';
import type { CliIO } from './io.js';
import type { NodeSettingsOptions } from './node-settings.js';
import { checkPacketOptions, prepareNode, traceOnNode, type TraceCommandOptions } from './trace.js';

/** The command's IO; `writeFile` (for --html) defaults to the file system. */
export interface ReportIO extends CliIO {
  writeFile?(path: string, text: string): void;
}

export interface ReportOptions extends NodeSettingsOptions {
  /** Where the page goes; `-` for standard output. */
  html: string;
  /** Packets as `src,dst,dport,proto`; empty = the default set. */
  trace?: string[];
  mode?: string;
}

/** commander's collector for the repeatable --trace option. */
export function collectTrace(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A packet to trace: the `kproxy trace` options it stands for, and a title for the page. */
interface TraceRequest {
  title: string;
  options: Pick<TraceCommandOptions, 'src' | 'dst' | 'dport' | 'proto'>;
}

export async function runReport(inputs: readonly string[], options: ReportOptions, io: ReportIO): Promise<number> {
  const { html, trace = [], mode = 'iptables', ...nodeOptions } = options;
  if (mode !== 'iptables' && mode !== 'nftables') return usage(io, `--mode must be iptables or nftables, not ${JSON.stringify(mode)}`);
  if (inputs.length === 0) return usage(io, 'no input: give manifest files, folders, or - for standard input');
  const requested = trace.map(parseTraceRequest);
  const bad = requested.find((r): r is Error => r instanceof Error);
  if (bad) return usage(io, bad.message);

  // Inputs are loaded and compiled once; every trace runs on that node.
  const prepared = prepareNode(inputs, { ...nodeOptions, mode }, io);
  if (!prepared.ok) return prepared.exitCode;
  const { cluster, config, ruleset } = prepared.node;
  if (!cluster) return usage(io, 'no manifests were read');

  const defaults = requested.length > 0 ? undefined : defaultTraces(cluster);
  const traces: TraceSection[] = [];
  for (const request of defaults?.requests ?? (requested as TraceRequest[])) {
    let text = '';
    let errors = '';
    const traceIO: ReportIO = { ...io, stdout: (chunk) => (text += chunk), stderr: (chunk) => (errors += chunk) };
    const traceOptions = { ...nodeOptions, ...request.options, mode };
    const packet = checkPacketOptions(traceOptions, traceIO);
    const code = typeof packet === 'number' ? packet : await traceOnNode(prepared.node, traceOptions, packet, traceIO);
    if (code !== 0 && !defaults) {
      io.stderr(`kproxy: tracing ${request.title} failed:\n${errors}`);
      return code;
    }
    // A packet the user did not ask for does not sink the page: why it could not be traced goes in its place.
    if (code !== 0) io.stderr(`kproxy: warning: could not trace ${request.title}; the page says why\n`);
    traces.push({ title: request.title, text: code === 0 ? text : `Not traced:\n${errors}` });
  }

  const page = renderReportHtml({
    inputs: [...inputs],
    mode,
    nodeName: config.nodeName,
    version: VERSION,
    services: serviceRows(cluster),
    graph: chainGraph(ruleset),
    rules: rulesText(ruleset),
    traces,
    ...(defaults?.note ? { tracesNote: defaults.note } : {}),
  });
  if (html === '-') {
    io.stdout(page);
    return 0;
  }
  try {
    (io.writeFile ?? ((path, text) => writeFileSync(path, text)))(html, page);
  } catch (error) {
    io.stderr(`kproxy: cannot write ${html}: ${(error as Error).message}\n`);
    return 1;
  }
  io.stderr(`kproxy: wrote ${html} (${traces.length} traces)\n`);
  return 0;
}

/** The rules the traces ran on: iptables with the base-chain jumps (as `iptables-save` shows), or the nft table. */
function chainGraph(ruleset: IptablesRuleset | NftRuleset): ChainGraph {
  return isNftRuleset(ruleset) ? buildNftChainGraph(ruleset) : buildIptablesChainGraph(ruleset);
}

function rulesText(ruleset: IptablesRuleset | NftRuleset): string {
  return isNftRuleset(ruleset) ? renderNftList(ruleset) : renderSave(ruleset, { backend: 'nft' });
}

function isNftRuleset(ruleset: IptablesRuleset | NftRuleset): ruleset is NftRuleset {
  return !('family' in ruleset);
}

/** `src,dst,dport,proto`: src and dport may be empty (a pod of this node; none for icmp), proto defaults to tcp. */
function parseTraceRequest(text: string): TraceRequest | Error {
  const fields = text.split(',').map((f) => f.trim());
  const [src = '', dst = '', dport = '', proto = ''] = fields;
  if (fields.length > 4 || dst === '') return new Error(`--trace ${JSON.stringify(text)}: write "src,dst,dport,proto" (src, dport and proto may be empty; dst may not)`);
  const protocol = proto || 'tcp';
  const title = `${protocol} from ${src || 'a pod of this node'} to ${dst}${dport ? `:${dport}` : ''}`;
  return { title, options: { dst, proto: protocol, ...(src ? { src } : {}), ...(dport ? { dport } : {}) } };
}

/** Services that have a ClusterIP kube-proxy serves: not headless, not ExternalName. */
function proxiedServices(cluster: Cluster) {
  return cluster.services.filter((s) => s.type !== 'ExternalName' && s.clusterIP !== '' && s.clusterIP !== 'None').sort(byServiceName);
}

/** Default traces cover the first few Services only: the page stays readable for a whole cluster. */
const DEFAULT_TRACED_SERVICES = 8;

/**
 * For each Service port a connection from a pod to the ClusterIP; then, per ClusterIP, the ping learners try.
 * Only the first Services by name; `note` says so when there are more.
 */
function defaultTraces(cluster: Cluster): { requests: TraceRequest[]; note?: string } {
  const requests: TraceRequest[] = [];
  const services = proxiedServices(cluster);
  for (const service of services.slice(0, DEFAULT_TRACED_SERVICES)) {
    const name = `${service.namespace}/${service.name}`;
    for (const port of service.ports) {
      const proto = port.protocol.toLowerCase();
      requests.push({
        title: `${proto} from a pod to ${name}${port.name ? `:${port.name}` : ''} at ${service.clusterIP}:${port.port}`,
        options: { dst: service.clusterIP, dport: String(port.port), proto },
      });
    }
    requests.push({ title: `ping (ICMP echo) from a pod to ${name} at ${service.clusterIP}`, options: { dst: service.clusterIP, proto: 'icmp' } });
  }
  if (services.length <= DEFAULT_TRACED_SERVICES) return { requests };
  return { requests, note: `Traced the first ${DEFAULT_TRACED_SERVICES} of ${services.length} Services (by name); name other packets with --trace "src,dst,dport,proto".` };
}

function byServiceName(a: Service, b: Service): number {
  return `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`);
}

function serviceRows(cluster: Cluster): ServiceRow[] {
  return [...cluster.services].sort(byServiceName).map((s) => ({
      name: `${s.namespace}/${s.name}`,
      type: s.type ?? 'ClusterIP',
      clusterIP: s.type === 'ExternalName' ? `(none: CNAME to ${s.externalName ?? '?'})` : s.clusterIP || '(none)',
      ports: s.ports.map((p) => `${p.name ? `${p.name}: ` : ''}${p.port}/${p.protocol} → ${p.targetPort}${p.nodePort ? `, NodePort ${p.nodePort}` : ''}`),
    }));
}
