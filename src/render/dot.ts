/** The chain graph in Graphviz's dot language (`dot -Tsvg`), one cluster per table. */
import { EDGE_COLORS, KIND_COLORS, type ChainEdgeKind, type ChainGraph } from './chain-graph.js';

const EDGE_STYLE: Readonly<Record<ChainEdgeKind, string>> = {
  jump: '',
  goto: ', style=dashed',
  random: `, penwidth=2, color="${EDGE_COLORS.random}", fontcolor="${EDGE_COLORS.random}"`,
  affinity: `, style=dashed, color="${EDGE_COLORS.affinity}", fontcolor="${EDGE_COLORS.affinity}"`,
  action: `, color="${EDGE_COLORS.action}"`,
};

export function renderDot(graph: ChainGraph): string {
  const out = [
    `// kproxy: kube-proxy's chains (${graph.mode} mode); edges say when a rule jumps, and which share of packets a random pick sends where`,
    'digraph kproxy {',
    '  rankdir=LR;',
    '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  graph.tables.forEach((table, index) => {
    out.push(`  subgraph "cluster_${index}" {`, `    label=${quote(`table ${table}`)};`);
    for (const node of graph.nodes) {
      if (node.table !== table) continue;
      const shape = node.kind === 'action' ? ', shape=ellipse' : '';
      out.push(`    ${quote(node.id)} [label=${quote(node.lines.join('\n'))}, fillcolor="${KIND_COLORS[node.kind]}"${shape}];`);
    }
    out.push('  }');
  });
  for (const edge of graph.edges) {
    const label = edge.label ? `label=${quote(edge.label)}` : 'label=""';
    out.push(`  ${quote(edge.from)} -> ${quote(edge.to)} [${label}${EDGE_STYLE[edge.kind]}];`);
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}

/** A dot string literal: backslashes and quotes escaped, line breaks as `\n`. */
function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}
