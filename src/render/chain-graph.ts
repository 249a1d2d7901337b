/**
 * The ruleset as a picture's data: chains (and the actions that end a packet's walk) as nodes, jumps as edges.
 * One builder for both modes, read by every drawing (render/dot.ts, render/mermaid.ts, report/svg.ts), so the
 * drawings differ only in syntax.
 *
 * Probabilities are computed, not assumed: in a chain that balances (a Service chain, or one with random draws)
 * the builder walks the rules in order and keeps the share of packets still unclaimed; a `statistic --mode random
 * --probability p` rule takes p of that share, a rule without conditions takes all of it, and an nftables
 * `numgen random mod N` vmap gives each element its count of N. kube-proxy's 1/n, 1/(n-1), …, 1 chain thus
 * comes out as 1/n per endpoint, and a chain written otherwise shows what it really does.
 */
import { formatProbability } from '../emulate/evaluate.js';
import { argsOfPart } from '../ir/args.js';
import { isBuiltinChain, TERMINAL_TARGETS, type IptablesRuleset, type MatchPart, type Rule, type TargetOption } from '../ir/iptables.js';
import { findSet, type NftElement, type NftRule, type NftRuleset, type NftStatement } from '../ir/nftables.js';
import { ruleListText } from './nft-list.js';

/**
 * What a node stands for, in the order a packet usually meets them (drawings use it for colour and for the
 * order within a column): a hook's base chain, kube-proxy's dispatch chains (KUBE-SERVICES, services, …), a
 * Service's firewall, external and service chains, an endpoint chain, helpers (KUBE-MARK-MASQ), and actions.
 */
export type ChainNodeKind = 'hook' | 'dispatch' | 'firewall' | 'external' | 'service' | 'endpoint' | 'helper' | 'action';

export const NODE_KINDS: readonly ChainNodeKind[] = ['hook', 'dispatch', 'firewall', 'external', 'service', 'endpoint', 'helper', 'action'];

export interface ChainNode {
  /** Unique in the graph: `table:chain`, or `table:action:label` for an action. */
  id: string;
  /** `nat`, `filter` (iptables) or `ip kube-proxy` (nftables). */
  table: string;
  /** Chain name, or the action's text (`DNAT 10.244.1.5:8080`, `REJECT`). */
  name: string;
  kind: ChainNodeKind;
  /** The Service the chain belongs to (`default/kubia`, `default/kubia:http`), from rule comments or chain names. */
  service?: string;
  /** Lines to print in the box: the name, then the Service or the endpoint. */
  lines: string[];
}

/**
 * How a rule leads to the next node: `jump`/`goto` a chain on a condition, `random` (a share of the packets,
 * `probability` set), `affinity` (a client seen before goes back to its endpoint), `action` (the rule ends the
 * walk, or changes the packet, there).
 */
export type ChainEdgeKind = 'jump' | 'goto' | 'random' | 'affinity' | 'action';

export interface ChainEdge {
  from: string;
  to: string;
  kind: ChainEdgeKind;
  /** Share of the packets entering `from` that take this edge, when a balancing chain decides it by chance. */
  probability?: number;
  /** 1-based number of the rule in its chain. */
  rule: number;
  /** What to print on the edge: the share, then the rule's conditions in short. */
  label: string;
}

export interface ChainGraph {
  mode: 'iptables' | 'nftables';
  /** Tables that have edges, in ruleset order; every node belongs to one. */
  tables: string[];
  /** Ordered by table, then kind, then name: the same ruleset always gives the same list. */
  nodes: ChainNode[];
  /** Ordered by source node, then rule, then target. */
  edges: ChainEdge[];
}

/** Fill colours of the node kinds, shared by the drawings so a kind looks the same everywhere. */
export const KIND_COLORS: Readonly<Record<ChainNodeKind, string>> = {
  hook: '#d9d9d9',
  dispatch: '#cfe2f3',
  firewall: '#f4cccc',
  external: '#fce5cd',
  service: '#d9ead3',
  endpoint: '#fff2cc',
  helper: '#ead1dc',
  action: '#ffffff',
};

/** Line colours of the edge kinds: random picks blue, affinity purple, actions grey. */
export const EDGE_COLORS: Readonly<Record<ChainEdgeKind, string>> = {
  jump: '#333333',
  goto: '#333333',
  random: '#1f5fbf',
  affinity: '#8e44ad',
  action: '#777777',
};

/** A share of packets as printed on edges: `33.3%`, `50%`, `100%` (the emulator's spelling). */
export function shareText(probability: number): string {
  return formatProbability(probability);
}

// ───────────────────────────── shared collection ─────────────────────────────

class GraphCollector {
  private readonly nodes = new Map<string, ChainNode>();
  private readonly edges: ChainEdge[] = [];
  private readonly tableOrder: string[] = [];

  constructor(private readonly mode: ChainGraph['mode']) {}

  chain(table: string, name: string, kind: ChainNodeKind, service: string | undefined, detail?: string): string {
    const id = `${table}:${name}`;
    if (!this.nodes.has(id)) {
      const lines = [name, ...(service ? [service] : []), ...(detail ? [detail] : [])];
      this.nodes.set(id, { id, table, name, kind, ...(service ? { service } : {}), lines });
    }
    return id;
  }

  action(table: string, text: string): string {
    const id = `${table}:action:${text}`;
    if (!this.nodes.has(id)) this.nodes.set(id, { id, table, name: text, kind: 'action', lines: [text] });
    return id;
  }

  edge(edge: Omit<ChainEdge, 'label'>, condition: string): void {
    const share = edge.probability !== undefined ? shareText(edge.probability) : '';
    const label = [share, condition].filter((x) => x !== '').join(' · ');
    this.edges.push({ ...edge, label });
    const table = this.nodes.get(edge.from)?.table;
    if (table !== undefined && !this.tableOrder.includes(table)) this.tableOrder.push(table);
  }

  /** Keeps nodes that take part in an edge (empty canary chains and unused declarations are not drawn). */
  finish(): ChainGraph {
    const used = new Set(this.edges.flatMap((e) => [e.from, e.to]));
    // nat first: it holds the Service → endpoint picture a reader looks for.
    const tables = [...this.tableOrder].sort((a, b) => Number(b === 'nat') - Number(a === 'nat'));
    const tableRank = (t: string) => tables.indexOf(t);
    const kindRank = (k: ChainNodeKind) => NODE_KINDS.indexOf(k);
    const nodes = [...this.nodes.values()]
      .filter((n) => used.has(n.id))
      .sort((a, b) => tableRank(a.table) - tableRank(b.table) || kindRank(a.kind) - kindRank(b.kind) || compareText(a.name, b.name));
    const position = new Map(nodes.map((n, i) => [n.id, i]));
    const at = (id: string) => position.get(id) ?? -1;
    const edges = [...this.edges].sort((a, b) => at(a.from) - at(b.from) || a.rule - b.rule || at(a.to) - at(b.to));
    return { mode: this.mode, tables, nodes, edges };
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The unclaimed share of packets while walking a balancing chain's rules. `random` says the chain draws at
 * random (its picks are drawn as such); a Service chain with one endpoint balances without drawing.
 */
class Balance {
  private remaining = 1;

  constructor(
    readonly active: boolean,
    readonly random: boolean,
  ) {}

  /** A rule that takes `fraction` of what is left (1 for a rule without conditions). */
  take(fraction: number): number | undefined {
    return this.split([fraction])[0];
  }

  /** One draw among several outcomes (a numgen vmap): each takes its fraction of what is left. */
  split(fractions: readonly number[]): (number | undefined)[] {
    if (!this.active) return fractions.map(() => undefined);
    const base = this.remaining;
    const shares = fractions.map((f) => base * f);
    this.remaining -= shares.reduce((sum, share) => sum + share, 0);
    return shares;
  }
}

// ───────────────────────────── iptables ─────────────────────────────

/** Targets after which the packet goes on to the next rule of the chain. */
const PASS_THROUGH_TARGETS: ReadonlySet<string> = new Set(['MARK', 'CONNMARK', 'LOG']);

/** Options that say nothing about which packets match (the Service name is on the node instead). */
const SILENT_MODULES: ReadonlySet<string> = new Set(['comment', 'statistic', 'recent']);

export function buildIptablesChainGraph(ruleset: IptablesRuleset): ChainGraph {
  const graph = new GraphCollector('iptables');
  for (const table of ruleset.tables) {
    const rulesByChain = new Map<string, Rule[]>();
    for (const rule of table.rules) {
      const list = rulesByChain.get(rule.chain);
      if (list) list.push(rule);
      else rulesByChain.set(rule.chain, [rule]);
    }
    const chainNode = (name: string) => {
      const rules = rulesByChain.get(name) ?? [];
      const kind = isBuiltinChain(table.name, name) ? 'hook' : iptablesChainKind(name);
      const service = kind === 'service' || kind === 'external' || kind === 'firewall' || kind === 'endpoint' ? serviceOfComments(rules) : undefined;
      const endpoint = kind === 'endpoint' ? rules.map(dnatDestination).find((d) => d !== undefined) : undefined;
      return graph.chain(table.name, name, kind, service, endpoint);
    };
    for (const [chain, rules] of rulesByChain) {
      const from = chainNode(chain);
      const random = rules.some((r) => randomProbability(r) !== undefined);
      const balance = new Balance(random || iptablesChainKind(chain) === 'service', random);
      rules.forEach((rule, index) => {
        const target = rule.target;
        if (!target) return;
        const conditions = rule.parts.filter((p) => !isSilent(p));
        const condition = conditionText(conditions);
        const draw = randomProbability(rule);
        const affinity = rule.parts.some((p) => p.kind === 'option' && p.module === 'recent' && p.name === 'rcheck');
        const toChain = !TERMINAL_TARGETS.has(target.name);
        const to = toChain ? chainNode(target.name) : graph.action(table.name, actionText(target.name, target.options));
        // Marking (directly or through KUBE-MARK-MASQ) lets the packet go on to the next rule: it claims no share.
        const claims = toChain ? iptablesChainKind(target.name) !== 'helper' : !PASS_THROUGH_TARGETS.has(target.name);
        let probability: number | undefined;
        if (!affinity && conditions.length === 0 && claims) probability = balance.take(draw ?? 1);
        const kind: ChainEdgeKind = affinity ? 'affinity' : !toChain ? 'action' : probability !== undefined && balance.random ? 'random' : target.goto ? 'goto' : 'jump';
        const said = affinity ? [affinityText(rule), condition].filter((x) => x).join(' ') : condition;
        graph.edge({ from, to, kind, rule: index + 1, ...(probability !== undefined ? { probability } : {}) }, said);
      });
    }
  }
  return graph.finish();
}

function iptablesChainKind(name: string): ChainNodeKind {
  if (name.startsWith('KUBE-SVC-') || name.startsWith('KUBE-SVL-')) return 'service';
  if (name.startsWith('KUBE-SEP-')) return 'endpoint';
  if (name.startsWith('KUBE-EXT-')) return 'external';
  if (name.startsWith('KUBE-FW-')) return 'firewall';
  if (name.startsWith('KUBE-MARK-')) return 'helper';
  return 'dispatch';
}

function isSilent(part: MatchPart): boolean {
  // `-m tcp` and friends only load what the next option uses; the option itself is what the reader needs.
  if (part.kind === 'module') return true;
  return part.kind === 'option' && SILENT_MODULES.has(part.module);
}

function conditionText(parts: readonly MatchPart[]): string {
  return parts.map((p) => argsOfPart(p).join(' ')).join(' ');
}

function randomProbability(rule: Rule): number | undefined {
  const isRandom = rule.parts.some((p) => p.kind === 'option' && p.module === 'statistic' && p.name === 'mode' && p.args[0] === 'random');
  if (!isRandom) return undefined;
  const option = rule.parts.find((p) => p.kind === 'option' && p.module === 'statistic' && p.name === 'probability');
  const value = option?.kind === 'option' ? Number(option.args[0]) : NaN;
  return Number.isFinite(value) ? value : undefined;
}

function affinityText(rule: Rule): string {
  const seconds = rule.parts.find((p) => p.kind === 'option' && p.module === 'recent' && p.name === 'seconds');
  return affinityLabel(seconds?.kind === 'option' ? seconds.args[0] : undefined);
}

/** The same words for `recent --rcheck --seconds N` and an nftables affinity set with `timeout N`. */
function affinityLabel(seconds: string | number | undefined): string {
  return seconds !== undefined ? `affinity: client seen in the last ${seconds}s` : 'affinity: client seen before';
}

function actionText(target: string, options: readonly TargetOption[]): string {
  if (target === 'DNAT' || target === 'SNAT') {
    const to = options.find((o) => o.name === 'to-destination' || o.name === 'to-source');
    return to ? `${target} ${to.args.join(' ')}` : target;
  }
  if (target === 'MARK') {
    const mark = options[0];
    return mark ? `MARK --${mark.name} ${mark.args.join(' ')}` : target;
  }
  return target;
}

function dnatDestination(rule: Rule): string | undefined {
  if (rule.target?.name !== 'DNAT') return undefined;
  return rule.target.options.find((o) => o.name === 'to-destination')?.args[0];
}

/** `ns/name` or `ns/name:port`, as kube-proxy writes it at the start (or inside) of its comments. */
const SERVICE_IN_COMMENT = /(?:^|\s)([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[-a-z0-9]+)?)(?=\s|$)/;

/** The one Service the chain's comments name; undefined when they name none or several. */
function serviceOfComments(rules: readonly Rule[]): string | undefined {
  const names = new Set<string>();
  for (const rule of rules) {
    for (const part of rule.parts) {
      if (part.kind !== 'option' || part.module !== 'comment') continue;
      const found = SERVICE_IN_COMMENT.exec(part.args[0] ?? '');
      if (found?.[1]) names.add(found[1]);
    }
  }
  return names.size === 1 ? [...names][0] : undefined;
}

// ───────────────────────────── nftables ─────────────────────────────

/** `service-HASH-ns/name/proto/port`, `endpoint-HASH-ns/name/proto/port__ip/port`, … (kube-proxy's chain names). */
const NFT_SERVICE_CHAIN = /^(service|cluster|external|endpoint|firewall)-[A-Z0-9]{8}-(.*)$/;

/** kube-proxy's nftables counterpart of KUBE-MARK-MASQ. */
const NFT_HELPER_CHAIN = 'mark-for-masquerade';

export function buildNftChainGraph(ruleset: NftRuleset): ChainGraph {
  const graph = new GraphCollector('nftables');
  for (const table of ruleset.tables) {
    const tableName = `${table.family} ${table.name}`;
    const chainNode = (name: string) => {
      const chain = table.chains.find((c) => c.name === name);
      const named = NFT_SERVICE_CHAIN.exec(name);
      const kind: ChainNodeKind = chain?.base ? 'hook' : named ? nftKind(named[1] as string) : name === NFT_HELPER_CHAIN ? 'helper' : 'dispatch';
      // The name carries `ns/name/proto/port[__ip/port]`: the Service, and for an endpoint its address.
      const [servicePart, endpointPart] = (named?.[2] ?? '').split('__');
      const service = servicePart ? nftServiceName(servicePart) : undefined;
      const endpoint = endpointPart ? endpointPart.replace(/\/(\d+)$/, ':$1') : undefined;
      return graph.chain(tableName, name, kind, service, endpoint);
    };
    for (const chain of table.chains) {
      const from = chainNode(chain.name);
      const random = chain.rules.some(hasNumgen);
      const balance = new Balance(random || NFT_SERVICE_CHAIN.exec(chain.name)?.[1] === 'service', random);
      chain.rules.forEach((rule, index) => {
        const conditions = rule.statements.filter((s) => s.kind === 'match');
        const condition = conditions.length ? ruleListText({ text: '', statements: conditions }) : '';
        const affinity = conditions.some((s) => s.kind === 'match' && s.right.kind === 'set-ref' && s.right.name.startsWith('affinity-'));
        for (const statement of rule.statements) {
          const common = { from, rule: index + 1 };
          if (statement.kind === 'verdict' || statement.kind === 'reject' || statement.kind === 'nat' || statement.kind === 'masquerade' || statement.kind === 'set-field') {
            const to = nftTarget(graph, tableName, statement, chainNode);
            if (!to) continue;
            const verdict = statement.kind === 'verdict' ? statement.verdict : undefined;
            const flow = verdict?.kind === 'jump' || verdict?.kind === 'goto' ? verdict : undefined;
            // A jump to the marking helper comes back to the next rule: it claims no share.
            const claims = flow !== undefined && (flow.kind === 'goto' || flow.chain !== NFT_HELPER_CHAIN);
            const probability = !affinity && conditions.length === 0 && claims ? balance.take(1) : undefined;
            const kind: ChainEdgeKind = affinity ? 'affinity' : (flow?.kind ?? 'action');
            graph.edge({ ...common, kind, to, ...(probability !== undefined ? { probability } : {}) }, affinity ? affinityLabel(findSet(table, affinitySet(conditions))?.timeout) : condition);
          } else if (statement.kind === 'vmap') {
            const elements = statement.map.kind === 'set-ref' ? (findSet(table, statement.map.name)?.elements ?? []) : statement.map.kind === 'anon-set' ? statement.map.elements : [];
            const mod = statement.key.kind === 'numgen' ? statement.key.mod : undefined;
            const shares = mod !== undefined ? balance.split(elements.map((e) => numgenWidth(e) / mod)) : [];
            elements.forEach((element, i) => {
              if (element.value?.kind !== 'verdict') return;
              const to = nftTarget(graph, tableName, { kind: 'verdict', verdict: element.value.verdict }, chainNode);
              if (!to) return;
              const probability = shares[i];
              const keyText = element.key.join(' . ');
              const said = [condition, mod !== undefined ? '' : keyText].filter((x) => x).join(' · ');
              graph.edge({ ...common, kind: probability !== undefined ? 'random' : element.value.verdict.kind === 'goto' ? 'goto' : 'jump', to, ...(probability !== undefined ? { probability } : {}) }, said);
            });
          }
        }
      });
    }
  }
  return graph.finish();
}

/** `ns/name/proto/port` → `ns/name:port` (`ns/name` for an unnamed port), as iptables comments say it. */
function nftServiceName(text: string): string {
  const [namespace, name, , port] = text.split('/');
  return `${namespace}/${name}${port ? `:${port}` : ''}`;
}

function nftKind(prefix: string): ChainNodeKind {
  switch (prefix) {
    case 'endpoint':
      return 'endpoint';
    case 'external':
      return 'external';
    case 'firewall':
      return 'firewall';
    default:
      return 'service';
  }
}

function hasNumgen(rule: NftRule): boolean {
  return rule.statements.some((s) => s.kind === 'vmap' && s.key.kind === 'numgen');
}

/** How many numgen values an element covers: `1` for `0`, `2` for `0-1`. */
function numgenWidth(element: NftElement): number {
  const [low, high] = (element.key[0] ?? '').split('-').map(Number);
  return high !== undefined && Number.isInteger(high) && Number.isInteger(low) ? high - (low as number) + 1 : 1;
}

function affinitySet(conditions: readonly NftStatement[]): string {
  for (const s of conditions) if (s.kind === 'match' && s.right.kind === 'set-ref') return s.right.name;
  return '';
}

/** The node a terminal statement leads to; undefined for `return`/`continue` and statements that only count. */
function nftTarget(graph: GraphCollector, table: string, statement: NftStatement, chainNode: (name: string) => string): string | undefined {
  switch (statement.kind) {
    case 'verdict': {
      const v = statement.verdict;
      if (v.kind === 'jump' || v.kind === 'goto') return chainNode(v.chain);
      return v.kind === 'accept' || v.kind === 'drop' ? graph.action(table, v.kind.toUpperCase()) : undefined;
    }
    case 'reject':
      return graph.action(table, 'REJECT');
    case 'nat':
      return graph.action(table, `${statement.type.toUpperCase()} ${statement.address}${statement.port !== undefined ? `:${statement.port}` : ''}`);
    case 'masquerade':
      return graph.action(table, 'MASQUERADE');
    case 'set-field':
      return statement.field.endsWith('mark') ? graph.action(table, ruleListText({ text: '', statements: [statement] })) : undefined;
    default:
      return undefined;
  }
}

