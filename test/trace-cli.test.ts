/**
 * `kproxy trace` and `kproxy test` in-process, with injected IO.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runTestFlows } from '../src/cli/test-flows.js';
import { runTrace, type TraceCommandOptions } from '../src/cli/trace.js';
import { captureIO } from './cli-helpers.js';
import { conformancePath, repoRoot } from './helpers.js';

const capture = captureIO;

const kubia = path.join(repoRoot, 'rulesets', 'kubia');
const fixture = path.join(repoRoot, 'test', 'fixtures', 'emulate', 'cluster');
const staticCase = conformancePath('iptables/trace-packet-static');

async function trace(inputs: string[], options: TraceCommandOptions, files?: Record<string, string>) {
  const c = capture(files);
  const code = await runTrace(inputs, options, c.io);
  return { code, out: c.out(), err: c.err() };
}

describe('kproxy trace', () => {
  it('pod → ClusterIP: hop by hop, then one line per outcome', async () => {
    const r = await trace([kubia], { src: '10.244.1.7', dst: '10.96.0.10', dport: '80' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Packet: tcp 10\.244\.1\.7:40000 → 10\.96\.0\.10:80, from a pod/);
    expect(r.out).toMatch(/prerouting\s+nat\s+KUBE-SERVICES #1: matched/);
    expect(r.out).toMatch(/-A KUBE-SERVICES -m comment --comment "default\/kubia cluster IP"/);
    const outcomeLines = r.out.split('Outcomes:\n')[1]?.trim().split('\n') ?? [];
    expect(outcomeLines).toHaveLength(3);
    expect(outcomeLines.every((l) => l.includes('33.3%'))).toBe(true);
    expect(r.out).toMatch(/10\.244\.2\.7:8080 \(DNAT\), source 10\.244\.1\.7 kept: leaves the node on eth0 toward node-2/);
  });

  it('--json has exactly the shape of the spec', async () => {
    const r = await trace([kubia], { src: '10.244.1.7', dst: '10.96.0.10', dport: '80', json: true });
    const t = JSON.parse(r.out);
    expect(Object.keys(t)).toEqual(['mode', 'packet', 'outcomes']);
    expect(t.packet).toEqual({ protocol: 'tcp', source: '10.244.1.7', sourcePort: 40000, destination: '10.96.0.10', destinationPort: 80, origin: 'pod' });
    for (const o of t.outcomes) {
      expect(Object.keys(o)).toEqual(['probability', 'dnat', 'filterVerdict', 'masquerade', 'result', 'finalSource', 'finalDestination', 'hops']);
      for (const h of o.hops) expect(Object.keys(h).slice(0, 8)).toEqual(['hook', 'table', 'chain', 'rule', 'text', 'matched', 'reason', 'action']);
    }
    expect(t.outcomes.reduce((s: number, o: { probability: number }) => s + o.probability, 0)).toBeCloseTo(1, 12);
  });

  it('ping to a ClusterIP explains why there is no reply', async () => {
    const r = await trace([kubia], { proto: 'icmp', dst: '10.96.0.10' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/no --src given/);
    expect(r.out).toMatch(/Why there is no reply: 10\.96\.0\.10 \(Service default\/kubia\) is a ClusterIP/);
    expect(r.out).toMatch(/--proto tcp --dport 80/);
  });

  it('Service names: short, with namespace, fully qualified, --namespace', async () => {
    for (const [dst, ns] of [['kubia', undefined], ['kubia.default', undefined], ['kubia.default.svc.cluster.local', undefined]] as const) {
      const r = await trace([kubia], { src: '10.244.1.7', dst, dport: '80', json: true, ...(ns ? { namespace: ns } : {}) });
      expect(JSON.parse(r.out).packet.destination).toBe('10.96.0.10');
    }
    const web = await trace([fixture], { src: '10.244.1.7', dst: 'db', namespace: 'data', dport: '5432' });
    expect(web.out).toMatch(/headless Service: cluster DNS returns the Pod IPs themselves \(10\.244\.1\.40, 10\.244\.2\.41\)/);
    const missing = await trace([kubia], { src: '10.244.1.7', dst: 'kubia', namespace: 'other', dport: '80' });
    // A --dst that names nothing is a usage error, as a bad --src or --dport is.
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/^kproxy: --dst: no Service other\/kubia/);
    const bad = await trace([kubia], { src: '10.244.1.7', dst: '999.1.1.1', dport: '80' });
    expect([bad.code, bad.err]).toEqual([2, 'kproxy: --dst: 999.1.1.1 is neither an IP address nor a Service name (name, name.namespace, name.namespace.svc.cluster.local)\n']);
  });

  it('ExternalName: explained, no rules', async () => {
    const r = await trace([path.join(repoRoot, 'rulesets', 'google-map-externalname')], { dst: 'google-map', dport: '80' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/ExternalName Service: kube-proxy writes no rules/);
    expect(r.out).toMatch(/CNAME: google-map\.default\.svc\.cluster\.local → maps\.googleapis\.com/);
  });

  it('--connections shows affinity stickiness; JSON is an array', async () => {
    const r = await trace([kubia], { src: '10.244.1.7', dst: 'kubia', dport: '80', connections: '5', seed: '3' });
    expect(r.code).toBe(0);
    const lines = r.out.split('\n').filter((l) => /^\s+#\d/.test(l));
    expect(lines).toHaveLength(5);
    expect(lines.slice(1).every((l) => l.includes('affinity'))).toBe(true);
    const j = await trace([kubia], { src: '10.244.1.7', dst: 'kubia', dport: '80', connections: '4', interval: '20000', seed: '3', json: true });
    const arr = JSON.parse(j.out);
    expect(arr.map((t: { connection: number; time: number }) => [t.connection, t.time])).toEqual([[1, 0], [2, 20000], [3, 40000], [4, 60000]]);
    expect(arr.every((t: { outcomes: unknown[] }) => t.outcomes.length === 1)).toBe(true);
  });

  it('--rules with a real iptables-save style ruleset and --node-config', async () => {
    const r = await trace([], { rules: path.join(staticCase, 'input.iptables'), nodeConfig: path.join(staticCase, 'config.yaml'), src: '10.0.0.2', dst: '172.30.0.44', dport: '80', json: true });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).outcomes.map((o: { dnat: string }) => o.dnat)).toEqual(['10.180.0.4:80', '10.180.0.5:80']);
  });

  it('--rules with a restore payload adds the base-chain jumps', async () => {
    const payload = ['*nat', ':KUBE-SERVICES - [0:0]', '-A KUBE-SERVICES -m tcp -p tcp -d 10.96.0.1 --dport 443 -j DNAT --to-destination 192.168.0.10:6443', 'COMMIT', ''].join('\n');
    const r = await trace([], { rules: 'payload.txt', nodeConfig: path.join(kubia, 'node.yaml'), src: '10.244.1.7', dst: '10.96.0.1', dport: '443' }, { 'payload.txt': payload });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/base-chain jumps were added/);
    expect(r.out).toMatch(/192\.168\.0\.10:6443 \(DNAT\)/);
  });

  it('--flows prints each flow and its answer; JSON is an array', async () => {
    const flows = path.join(staticCase, 'flows.yaml');
    const r = await trace([], { rules: path.join(staticCase, 'input.iptables'), nodeConfig: path.join(staticCase, 'config.yaml'), flows });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/=== multiple endpoints: output "10\.180\.0\.4:80, 10\.180\.0\.5:80", masq false \(as expected\)/);
    const j = await trace([], { rules: path.join(staticCase, 'input.iptables'), nodeConfig: path.join(staticCase, 'config.yaml'), flows, json: true });
    expect(JSON.parse(j.out)).toHaveLength(7);
  });

  it('usage errors exit 2', async () => {
    expect((await trace([kubia], { src: '10.244.1.7' })).code).toBe(2);
    expect((await trace([kubia], { dst: '10.96.0.10', proto: 'gre' })).code).toBe(2);
    expect((await trace([kubia], { dst: '10.96.0.10' })).code).toBe(2);
    expect((await trace([], { dst: '10.96.0.10', dport: '80' })).code).toBe(2);
  });
});

describe('kproxy test', () => {
  it('passes on the conformance flows (manifests and --rules)', async () => {
    for (const name of ['clusterip-general-multiport-udp-sctp-hairpin', 'no-endpoints-reject']) {
      const dir = conformancePath(`iptables/${name}`);
      const c = capture();
      const code = await runTestFlows(path.join(dir, 'flows.yaml'), [path.join(dir, 'input.yaml')], { nodeConfig: path.join(dir, 'config.yaml') }, c.io);
      expect(c.err()).toBe('');
      expect(code).toBe(0);
      expect(c.out()).toMatch(/ passed, 0 failed/);
    }
    const c = capture();
    const code = await runTestFlows(path.join(staticCase, 'flows.yaml'), [], { rules: path.join(staticCase, 'input.iptables'), nodeConfig: path.join(staticCase, 'config.yaml') }, c.io);
    expect(code).toBe(0);
    expect(c.out()).toMatch(/7 passed, 0 failed/);
  });

  it('fails (exit 1) and says what differed', async () => {
    const flows = ['- name: wrong', '  sourceIP: 10.244.1.7', '  destIP: 10.96.0.10', '  destPort: 80', '  protocol: TCP', '  output: "10.244.1.5:8080"', '  masq: true', ''].join('\n');
    const c = capture({ 'mine.yaml': flows });
    const code = await runTestFlows('mine.yaml', [kubia], {}, c.io);
    expect(code).toBe(1);
    expect(c.out()).toMatch(/FAIL  wrong: output: expected "10\.244\.1\.5:8080", got "10\.244\.1\.5:8080, 10\.244\.1\.6:8080, 10\.244\.2\.7:8080"; masq: expected true, got false/);
  });
});

describe('flow tables with errors', () => {
  it('report every error at its node, with a code, and exit 1', async () => {
    const flows = [
      '- name: typo', //              line 1
      '  sourceIP: 10.244.1.7',
      '  destIP: 10.96.0.10',
      '  destport: 80', //            line 4: unknown key, and no destPort
      '- name: bad values',
      '  sourceIP: 10.244.1.300', //  line 6
      '  destIP: 10.96.0.10',
      '  destPort: 70000', //         line 8
      '  protocol: GRE', //           line 9
      '  masq: "yes"', //             line 10
      '- name: mixed families',
      '  sourceIP: 10.244.1.7',
      '  destIP: fd00::10', //        line 13
      '  destPort: 80',
      '',
    ].join('\n');
    const c = capture({ 'bad.yaml': flows });
    const code = await runTestFlows('bad.yaml', [kubia], {}, c.io);
    expect(code).toBe(1);
    const lines = c.err().trim().split('\n');
    expect(lines).toEqual([
      'bad.yaml:4:3: error[E_CONFIG_KEY]: destport: unknown key',
      'bad.yaml:6:13: error[E_INVALID_IP]: sourceIP: is not a valid IP address',
      'bad.yaml:8:13: error[E_PORT_RANGE]: destPort: must be in 1..65535',
      'bad.yaml:9:13: error[E_PROTOCOL]: protocol: must be TCP, UDP, SCTP or ICMP',
      'bad.yaml:10:9: error[E_FIELD]: masq: must be true or false',
      'bad.yaml:13:11: error[E_INVALID_IP]: destIP: is IPv6, sourceIP is IPv4',
    ]);
  });

  it('say where a missing destPort belongs, and what a table that is not a list is', async () => {
    const c = capture({ 'a.yaml': '- name: no port\n  sourceIP: 10.244.1.7\n  destIP: 10.96.0.10\n', 'b.yaml': 'flows: 3\n' });
    expect(await runTestFlows('a.yaml', [kubia], {}, c.io)).toBe(1);
    expect(await runTestFlows('b.yaml', [kubia], {}, c.io)).toBe(1);
    expect(c.err()).toContain('a.yaml:1:3: error[E_FIELD]: destPort: required for TCP');
    expect(c.err()).toContain('b.yaml:1:1: error[E_FIELD]: expected a list of flows (or a mapping with a flows list)');
  });

  it('broken YAML is an error with its position, not a stack trace', async () => {
    const c = capture({ 'broken.yaml': '- name: x\n  sourceIP: [10.0.0.1\n' });
    expect(await runTestFlows('broken.yaml', [kubia], {}, c.io)).toBe(1);
    expect(c.err()).toMatch(/^broken\.yaml:\d+:\d+: error\[E_YAML_SYNTAX\]: /);
  });

  it('ICMP flows need no port', async () => {
    const c = capture({ 'ping.yaml': '- name: ping\n  sourceIP: 10.244.1.7\n  destIP: 10.96.0.10\n  protocol: ICMP\n  output: ""\n' });
    expect(await runTestFlows('ping.yaml', [kubia], {}, c.io)).toBe(0);
    expect(c.err()).toBe('');
  });
});

describe('a masquerade with no address to use', () => {
  it('is said as such, not as a source that "becomes" the old one', async () => {
    // A save dump and no node settings: eth0 has no address for MASQUERADE to take.
    const { compileToText, loadCluster } = await import('../src/index.js');
    const { resolveNodeConfig } = await import('../src/model/node-config.js');
    const { readFileSync } = await import('node:fs');
    const loaded = loadCluster([{ file: 'kubia.yaml', text: readFileSync(path.join(kubia, 'kubia.yaml'), 'utf8') }]);
    const dump = compileToText(loaded.cluster as NonNullable<typeof loaded.cluster>, resolveNodeConfig({ nodeName: 'node-1', clusterCIDR: '10.244.0.0/16' }), { format: 'save' });
    const r = await trace([], { rules: 'node.save', src: '203.0.113.10', dst: '10.96.0.10', dport: '80' }, { 'node.save': dump });
    expect(r.code).toBe(0);
    expect(r.out).toContain('to be masqueraded, but with no address to use: dropped: MASQUERADE found no address on eth0');
    expect(r.out).not.toContain('source becomes 203.0.113.10');
  });

  it('in nftables mode too', async () => {
    const { compileToText, loadCluster } = await import('../src/index.js');
    const { resolveNodeConfig } = await import('../src/model/node-config.js');
    const { readFileSync } = await import('node:fs');
    const loaded = loadCluster([{ file: 'kubia.yaml', text: readFileSync(path.join(kubia, 'kubia.yaml'), 'utf8') }]);
    const config = resolveNodeConfig({ nodeName: 'node-1', clusterCIDR: '10.244.0.0/16', masqueradeAll: true });
    const dump = compileToText(loaded.cluster as NonNullable<typeof loaded.cluster>, config, { mode: 'nftables', format: 'dump' });
    const r = await trace([], { mode: 'nftables', rules: 'node.nft', src: '203.0.113.10', dst: '10.96.0.10', dport: '80' }, { 'node.nft': dump });
    expect(r.code).toBe(0);
    expect(r.out).toContain('to be masqueraded, but with no address to use: dropped: masquerade found no address on eth0');
  });
});
