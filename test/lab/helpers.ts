/**
 * Running the lab from tests: the same preparation as `kproxy lab` (manifests, node settings, emulator), flows
 * generated from the cluster plus, when given, a kube-proxy flow table. Kernel suites need root, iproute2,
 * iptables-nft, nft, nfacct and ping: skipped with the reason elsewhere, required when CI=true.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { prepareNode, traceWith } from '../../src/cli/trace.js';
import { formatDiagnostic } from '../../src/diag/diagnostic.js';
import { parseFlows } from '../../src/emulate/flows.js';
import { defaultFlows, fromFlowTable } from '../../src/lab/flows.js';
import { newSession } from '../../src/lab/netns.js';
import { runLab, type FlowResult, type LabReport } from '../../src/lab/run.js';
import { kernelTools, requireKernelInCI } from '../kernel/netns.js';

export const labTools = kernelTools(['iptables-nft-restore', 'iptables-nft-save', 'iptables-legacy-restore', 'iptables-legacy-save', 'nft', 'nfacct', 'ping']);
requireKernelInCI(labTools);

export interface LabCase {
  inputs: string[];
  nodeConfig?: string;
  mode: 'iptables' | 'nftables';
  flowTable?: string;
  /** iptables-restore flavour (default nft). */
  backend?: 'nft' | 'legacy';
}

export async function runLabCase(c: LabCase): Promise<LabReport> {
  let errors = '';
  const io = { stdout: () => {}, stderr: (text: string) => void (errors += text), readStdin: () => '' };
  const prepared = prepareNode(c.inputs, { mode: c.mode, ...(c.nodeConfig ? { nodeConfig: c.nodeConfig } : {}) }, io);
  if (!prepared.ok || !prepared.node.cluster) throw new Error(`cannot prepare ${c.inputs.join(' ')}: ${errors}`);
  const { emu, cluster, config } = prepared.node;
  const flows = defaultFlows(cluster, emu.node);
  if (c.flowTable) {
    const table = parseFlows(readFileSync(c.flowTable, 'utf8'), c.flowTable);
    if (table.diagnostics.length > 0) throw new Error(table.diagnostics.map(formatDiagnostic).join('\n'));
    flows.push(...fromFlowTable(table.flows, emu.node));
  }
  return runLab({
    cluster,
    config,
    node: emu.node,
    mode: c.mode,
    backend: c.backend ?? 'nft',
    flows,
    trace: (spec) => traceWith(emu, spec),
    connections: 200,
    affinityConnections: 10,
    timeoutMs: 2500,
    session: newSession(),
  });
}

/** The verdict of a kernel suite: no flow skipped but SCTP ones, and none disagrees. */
export function expectKernelAgrees(report: LabReport): void {
  expect(unexpectedSkips(report)).toEqual([]);
  expect(disagreements(report)).toEqual([]);
}

/** Every flow that was compared and disagreed, with its reasons (empty when kernel and emulator agree). */
export function disagreements(report: LabReport): { flow: string; emulator: string; kernel: string; problems: string[] }[] {
  return report.results
    .filter((r): r is FlowResult & { comparison: NonNullable<FlowResult['comparison']> } => r.comparison !== undefined && !r.comparison.agree)
    .map((r) => ({ flow: r.flow.name, emulator: r.comparison.predicted, kernel: r.comparison.observed, problems: r.comparison.problems }));
}

/** Flows not sent, with why: only SCTP (no sockets in Node.js) is an accepted reason. */
export function unexpectedSkips(report: LabReport): string[] {
  return report.results.filter((r) => r.skipped && !r.skipped.startsWith('SCTP')).map((r) => `${r.flow.name}: ${r.skipped}`);
}
