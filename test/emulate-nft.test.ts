/**
 * The nftables emulator (src/emulate/nft): kube-proxy's nftables flow tables through the real CLI functions,
 * ping to a ClusterIP (rejected by cluster-ips-check), unallocated service addresses (dropped), numgen
 * enumeration, affinity sets kept across sampled connections, and `--rules` with a dump or a listing.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTestFlows } from '../src/cli/test-flows.js';
import { runTrace, type TraceCommandOptions } from '../src/cli/trace.js';
import { buildNode } from '../src/emulate/node.js';
import { createNftEmulator, sampleNftConnections, traceNftPacket } from '../src/emulate/nft/index.js';
import { flowAnswer } from '../src/emulate/flows.js';
import { renderNftList } from '../src/render/nft-list.js';
import { renderNftDump } from '../src/render/nft-dump.js';
import { captureIO } from './cli-helpers.js';
import { conformancePath } from './helpers.js';
import { loadCase } from './nft-helpers.js';
import { compileNftables } from '../src/proxy/nftables/compile.js';

const capture = captureIO;

const root = conformancePath('nftables');
const cases = readdirSync(root).filter((n) => existsSync(path.join(root, n, 'flows.yaml')));
const overall = path.join(root, 'overall-rules');

async function trace(options: TraceCommandOptions, files?: Record<string, string>) {
  const c = capture(files);
  const code = await runTrace(options.rules ? [] : [path.join(overall, 'input.yaml')], { nodeConfig: path.join(overall, 'config.yaml'), mode: 'nftables', ...options }, c.io);
  return { code, out: c.out(), err: c.err() };
}

describe('nftables flows through kproxy test --mode nftables', () => {
  it('finds the flow tables', () => expect(cases.length).toBeGreaterThan(0));
  for (const name of cases) {
    it(name, async () => {
      const dir = path.join(root, name);
      const c = capture();
      const code = await runTestFlows(path.join(dir, 'flows.yaml'), [path.join(dir, 'input.yaml')], { nodeConfig: path.join(dir, 'config.yaml'), mode: 'nftables' }, c.io);
      expect(c.out()).not.toMatch(/FAIL/);
      expect(code).toBe(0);
    });
  }
  it('the same flows pass against the rules as a dump file and as an nft listing', async () => {
    const { cluster, config } = loadCase(overall);
    const ruleset = compileNftables(cluster, config);
    for (const text of [renderNftDump(ruleset), renderNftList(ruleset)]) {
      const c = capture({ '/rules.nft': text });
      const code = await runTestFlows(path.join(overall, 'flows.yaml'), [], { rules: '/rules.nft', nodeConfig: path.join(overall, 'config.yaml'), mode: 'nftables' }, c.io);
      expect(c.out()).not.toMatch(/FAIL/);
      expect(code).toBe(0);
    }
  });
  it('rejects an unknown mode', async () => {
    const c = capture();
    const code = await runTestFlows(path.join(overall, 'flows.yaml'), [path.join(overall, 'input.yaml')], { nodeConfig: path.join(overall, 'config.yaml'), mode: 'ipvs' }, c.io);
    expect(code).toBe(2);
    expect(c.err()).toMatch(/--mode must be iptables or nftables/);
  });
});

describe('kproxy trace --mode nftables', () => {
  it('ping to a ClusterIP is rejected by cluster-ips-check: ICMP port unreachable at once', async () => {
    const r = await trace({ proto: 'icmp', dst: '172.30.0.41', src: '10.0.0.2', json: true });
    expect(r.code).toBe(0);
    const t = JSON.parse(r.out);
    expect(t.mode).toBe('nftables');
    expect(t.outcomes).toHaveLength(1);
    const o = t.outcomes[0];
    expect(o.result).toBe('rejected');
    expect(o.filterVerdict).toBe('REJECT');
    expect(o.hops[o.hops.length - 1].chain).toBe('cluster-ips-check');
    const text = (await trace({ proto: 'icmp', dst: '172.30.0.41', src: '10.0.0.2' })).out;
    expect(text).toMatch(/nftables mode/);
    expect(text).toMatch(/ICMP port unreachable/);
    expect(text).toMatch(/at once/);
    expect(text).toMatch(/iptables mode .*lost/s);
  });
  it('from the node too (filter-output → cluster-ips-check)', async () => {
    const t = JSON.parse((await trace({ proto: 'icmp', dst: '172.30.0.41', from: 'node', json: true })).out);
    expect(t.outcomes[0].result).toBe('rejected');
    expect(t.outcomes[0].filterVerdict).toBe('REJECT');
  });
  it('an unallocated address in the service CIDR is dropped', async () => {
    const t = JSON.parse((await trace({ proto: 'icmp', dst: '172.30.0.50', src: '10.0.0.2', json: true })).out);
    expect(t.outcomes[0].result).toBe('dropped');
    expect(t.outcomes[0].filterVerdict).toBe('DROP');
    const tcp = JSON.parse((await trace({ dst: '172.30.0.50', dport: '80', src: '10.0.0.2', json: true })).out);
    expect(tcp.outcomes[0].filterVerdict).toBe('DROP');
  });
  it('numgen is enumerated with probability 1/N per endpoint', async () => {
    const t = JSON.parse((await trace({ dst: '172.30.0.44', dport: '80', src: '10.0.0.2', json: true })).out);
    expect(t.outcomes.map((o: { dnat: string }) => o.dnat).sort()).toEqual(['10.180.0.4:80', '10.180.0.5:80']);
    for (const o of t.outcomes) expect(o.probability).toBe(0.5);
    expect(t.outcomes.every((o: { result: string }) => o.result !== 'dropped' && o.result !== 'rejected')).toBe(true);
  });
  it('masquerades marked packets in postrouting', async () => {
    const t = JSON.parse((await trace({ dst: '172.30.0.41', dport: '80', src: '203.0.113.9', json: true })).out);
    expect(t.outcomes[0].masquerade).toBe(true);
    expect(t.outcomes[0].finalSource).not.toBe('203.0.113.9');
    expect(t.outcomes[0].hops.some((h: { action: string }) => /^masquerade/.test(h.action))).toBe(true);
  });
  it('sampled connections: the affinity set keeps the client on its endpoint until the timeout', () => {
    const { cluster, config } = loadCase(overall);
    const emu = createNftEmulator(compileNftables(cluster, config), buildNode(config, cluster));
    const runs = sampleNftConnections(emu, { protocol: 'tcp', source: '10.0.0.2', destination: '172.30.0.45', destinationPort: 80 }, { connections: 3, interval: 1, seed: 3 });
    expect(runs.map((r) => r.paths[0]?.dnat)).toEqual(['10.180.0.3:80', '10.180.0.3:80', '10.180.0.3:80']);
    expect(runs[0]?.paths[0]?.hops.some((h) => h.matched && /^ip saddr @affinity-/.test(h.text))).toBe(false);
    expect(runs[1]?.paths[0]?.hops.some((h) => h.matched && /^ip saddr @affinity-/.test(h.text))).toBe(true);
    const late = sampleNftConnections(emu, { protocol: 'tcp', source: '10.0.0.2', destination: '172.30.0.45', destinationPort: 80 }, { connections: 2, interval: 20000, seed: 3 });
    expect(late[1]?.paths[0]?.hops.some((h) => h.matched && /^ip saddr @affinity-/.test(h.text))).toBe(false);
  });
  it('sampling draws one numgen value with the RNG', () => {
    const { cluster, config } = loadCase(overall);
    const emu = createNftEmulator(compileNftables(cluster, config), buildNode(config, cluster));
    const runs = sampleNftConnections(emu, { protocol: 'tcp', source: '10.0.0.2', destination: '172.30.0.44', destinationPort: 80 }, { connections: 40, interval: 1, seed: 1 });
    const seen = new Set(runs.map((r) => r.paths[0]?.dnat));
    expect(runs.every((r) => r.paths.length === 1)).toBe(true);
    expect(seen).toEqual(new Set(['10.180.0.4:80', '10.180.0.5:80']));
  });
  it('wrong port of a ClusterIP: REJECT; no-endpoint Service: REJECT via reject-chain', () => {
    const { cluster, config } = loadCase(overall);
    const emu = createNftEmulator(compileNftables(cluster, config), buildNode(config, cluster));
    const wrong = traceNftPacket(emu, { protocol: 'tcp', source: '10.0.0.2', destination: '172.30.0.41', destinationPort: 443 });
    expect(flowAnswer(wrong.trace).output).toBe('REJECT');
    expect(wrong.paths[0]?.endReason).toMatch(/connection refused/);
    const none = traceNftPacket(emu, { protocol: 'tcp', source: '10.0.0.2', destination: '172.30.0.46', destinationPort: 80 });
    expect(none.paths[0]?.hops.some((h) => h.chain === 'reject-chain')).toBe(true);
  });
  it('--connections output names affinity hits', async () => {
    const r = await trace({ dst: '172.30.0.45', dport: '80', src: '10.0.0.2', connections: '3' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/affinity: sent back/);
  });
});
