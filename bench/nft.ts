/**
 * nftables mode: compile 10,000 × 10 (target ≤ 1.5 s) and trace cost at 10,000 vs 100 Services
 * (target ≤ 1.5×: the verdict maps make the lookup O(1), and so must the emulator).
 */
import { performance } from 'node:perf_hooks';
import { buildNode } from '../src/emulate/node.js';
import { createNftEmulator, traceNftPacket } from '../src/emulate/nft/index.js';
import type { PacketSpec } from '../src/emulate/packet.js';
import { resolveNodeConfig } from '../src/model/node-config.js';
import { compileNftables } from '../src/proxy/nftables/compile.js';
import { renderNftDump } from '../src/render/nft-dump.js';
import { syntheticCluster, tracesPerSecond } from './generate.js';

const config = resolveNodeConfig({
  nodeName: 'node-0',
  nodeIP: '192.168.0.2',
  nodeIPs: ['192.168.0.2'],
  clusterCIDR: '10.128.0.0/9',
  serviceCIDRs: ['10.96.0.0/12'],
  interfaces: { lo: ['127.0.0.1/8'], eth0: ['192.168.0.2/24'] },
});

export function runNftBench(): void {
  console.log('\nnftables');
  const cluster = syntheticCluster({ services: 10000, endpointsPerService: 10 });
  let best = Infinity;
  let bytes = 0;
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    bytes = renderNftDump(compileNftables(cluster, config)).length;
    best = Math.min(best, performance.now() - start);
  }
  console.log(`  compile + dump 10,000 × 10 (cluster already loaded): ${best.toFixed(0)} ms, ${(bytes / 1e6).toFixed(1)} MB (best of 3)`);
  const rates: Record<number, number> = {};
  for (const services of [100, 10000]) {
    const small = syntheticCluster({ services, endpointsPerService: 3 });
    const emu = createNftEmulator(compileNftables(small, config), buildNode(config, small));
    const trace = (packet: PacketSpec) => traceNftPacket(emu, packet);
    tracesPerSecond(trace, services, 2000);
    rates[services] = tracesPerSecond(trace, services, 5000);
    console.log(`  trace, ${String(services).padStart(6)} services: ${(rates[services] as number).toFixed(0)} traces/s`);
  }
  console.log(`  per-packet cost 10,000 vs 100 services: ${((rates[100] as number) / (rates[10000] as number)).toFixed(2)}× (target ≤ 1.5×)`);
}
