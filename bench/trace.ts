/**
 * Trace cost against ruleset size: KUBE-SERVICES is indexed by destination, so per-packet cost at 10,000
 * Services should stay within 3× of 100 Services; batch rate target ≥ 2,000 traces/s at 10,000 Services.
 */
import { withBaseChainJumps } from '../src/proxy/iptables/base-chains.js';
import { buildNode } from '../src/emulate/node.js';
import { compileRuleset } from '../src/emulate/ruleset.js';
import { createEmulator, tracePacket, type Emulator } from '../src/emulate/trace.js';
import { resolveNodeConfig } from '../src/model/node-config.js';
import { compileIptables } from '../src/proxy/iptables/compile.js';
import type { PacketSpec } from '../src/emulate/packet.js';
import { syntheticCluster, tracesPerSecond } from './generate.js';

const config = resolveNodeConfig({
  nodeName: 'node-0',
  nodeIP: '192.168.0.2',
  nodeIPs: ['192.168.0.2'],
  clusterCIDR: '10.128.0.0/9',
  interfaces: { lo: ['127.0.0.1/8'], eth0: ['192.168.0.2/24'] },
});

function emulatorFor(services: number): Emulator {
  const cluster = syntheticCluster({ services, endpointsPerService: 3 });
  return createEmulator(compileRuleset(withBaseChainJumps(compileIptables(cluster, config))), buildNode(config, cluster));
}

export function runTraceBench(): void {
  console.log('\ntrace (pod → ClusterIP, 3 endpoints each; first pass compiles rules on first visit)');
  const rates: Record<number, number> = {};
  for (const services of [100, 10000]) {
    const emu = emulatorFor(services);
    const trace = (packet: PacketSpec) => tracePacket(emu, packet);
    const cold = tracesPerSecond(trace, services, 3000);
    const warm = tracesPerSecond(trace, services, 5000);
    rates[services] = warm;
    console.log(`  ${String(services).padStart(6)} services: ${cold.toFixed(0)} traces/s first pass, ${warm.toFixed(0)} traces/s steady`);
  }
  const ratio = (rates[100] as number) / (rates[10000] as number);
  console.log(`  per-packet cost 10,000 vs 100 services: ${ratio.toFixed(2)}× (target ≤ 3×)`);
}
