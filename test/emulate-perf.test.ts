/**
 * Trace cost must not grow with the number of Services (KUBE-SERVICES is indexed by destination):
 * per-packet time at 10,000 Services within 3× of 100 Services, and ≥ 2,000 traces/s in batch.
 */
import { describe, expect, it } from 'vitest';
import { syntheticJson } from '../bench/generate.js';
import { buildNode } from '../src/emulate/node.js';
import { compileRuleset } from '../src/emulate/ruleset.js';
import { createEmulator, tracePacket, type Emulator } from '../src/emulate/trace.js';
import { loadCluster } from '../src/index.js';
import { resolveNodeConfig } from '../src/model/node-config.js';
import { nodeRuleset } from '../src/emulate/base.js';
import { compileIptables } from '../src/proxy/iptables/compile.js';

const config = resolveNodeConfig({ nodeName: 'node-0', nodeIP: '192.168.0.2', nodeIPs: ['192.168.0.2'], clusterCIDR: '10.128.0.0/9', interfaces: { lo: ['127.0.0.1/8'], eth0: ['192.168.0.2/24'] } });

function emulatorFor(services: number): { emu: Emulator; setupMs: number } {
  const t0 = performance.now();
  const loaded = loadCluster([{ file: 'synthetic.json', text: syntheticJson({ services, endpointsPerService: 3 }) }]);
  if (!loaded.cluster) throw new Error('synthetic cluster did not load');
  const emu = createEmulator(compileRuleset(nodeRuleset(compileIptables(loaded.cluster, config))), buildNode(config, loaded.cluster));
  return { emu, setupMs: performance.now() - t0 };
}

const clusterIP = (i: number) => `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

function tracesPerSecond(emu: Emulator, services: number, n: number): number {
  const t0 = performance.now();
  for (let k = 0; k < n; k++) {
    const i = (k * 7919) % services;
    const t = tracePacket(emu, { protocol: 'tcp', source: '10.200.0.9', destination: clusterIP(i), destinationPort: 80 });
    if (t.trace.outcomes.length !== 3) throw new Error(`service ${i}: ${t.trace.outcomes.length} outcomes`);
  }
  return (n / (performance.now() - t0)) * 1000;
}

describe('trace performance', () => {
  it('scales with the index, not with the number of services', () => {
    const small = emulatorFor(100);
    const large = emulatorFor(10000);
    // First pass: rules are compiled as packets first reach them; second pass: steady state.
    const smallCold = tracesPerSecond(small.emu, 100, 3000);
    const largeCold = tracesPerSecond(large.emu, 10000, 3000);
    const smallRate = tracesPerSecond(small.emu, 100, 3000);
    const largeRate = tracesPerSecond(large.emu, 10000, 3000);
    console.log(
      `trace: 100 services ${smallRate.toFixed(0)}/s, 10,000 services ${largeRate.toFixed(0)}/s (ratio ${(smallRate / largeRate).toFixed(2)}); ` +
        `first pass ${smallCold.toFixed(0)}/s and ${largeCold.toFixed(0)}/s; ` +
        `setup 100: ${small.setupMs.toFixed(0)} ms, 10,000: ${large.setupMs.toFixed(0)} ms; rules: ${large.emu.rules.ruleCount}`,
    );
    expect(smallRate / largeRate).toBeLessThan(3);
    expect(largeRate).toBeGreaterThan(2000);
    // The explanation still accounts for every rule of KUBE-SERVICES it passed.
    const t = tracePacket(large.emu, { protocol: 'tcp', source: '10.200.0.9', destination: clusterIP(5000), destinationPort: 80 });
    const svcHops = t.trace.outcomes[0]?.hops.filter((h) => h.hook === 'prerouting' && h.table === 'nat' && h.chain === 'KUBE-SERVICES') ?? [];
    const matched = svcHops.find((h) => h.matched);
    expect(svcHops.reduce((s, h) => s + (h.skipped ?? 1), 0)).toBe(matched?.rule);
    const miss = tracePacket(large.emu, { protocol: 'tcp', source: '10.200.0.9', destination: '10.99.99.99', destinationPort: 80 });
    const missHops = miss.trace.outcomes[0]?.hops.filter((h) => h.hook === 'prerouting' && h.table === 'nat' && h.chain === 'KUBE-SERVICES') ?? [];
    const total = large.emu.rules.tables.get('nat')?.chains.get('KUBE-SERVICES')?.rules.length;
    expect(missHops.reduce((s, h) => s + (h.skipped ?? 1), 0)).toBe(total);
    expect(missHops[0]?.reason).toBe('10,000 rules for other destinations did not match');
  });
});
