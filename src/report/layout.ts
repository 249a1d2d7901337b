/**
 * A layered layout of one table of the chain graph, for drawing it without a graph library: every node goes in
 * the column of its longest path from a chain nothing jumps to (hooks first, actions last, since iptables
 * refuses jump loops); an edge that spans several columns passes each column between its ends through a slot
 * of its own, so it runs between the boxes instead of through them; columns are ordered to keep edges straight
 * (the average row of a slot's parents, two sweeps); and an edge meets its boxes at its own height, so its
 * label, drawn beside the arrowhead, has a line of its own.
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

export interface Point {
  x: number;
  y: number;
}

export interface PlacedEdge {
  edge: ChainEdge;
  /**
   * From the source box's right side to the target box's left side. Between them, pairs of points where the
   * edge crosses a column (entry, exit): the stretches between columns are drawn curved, those across straight.
   */
  points: Point[];
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

/** A box, or the place where a long edge crosses a column. */
interface Slot {
  id: string;
  node?: ChainNode;
  width: number;
  height: number;
}

export function layoutTable(graph: ChainGraph, table: string): Layout {
  const nodes = graph.nodes.filter((n) => n.table === table);
  const ids = new Set(nodes.map((n) => n.id));
  const edges = graph.edges.filter((e) => ids.has(e.from) && ids.has(e.to));
  const column = assignColumns(nodes, edges);

  // A box is tall enough to give each edge on one of its sides its own line for the label drawn beside it.
  const ports = new Map<string, number>();
  for (const e of edges) for (const end of [`out ${e.from}`, `in ${e.to}`]) ports.set(end, (ports.get(end) ?? 0) + 1);
  const columns: Slot[][] = Array.from({ length: Math.max(0, ...column.values()) + 1 }, () => []);
  for (const n of nodes) {
    columns[column.get(n.id) as number]?.push({
      id: n.id,
      node: n,
      width: Math.max(...n.lines.map((l) => l.length)) * METRICS.charWidth + 2 * METRICS.padX,
      height: Math.max(n.lines.length * METRICS.lineHeight + 2 * METRICS.padY, (Math.max(ports.get(`out ${n.id}`) ?? 0, ports.get(`in ${n.id}`) ?? 0) + 1) * METRICS.portGap),
    });
  }
  // Each edge as the chain of slots it passes: its source, one crossing per column in between, its target.
  const parents = new Map<string, string[]>();
  const routes = edges.map((edge, index) => {
    const route = [edge.from];
    for (let c = (column.get(edge.from) as number) + 1; c < (column.get(edge.to) as number); c++) {
      const id = `crossing ${index} ${c}`;
      columns[c]?.push({ id, width: 0, height: METRICS.portGap });
      route.push(id);
    }
    route.push(edge.to);
    route.slice(1).forEach((id, i) => parents.set(id, [...(parents.get(id) ?? []), route[i] as string]));
    return route;
  });
  orderColumns(columns, parents);

  const shortLabel = (label: string) => (label.length > METRICS.labelChars ? `${label.slice(0, METRICS.labelChars - 1)}…` : label);
  // Columns are as wide as their widest box, and apart by the longest label drawn in the gap (labels sit at the target end).
  const columnWidth = columns.map((c) => Math.max(0, ...c.map((s) => s.width)));
  const gapAfter = columns.map((_, i) => {
    const longest = Math.max(0, ...edges.filter((e) => column.get(e.to) === i + 1).map((e) => shortLabel(e.label).length));
    return Math.max(METRICS.minColumnGap, longest * METRICS.charWidth + 24);
  });
  const columnX: number[] = [];
  let x = METRICS.margin;
  columns.forEach((_, i) => {
    columnX.push(x);
    x += (columnWidth[i] as number) + (gapAfter[i] as number);
  });

  const columnHeight = columns.map((c) => c.reduce((sum, s) => sum + s.height, 0) + Math.max(0, c.length - 1) * METRICS.rowGap);
  const tallest = Math.max(0, ...columnHeight);
  const box = new Map<string, PlacedNode & { slot: Slot }>();
  columns.forEach((c, i) => {
    // Shorter columns are centred on the tallest one.
    let y = METRICS.margin + (tallest - (columnHeight[i] as number)) / 2;
    for (const slot of c) {
      box.set(slot.id, { slot, node: slot.node as ChainNode, column: i, x: columnX[i] as number, y, width: slot.node ? slot.width : (columnWidth[i] as number), height: slot.height });
      y += slot.height + METRICS.rowGap;
    }
  });

  const centre = (id: string) => {
    const b = box.get(id) as PlacedNode;
    return b.y + b.height / 2;
  };
  const leaving = portsBy(edges, (e, i) => [e.from, centre(routes[i]?.[1] as string)], box);
  const entering = portsBy(edges, (e, i) => [e.to, centre(routes[i]?.at(-2) as string)], box);
  const placedEdges = edges.map((edge, index) => {
    const from = box.get(edge.from) as PlacedNode;
    const to = box.get(edge.to) as PlacedNode;
    const points: Point[] = [{ x: from.x + from.width, y: leaving.get(edge) as number }];
    for (const id of (routes[index] as string[]).slice(1, -1)) {
      const crossing = box.get(id) as PlacedNode;
      points.push({ x: crossing.x, y: centre(id) }, { x: crossing.x + crossing.width, y: centre(id) });
    }
    points.push({ x: to.x, y: entering.get(edge) as number });
    return { edge, points, text: shortLabel(edge.label) };
  });
  const placedNodes = [...box.values()].filter((b) => b.slot.node).map(({ slot: _slot, ...placed }) => placed);
  const width = Math.max(METRICS.margin, ...placedNodes.map((p) => p.x + p.width)) + METRICS.margin;
  return { width: Math.ceil(width), height: Math.ceil(tallest + 2 * METRICS.margin), nodes: placedNodes, edges: placedEdges };
}

/** Each node's column: its longest path from a node without parents. */
function assignColumns(nodes: readonly ChainNode[], edges: readonly ChainEdge[]): Map<string, number> {
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
  return column;
}

/** Barycentre ordering: each column sorted by the average row of its slots' parents (ties keep the first order). */
function orderColumns(columns: Slot[][], parents: Map<string, string[]>): void {
  for (let sweep = 0; sweep < 2; sweep++) {
    const row = new Map<string, number>();
    for (const c of columns) c.forEach((s, i) => row.set(s.id, i / Math.max(1, c.length - 1)));
    for (let i = 1; i < columns.length; i++) {
      const c = columns[i] as Slot[];
      const weight = new Map(
        c.map((s, index) => {
          const rows = (parents.get(s.id) ?? []).map((p) => row.get(p)).filter((r): r is number => r !== undefined);
          return [s.id, rows.length ? rows.reduce((a, b) => a + b, 0) / rows.length : index / Math.max(1, c.length - 1)];
        }),
      );
      const original = new Map(c.map((s, index) => [s.id, index]));
      c.sort((a, b) => (weight.get(a.id) as number) - (weight.get(b.id) as number) || (original.get(a.id) as number) - (original.get(b.id) as number));
      c.forEach((s, index) => row.set(s.id, index / Math.max(1, c.length - 1)));
    }
  }
}

/**
 * Where edges meet one side of their boxes: `end` gives an edge's box and the height it comes from or goes to;
 * the edges of one side spread evenly in that order, so they do not cross at the box.
 */
function portsBy(edges: readonly ChainEdge[], end: (edge: ChainEdge, index: number) => [string, number], box: Map<string, PlacedNode>): Map<ChainEdge, number> {
  const sides = new Map<string, { edge: ChainEdge; toward: number }[]>();
  edges.forEach((edge, index) => {
    const [id, toward] = end(edge, index);
    const list = sides.get(id);
    if (list) list.push({ edge, toward });
    else sides.set(id, [{ edge, toward }]);
  });
  const ports = new Map<ChainEdge, number>();
  for (const [id, side] of sides) {
    const b = box.get(id) as PlacedNode;
    side.sort((a, c) => a.toward - c.toward || a.edge.rule - c.edge.rule);
    side.forEach(({ edge }, index) => ports.set(edge, b.y + (b.height * (index + 1)) / (side.length + 1)));
  }
  return ports;
}
