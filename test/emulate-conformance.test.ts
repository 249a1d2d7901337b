/**
 * Every flow of ../shared/conformance/iptables/<case>/flows.yaml: the emulator walks the real hooks, and its
 * answer (output, masq) must equal what kube-proxy's own test tracer expects.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileRuleset } from '../src/emulate/ruleset.js';
import { buildNode } from '../src/emulate/node.js';
import { formatDiagnostic } from '../src/diag/diagnostic.js';
import { checkFlow, flowPacket, parseFlows } from '../src/emulate/flows.js';
import { createEmulator, tracePacket } from '../src/emulate/trace.js';
import { loadCluster } from '../src/index.js';
import { parseNodeConfig, resolveNodeConfig } from '../src/model/node-config.js';
import { parseIptables } from '../src/parse/iptables.js';
import { compileIptables } from '../src/proxy/iptables/compile.js';
import { withBaseChainJumps } from '../src/proxy/iptables/base-chains.js';
import { conformancePath } from './helpers.js';

const root = conformancePath('iptables');
const cases = readdirSync(root).filter((name) => existsSync(path.join(root, name, 'flows.yaml')));

describe('conformance flows (iptables)', () => {
  it('finds the flow cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(3);
  });
  for (const name of cases) {
    const dir = path.join(root, name);
    const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
    const flows = parseFlows(read('flows.yaml'), 'flows.yaml');
    if (flows.diagnostics.length > 0) throw new Error(flows.diagnostics.map(formatDiagnostic).join('\n'));
    describe(name, () => {
      const config = resolveNodeConfig(parseNodeConfig(read('config.yaml'), 'config.yaml').layer);
      const setup = () => {
        if (existsSync(path.join(dir, 'input.iptables'))) {
          const parsed = parseIptables(read('input.iptables'), 'input.iptables');
          expect(parsed.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
          return createEmulator(compileRuleset(parsed.ruleset), buildNode(config));
        }
        const loaded = loadCluster([{ file: 'input.yaml', text: read('input.yaml') }]);
        if (!loaded.cluster) throw new Error(JSON.stringify(loaded.diagnostics));
        const payload = compileIptables(loaded.cluster, config);
        const rules = withBaseChainJumps(payload);
        return createEmulator(compileRuleset(rules), buildNode(config, loaded.cluster));
      };
      const emu = setup();
      for (const flow of flows.flows) {
        it(flow.name, () => {
          const trace = tracePacket(emu, flowPacket(flow)).trace;
          const total = trace.outcomes.reduce((s, o) => s + o.probability, 0);
          expect(total).toBeCloseTo(1, 12);
          const check = checkFlow(flow, trace);
          expect(check.got).toEqual({ output: flow.output, masq: flow.masq });
        });
      }
    });
  }
});
