/**
 * Trace cost against ruleset size: KUBE-SERVICES is indexed by destination, so per-packet cost at 10,000
 * Services should stay within 3× of 100 Services; batch rate target ≥ 2,000 traces/s at 10,000 Services.
 */
import { performance } from 'node:perf_hooks';
import { withBaseChainJumps } from '../src/proxy/iptables/base-chains.js';
import { buildNode } from '../src/emulate/node.js';
import { compileRuleset } from '../src/emulate/ruleset.js';
import { createEmulator, tracePacket, type Emulator } from '../src/emulate/trace.js';
import { loadCluster } from '../src/index.js';
import { resolveNodeConfig } from '../src/model/node-config.js';
import { compileIptables } from '../src/proxy/iptables/compile.js';
import { syntheticJson } from './generate.js';

const config = resolveNodeConfig({
  nodeName: 'node-0',
  nodeIP: '192.168.0.2',
  nodeIPs: ['192.168.0.2'],
  clusterCIDR: '10.128.0.0/9',
  interfaces: { lo: ['127.0.0.1/8'], eth0: ['192.168.0.2/24'] },
});

const clusterIP = (i: number) => `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

function emulatorFor(services: number): Emulator {
  const loaded = loadCluster([{ file: 'synthetic.json', text: syntheticJson({ services, endpointsPerService: 3 }) }]);
  if (!loaded.cluster) throw new Error('synthetic cluster did not load');
  return createEmulator(compileRuleset(withBaseChainJumps(compileIptables(loaded.cluster, config))), buildNode(config, loaded.cluster));
}

function tracesPerSecond(emu: Emulator, services: number, count: number): number {
  const start = performance.now();
  for (let k = 0; k < count; k++) {
    tracePacket(emu, { protocol: 'tcp', source: '10.200.0.9', destination: clusterIP((k * 7919) % services), destinationPort: 80 });
  }
  return (count / (performance.now() - start)) * 1000;
}

export function runTraceBench(): void {
  console.log('\ntrace (pod → ClusterIP, 3 endpoints each; first pass compiles rules on first visit)');
  const rates: Record<number, number> = {};
  for (const services of [100, 10000]) {
    const emu = emulatorFor(services);
    const cold = tracesPerSecond(emu, services, 3000);
    const warm = tracesPerSecond(emu, services, 5000);
    rates[services] = warm;
    console.log(`  ${String(services).padStart(6)} services: ${cold.toFixed(0)} traces/s first pass, ${warm.toFixed(0)} traces/s steady`);
  }
  const ratio = (rates[100] as number) / (rates[10000] as number);
  console.log(`  per-packet cost 10,000 vs 100 services: ${ratio.toFixed(2)}× (target ≤ 3×)`);
}
