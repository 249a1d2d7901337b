/**
 * `kproxy lab`: the real kernel as referee of the emulator. Builds a network of namespaces, loads the compiled
 * rules into the node namespace, sends every flow for real and compares what happened with `kproxy trace`.
 * Exit codes: 0 all flows agree; 1 bad input, a disagreement or a failed lab command; 2 usage error, or the
 * lab cannot run here (not root, no `ip netns`, a missing tool).
 */
import { defaultFlows, fromFlowTable, type LabFlow } from '../lab/flows.js';
import { destroySession, LabError, labToolsProblem, newSession } from '../lab/netns.js';
import { countResults, renderReportLines, renderReportTable, reportJson } from '../lab/report.js';
import { runLab } from '../lab/run.js';
import { usage } from './compile.js';
import { prepareNode, readFlows, traceWith, type RulesOptions, type TraceIO } from './trace.js';

export interface LabCommandOptions extends RulesOptions {
  flows?: string;
  connections?: string | number;
  timeout?: string | number;
  backend?: string;
  report?: boolean;
  json?: boolean;
}

/** For `program.ts`: the options of `kproxy lab` as [flags, description] pairs, in help order. */
export function describeLabOptions(): [string, string][] {
  return [
    ['--mode <mode>', 'iptables (default) or nftables'],
    ['--node-config <file>', "node settings (conformance config.yaml format); a folder's node.yaml is used by default"],
    ['--flows <file>', "send the flows of a kube-proxy flow table (flows.yaml) instead of generated ones"],
    ['--connections <n>', 'connections per flow with more than one possible endpoint (default 200, for the chi-square test)'],
    ['--timeout <ms>', 'how long a connection may take before it counts as timed out (default 2000)'],
    ['--backend <backend>', 'iptables mode: load with iptables-nft-restore (nft, default) or iptables-legacy-restore (legacy)'],
    ['--report', 'print the table: flow, emulator prediction, kernel observation, agree'],
    ['--json', 'print the results as JSON'],
  ];
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

export async function runLabCommand(inputs: readonly string[], options: LabCommandOptions, io: TraceIO): Promise<number> {
  const mode = options.mode ?? 'iptables';
  if (mode !== 'iptables' && mode !== 'nftables') return usage(io, `--mode must be iptables or nftables, not ${JSON.stringify(mode)}`);
  const backend = options.backend ?? 'nft';
  if (backend !== 'nft' && backend !== 'legacy') return usage(io, `--backend must be nft or legacy, not ${JSON.stringify(backend)}`);
  if (inputs.length === 0) return usage(io, 'no input: give manifest files or folders');
  const connections = Number(options.connections ?? 200);
  if (!Number.isInteger(connections) || connections < 1 || connections > 10000) return usage(io, '--connections must be an integer between 1 and 10000');
  const timeoutMs = Number(options.timeout ?? 2000);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 60000) return usage(io, '--timeout must be an integer between 100 and 60000 (milliseconds)');

  const prepared = prepareNode(inputs, { ...options, mode }, io);
  if (!prepared.ok) return prepared.exitCode;
  const { emu, config } = prepared.node;
  const cluster = prepared.node.cluster;
  if (!cluster) return usage(io, 'no manifests were read');
  const node = emu.node;

  let flows: LabFlow[];
  if (options.flows) {
    const parsed = readFlows(options.flows, io);
    if (!parsed.ok) return parsed.exitCode;
    flows = fromFlowTable(parsed.flows, node);
  } else {
    flows = defaultFlows(cluster, node);
  }

  const needed = [mode === 'nftables' ? 'nft' : `iptables-${backend}-restore`, 'ping', ...(mode === 'iptables' && usesNfacct(config) ? ['nfacct'] : [])];
  const problem = labToolsProblem(needed);
  if (problem) {
    io.stderr(`kproxy lab: ${problem}\n`);
    return 2;
  }

  const session = newSession();
  // Ctrl-C or a kill: remove what was created, then die of the same signal.
  const onSignal = (signal: NodeJS.Signals) => {
    destroySession(session);
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.kill(process.pid, signal);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  let report;
  try {
    report = await runLab({
      cluster,
      config,
      node,
      mode,
      backend,
      flows,
      trace: (spec) => traceWith(emu, spec),
      connections,
      affinityConnections: 10,
      timeoutMs,
      session,
    });
  } catch (e) {
    if (e instanceof LabError) {
      io.stderr(`kproxy lab: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
  }
  io.stdout(options.json ? reportJson(report) : options.report ? renderReportTable(report) : renderReportLines(report));
  return countResults(report).disagree > 0 ? 1 : 0;
}

function usesNfacct(config: { nfacctCounters: Record<string, boolean> }): boolean {
  return Object.values(config.nfacctCounters).some(Boolean);
}
