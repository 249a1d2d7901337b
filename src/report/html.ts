/**
 * The report page: one HTML file that needs nothing else. Styles are inline, the graph is inline SVG, there is
 * no script, and a Content-Security-Policy forbids every fetch, so the page opens the same offline, from a mail
 * attachment or from a CI artifact. No dates in it: the same inputs give the same bytes.
 */
import { KIND_COLORS, NODE_KINDS, EDGE_COLORS, type ChainGraph } from '../render/chain-graph.js';
import { escapeXml, renderChainSvg } from './svg.js';

export interface ServiceRow {
  /** `namespace/name`. */
  name: string;
  type: string;
  clusterIP: string;
  /** `80/TCP → 8080`, `30123` for a NodePort, one per Service port. */
  ports: string[];
}

export interface TraceSection {
  /** What was traced, in a few words: `tcp from a pod to default/kubia 10.96.0.10:80`. */
  title: string;
  /** `kproxy trace`'s explanation, as printed. */
  text: string;
}

export interface ReportData {
  /** The input paths, as given on the command line. */
  inputs: string[];
  mode: 'iptables' | 'nftables';
  nodeName: string;
  version: string;
  services: ServiceRow[];
  graph: ChainGraph;
  /** The rules in the mode's text (iptables-save, nft list ruleset). */
  rules: string;
  traces: TraceSection[];
  /** Said above the traces, e.g. that only some Services were traced. */
  tracesNote?: string;
}

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0; padding: 0 16px 48px; color: #222; }
p, table { max-width: 1200px; }
h1 { margin: 16px 0 4px; } h2 { border-bottom: 1px solid #ccc; margin-top: 32px; } h3 { margin: 20px 0 6px; font-size: 15px; }
nav a { margin-right: 12px; }
table { border-collapse: collapse; } th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
pre { background: #f7f7f7; border: 1px solid #ddd; padding: 8px; overflow-x: auto; font-size: 12px; line-height: 1.35; }
figure { margin: 12px 0; overflow-x: auto; border: 1px solid #ddd; }
figcaption { font-weight: 600; padding: 4px 8px; background: #f3f3f3; }
svg.chain-graph { display: block; font: 11px monospace; }
svg.chain-graph rect { stroke: #555; }
svg.chain-graph path { fill: none; }
svg.chain-graph .edge text { font-size: 10px; text-anchor: end; paint-order: stroke; stroke: #fff; stroke-width: 3px; }
.legend span { display: inline-block; margin-right: 10px; padding: 1px 6px; border: 1px solid #555; font: 12px monospace; }
.muted { color: #666; }
`;

export function renderReportHtml(data: ReportData): string {
  const title = `kproxy report: ${data.inputs.join(' ')}`;
  const rulesName = data.mode === 'iptables' ? 'iptables-save' : 'nft list ruleset';
  const out = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    // Nothing may be fetched: the page is complete as it is.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeXml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<header>',
    '<h1>kproxy report</h1>',
    `<p>Inputs: ${data.inputs.map((i) => `<code>${escapeXml(i)}</code>`).join(', ')} · ${data.mode} mode · node <code>${escapeXml(data.nodeName || '(unnamed)')}</code> · kproxy ${escapeXml(data.version)}</p>`,
    '<nav><a href="#services">Services</a><a href="#graph">Chain graph</a><a href="#traces">Traces</a><a href="#rules">Rules</a></nav>',
    '</header>',
    ...servicesSection(data.services),
    ...graphSection(data.graph),
    ...tracesSection(data.traces, data.tracesNote),
    '<section id="rules">',
    `<h2>Rules</h2>`,
    `<p class="muted">What kube-proxy writes on this node, as <code>${rulesName}</code> prints it.</p>`,
    `<pre>${escapeXml(data.rules)}</pre>`,
    '</section>',
    '</body>',
    '</html>',
  ];
  return `${out.join('\n')}\n`;
}

function servicesSection(services: readonly ServiceRow[]): string[] {
  const out = ['<section id="services">', '<h2>Services</h2>'];
  if (services.length === 0) return [...out, '<p>The inputs hold no Service.</p>', '</section>'];
  out.push('<table>', '<tr><th>Service</th><th>type</th><th>ClusterIP</th><th>ports</th></tr>');
  for (const s of services) {
    out.push(`<tr><td>${escapeXml(s.name)}</td><td>${escapeXml(s.type)}</td><td>${escapeXml(s.clusterIP)}</td><td>${s.ports.map(escapeXml).join('<br>')}</td></tr>`);
  }
  out.push('</table>', '</section>');
  return out;
}

function graphSection(graph: ChainGraph): string[] {
  const kinds = NODE_KINDS.filter((k) => graph.nodes.some((n) => n.kind === k));
  const out = [
    '<section id="graph">',
    '<h2>Chain graph</h2>',
    '<p>Each box is a chain (or, rounded, what a rule finally does); each arrow is a rule that jumps there, labelled with its conditions. ' +
      `<span style="color:${EDGE_COLORS.random}">Thick blue arrows</span> are random picks, with the share of the packets entering the chain that each one takes, computed from the rules; ` +
      `<span style="color:${EDGE_COLORS.affinity}">dashed purple arrows</span> send a client back to the endpoint it used before (sessionAffinity). Hover over a box or an arrow for its full text.</p>`,
    `<p class="legend">${kinds.map((k) => `<span style="background:${KIND_COLORS[k]}">${k}</span>`).join('')}</p>`,
  ];
  if (graph.tables.length === 0) out.push('<p>There are no rules to draw.</p>');
  graph.tables.forEach((table, index) => {
    out.push('<figure>', `<figcaption>table ${escapeXml(table)}</figcaption>`, renderChainSvg(graph, table, index), '</figure>');
  });
  out.push('</section>');
  return out;
}

function tracesSection(traces: readonly TraceSection[], note: string | undefined): string[] {
  const out = ['<section id="traces">', '<h2>Traces</h2>'];
  if (note) out.push(`<p class="muted">${escapeXml(note)}</p>`);
  if (traces.length === 0) out.push('<p>No packets were traced.</p>');
  traces.forEach((trace, index) => {
    out.push(`<article id="trace-${index + 1}">`, `<h3>${escapeXml(trace.title)}</h3>`, `<pre>${escapeXml(trace.text)}</pre>`, '</article>');
  });
  out.push('</section>');
  return out;
}
