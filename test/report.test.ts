/** `kproxy report`: one self-contained page with the Services, the chain graph as SVG, traces and the rules. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kproxy } from './cli-helpers.js';
import { repoRoot } from './helpers.js';
import { parseIptables } from '../src/parse/iptables.js';
import { buildIptablesChainGraph } from '../src/render/chain-graph.js';
import { layoutTable } from '../src/report/layout.js';

const kubia = path.join(repoRoot, 'rulesets/kubia/');
const multiport = path.join(repoRoot, 'rulesets/kubia-multiport/');

function unescapeHtml(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

/** The text of each `<pre>` under a section, unescaped. */
function pres(html: string, section: string): string[] {
  const body = new RegExp(`<section id="${section}">([\\s\\S]*?)</section>`).exec(html)?.[1] ?? '';
  return [...body.matchAll(/<pre>([\s\S]*?)<\/pre>/g)].map((m) => unescapeHtml(m[1] as string));
}

describe('layout of the chain graph', () => {
  it('columns left to right along the jumps, no boxes overlap, long edges pass between the boxes', async () => {
    const saved = await kproxy(['compile', path.join(repoRoot, 'rulesets/kubia-loadbalancer/')]);
    const graph = buildIptablesChainGraph(parseIptables(saved.stdout, 'save', 4).ruleset);
    const layout = layoutTable(graph, 'nat');
    expect(layout.nodes).toHaveLength(graph.nodes.filter((n) => n.table === 'nat').length);
    const at = new Map(layout.nodes.map((p) => [p.node.id, p]));
    const inside = (x: number, y: number) => layout.nodes.some((p) => x > p.x && x < p.x + p.width && y > p.y && y < p.y + p.height);
    for (const a of layout.nodes) {
      for (const b of layout.nodes) {
        if (a !== b && a.column === b.column) expect(a.y + a.height <= b.y || b.y + b.height <= a.y, `${a.node.id} / ${b.node.id}`).toBe(true);
      }
    }
    let crossings = 0;
    for (const { edge, points } of layout.edges) {
      const from = at.get(edge.from) as (typeof layout.nodes)[number];
      const to = at.get(edge.to) as (typeof layout.nodes)[number];
      expect(from.column).toBeLessThan(to.column);
      expect(points[0]?.x).toBe(from.x + from.width);
      expect(points.at(-1)?.x).toBe(to.x);
      expect(points.length).toBe(2 + 2 * (to.column - from.column - 1));
      for (let i = 1; i < points.length; i++) expect((points[i] as { x: number }).x).toBeGreaterThanOrEqual((points[i - 1] as { x: number }).x);
      for (const p of points.slice(1, -1)) expect(inside(p.x, p.y), `${edge.from} → ${edge.to} crosses a box`).toBe(false);
      crossings += points.length - 2;
    }
    expect(crossings).toBeGreaterThan(0);
  });
});

describe('kproxy report', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'kproxy-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a page that fetches nothing: no script, no stylesheet link, no external URL, a CSP that forbids them', async () => {
    const file = path.join(dir, 'kubia.html');
    const run = await kproxy(['report', kubia, '--html', file]);
    expect(run).toMatchObject({ code: 0, stdout: '', stderr: `kproxy: wrote ${file} (2 traces)\n` });
    const html = readFileSync(file, 'utf8');
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<object|@import|\bsrc=|url\((?!#)/i);
    expect(html).not.toMatch(/\b(?:href|xlink:href|action)="(?!#)/);
    // every internal link points at something on the page
    for (const [, target] of html.matchAll(/href="#([^"]+)"/g)) expect(html).toContain(`id="${target}"`);
    for (const [, target] of html.matchAll(/url\(#([^)]+)\)/g)) expect(html).toContain(`id="${target}"`);
  });

  it('draws the chain graph as SVG: KUBE-SERVICES → KUBE-SVC → three KUBE-SEP at a third each, affinity edges beside them', async () => {
    const { stdout: html, code } = await kproxy(['report', kubia, '--html', '-']);
    expect(code).toBe(0);
    const svgs = [...html.matchAll(/<svg class="chain-graph" data-table="([^"]+)"/g)].map((m) => m[1]);
    expect(svgs).toEqual(['nat', 'filter']);
    const nat = /<svg class="chain-graph" data-table="nat"[\s\S]*?<\/svg>/.exec(html)?.[0] ?? '';
    const nodeIds = [...nat.matchAll(/<g class="node kind-(\w+)" data-id="([^"]+)">/g)].map((m) => `${m[1]} ${m[2]}`);
    expect(nodeIds).toEqual(expect.arrayContaining(['dispatch nat:KUBE-SERVICES', 'service nat:KUBE-SVC-XCCRWSFD2BRL7CRI', 'action nat:action:DNAT 10.244.1.5:8080']));
    expect(nodeIds.filter((n) => n.startsWith('endpoint nat:KUBE-SEP-'))).toHaveLength(3);
    const random = [...nat.matchAll(/<g class="edge kind-random" data-from="nat:KUBE-SVC-XCCRWSFD2BRL7CRI" data-to="nat:(KUBE-SEP-\w+)" data-probability="([\d.]+)">[\s\S]*?<text [^>]*>([^<]*)<\/text>/g)];
    expect(random).toHaveLength(3);
    for (const m of random) {
      expect(Number(m[2])).toBeCloseTo(1 / 3, 4);
      expect(m[3]).toBe('33.3%');
    }
    expect(nat.match(/<g class="edge kind-affinity" data-from="nat:KUBE-SVC-XCCRWSFD2BRL7CRI"/g)).toHaveLength(3);
    expect(nat).toContain('<g class="edge kind-jump" data-from="nat:KUBE-SERVICES" data-to="nat:KUBE-SVC-XCCRWSFD2BRL7CRI">');
    // boxes sit in columns from left to right along the jumps
    const x = (id: string) => Number(new RegExp(`data-id="${id}">\\n<title>[^<]*</title>\\n<rect x="([\\d.]+)"`).exec(nat)?.[1]);
    expect(x('nat:PREROUTING')).toBeLessThan(x('nat:KUBE-SERVICES'));
    expect(x('nat:KUBE-SERVICES')).toBeLessThan(x('nat:KUBE-SVC-XCCRWSFD2BRL7CRI'));
    expect(x('nat:KUBE-SVC-XCCRWSFD2BRL7CRI')).toBeLessThan(x('nat:action:DNAT 10.244.1.5:8080'));
  });

  it("traces each Service port from a pod and pings each ClusterIP, with kproxy trace's own words; the rules as iptables-save prints them", async () => {
    const { stdout: html } = await kproxy(['report', multiport, '--html', '-']);
    const titles = [...html.matchAll(/<article id="trace-\d+">\n<h3>([^<]*)<\/h3>/g)].map((m) => unescapeHtml(m[1] as string));
    expect(titles).toEqual([
      'tcp from a pod to default/kubia:http at 10.96.0.11:80',
      'tcp from a pod to default/kubia:https at 10.96.0.11:443',
      'ping (ICMP echo) from a pod to default/kubia at 10.96.0.11',
    ]);
    const traces = pres(html, 'traces');
    expect(traces[0]).toBe((await kproxy(['trace', multiport, '--dst', '10.96.0.11', '--dport', '80', '--proto', 'tcp'])).stdout);
    expect(traces[2]).toBe((await kproxy(['trace', multiport, '--dst', '10.96.0.11', '--proto', 'icmp'])).stdout);
    expect(traces[2]).toContain('Why there is no reply');
    expect(pres(html, 'rules')).toEqual([(await kproxy(['compile', multiport])).stdout]);
    expect(html).toContain('<tr><td>default/kubia</td><td>ClusterIP</td><td>10.96.0.11</td><td>http: 80/TCP → 8080<br>https: 443/TCP → 8443</td></tr>');
  });

  it('--trace picks the packets; the same inputs give the same page; nftables mode draws its own chains', async () => {
    const args = ['report', kubia, '--html', '-', '--trace', ',kubia,80,tcp', '--trace', '10.244.1.5,10.96.0.10,80,'];
    const first = await kproxy(args);
    expect(first.code).toBe(0);
    expect((await kproxy(args)).stdout).toBe(first.stdout);
    const titles = [...first.stdout.matchAll(/<h3>([^<]*)<\/h3>/g)].map((m) => m[1]);
    expect(titles).toEqual(['tcp from a pod of this node to kubia:80', 'tcp from 10.244.1.5 to 10.96.0.10:80']);
    expect(pres(first.stdout, 'traces')[0]).toContain('kubia → kubia.default.svc.cluster.local → 10.96.0.10');

    const nft = await kproxy(['report', kubia, '--html', '-', '--mode', 'nftables']);
    expect(nft.code).toBe(0);
    expect(nft.stdout).toContain('<svg class="chain-graph" data-table="ip kube-proxy"');
    expect(nft.stdout.match(/<g class="edge kind-random" data-from="ip kube-proxy:service-/g)).toHaveLength(3);
    expect(pres(nft.stdout, 'rules')[0]).toMatch(/^table ip kube-proxy \{/);
    expect(pres(nft.stdout, 'traces')[0]).toContain('(nftables mode, node node-1)');
  });

  it('reads standard input once for all traces; traces the first 8 Services by default and says so', async () => {
    const services = Array.from({ length: 9 }, (_, i) => `apiVersion: v1
kind: Service
metadata: {name: svc-${i}, namespace: default}
spec:
  clusterIP: 10.96.1.${i + 1}
  ports: [{port: 80}]
  selector: {app: svc-${i}}
`).join('---\n');
    const client = 'apiVersion: v1\nkind: Pod\nmetadata: {name: client, namespace: default}\nspec: {nodeName: node-1, containers: [{name: c, image: i}]}\nstatus: {phase: Running, podIP: 10.244.1.9, conditions: [{type: Ready, status: "True"}]}\n';
    const run = await kproxy(['report', '-', '--html', '-', '--node-name', 'node-1'], `${services}---\n${client}`);
    expect(run.code).toBe(0);
    const titles = [...run.stdout.matchAll(/<h3>([^<]*)<\/h3>/g)].map((m) => m[1]);
    expect(titles).toHaveLength(16);
    expect(titles.at(-1)).toBe('ping (ICMP echo) from a pod to default/svc-7 at 10.96.1.8');
    expect(run.stdout).toContain('<p class="muted">Traced the first 8 of 9 Services (by name); name other packets with --trace &quot;src,dst,dport,proto&quot;.</p>');
    // no endpoints: kube-proxy rejects, and each trace says so
    expect(pres(run.stdout, 'traces')[0]).toMatch(/REJECT/);
  });

  it('usage errors exit 2 with the reason; a packet the tracer refuses names the trace', async () => {
    expect(await kproxy(['report', kubia])).toMatchObject({ code: 2, stderr: expect.stringContaining("required option '--html <file>' not specified") });
    expect(await kproxy(['report', kubia, '--html', '-', '--trace', 'nowhere'])).toMatchObject({
      code: 2,
      stderr: 'kproxy: --trace "nowhere": write "src,dst,dport,proto" (src, dport and proto may be empty; dst may not)\n',
    });
    expect(await kproxy(['report', kubia, '--html', '-', '--trace', ',10.96.0.10,,udp'])).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'kproxy: tracing udp from a pod of this node to 10.96.0.10 failed:\nkproxy: --dport is needed for udp\n',
    });
    expect((await kproxy(['report', kubia, '--html', path.join(dir, 'no/such/dir/x.html')])).code).toBe(1);
  });

  it('a default packet that cannot be traced is explained on the page instead of failing it', async () => {
    const service = 'apiVersion: v1\nkind: Service\nmetadata: {name: lone, namespace: default}\nspec:\n  clusterIP: 10.96.1.1\n  ports: [{port: 80}]\n';
    const run = await kproxy(['report', '-', '--html', '-', '--node-name', 'node-1'], service);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('kproxy: warning: could not trace tcp from a pod to default/lone at 10.96.1.1:80; the page says why\n');
    expect(pres(run.stdout, 'traces')[0]).toBe('Not traced:\nkproxy: give --src: no pod address is known on this node\n');
  });
});
