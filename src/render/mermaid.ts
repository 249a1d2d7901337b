/** The chain graph as a mermaid flowchart (GitHub and most Markdown viewers draw it), one subgraph per table. */
import { NODE_KINDS, type ChainEdgeKind, type ChainGraph, KIND_COLORS } from './chain-graph.js';

const ARROWS: Readonly<Record<ChainEdgeKind, string>> = {
  jump: '-->',
  goto: '-->',
  random: '==>',
  affinity: '-.->',
  action: '-->',
};

export function renderMermaid(graph: ChainGraph): string {
  // Chain names hold `/` and `-`, which mermaid ids cannot: nodes are n0, n1, … in the graph's order.
  const ids = new Map(graph.nodes.map((node, index) => [node.id, `n${index}`]));
  const idOf = (id: string) => ids.get(id) ?? id;
  const out = [`%% kproxy: kube-proxy's chains (${graph.mode} mode)`, 'flowchart LR'];
  graph.tables.forEach((table, index) => {
    out.push(`  subgraph t${index}["${mermaidText(`table ${table}`)}"]`);
    for (const node of graph.nodes) {
      if (node.table !== table) continue;
      const text = `"${node.lines.map(mermaidText).join('<br/>')}"`;
      out.push(`    ${idOf(node.id)}${node.kind === 'action' ? `([${text}])` : `[${text}]`}`);
    }
    out.push('  end');
  });
  for (const edge of graph.edges) out.push(`  ${mermaidEdge(idOf(edge.from), ARROWS[edge.kind], edge.label, idOf(edge.to))}`);
  for (const kind of NODE_KINDS) {
    const members = graph.nodes.filter((n) => n.kind === kind).map((n) => idOf(n.id));
    if (members.length === 0) continue;
    out.push(`  classDef ${kind} fill:${KIND_COLORS[kind]},stroke:#555555`, `  class ${members.join(',')} ${kind}`);
  }
  return `${out.join('\n')}\n`;
}

export function mermaidEdge(from: string, arrow: string, label: string, to: string): string {
  return label ? `${from} ${arrow}|"${mermaidText(label)}"| ${to}` : `${from} ${arrow} ${to}`;
}

/** Text inside a quoted mermaid label: mermaid's entity codes for the characters its parser or HTML would take. */
export function mermaidText(text: string): string {
  return text.replace(/#/g, '#35;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}
