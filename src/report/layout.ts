/**
 * A layered layout of one table of the chain graph, for drawing it without a graph library: every node goes in
 * the column of its longest path from a chain nothing jumps to (hooks first, actions last, since iptables
 * refuses jump loops), columns are ordered to keep edges straight (the average row of a node's parents, two
 * sweeps), and an edge leaves and enters its boxes at its own height so fans of edges stay apart.
 */
import type { ChainEdge, ChainGraph, ChainNode } from '../render/chain-graph.js';

export interface PlacedNode {
  node: ChainNode;
  column: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge {
  edge: ChainEdge;
  /** Start (right side of the source box) and end (left side of the target box). */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** The text drawn on the edge (shortened; the full label stays in `edge.label`). */
  text: string;
}

export interface Layout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

/** Sizes in SVG user units, for a 11px monospace font. */
export const METRICS = { charWidth: 6.7, lineHeight: 14, padX: 8, padY: 6, rowGap: 18, margin: 12, minColumnGap: 48, labelChars: 44, portGap: 13 } as const;

export function layoutTable(graph: ChainGraph, table: string): Layout {
  const nodes = graph.nodes.filter((n) => n.table === table);
  const ids = new Set(nodes.map((n) => n.id));
  const edges = graph.edges.filter((e) => ids.has(e.from) && ids.has(e.to));
  const parents = new Map<string, string[]>(nodes.map((n) => [n.id, []]));
  for (const e of edges) parents.get(e.to)?.push(e.from);

  const column = new Map<string, number>();
  const depth = (id: string, visiting: Set<string>): number => {
    const known = column.get(id);
    if (known !== undefined) return known;
    visiting.add(id);
    // A parent already on the stack would be a loop: it does not push this node further right.
    const above = (parents.get(id) ?? []).filter((p) => !visiting.has(p)).map((p) => depth(p, visiting) + 1);
    visiting.delete(id);
    const result = Math.max(0, ...above);
    column.set(id, result);
    return result;
  };
  for (const n of nodes) depth(n.id, new Set());

  const columnCount = Math.max(0, ...column.values()) + 1;
  const columns: ChainNode[][] = Array.from({ length: columnCount }, () => []);
  for (const n of nodes) columns[column.get(n.id) as number]?.push(n);
  orderColumns(columns, parents);

  // A box is tall enough to give each edge on one of its sides its own line for the label drawn beside it.
  const ports = new Map<string, number>();
  for (const e of edges) for (const end of [`out ${e.from}`, `in ${e.to}`]) ports.set(end, (ports.get(end) ?? 0) + 1);
  const size = (n: ChainNode) => ({
    width: Math.max(...n.lines.map((l) => l.length)) * METRICS.charWidth + 2 * METRICS.padX,
    height: Math.max(n.lines.length * METRICS.lineHeight + 2 * METRICS.padY, (Math.max(ports.get(`out ${n.id}`) ?? 0, ports.get(`in ${n.id}`) ?? 0) + 1) * METRICS.portGap),
  });
  const shortLabel = (label: string) => (label.length > METRICS.labelChars ? `${label.slice(0, METRICS.labelChars - 1)}…` : label);

  // Columns are as wide as their widest box, and apart by the longest label drawn between them.
  const columnWidth = columns.map((c) => Math.max(0, ...c.map((n) => size(n).width)));
  const gapAfter = columns.map((c) => {
    const inColumn = new Set(c.map((n) => n.id));
    const longest = Math.max(0, ...edges.filter((e) => inColumn.has(e.from)).map((e) => shortLabel(e.label).length));
    return Math.max(METRICS.minColumnGap, longest * METRICS.charWidth + 24);
  });
  const columnX: number[] = [];
  let x = METRICS.margin;
  for (let i = 0; i < columnCount; i++) {
    columnX.push(x);
    x += (columnWidth[i] as number) + (gapAfter[i] as number);
  }

  const columnHeight = columns.map((c) => c.reduce((sum, n) => sum + size(n).height, 0) + Math.max(0, c.length - 1) * METRICS.rowGap);
  const tallest = Math.max(0, ...columnHeight);
  const placed = new Map<string, PlacedNode>();
  columns.forEach((c, i) => {
    // Shorter columns are centred on the tallest one.
    let y = METRICS.margin + (tallest - (columnHeight[i] as number)) / 2;
    for (const n of c) {
      const { width, height } = size(n);
      placed.set(n.id, { node: n, column: i, x: columnX[i] as number, y, width, height });
      y += height + METRICS.rowGap;
    }
  });

  const leaving = portsBy(edges, 'from', placed);
  const entering = portsBy(edges, 'to', placed);
  const placedEdges = edges.map((edge) => {
    const from = placed.get(edge.from) as PlacedNode;
    const to = placed.get(edge.to) as PlacedNode;
    return { edge, x1: from.x + from.width, y1: leaving.get(edge) as number, x2: to.x, y2: entering.get(edge) as number, text: shortLabel(edge.label) };
  });
  const width = Math.max(METRICS.margin, ...[...placed.values()].map((p) => p.x + p.width)) + METRICS.margin;
  return { width: Math.ceil(width), height: Math.ceil(tallest + 2 * METRICS.margin), nodes: [...placed.values()], edges: placedEdges };
}

/** Barycentre ordering: each column sorted by the average row of its nodes' parents (ties keep graph order). */
function orderColumns(columns: ChainNode[][], parents: Map<string, string[]>): void {
  for (let sweep = 0; sweep < 2; sweep++) {
    const row = new Map<string, number>();
    for (const c of columns) c.forEach((n, i) => row.set(n.id, i / Math.max(1, c.length - 1)));
    for (let i = 1; i < columns.length; i++) {
      const c = columns[i] as ChainNode[];
      const weight = new Map(
        c.map((n, index) => {
          const rows = (parents.get(n.id) ?? []).map((p) => row.get(p)).filter((r): r is number => r !== undefined);
          return [n.id, rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : index / Math.max(1, c.length - 1)];
        }),
      );
      const original = new Map(c.map((n, index) => [n.id, index]));
      c.sort((a, b) => (weight.get(a.id) as number) - (weight.get(b.id) as number) || (original.get(a.id) as number) - (original.get(b.id) as number));
      c.forEach((n, index) => row.set(n.id, index / Math.max(1, c.length - 1)));
    }
  }
}

/** Where edges meet a box side: the edges of one side spread evenly, in the order of the boxes at their other end. */
function portsBy(edges: readonly ChainEdge[], end: 'from' | 'to', placed: Map<string, PlacedNode>): Map<ChainEdge, number> {
  const other = end === 'from' ? 'to' : 'from';
  const sides = new Map<string, ChainEdge[]>();
  for (const e of edges) {
    const list = sides.get(e[end]);
    if (list) list.push(e);
    else sides.set(e[end], [e]);
  }
  const ports = new Map<ChainEdge, number>();
  const otherY = (e: ChainEdge) => placed.get(e[other])?.y ?? 0;
  for (const [id, side] of sides) {
    const box = placed.get(id) as PlacedNode;
    side.sort((a, b) => otherY(a) - otherY(b) || a.rule - b.rule);
    side.forEach((e, index) => ports.set(e, box.y + (box.height * (index + 1)) / (side.length + 1)));
  }
  return ports;
}
