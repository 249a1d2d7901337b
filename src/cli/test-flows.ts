/**
 * `kproxy test FLOWS.yaml <manifests...> | --rules FILE`: checks every flow's expected `output` / `masq`
 * (kube-proxy's flow-table format) against the emulator and prints pass/fail per flow. Exit 1 on any mismatch,
 * so a repository of Services can keep golden regression tests of its own.
 */
import { checkFlow, flowPacket } from '../emulate/flows.js';
import { prepareNode, readFlows, traceWith, type RulesOptions, type TraceIO } from './trace.js';

export type TestFlowsOptions = RulesOptions;

export async function runTestFlows(flowsFile: string, inputs: readonly string[], options: TestFlowsOptions, io: TraceIO): Promise<number> {
  const flows = readFlows(flowsFile, io);
  if (!flows.ok) return flows.exitCode;
  const prepared = prepareNode(inputs, options, io);
  if (!prepared.ok) return prepared.exitCode;
  const { emu } = prepared.node;
  let failed = 0;
  let unchecked = 0;
  for (const flow of flows.flows) {
    let trace;
    try {
      trace = traceWith(emu, flowPacket(flow)).trace;
    } catch (e) {
      io.stdout(`FAIL  ${flow.name}: ${(e as Error).message}\n`);
      failed++;
      continue;
    }
    const check = checkFlow(flow, trace);
    const got = `output ${JSON.stringify(check.got.output)}, masq ${check.got.masq}`;
    if (flow.output === undefined && flow.masq === undefined) {
      unchecked++;
      io.stdout(`----  ${flow.name}: ${got} (no expectation given)\n`);
    } else if (check.pass) io.stdout(`pass  ${flow.name}\n`);
    else {
      failed++;
      io.stdout(`FAIL  ${flow.name}: ${check.problems.join('; ')}\n`);
    }
    if (trace.outcomes.some((o) => o.uncertain)) io.stdout(`      (uncertain: the path uses matches the emulator does not model)\n`);
  }
  const total = flows.flows.length;
  io.stdout(`\n${total - failed - unchecked} passed, ${failed} failed${unchecked ? `, ${unchecked} without expectations` : ''} (${total} flows)\n`);
  return failed > 0 ? 1 : 0;
}
