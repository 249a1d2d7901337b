/** Pictures of the rules: the chain graph (probabilities walked from the rules), its dot and mermaid texts. */
import { describe, expect, it } from 'vitest';
import { kproxy } from './cli-helpers.js';
import { repoRoot } from './helpers.js';
import { parseIptables } from '../src/parse/iptables.js';
import { parseNft } from '../src/parse/nft.js';
import { buildIptablesChainGraph, buildNftChainGraph, type ChainGraph } from '../src/render/chain-graph.js';
import { renderDot } from '../src/render/dot.js';
import { renderMermaid } from '../src/render/mermaid.js';
import path from 'node:path';

const kubia = path.join(repoRoot, 'rulesets/kubia/');
const kubiaNodePort = path.join(repoRoot, 'rulesets/kubia-nodeport/');

function iptablesGraph(payload: string): ChainGraph {
  const parsed = parseIptables(payload, 'rules.txt', 4);
  expect(parsed.diagnostics).toEqual([]);
  return buildIptablesChainGraph(parsed.ruleset);
}

/** `from → to: share` for every edge that carries a share, in graph order. */
function shares(graph: ChainGraph): string[] {
  return graph.edges.filter((e) => e.probability !== undefined).map((e) => `${e.from} → ${e.to}: ${(e.probability as number).toFixed(4)} ${e.kind}`);
}

describe('chain graph', () => {
  it('walks a non-uniform random chain: each rule takes its probability of what the rules above left', () => {
    const graph = iptablesGraph(`*nat
:KUBE-SVC-A - [0:0]
:KUBE-SEP-1 - [0:0]
:KUBE-SEP-2 - [0:0]
:KUBE-SEP-3 - [0:0]
-A KUBE-SVC-A -m statistic --mode random --probability 0.25 -j KUBE-SEP-1
-A KUBE-SVC-A -m statistic --mode random --probability 0.5 -j KUBE-SEP-2
-A KUBE-SVC-A -j KUBE-SEP-3
-A KUBE-SEP-1 -j DNAT --to-destination 10.0.0.1:80
-A KUBE-SEP-2 -j DNAT --to-destination 10.0.0.2:80
-A KUBE-SEP-3 -j DNAT --to-destination 10.0.0.3:80
COMMIT
`);
    expect(shares(graph)).toEqual([
      'nat:KUBE-SVC-A → nat:KUBE-SEP-1: 0.2500 random',
      'nat:KUBE-SVC-A → nat:KUBE-SEP-2: 0.3750 random',
      'nat:KUBE-SVC-A → nat:KUBE-SEP-3: 0.3750 random',
    ]);
    expect(graph.edges.find((e) => e.to === 'nat:KUBE-SEP-2')?.label).toBe('37.5%');
  });

  it("rules below an unconditional one get nothing; conditional rules do not take from the share", () => {
    const graph = iptablesGraph(`*nat
:KUBE-SVC-B - [0:0]
:KUBE-SEP-1 - [0:0]
:KUBE-SEP-2 - [0:0]
:KUBE-MARK-MASQ - [0:0]
-A KUBE-SVC-B ! -s 10.244.0.0/16 -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j KUBE-MARK-MASQ
-A KUBE-SVC-B -j KUBE-SEP-1
-A KUBE-SVC-B -j KUBE-SEP-2
COMMIT
`);
    expect(shares(graph)).toEqual(['nat:KUBE-SVC-B → nat:KUBE-SEP-1: 1.0000 jump', 'nat:KUBE-SVC-B → nat:KUBE-SEP-2: 0.0000 jump']);
    const masq = graph.edges.find((e) => e.to === 'nat:KUBE-MARK-MASQ');
    expect(masq).toMatchObject({ kind: 'jump', label: '! -s 10.244.0.0/16 -d 10.96.0.1/32 -p tcp --dport 80' });
    expect(masq?.probability).toBeUndefined();
  });

  it('marking on the way claims no share: the picks after it still divide all the packets', () => {
    const graph = iptablesGraph(`*nat
:KUBE-SVC-C - [0:0]
:KUBE-SEP-1 - [0:0]
:KUBE-SEP-2 - [0:0]
:KUBE-MARK-MASQ - [0:0]
-A KUBE-SVC-C -j KUBE-MARK-MASQ
-A KUBE-SVC-C -j MARK --set-xmark 0x1/0x1
-A KUBE-SVC-C -m statistic --mode random --probability 0.5 -j KUBE-SEP-1
-A KUBE-SVC-C -j KUBE-SEP-2
COMMIT
`);
    expect(shares(graph)).toEqual(['nat:KUBE-SVC-C → nat:KUBE-SEP-1: 0.5000 random', 'nat:KUBE-SVC-C → nat:KUBE-SEP-2: 0.5000 random']);
  });

  it("kube-proxy's 1/(n-i) chain gives each of 3 endpoints a third; affinity edges are their own kind", async () => {
    const run = await kproxy(['compile', kubia]);
    expect(run.code).toBe(0);
    const graph = iptablesGraph(run.stdout);
    const picks = graph.edges.filter((e) => e.kind === 'random');
    expect(picks).toHaveLength(3);
    for (const pick of picks) expect(pick.probability).toBeCloseTo(1 / 3, 4);
    expect(picks.reduce((sum, e) => sum + (e.probability as number), 0)).toBeCloseTo(1, 9);
    const affinity = graph.edges.filter((e) => e.kind === 'affinity');
    expect(affinity.map((e) => e.label)).toEqual(Array(3).fill('affinity: client seen in the last 10800s'));
    expect(new Set(affinity.map((e) => e.to))).toEqual(new Set(picks.map((e) => e.to)));
    const svc = graph.nodes.find((n) => n.kind === 'service');
    expect(svc?.service).toBe('default/kubia');
    expect(graph.nodes.filter((n) => n.kind === 'endpoint').map((n) => n.lines[2]).sort()).toEqual(['10.244.1.5:8080', '10.244.1.6:8080', '10.244.2.7:8080']);
    expect(graph.tables[0]).toBe('nat');
  });

  it('nftables: numgen vmap elements share the draw, service-ips map elements are keyed jumps', () => {
    const parsed = parseNft(
      `add table ip kube-proxy
add chain ip kube-proxy services
add chain ip kube-proxy service-AAAAAAAA-ns/web/tcp/http
add chain ip kube-proxy endpoint-BBBBBBBB-ns/web/tcp/http__10.0.0.1/80
add chain ip kube-proxy endpoint-CCCCCCCC-ns/web/tcp/http__10.0.0.2/80
add map ip kube-proxy service-ips { type ipv4_addr . inet_proto . inet_service : verdict ; }
add rule ip kube-proxy services ip daddr . meta l4proto . th dport vmap @service-ips
add rule ip kube-proxy service-AAAAAAAA-ns/web/tcp/http numgen random mod 4 vmap { 0-2 : goto endpoint-BBBBBBBB-ns/web/tcp/http__10.0.0.1/80 , 3 : goto endpoint-CCCCCCCC-ns/web/tcp/http__10.0.0.2/80 }
add rule ip kube-proxy endpoint-BBBBBBBB-ns/web/tcp/http__10.0.0.1/80 meta l4proto tcp dnat to 10.0.0.1:80
add rule ip kube-proxy endpoint-CCCCCCCC-ns/web/tcp/http__10.0.0.2/80 meta l4proto tcp dnat to 10.0.0.2:80
add element ip kube-proxy service-ips { 10.96.0.5 . tcp . 80 : goto service-AAAAAAAA-ns/web/tcp/http }
`,
      'dump.nft',
    );
    expect(parsed.diagnostics).toEqual([]);
    const graph = buildNftChainGraph(parsed.ruleset);
    expect(shares(graph)).toEqual([
      'ip kube-proxy:service-AAAAAAAA-ns/web/tcp/http → ip kube-proxy:endpoint-BBBBBBBB-ns/web/tcp/http__10.0.0.1/80: 0.7500 random',
      'ip kube-proxy:service-AAAAAAAA-ns/web/tcp/http → ip kube-proxy:endpoint-CCCCCCCC-ns/web/tcp/http__10.0.0.2/80: 0.2500 random',
    ]);
    expect(graph.edges.find((e) => e.from === 'ip kube-proxy:services')).toMatchObject({ kind: 'goto', label: '10.96.0.5 . tcp . 80' });
    expect(graph.nodes.find((n) => n.kind === 'service')?.service).toBe('ns/web:http');
    expect(graph.nodes.find((n) => n.name.includes('10.0.0.2'))?.lines.at(-1)).toBe('10.0.0.2:80');
  });
});

describe('compile --format dot|mermaid', () => {
  it('dot: clusters per table, the Service on the chain, shares on the random edges', async () => {
    const run = await kproxy(['compile', kubia, '--format', 'dot']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const dot = run.stdout;
    expect(dot).toMatch(/^\/\/ kproxy: .*\ndigraph kproxy \{\n/);
    expect(dot.trimEnd().endsWith('}')).toBe(true);
    expect(dot.indexOf('label="table nat"')).toBeLessThan(dot.indexOf('label="table filter"'));
    expect(dot).toMatch(/"nat:KUBE-SVC-XCCRWSFD2BRL7CRI" \[label="KUBE-SVC-XCCRWSFD2BRL7CRI\\ndefault\/kubia", fillcolor="#d9ead3"\];/);
    expect(dot.match(/"nat:KUBE-SVC-XCCRWSFD2BRL7CRI" -> "nat:KUBE-SEP-\w+" \[label="33.3%", penwidth=2/g)).toHaveLength(3);
    expect(dot.match(/-> "nat:KUBE-SEP-\w+" \[label="affinity: client seen in the last 10800s", style=dashed/g)).toHaveLength(3);
    expect(dot).toContain('"nat:KUBE-SERVICES" -> "nat:KUBE-SVC-XCCRWSFD2BRL7CRI" [label="-p tcp -d 10.96.0.10 --dport 80"];');
    expect(dot).toContain('"nat:PREROUTING" -> "nat:KUBE-SERVICES"');
    // every edge's ends are declared nodes
    const declared = new Set([...dot.matchAll(/^ {4}("[^"]+") \[label=/gm)].map((m) => m[1]));
    for (const [, from, to] of dot.matchAll(/^ {2}("[^"]+") -> ("[^"]+")/gm)) {
      expect(declared.has(from as string) && declared.has(to as string), `${from} -> ${to}`).toBe(true);
    }
  });

  it('mermaid: ids are safe, labels escaped, classes per kind; the same input gives the same text', async () => {
    const first = await kproxy(['compile', kubiaNodePort, '--format', 'mermaid']);
    const second = await kproxy(['compile', kubiaNodePort, '--format', 'mermaid']);
    expect(first.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const text = first.stdout;
    expect(text.split('\n')[1]).toBe('flowchart LR');
    expect(text).toMatch(/^ {2}subgraph t0\["table nat"\]$/m);
    expect(text.match(/^ {2}n\d+ ==>\|"33\.3%"\| n\d+$/gm)).toHaveLength(3);
    expect(text).toMatch(/^ {4}n\d+\["KUBE-EXT-\w+<br\/>default\/kubia-nodeport"\]$/m);
    expect(text).toMatch(/^ {2}class n\d+(,n\d+){2} endpoint$/m);
    // node lines use only n<number> ids, and no raw quote or angle bracket leaks into a label
    for (const line of text.split('\n').filter((l) => /^\s+n\d/.test(l))) expect(line).toMatch(/^\s+n\d+(\["|\(\["| (-->|==>|-\.->)(\|"[^"]*"\|)? n\d+$)/);
    expect(text.replace(/<br\/>/g, '')).not.toMatch(/\["[^"]*[<>][^"]*"\]/);
  });

  it('nftables mode draws the chains and vmap edges too', async () => {
    const run = await kproxy(['compile', kubiaNodePort, '--mode', 'nftables', '--format', 'dot']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('label="table ip kube-proxy"');
    expect(run.stdout.match(/"ip kube-proxy:service-\w+-default\/kubia-nodeport\/tcp\/" -> "ip kube-proxy:endpoint-[^"]+" \[label="33.3%"/g)).toHaveLength(3);
    expect(run.stdout).toContain('"ip kube-proxy:services" -> "ip kube-proxy:service-WQMMY55P-default/kubia-nodeport/tcp/" [label="10.96.0.13 . tcp . 80", style=dashed];');
  });

  it('nftables affinity sets draw the same affinity edges as recent --rcheck', async () => {
    const run = await kproxy(['compile', kubia, '--mode', 'nftables', '--format', 'mermaid']);
    expect(run.code).toBe(0);
    expect(run.stdout.match(/^ {2}n\d+ -\.->\|"affinity: client seen in the last 10800s"\| n\d+$/gm)).toHaveLength(3);
    expect(run.stdout.match(/^ {2}n\d+ ==>\|"33\.3%"\| n\d+$/gm)).toHaveLength(3);
  });

  it('dot and mermaid render the same graph', () => {
    const graph = iptablesGraph(`*nat
:KUBE-SVC-Q - [0:0]
:KUBE-SEP-Q - [0:0]
-A KUBE-SVC-Q -m comment --comment "a \\"quoted\\" <name>" -j KUBE-SEP-Q
-A KUBE-SEP-Q -j DNAT --to-destination 10.0.0.9:80
COMMIT
`);
    expect(renderDot(graph)).toContain('"nat:KUBE-SVC-Q" -> "nat:KUBE-SEP-Q" [label="100%"];');
    expect(renderMermaid(graph)).toContain('n0 -->|"100%"| n1');
    expect(renderMermaid(graph)).toContain('n1 --> n2');
  });
});

describe('trace --format mermaid', () => {
  const request = ['trace', kubia, '--dst', '10.96.0.10', '--dport', '80'];

  it('forks where the random draw parts the paths, with the share on each side, and ends in one box per outcome', async () => {
    const run = await kproxy([...request, '--format', 'mermaid']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const text = run.stdout;
    expect(text.split('\n').slice(0, 3)).toEqual([
      '%% kproxy trace: tcp 10.244.1.2:40000 → 10.96.0.10:80 (iptables mode)',
      'flowchart TD',
      '  s0(["tcp 10.244.1.2:40000 → 10.96.0.10:80<br/>from a pod, iptables mode"])',
    ]);
    const forks = [...text.matchAll(/^ {2}(s\d+) -->\|"([^"]+)"\| (s\d+)$/gm)];
    expect(forks.map((m) => m[2])).toEqual(['33.3%', '33.3%', '33.3%']);
    expect(new Set(forks.map((m) => m[1])).size).toBe(1);
    const forkNode = new RegExp(`^ {2}${forks[0]?.[1]}\\["([^"]+)"\\]$`, 'm').exec(text)?.[1];
    expect(forkNode).toMatch(/^prerouting · nat KUBE-SERVICES rule 1<br\/>.*<br\/>→ jump KUBE-SVC-XCCRWSFD2BRL7CRI$/);
    const outcomes = [...text.matchAll(/^ {2}s\d+\[\["([^"]+)"\]\]$/gm)].map((m) => m[1]);
    expect(outcomes).toHaveLength(3);
    expect(outcomes.map((o) => /DNAT to (\S+),/.exec(o as string)?.[1]).sort()).toEqual(['10.244.1.5:8080', '10.244.1.6:8080', '10.244.2.7:8080']);
    expect(outcomes.every((o) => o?.startsWith('33.3%: '))).toBe(true);
    // each node is declared once and every edge joins declared nodes
    const declared = [...text.matchAll(/^ {2}(s\d+)[[(]/gm)].map((m) => m[1]);
    expect(new Set(declared).size).toBe(declared.length);
    for (const [, from, to] of text.matchAll(/^ {2}(s\d+) -->(?:\|"[^"]*"\|)? (s\d+)$/gm)) expect(declared).toEqual(expect.arrayContaining([from, to]));
  });

  it('a ping to the ClusterIP is one road with no shares: not translated, routed off the node', async () => {
    const run = await kproxy(['trace', kubia, '--dst', '10.96.0.10', '--proto', 'icmp', '--format', 'mermaid']);
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(/-->\|/);
    expect(run.stdout).toMatch(/\[\["100%: forwarded<br\/>to 10\.96\.0\.10, not translated, source 10\.244\.1\.2 kept<br\/>/);
  });

  it('--format json is --json; mermaid draws one packet only; unknown formats are usage errors', async () => {
    expect((await kproxy([...request, '--format', 'json'])).stdout).toBe((await kproxy([...request, '--json'])).stdout);
    expect((await kproxy([...request, '--format', 'text'])).stdout).toBe((await kproxy(request)).stdout);
    expect(await kproxy([...request, '--format', 'mermaid', '--connections', '3'])).toMatchObject({ code: 2, stderr: expect.stringContaining('--format mermaid draws one packet') });
    expect(await kproxy([...request, '--format', 'svg'])).toMatchObject({ code: 2, stderr: 'kproxy: --format must be text, json or mermaid, not "svg"\n' });
    expect((await kproxy([...request, '--format', 'mermaid', '--json'])).code).toBe(2);
  });
});
