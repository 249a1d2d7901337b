/**
 * Behaviour on a compiled cluster (test/fixtures/emulate/cluster): traffic policies, source ranges, no-endpoint
 * REJECTs, hairpin, affinity stickiness and expiry, conntrack replies, ping.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { withBaseChainJumps } from '../src/proxy/iptables/base-chains.js';
import { explainTrace } from '../src/emulate/explain.js';
import { buildNode } from '../src/emulate/node.js';
import { compileRuleset } from '../src/emulate/ruleset.js';
import { mulberry32 } from '../src/emulate/rng.js';
import { samplePacket, sampleConnections, tracePacketAndCommit } from '../src/emulate/scenario.js';
import { emptyState } from '../src/emulate/state.js';
import { createEmulator, tracePacket, type Outcome } from '../src/emulate/trace.js';
import { loadCluster } from '../src/index.js';
import { parseNodeConfig, resolveNodeConfig } from '../src/model/node-config.js';
import { compileIptables } from '../src/proxy/iptables/compile.js';
import { repoRoot } from './helpers.js';

const dir = path.join(repoRoot, 'test', 'fixtures', 'emulate', 'cluster');
const config = resolveNodeConfig(parseNodeConfig(readFileSync(path.join(dir, 'node.yaml'), 'utf8'), 'node.yaml').layer);
const loaded = loadCluster([{ file: 'services.yaml', text: readFileSync(path.join(dir, 'services.yaml'), 'utf8') }]);
if (!loaded.cluster) throw new Error(JSON.stringify(loaded.diagnostics));
const cluster = loaded.cluster;
const emu = createEmulator(compileRuleset(withBaseChainJumps(compileIptables(cluster, config))), buildNode(config, cluster));

const POD = '10.244.1.7';
const NODE = '192.168.0.2';
const OUTSIDE = '203.0.113.9';
const trace = (source: string, destination: string, destinationPort?: number, protocol: 'tcp' | 'icmp' = 'tcp') =>
  tracePacket(emu, { protocol, source, destination, ...(destinationPort ? { destinationPort } : {}) });
const summary = (o: Outcome) => ({ p: Number(o.probability.toFixed(6)), dnat: o.dnat, masq: o.masquerade, verdict: o.filterVerdict, result: o.result });

describe('externalTrafficPolicy: Local', () => {
  it('from a pod: short-circuited to every endpoint, not masqueraded', () => {
    expect(trace(POD, '1.2.3.4', 80).trace.outcomes.map(summary)).toEqual([
      { p: 0.5, dnat: '10.244.1.10:8080', masq: false, verdict: null, result: 'delivered' },
      { p: 0.5, dnat: '10.244.2.10:8080', masq: false, verdict: null, result: 'forwarded' },
    ]);
  });
  it('from the node: every endpoint, masqueraded', () => {
    const out = trace(NODE, '1.2.3.4', 80).trace.outcomes;
    expect(out.map((o) => [o.dnat, o.masquerade])).toEqual([
      ['10.244.1.10:8080', true],
      ['10.244.2.10:8080', true],
    ]);
  });
  it('from outside: only the local endpoint, source preserved', () => {
    for (const [dst, port] of [['1.2.3.4', 80], [NODE, 30080]] as const) {
      const out = trace(OUTSIDE, dst, port).trace.outcomes;
      expect(out).toHaveLength(1);
      expect(out[0]).toMatchObject({ probability: 1, dnat: '10.244.1.10:8080', masquerade: false, finalSource: OUTSIDE, result: 'delivered' });
    }
  });
  it('health check node port is accepted by filter INPUT', () => {
    expect(summary(trace(OUTSIDE, NODE, 32000).trace.outcomes[0] as Outcome)).toEqual({ p: 1, dnat: null, masq: false, verdict: 'ACCEPT', result: 'local' });
  });
  it('no local endpoint: outside traffic is dropped, pods still get through', () => {
    expect(summary(trace(OUTSIDE, '1.2.3.5', 80).trace.outcomes[0] as Outcome)).toMatchObject({ dnat: null, verdict: 'DROP', result: 'dropped' });
    expect(summary(trace(OUTSIDE, NODE, 30083).trace.outcomes[0] as Outcome)).toMatchObject({ dnat: null, verdict: 'DROP', result: 'dropped' });
    expect(summary(trace(POD, '1.2.3.5', 80).trace.outcomes[0] as Outcome)).toMatchObject({ dnat: '10.244.2.30:8080', masq: false });
    expect(summary(trace(NODE, '1.2.3.5', 80).trace.outcomes[0] as Outcome)).toMatchObject({ dnat: '10.244.2.30:8080', masq: true });
  });
});

describe('loadBalancerSourceRanges', () => {
  it('an allowed client reaches the endpoint, masqueraded', () => {
    expect(trace(OUTSIDE, '5.6.7.8', 80).trace.outcomes[0]).toMatchObject({ dnat: '10.244.2.20:8080', masquerade: true, finalSource: NODE, result: 'forwarded' });
  });
  it('other clients are dropped by filter KUBE-PROXY-FIREWALL, pods too', () => {
    for (const src of ['203.0.113.200', POD]) {
      const o = trace(src, '5.6.7.8', 80).trace.outcomes[0] as Outcome;
      expect(summary(o)).toMatchObject({ dnat: null, verdict: 'DROP', result: 'dropped' });
      expect(o.hops[o.hops.length - 1]?.chain).toBe('KUBE-PROXY-FIREWALL');
    }
  });
  it('the NodePort is not subject to the source ranges', () => {
    expect(trace('203.0.113.200', NODE, 30081).trace.outcomes[0]).toMatchObject({ dnat: '10.244.2.20:8080', masquerade: true });
  });
});

describe('no endpoints', () => {
  it('REJECTs the ClusterIP from a pod and from the node, and the NodePort from outside', () => {
    for (const [src, dst, port] of [[POD, '10.96.0.40', 80], [NODE, '10.96.0.40', 80], [OUTSIDE, NODE, 30082]] as const) {
      const d = trace(src, dst, port);
      expect(summary(d.trace.outcomes[0] as Outcome)).toEqual({ p: 1, dnat: null, masq: false, verdict: 'REJECT', result: 'rejected' });
      expect(d.paths[0]?.rejectWith).toBe('icmp-port-unreachable');
      expect(explainTrace(d, emu)).toMatch(/ICMP port unreachable/);
    }
  });
});

describe('hairpin', () => {
  it('a pod reaching itself through its Service is masqueraded to the bridge address', () => {
    const out = trace('10.244.1.21', '10.96.0.50', 80).trace.outcomes;
    expect(out.map((o) => [o.dnat, o.masquerade, o.finalSource])).toEqual([
      ['10.244.1.21:8080', true, '10.244.1.1'],
      ['10.244.1.22:8080', false, '10.244.1.21'],
      ['10.244.2.23:8080', false, '10.244.1.21'],
    ]);
  });
});

describe('session affinity (ClientIP, timeoutSeconds 30)', () => {
  it('the first connection is random, the next ones stick while they come within the timeout', () => {
    const runs = sampleConnections(emu, { protocol: 'tcp', source: POD, destination: '10.96.0.50', destinationPort: 80 }, { connections: 10, interval: 10, seed: 7 });
    const dests = runs.map((r) => r.trace.outcomes[0]?.dnat);
    expect(new Set(dests).size).toBe(1);
    // From the second connection on, the --rcheck rule of the chosen endpoint matches.
    expect(runs[1]?.trace.outcomes[0]?.hops.some((h) => h.matched && h.text.includes('--rcheck'))).toBe(true);
    expect(runs.map((r) => r.time)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    const setReason = (i: number) => runs[i]?.trace.outcomes[0]?.hops.find((h) => h.matched && h.text.includes('--set'))?.reason;
    expect(setReason(0)).toMatch(/adds source 10\.244\.1\.7 to the list KUBE-SEP-/);
    expect(setReason(1)).toMatch(/refreshes source 10\.244\.1\.7/);
  });
  it('stickiness expires after timeoutSeconds (30 s still sticks, 31 s does not)', () => {
    const spec = { protocol: 'tcp' as const, source: POD, destination: '10.96.0.50', destinationPort: 80 };
    const state = emptyState();
    const first = samplePacket(emu, { ...spec, sourcePort: 41000 }, state, mulberry32(3), 0);
    const chosen = first.trace.outcomes[0]?.dnat;
    // With state, enumeration shows a single, certain outcome within the timeout...
    const within = tracePacket(emu, { ...spec, sourcePort: 41001 }, { state, now: 30 }).trace.outcomes;
    expect(within.map((o) => [o.dnat, o.probability])).toEqual([[chosen, 1]]);
    // ...and the random spread again once it has passed.
    const after = tracePacket(emu, { ...spec, sourcePort: 41002 }, { state, now: 31 }).trace.outcomes;
    expect(after).toHaveLength(3);
    expect(after.every((o) => Math.abs(o.probability - 1 / 3) < 1e-9)).toBe(true);
  });
  it('with long gaps between connections, different endpoints appear', () => {
    const runs = sampleConnections(emu, { protocol: 'tcp', source: POD, destination: '10.96.0.50', destinationPort: 80 }, { connections: 30, interval: 31, seed: 1 });
    expect(new Set(runs.map((r) => r.trace.outcomes[0]?.dnat)).size).toBeGreaterThan(1);
  });
});

describe('conntrack', () => {
  it('replies are un-NATed and skip the nat table; later packets reuse the DNAT', () => {
    const state = emptyState();
    const first = tracePacketAndCommit(emu, { protocol: 'tcp', source: POD, sourcePort: 40000, destination: '10.96.0.20', destinationPort: 80 }, state, 0, 0);
    expect(first.trace.outcomes[0]?.dnat).toBe('10.244.1.10:8080');
    const reply = tracePacket(emu, { protocol: 'tcp', source: '10.244.1.10', sourcePort: 8080, destination: POD, destinationPort: 40000 }, { state, now: 1 });
    expect(reply.trace.outcomes).toHaveLength(1);
    expect(reply.trace.outcomes[0]).toMatchObject({ finalSource: '10.96.0.20', finalDestination: `${POD}:40000`, result: 'delivered', dnat: null, filterVerdict: 'ACCEPT' });
    expect(reply.trace.outcomes[0]?.hops.some((h) => h.table === 'nat' && h.chain !== 'KUBE-POSTROUTING')).toBe(false);
    expect(explainTrace(reply, emu)).toMatch(/reply/);
    const again = tracePacket(emu, { protocol: 'tcp', source: POD, sourcePort: 40000, destination: '10.96.0.20', destinationPort: 80 }, { state, now: 2 });
    expect(again.trace.outcomes).toHaveLength(1);
    expect(again.trace.outcomes[0]).toMatchObject({ finalDestination: '10.244.1.10:8080', probability: 1 });
  });
  it('a masqueraded connection: the reply is un-SNATed back to the client', () => {
    const state = emptyState();
    tracePacketAndCommit(emu, { protocol: 'tcp', source: OUTSIDE, sourcePort: 50000, destination: '5.6.7.8', destinationPort: 80 }, state, 0);
    const reply = tracePacket(emu, { protocol: 'tcp', source: '10.244.2.20', sourcePort: 8080, destination: NODE, destinationPort: 50000 }, { state, now: 1 });
    expect(reply.trace.outcomes[0]).toMatchObject({ finalSource: '5.6.7.8', finalDestination: `${OUTSIDE}:50000`, result: 'forwarded' });
  });
});

describe('ICMP', () => {
  it('ping to a ClusterIP gets no reply, and the explanation says why and what to do', () => {
    const d = trace(POD, '10.96.0.20', undefined, 'icmp');
    expect(d.trace.outcomes).toHaveLength(1);
    expect(d.trace.outcomes[0]).toMatchObject({ dnat: null, filterVerdict: null, result: 'forwarded' });
    const text = explainTrace(d, emu, { cluster });
    expect(text).toMatch(/Why there is no reply/);
    expect(text).toMatch(/Service default\/web/);
    expect(text).toMatch(/--proto tcp --dport 80/);
    // Every KUBE-SERVICES rule for that address failed because of the protocol.
    const svc = d.trace.outcomes[0]?.hops.filter((h) => h.chain === 'KUBE-SERVICES' && h.table === 'nat' && h.text.includes('10.96.0.20'));
    expect(svc?.every((h) => !h.matched && /protocol is icmp/.test(h.reason))).toBe(true);
  });
  it('ping to a pod is answered', () => {
    const d = trace(POD, '10.244.1.10', undefined, 'icmp');
    expect(d.trace.outcomes[0]?.result).toBe('delivered');
    expect(explainTrace(d, emu)).toMatch(/pod answers/);
  });
});
