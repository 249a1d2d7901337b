/**
 * One packet's trace as a mermaid flowchart: the packet, then what happened to it in order (kernel events such
 * as conntrack and routing, and every rule that matched: hook, table, chain, rule number, why, what it did),
 * then one box per outcome. Paths share their common beginning, so the chart forks where a random draw (or
 * anything else) sends packets different ways; the edges out of a fork carry the share of packets on each side.
 * Rules that did not match are left out: `kproxy trace` (text) lists them.
 */
import { describePacket } from '../emulate/packet.js';
import type { PathOutcome, TimelineStep, TraceDetail } from '../emulate/trace.js';
import { shareText } from './chain-graph.js';
import { mermaidEdge, mermaidText } from './mermaid.js';

interface StepNode {
  id: string;
  lines: string[];
  style: 'packet' | 'event' | 'rule' | 'outcome';
  /** Sum of the probabilities of the paths through this node. */
  probability: number;
  children: StepNode[];
  /** Keyed by what the step is, so equal steps of different paths merge. */
  byKey: Map<string, StepNode>;
}

const STYLES: Readonly<Record<StepNode['style'], string>> = {
  packet: 'fill:#cfe2f3,stroke:#555555',
  event: 'fill:#f3f3f3,stroke:#999999',
  rule: 'fill:#fff2cc,stroke:#555555',
  outcome: 'fill:#d9ead3,stroke:#555555',
};

export function renderTraceMermaid(detail: TraceDetail): string {
  let count = 0;
  const node = (lines: string[], style: StepNode['style']): StepNode => ({ id: `s${count++}`, lines, style, probability: 0, children: [], byKey: new Map() });
  const origin = detail.origin === 'node' ? 'from the node itself' : detail.origin === 'pod' ? 'from a pod' : 'from outside the node';
  const root = node([describePacket(detail.packet), `${origin}, ${detail.trace.mode} mode`], 'packet');
  for (const path of detail.paths) {
    root.probability += path.probability;
    let at = root;
    for (const step of path.timeline) {
      const shown = stepNode(step);
      if (!shown) continue;
      let next = at.byKey.get(shown.key);
      if (!next) {
        next = node(shown.lines, shown.style);
        at.byKey.set(shown.key, next);
        at.children.push(next);
      }
      next.probability += path.probability;
      at = next;
    }
    const end = node(outcomeLines(path), 'outcome');
    end.probability = path.probability;
    at.children.push(end);
  }

  const out = [`%% kproxy trace: ${mermaidText(describePacket(detail.packet))} (${detail.trace.mode} mode)`, 'flowchart TD'];
  const edges: string[] = [];
  const members: Record<StepNode['style'], string[]> = { packet: [], event: [], rule: [], outcome: [] };
  const visit = (at: StepNode) => {
    const text = `"${at.lines.map(mermaidText).join('<br/>')}"`;
    out.push(`  ${at.id}${at.style === 'rule' ? `[${text}]` : at.style === 'outcome' ? `[[${text}]]` : `([${text}])`}`);
    members[at.style].push(at.id);
    const fork = at.children.length > 1;
    for (const child of at.children) {
      // Shares go where paths part; on a single road they would only repeat the number above.
      edges.push(`  ${mermaidEdge(at.id, '-->', fork ? shareText(child.probability) : '', child.id)}`);
      visit(child);
    }
  };
  visit(root);
  out.push(...edges);
  for (const style of Object.keys(members) as StepNode['style'][]) {
    if (members[style].length === 0) continue;
    out.push(`  classDef ${style} ${STYLES[style]}`, `  class ${members[style].join(',')} ${style}`);
  }
  return `${out.join('\n')}\n`;
}

function stepNode(step: TimelineStep): { key: string; lines: string[]; style: 'event' | 'rule' } | undefined {
  if ('event' in step) return { key: `event ${step.hook ?? ''} ${step.event}`, lines: [step.event], style: 'event' };
  const hop = step.hop;
  if (!hop.matched) return undefined;
  return {
    key: `rule ${hop.hook} ${hop.table} ${hop.chain} ${hop.rule} ${hop.action}`,
    lines: [`${hop.hook} · ${hop.table} ${hop.chain} rule ${hop.rule}`, hop.reason, `→ ${hop.action}`],
    style: 'rule',
  };
}

function outcomeLines(path: PathOutcome): string[] {
  const translated = path.dnat ? `DNAT to ${path.dnat}` : `to ${path.finalDestination}, not translated`;
  const source = path.masquerade ? `masqueraded to ${path.finalSource}` : `source ${path.finalSource} kept`;
  return [`${shareText(path.probability)}: ${path.result}${path.uncertain ? ' (uncertain)' : ''}`, `${translated}, ${source}`, path.endReason];
}
