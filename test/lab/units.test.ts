/**
 * The lab's pure parts, without root: the chi-square survival function, the comparison of prediction and
 * observation, the topology plan, the base-chain jump text, the generated sources, and the agent and prober
 * programs themselves (run on 127.0.0.1 of the test's own namespace: sockets only, no rules or routes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { prepareNode, traceWith } from '../../src/cli/trace.js';
import { agentProgram, type Listener } from '../../src/lab/agent.js';
import { clientProgram, type Observation, type Probe } from '../../src/lab/client.js';
import { compareFlow, predict, type LabHosts, type Prediction } from '../../src/lab/compare.js';
import { defaultFlows, labSources } from '../../src/lab/flows.js';
import { baseJumpsText } from '../../src/lab/rules.js';
import { chiSquareSurvival, chiSquareTest, logGamma } from '../../src/lab/stats.js';
import { endpointListeners, planTopology } from '../../src/lab/topology.js';
import { repoRoot } from '../helpers.js';

function prepared(ruleset: string, mode: 'iptables' | 'nftables' = 'iptables') {
  const io = { stdout: () => {}, stderr: () => {}, readStdin: () => '' };
  const result = prepareNode([path.join(repoRoot, 'rulesets', ruleset)], { mode }, io);
  if (!result.ok || !result.node.cluster) throw new Error(`cannot load ${ruleset}`);
  return { ...result.node, cluster: result.node.cluster };
}

describe('chi-square', () => {
  it('matches tabulated critical values', () => {
    expect(chiSquareSurvival(3.841459, 1)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(5.991465, 2)).toBeCloseTo(0.05, 6);
    expect(chiSquareSurvival(13.81551, 2)).toBeCloseTo(0.001, 6);
    expect(chiSquareSurvival(10, 4)).toBeCloseTo(0.0404277, 6);
    expect(chiSquareSurvival(0.5, 7)).toBeCloseTo(0.9994, 4);
    expect(chiSquareSurvival(0, 3)).toBe(1);
  });

  it('logGamma is ln((n-1)!) on integers', () => {
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
  });

  it('accepts a fair sample and rejects a skewed one', () => {
    expect(chiSquareTest([100, 100], [0.5, 0.5]).p).toBe(1);
    const skewed = chiSquareTest([150, 50], [0.5, 0.5]);
    expect(skewed.statistic).toBeCloseTo(50, 10);
    expect(skewed.p).toBeLessThan(1e-11);
  });
});

const answered = (endpoint: string, peer: string): Observation => ({ outcome: 'answered', endpoint, peer: `${peer}:40000` });
const twoEndpoints: Prediction = {
  fates: [
    { fate: 'answered 10.0.0.1:80', probability: 0.5, masquerade: false, sources: new Set(['10.244.1.9']) },
    { fate: 'answered 10.0.0.2:80', probability: 0.5, masquerade: false, sources: new Set(['10.244.1.9']) },
  ],
  sticky: false,
  uncertain: false,
};

describe('compareFlow', () => {
  it('agrees on an even split with the client address kept', () => {
    const observations = [...Array(100).fill(answered('10.0.0.1:80', '10.244.1.9')), ...Array(100).fill(answered('10.0.0.2:80', '10.244.1.9'))];
    const c = compareFlow(twoEndpoints, observations, '10.244.1.9');
    expect(c.problems).toEqual([]);
    expect(c.chiSquare?.p).toBe(1);
  });

  it('finds a skewed split, a missing endpoint, an unpredicted fate and a wrong source', () => {
    const skewed = compareFlow(twoEndpoints, [...Array(140).fill(answered('10.0.0.1:80', '10.244.1.9')), ...Array(60).fill(answered('10.0.0.2:80', '10.244.1.9'))], '10.244.1.9');
    expect(skewed.problems).toEqual([expect.stringMatching(/^distribution differs: chi-square 32\.00/)]);
    const missing = compareFlow(twoEndpoints, Array(200).fill(answered('10.0.0.1:80', '10.244.1.9')), '10.244.1.9');
    expect(missing.problems).toContain('predicted "answered 10.0.0.2:80" (50%) never happened in 200 connections');
    const refused = compareFlow(twoEndpoints, [{ outcome: 'refused' }], '10.244.1.9');
    expect(refused.problems).toEqual(['the kernel showed "refused" (1×), the emulator does not predict it']);
    const masqueraded = compareFlow(twoEndpoints, [answered('10.0.0.1:80', '192.168.0.2')], '10.244.1.9');
    expect(masqueraded.problems).toEqual([expect.stringContaining('the endpoint saw 192.168.0.2 (masqueraded)')]);
  });

  it('with session affinity, one client must stay on one endpoint', () => {
    const sticky = { ...twoEndpoints, sticky: true };
    expect(compareFlow(sticky, Array(10).fill(answered('10.0.0.2:80', '10.244.1.9')), '10.244.1.9').problems).toEqual([]);
    const broken = compareFlow(sticky, [answered('10.0.0.1:80', '10.244.1.9'), answered('10.0.0.2:80', '10.244.1.9')], '10.244.1.9');
    expect(broken.problems).toEqual(['session affinity: one client reached 2 endpoints (10.0.0.1:80, 10.0.0.2:80)']);
  });
});

describe('predict', () => {
  const hosts: LabHosts = { serves: (endpoint) => endpoint.endsWith(':8080'), owns: (ip) => ip.startsWith('10.244.') };
  it('kubia from a pod: three endpoints, sticky (ClientIP affinity)', () => {
    const { emu } = prepared('kubia');
    const p = predict(traceWith(emu, { protocol: 'tcp', source: '10.244.1.250', destination: '10.96.0.10', destinationPort: 80, origin: 'pod' }), hosts);
    expect(p.fates.map((f) => f.fate).sort()).toEqual(['answered 10.244.1.5:8080', 'answered 10.244.1.6:8080', 'answered 10.244.2.7:8080']);
    expect(p.sticky).toBe(true);
  });

  it('ping to a ClusterIP: lost in iptables mode, port unreachable in nftables mode', () => {
    const ping = { protocol: 'icmp' as const, source: '10.244.1.250', destination: '10.96.0.10', origin: 'pod' as const };
    expect(predict(traceWith(prepared('kubia').emu, ping), hosts).fates.map((f) => f.fate)).toEqual(['no-reply']);
    expect(predict(traceWith(prepared('kubia', 'nftables').emu, ping), hosts).fates.map((f) => f.fate)).toEqual(['port-unreachable']);
  });
});

describe('topology plan', () => {
  const { emu, cluster, config } = prepared('kubia');
  const flows = defaultFlows(cluster, emu.node);
  const plan = planTopology({ prefix: 'kpl-1-abc', config, node: emu.node, cluster, sources: flows.map((f) => ({ ip: f.spec.source, origin: f.spec.origin })), mode: 'iptables' });
  const byRole = (role: string) => plan.namespaces.filter((ns) => ns.role === role);

  it('has the node, world, node2, a namespace per local pod and both clients', () => {
    expect(plan.namespaces.map((ns) => ns.role).sort()).toEqual(['client-ext', 'client-pod', 'node', 'node2', 'pod', 'pod', 'world']);
    expect(plan.namespaces.every((ns) => ns.name.startsWith('kpl-1-abc-'))).toBe(true);
  });

  it('puts node IPs on eth0, local pods behind the cni0 bridge (hairpin on), remote pods on node2', () => {
    const node = byRole('node')[0];
    expect(node?.commands).toContain('addr add 192.168.0.2/24 dev eth0');
    expect(node?.commands).toContain('addr add 10.244.1.1/24 dev cni0');
    expect(node?.commands).toContain('route add 10.244.1.5/32 dev cni0');
    expect(node?.commands.filter((c) => c.includes('hairpin on'))).toHaveLength(3);
    expect(node?.commands).toContain('route add 10.244.2.7/32 via 100.64.0.2 dev eth0 onlink');
    expect(node?.sysctls).toContain('net.ipv4.ip_forward=1');
    expect(byRole('node2')[0]?.listeners).toEqual([{ ip: '10.244.2.7', port: 8080, proto: 'tcp' }]);
    expect(byRole('pod').flatMap((ns) => ns.listeners.map((l) => l.ip)).sort()).toEqual(['10.244.1.5', '10.244.1.6']);
  });

  it('sends each source from the right namespace', () => {
    expect(plan.senders.get('192.168.0.2')).toBe('kpl-1-abc-node');
    expect(plan.senders.get('10.244.1.250')).toBe('kpl-1-abc-client-pod');
    expect(plan.senders.get('203.0.113.10')).toBe('kpl-1-abc-client-ext');
  });
});

describe('generated flows and sources', () => {
  it('the outside client never uses a Service address (kubia-loadbalancer has LB IP 203.0.113.10)', () => {
    const { emu, cluster } = prepared('kubia-loadbalancer');
    const sources = labSources(cluster, emu.node, new Set(endpointListeners(cluster).listeners.map((l) => l.ip)));
    expect(sources.outside).not.toBe('203.0.113.10');
    expect(defaultFlows(cluster, emu.node).map((f) => f.name)).toContain(`external ${sources.outside} → default/kubia-loadbalancer:80 LB IP 203.0.113.10:80/tcp`);
  });
});

describe('base-chain jumps', () => {
  it('inserts every jump at position 1, in the order kube-proxy ensures them', () => {
    const text = baseJumpsText();
    expect(text).toContain('-I INPUT 1 -j KUBE-FIREWALL\n');
    expect(text).toContain('-I PREROUTING 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES\n');
    expect(text.indexOf('-I INPUT 1 -m conntrack --ctstate NEW')).toBeLessThan(text.indexOf('-I INPUT 1 -j KUBE-FIREWALL'));
  });
});

describe('agent and prober programs', () => {
  const children: ChildProcess[] = [];
  afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

  function start(program: (...args: never[]) => void, args: unknown[]): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['-e', `(${program.toString()})(...${JSON.stringify(args)})`], { stdio: ['pipe', 'pipe', 'inherit'] });
    children.push(child);
    return new Promise((resolve, reject) => {
      const lines = createInterface({ input: child.stdout });
      lines.once('line', (line) => (line === 'ready' ? resolve(child) : reject(new Error(line))));
    });
  }

  async function freePort(): Promise<number> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  it('the agent answers TCP and UDP with its endpoint and the peer; closed ports are refused', async () => {
    const port = await freePort();
    const closed = await freePort();
    const listeners: Listener[] = [
      { ip: '127.0.0.1', port, proto: 'tcp' },
      { ip: '127.0.0.1', port, proto: 'udp' },
    ];
    await start(agentProgram, [listeners]);
    const client = await start(clientProgram, []);
    const results = new Map<number, Observation[]>();
    createInterface({ input: client.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const r = JSON.parse(line) as { id: number; observations: Observation[] };
      results.set(r.id, r.observations);
    });
    const probe = (p: Probe) => client.stdin?.write(`${JSON.stringify(p)}\n`);
    const base = { src: '127.0.0.1', dst: '127.0.0.1', timeoutMs: 2000, concurrency: 4 };
    probe({ ...base, id: 1, kind: 'tcp', port, count: 5 });
    probe({ ...base, id: 2, kind: 'udp', port, count: 3 });
    probe({ ...base, id: 3, kind: 'tcp', port: closed, count: 1 });
    probe({ ...base, id: 4, kind: 'udp', port: closed, count: 1 });
    await expect.poll(() => results.size, { timeout: 10_000 }).toBe(4);
    for (const o of [...(results.get(1) ?? []), ...(results.get(2) ?? [])]) {
      expect(o).toEqual({ outcome: 'answered', endpoint: `127.0.0.1:${port}`, peer: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    }
    expect(results.get(1)).toHaveLength(5);
    expect(results.get(2)).toHaveLength(3);
    expect(results.get(3)).toEqual([{ outcome: 'refused' }]);
    expect(results.get(4)).toEqual([{ outcome: 'refused' }]);
  });
});
