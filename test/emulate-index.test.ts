/**
 * The destination index of KUBE-SERVICES skips rules, but the explanation must still account for every rule
 * the packet passed. (Speed is measured by bench/trace.ts, not here.)
 */
import { describe, expect, it } from 'vitest';
import { syntheticJson } from '../bench/generate.js';
import { buildNode } from '../src/emulate/node.js';
import { compileRuleset } from '../src/emulate/ruleset.js';
import { createEmulator, tracePacket, type Emulator } from '../src/emulate/trace.js';
import { loadCluster } from '../src/index.js';
import { resolveNodeConfig } from '../src/model/node-config.js';
import { withBaseChainJumps } from '../src/proxy/iptables/base-chains.js';
import { compileIptables } from '../src/proxy/iptables/compile.js';

const config = resolveNodeConfig({ nodeName: 'node-0', nodeIP: '192.168.0.2', nodeIPs: ['192.168.0.2'], clusterCIDR: '10.128.0.0/9', interfaces: { lo: ['127.0.0.1/8'], eth0: ['192.168.0.2/24'] } });

function emulatorFor(services: number): Emulator {
  const loaded = loadCluster([{ file: 'synthetic.json', text: syntheticJson({ services, endpointsPerService: 3 }) }]);
  if (!loaded.cluster) throw new Error('synthetic cluster did not load');
  return createEmulator(compileRuleset(withBaseChainJumps(compileIptables(loaded.cluster, config))), buildNode(config, loaded.cluster));
}

const clusterIP = (i: number) => `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

describe('trace index', () => {
  it('counts the rules the destination index skipped', () => {
    const large = { emu: emulatorFor(2000) };
    // The explanation still accounts for every rule of KUBE-SERVICES it passed.
    const t = tracePacket(large.emu, { protocol: 'tcp', source: '10.200.0.9', destination: clusterIP(1500), destinationPort: 80 });
    const svcHops = t.trace.outcomes[0]?.hops.filter((h) => h.hook === 'prerouting' && h.table === 'nat' && h.chain === 'KUBE-SERVICES') ?? [];
    const matched = svcHops.find((h) => h.matched);
    expect(svcHops.reduce((s, h) => s + (h.skipped ?? 1), 0)).toBe(matched?.rule);
    const miss = tracePacket(large.emu, { protocol: 'tcp', source: '10.200.0.9', destination: '10.99.99.99', destinationPort: 80 });
    const missHops = miss.trace.outcomes[0]?.hops.filter((h) => h.hook === 'prerouting' && h.table === 'nat' && h.chain === 'KUBE-SERVICES') ?? [];
    const total = large.emu.rules.tables.get('nat')?.chains.get('KUBE-SERVICES')?.rules.length;
    expect(missHops.reduce((s, h) => s + (h.skipped ?? 1), 0)).toBe(total);
    expect(missHops[0]?.reason).toBe('2,000 rules for other destinations did not match');
  });
});
