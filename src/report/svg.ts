/**
 * One table of the chain graph as inline SVG (laid out by layout.ts): boxes coloured by kind, curved edges with
 * their share or condition, the full text of each in a tooltip. Elements carry `class` and `data-*` attributes
 * naming what they draw, so a page (or a test) can find a chain or an edge in the DOM.
 */
import { EDGE_COLORS, KIND_COLORS, type ChainEdgeKind, type ChainGraph } from '../render/chain-graph.js';
import { layoutTable, METRICS, type Point } from './layout.js';

export function renderChainSvg(graph: ChainGraph, table: string, index: number): string {
  const layout = layoutTable(graph, table);
  const marker = `arrow-${index}`;
  const out = [
    `<svg class="chain-graph" data-table="${escapeXml(table)}" viewBox="0 0 ${layout.width} ${layout.height}" width="${layout.width}" height="${layout.height}" role="img" aria-label="${escapeXml(`chains of table ${table}`)}">`,
    // One arrowhead per edge colour: marker fills cannot follow the line's colour in every browser.
    `<defs>${(Object.keys(EDGE_COLORS) as ChainEdgeKind[]).map((kind) => `<marker id="${marker}-${kind}" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="${EDGE_COLORS[kind]}"/></marker>`).join('')}</defs>`,
    '<g class="edges">',
  ];
  for (const placed of layout.edges) {
    const { edge, points } = placed;
    const end = points[points.length - 1] as Point;
    const probability = edge.probability !== undefined ? ` data-probability="${edge.probability}"` : '';
    out.push(
      `<g class="edge kind-${edge.kind}" data-from="${escapeXml(edge.from)}" data-to="${escapeXml(edge.to)}"${probability}>`,
      `<title>${escapeXml(`${edge.from} → ${edge.to} (rule ${edge.rule})${edge.label ? `: ${edge.label}` : ''}`)}</title>`,
      `<path d="${pathData(points)}" stroke="${EDGE_COLORS[edge.kind]}" marker-end="url(#${marker}-${edge.kind})"${edge.kind === 'affinity' || edge.kind === 'goto' ? ' stroke-dasharray="5 3"' : ''}${edge.kind === 'random' ? ' stroke-width="2"' : ''}/>`,
    );
    // Beside the arrowhead, where each edge has a line of its own (layout.ts sizes the boxes for it).
    if (placed.text) out.push(`<text x="${n(end.x - 10)}" y="${n(end.y - 3)}" fill="${EDGE_COLORS[edge.kind]}">${escapeXml(placed.text)}</text>`);
    out.push('</g>');
  }
  out.push('</g>', '<g class="nodes">');
  for (const p of layout.nodes) {
    const node = p.node;
    out.push(
      `<g class="node kind-${node.kind}" data-id="${escapeXml(node.id)}">`,
      `<title>${escapeXml(node.lines.join('\n'))}</title>`,
      `<rect x="${n(p.x)}" y="${n(p.y)}" width="${n(p.width)}" height="${n(p.height)}" rx="${node.kind === 'action' ? n(p.height / 2) : 4}" fill="${KIND_COLORS[node.kind]}"/>`,
      `<text x="${n(p.x + METRICS.padX)}" y="${n(p.y + METRICS.padY)}">${node.lines.map((line, i) => `<tspan x="${n(p.x + METRICS.padX)}" dy="${i === 0 ? METRICS.lineHeight - 3 : METRICS.lineHeight}">${escapeXml(line)}</tspan>`).join('')}</text>`,
      '</g>',
    );
  }
  out.push('</g>', '</svg>');
  return out.join('\n');
}

/** Curves between columns (leaving and arriving horizontally), straight lines across the columns an edge passes. */
function pathData(points: readonly Point[]): string {
  const [first, ...rest] = points as [Point, ...Point[]];
  const parts = [`M${n(first.x)},${n(first.y)}`];
  let from = first;
  rest.forEach((to, i) => {
    if (i % 2 === 1) parts.push(`L${n(to.x)},${n(to.y)}`);
    else {
      const bend = Math.max(24, (to.x - from.x) / 2);
      parts.push(`C${n(from.x + bend)},${n(from.y)} ${n(to.x - bend)},${n(to.y)} ${n(to.x)},${n(to.y)}`);
    }
    from = to;
  });
  return parts.join(' ');
}

/** Text and attribute values in HTML and SVG. */
export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Coordinates with one decimal: enough for the eye, and the same text on every run. */
function n(value: number): string {
  return String(Math.round(value * 10) / 10);
}
