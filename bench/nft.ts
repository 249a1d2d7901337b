/**
 * nftables mode: compile 10,000 × 10 (target ≤ 1.5 s) and trace cost at 10,000 vs 100 Services
 * (target ≤ 1.5×: the verdict maps make the lookup O(1), and so must the emulator).
 */
import { performance } from 'node:perf_hooks';
import { buildNode } from '../src/emulate/node.js';
import { createNftEmulator, traceNftPacket, type NftEmulator } from '../src/emulate/nft/index.js';
import { loadCluster } from '../src/index.js';
import { resolveNodeConfig } from '../src/model/node-config.js';
import { compileNftables } from '../src/proxy/nftables/compile.js';
import { renderNftDump } from '../src/render/nft-dump.js';
import { syntheticJson } from './generate.js';

const config = resolveNodeConfig({
  nodeName: 'node-0',
  nodeIP: '192.168.0.2',
  nodeIPs: ['192.168.0.2'],
  clusterCIDR: '10.128.0.0/9',
  serviceCIDRs: ['10.96.0.0/12'],
  interfaces: { lo: ['127.0.0.1/8'], eth0: ['192.168.0.2/24'] },
});

const clusterIP = (i: number) => `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

function loaded(services: number, endpointsPerService: number) {
  const result = loadCluster([{ file: 'synthetic.json', text: syntheticJson({ services, endpointsPerService }) }]);
  if (!result.cluster) throw new Error('synthetic cluster did not load');
  return result.cluster;
}

function tracesPerSecond(emu: NftEmulator, services: number, count: number): number {
  const start = performance.now();
  for (let k = 0; k < count; k++) {
    traceNftPacket(emu, { protocol: 'tcp', source: '10.200.0.9', destination: clusterIP((k * 7919) % services), destinationPort: 80 });
  }
  return (count / (performance.now() - start)) * 1000;
}

export function runNftBench(): void {
  console.log('\nnftables');
  const cluster = loaded(10000, 10);
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
    const small = loaded(services, 3);
    const emu = createNftEmulator(compileNftables(small, config), buildNode(config, small));
    tracesPerSecond(emu, services, 2000);
    rates[services] = tracesPerSecond(emu, services, 5000);
    console.log(`  trace, ${String(services).padStart(6)} services: ${(rates[services] as number).toFixed(0)} traces/s`);
  }
  console.log(`  per-packet cost 10,000 vs 100 services: ${((rates[100] as number) / (rates[10000] as number)).toFixed(2)}× (target ≤ 1.5×)`);
}
