/**
 * The kernel's own cost curve (root only; `npm run bench -- --lab`): a pod opens connections one after the
 * other to the first and to the last ClusterIP of a ruleset of 100 and of 5,000 Services, through the real
 * rules in a lab namespace. iptables mode walks KUBE-SERVICES rule by rule (the last Service pays for all the
 * others), nftables mode looks the address up in a verdict map. Beside each: the lab's set-up phases, the
 * emulator's time for the same packet, and the cost of one connect() from the node (lab-walk.ts): a whole
 * round trip (~0.6 ms of Node.js and sockets) hides the rule walk, one connect() (~30 µs) does not.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { prepareNode, traceWith, type AnyEmulator } from '../src/cli/trace.js';
import type { Cluster } from '../src/cluster/types.js';
import type { LabFlow } from '../src/lab/flows.js';
import { labToolsProblem, newSession } from '../src/lab/netns.js';
import { runLab } from '../src/lab/run.js';
import { measureWalkCost } from './lab-walk.js';
import { syntheticList } from './generate.js';

const SIZES = [100, 5000];
const CONNECTIONS = 200;
const POD_CLIENT = '10.250.0.9';
/** Every Service's one endpoint is the same local pod: one agent socket serves a ruleset of any size. */
const SHARED_ENDPOINT = '10.244.0.5';
const NODE_CONFIG = `nodeName: node-0
nodeIP: 192.168.0.2
nodeIPs: [192.168.0.2]
clusterCIDR: 10.128.0.0/9
interfaces: {lo: [127.0.0.1/8], eth0: [192.168.0.2/24]}
`;

function clusterText(services: number): string {
  const list = syntheticList({ services, endpointsPerService: 1 }) as { items: { kind: string; endpoints?: { addresses: string[]; nodeName?: string }[] }[] };
  for (const item of list.items) {
    for (const endpoint of item.endpoints ?? []) {
      endpoint.addresses = [SHARED_ENDPOINT];
      endpoint.nodeName = 'node-0';
    }
  }
  return JSON.stringify(list);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function emulatorMicroseconds(emu: AnyEmulator, flow: LabFlow): number {
  const rounds = 2000;
  traceWith(emu, flow.spec);
  const start = performance.now();
  for (let i = 0; i < rounds; i++) traceWith(emu, flow.spec);
  return ((performance.now() - start) / rounds) * 1000;
}

export async function runLabBench(): Promise<void> {
  console.log(`\nlab (real kernel): pod → ClusterIP, ${CONNECTIONS} connections one after the other, median connect-to-answer time`);
  const problem = labToolsProblem(['iptables-nft-restore', 'iptables-legacy-restore', 'nft', 'nfacct', 'ping']);
  if (problem) {
    console.log(`  skipped: ${problem}`);
    return;
  }
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'kproxy-lab-bench-'));
  const nodeConfig = path.join(scratch, 'node.yaml');
  writeFileSync(nodeConfig, NODE_CONFIG);
  console.log('  services  mode             first Service  last Service   topology  rules load  agents   emulator (last, per trace)   kernel connect() first / last');
  for (const services of SIZES) {
    const input = path.join(scratch, `cluster-${services}.json`);
    writeFileSync(input, clusterText(services));
    for (const [mode, backend] of [['iptables', 'nft'], ['iptables', 'legacy'], ['nftables', 'nft']] as const) {
      const io = { stdout: () => {}, stderr: (t: string) => void process.stderr.write(t), readStdin: () => '' };
      const prepared = prepareNode([input], { mode, nodeConfig }, io);
      if (!prepared.ok) throw new Error('the synthetic cluster did not load');
      const { emu, config } = prepared.node;
      const cluster = prepared.node.cluster as Cluster;
      // KUBE-SERVICES lists Services sorted by namespace/name: the ends of that order are the first and last rule.
      const ordered = [...cluster.services].sort((a, b) => (`${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1));
      const flows: LabFlow[] = [ordered[0], ordered[ordered.length - 1]].map((service) => {
        return {
          name: `pod → ${service?.namespace}/${service?.name}`,
          spec: { protocol: 'tcp', source: POD_CLIENT, destination: service?.clusterIP ?? '', destinationPort: 80, origin: 'pod' },
        };
      });
      const report = await runLab({
        cluster,
        config,
        node: emu.node,
        mode,
        backend,
        flows,
        trace: (spec) => traceWith(emu, spec),
        connections: CONNECTIONS,
        affinityConnections: CONNECTIONS,
        sequentialConnections: CONNECTIONS,
        timeoutMs: 2000,
        session: newSession(),
      });
      const [first, last] = report.results.map((r) => median(r.milliseconds ?? []));
      const walk = measureWalkCost(cluster, config, mode, backend, ordered[0]?.clusterIP ?? '', ordered[ordered.length - 1]?.clusterIP ?? '');
      const agree = report.results.every((r) => r.comparison?.agree);
      const t = report.timings;
      const ms = (x: number | undefined, width: number) => `${(x ?? NaN).toFixed(3)} ms`.padStart(width);
      console.log(
        `  ${String(services).padStart(8)}  ${(mode === 'nftables' ? 'nftables' : `iptables-${backend}`).padEnd(15)} ${ms(first, 14)} ${ms(last, 14)}  ${ms(t.topology, 9)} ${ms(t.rules, 11)} ${ms(t.agents, 8)}` +
          `   ${emulatorMicroseconds(emu, flows[1] as LabFlow).toFixed(1).padStart(8)} µs` +
          `                  ${walk.firstMicros.toFixed(1)} / ${walk.lastMicros.toFixed(1)} µs${agree ? '' : '  (kernel and emulator DISAGREE)'}`,
      );
    }
  }
  rmSync(scratch, { recursive: true, force: true });
}

// `node dist/bench/lab.js` runs it alone.
if (process.argv[1]?.endsWith('/bench/lab.js')) await runLabBench();
