/**
 * `kproxy diff OLD NEW`: what changes between two states of a node. Each side is manifests (files or a folder,
 * compiled with the node settings) or a rule dump (iptables-save output or a restore payload; with nftables
 * mode an `nft list ruleset` listing or a knftables dump). A side's kind is read from its content (a rule dump
 * starts with `*table`, `:CHAIN`, `-A`, `table …` or `add …`), or fixed with `--old-rules FILE` / `--new-rules
 * FILE`, which take that side's place (the positional arguments fill the other sides, in order).
 *
 * Node settings: `--node-config FILE` (and the node flags) apply to both sides; otherwise a folder's node.yaml is
 * used for its own side and, when the other side is a rule dump, for that side too (a dump says nothing about
 * the node's addresses, nor where pods run: that too comes from the other side's manifests).
 *
 * Exit codes: 0 identical, 1 something changed (packet fates or kube-proxy's rules), 2 usage or input errors
 * (an input that cannot be read is not a change, so CI can tell the two apart), rules that branch too much to
 * compare included.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { collectProbes, diffNodes, DiffTooLargeError, PATHS_PER_PACKET, renderDiffText, type DiffResult, type DiffSide, type Probe, type SourceClass, type Tracer } from '../diff/index.js';
import { probeText } from '../diff/render.js';
import { MAX_PATHS } from '../emulate/trace.js';
import type { IptablesRuleset } from '../ir/iptables.js';
import type { NftRuleset } from '../ir/nftables.js';
import { usage } from './compile.js';
import { readText } from './read-inputs.js';
import { buildNode } from '../emulate/node.js';
import { createNftEmulator } from '../emulate/nft/index.js';
import { createEmulator } from '../emulate/trace.js';
import { defaultSource, isNftEmulator, prepareNode, traceWith, type PreparedNode, type RulesOptions, type TraceIO } from './trace.js';

export interface DiffCommandOptions extends RulesOptions {
  oldRules?: string;
  newRules?: string;
  json?: boolean;
}

/** For `program.ts`: the options of `kproxy diff` as [flags, description] pairs, in help order. */
export function describeDiffOptions(): [string, string][] {
  return [
    ['--old-rules <file>', 'the old side is this rule dump (iptables-save / restore payload, or an nft dump or listing)'],
    ['--new-rules <file>', 'the new side is this rule dump'],
    ['--mode <mode>', 'iptables or nftables (default: nftables when a side is an nftables dump, else iptables)'],
    ['--node-config <file>', "node settings for both sides; by default a folder's node.yaml (also used for a rule dump on the other side)"],
    ['--json', 'print the result as JSON'],
  ];
}

type Flavour = 'iptables' | 'nftables';

interface SideSpec {
  /** As given on the command line (`-` for standard input). */
  path: string;
  /** Rule dumps carry their text and flavour; manifests are read by prepareNode. */
  rules?: { text: string; flavour: Flavour | undefined };
}

const IPTABLES_START = /^(\*[a-z]|:[^ ]+ |-[AINX] |\[\d+:\d+\] |COMMIT\b)/;
const NFT_START = /^(table|add|flush|delete|destroy|create|insert|replace|define|include)\b/;

/** What a text is, from its first line that is not blank or a `#` comment. */
export function sniffRules(text: string): Flavour | undefined {
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (IPTABLES_START.test(line)) return 'iptables';
    if (NFT_START.test(line)) return 'nftables';
    return undefined;
  }
  return undefined;
}

export async function runDiff(inputs: readonly string[], options: DiffCommandOptions, io: TraceIO): Promise<number> {
  const readFile = io.readFile ?? readText;
  let stdin: string | undefined;
  const readStdin = () => (stdin ??= io.readStdin());
  const read = (path: string): string | undefined => {
    try {
      return path === '-' ? readStdin() : readFile(path);
    } catch {
      return undefined;
    }
  };
  const specs = readSides(inputs, options, read);
  if (!Array.isArray(specs)) return usage(io, specs.usageError);

  const sniffed = specs.map((s) => s.rules?.flavour).filter((f) => f !== undefined);
  const mode = options.mode ?? (sniffed.includes('nftables') ? 'nftables' : 'iptables');
  if (mode !== 'iptables' && mode !== 'nftables') return usage(io, `--mode must be iptables or nftables, not ${JSON.stringify(mode)}`);
  for (const spec of specs) {
    const flavour = spec.rules?.flavour;
    if (flavour && flavour !== mode) {
      return usage(io, `${spec.path} is ${flavour === 'nftables' ? 'an nftables ruleset' : 'an iptables dump'}, but the mode is ${mode}${options.mode ? '' : ' (the other side)'}: both sides must be of one mode (--mode)`);
    }
  }

  const notes: string[] = [];
  const prepared: PreparedNode[] = [];
  for (const [index, spec] of specs.entries()) {
    const other = specs[1 - index] as SideSpec;
    const sideIO: TraceIO = { ...io, readStdin, readFile: (p) => (p === spec.path && spec.rules ? spec.rules.text : readFile(p)) };
    let sideOptions: RulesOptions = { ...options, mode };
    if (spec.rules) {
      const borrowed = options.nodeConfig === undefined && !other.rules ? folderNodeConfig(other.path) : undefined;
      if (borrowed) notes.push(`${spec.path} is a rule dump: using the node settings of ${borrowed}`);
      sideOptions = { ...sideOptions, rules: spec.path, ...(borrowed ? { nodeConfig: borrowed } : {}) };
    }
    const side = prepareNode(spec.rules ? [] : [spec.path], sideOptions, sideIO);
    // Bad input is trouble, not a difference: keep exit code 1 for "changed".
    if (!side.ok) return 2;
    notes.push(...side.node.notes);
    prepared.push(side.node);
  }
  const [first, second] = withPodsOfTheOtherSide(prepared[0] as PreparedNode, prepared[1] as PreparedNode, specs, notes);
  const [before, after] = [diffSide(first, mode), diffSide(second, mode)];
  const probes = collectProbes(before, after);
  const sources = chooseSources(first, second, probes, notes);
  let result: DiffResult;
  try {
    result = diffNodes(before, after, probes, sources);
  } catch (e) {
    if (!(e instanceof DiffTooLargeError)) throw e;
    return usage(io, tooLargeMessage(e, specs, probes.length * sources.length));
  }

  if (options.json) {
    const json = {
      changed: result.changed,
      mode,
      before: specs[0]?.path,
      after: specs[1]?.path,
      notes,
      sources,
      probes: probes.length,
      traced: result.fates.traced,
      fates: result.fates.changes,
      rules: result.rules,
      foreign: result.foreign,
    };
    io.stdout(`${JSON.stringify(json, null, 2)}\n`);
  } else {
    const header = [`kproxy diff (${mode} mode): ${specs[0]?.path} → ${specs[1]?.path}`, ...notes.map((n) => `note: ${n}`), ''];
    io.stdout(`${header.join('\n')}\n${renderDiffText(result)}`);
  }
  return result.changed ? 1 : 0;
}

/** Which packet, through which file, made the comparison stop, and the limit it passed. */
function tooLargeMessage(e: DiffTooLargeError, specs: readonly SideSpec[], packets: number): string {
  const where = `${probeText(e.probe)} from ${e.source.name} ${e.source.address} through ${specs[e.side === 'before' ? 0 : 1]?.path} (the ${e.side === 'before' ? 'old' : 'new'} side)`;
  const why = 'the rules make too many random choices in a row to enumerate every path';
  if (e.alone) return `diff stopped: ${where} has more than ${MAX_PATHS} paths, the most one packet's trace follows (kproxy trace stops there too); ${why}`;
  return `diff stopped after ${e.compared} of ${packets} probe packets: together they have more than ${e.budget} paths, the most one diff follows (${MAX_PATHS} + ${PATHS_PER_PACKET} per probe packet); the last one was ${where}; ${why}`;
}

/**
 * The two sides from the command line: `--old-rules`/`--new-rules` take their side, the positional arguments
 * fill the others in order. Files are read here to tell rule dumps from manifests; folders are manifests.
 */
function readSides(inputs: readonly string[], options: DiffCommandOptions, read: (path: string) => string | undefined): SideSpec[] | { usageError: string } {
  const forced = [options.oldRules, options.newRules];
  const free = forced.filter((f) => f === undefined).length;
  if (inputs.length !== free) {
    const wanted = free === 2 ? 'two inputs (old and new)' : free === 1 ? 'one input besides the --old-rules/--new-rules file' : 'no positional input with both --old-rules and --new-rules';
    return { usageError: `give ${wanted}, not ${inputs.length}` };
  }
  if ([...inputs, ...forced].filter((p) => p === '-').length > 1) return { usageError: '- (standard input) given more than once' };
  const positional = [...inputs];
  const specs: SideSpec[] = [];
  for (const rulesFile of forced) {
    if (rulesFile !== undefined) {
      const text = read(rulesFile);
      if (text === undefined) return { usageError: `cannot read ${rulesFile}` };
      specs.push({ path: rulesFile, rules: { text, flavour: sniffRules(text) } });
      continue;
    }
    const path = positional.shift() as string;
    if (path !== '-' && isDirectory(path)) {
      specs.push({ path });
      continue;
    }
    const text = read(path);
    if (text === undefined) return { usageError: `${path}: no such file or folder` };
    const flavour = sniffRules(text);
    specs.push(flavour ? { path, rules: { text, flavour } } : { path });
  }
  return specs;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The node.yaml prepareNode would use for a folder argument, if there is one. */
function folderNodeConfig(path: string): string | undefined {
  if (!isDirectory(path)) return undefined;
  const file = join(path, 'node.yaml');
  try {
    return statSync(file).isFile() ? file : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A rule dump says nothing about where pods run, so its emulator would route a packet to a pod of this node
 * out of the default route, unlike the manifests' side: a dump side borrows the pods (and Nodes) the other
 * side's manifests describe, and the difference stays one of rules.
 */
function withPodsOfTheOtherSide(a: PreparedNode, b: PreparedNode, specs: readonly SideSpec[], notes: string[]): [PreparedNode, PreparedNode] {
  const borrow = (side: PreparedNode, other: PreparedNode, path: string): PreparedNode => {
    if (side.cluster || !other.cluster) return side;
    notes.push(`${path} is a rule dump: where pods run is taken from the other side's manifests`);
    const node = buildNode(side.config, other.cluster);
    const emu = isNftEmulator(side.emu) ? createNftEmulator(side.emu.ruleset, node) : createEmulator(side.emu.rules, node);
    return { ...side, emu };
  };
  return [borrow(a, b, specs[0]?.path ?? ''), borrow(b, a, specs[1]?.path ?? '')];
}

/** A prepared node as diff/ sees it: its walker, its node model, its manifests, its rules. */
function diffSide(node: PreparedNode, mode: 'iptables' | 'nftables'): DiffSide {
  const trace: Tracer = (spec, options) => traceWith(node.emu, spec, options);
  const common = { trace, node: node.emu.node, ...(node.cluster ? { cluster: node.cluster } : {}) };
  // prepareNode built the ruleset of the mode it was asked for.
  return mode === 'nftables' ? { ...common, mode, ruleset: node.ruleset as NftRuleset } : { ...common, mode, ruleset: node.ruleset as IptablesRuleset };
}

/** Documentation addresses (RFC 5737 / 3849) for the outside client; the first one no probe goes to. */
const OUTSIDE_CLIENTS: Record<4 | 6, readonly string[]> = {
  4: ['203.0.113.10', '198.51.100.10', '192.0.2.10'],
  6: ['2001:db8:ffff::10', '2001:db8:fffe::10'],
};

/**
 * One client per source class, the same on both sides: a free pod address on this node (not a pod or a
 * probe destination on either side, or it would be a backend and hairpin), the node's primary IP, and an
 * outside address.
 */
function chooseSources(before: PreparedNode, after: PreparedNode, probes: readonly Probe[], notes: string[]): SourceClass[] {
  const destinations = new Set(probes.map((p) => p.destination));
  const taken = (ip: string) => destinations.has(ip) || [before, after].some((side) => [...side.emu.node.pods.values()].some((pod) => pod.ip.text === ip));
  const sources: SourceClass[] = [];
  const pod = [before, after].map((side) => defaultSource(side, 'pod', '')).find((s) => s !== undefined && !taken(s.ip));
  if (pod) sources.push({ name: 'pod', origin: 'pod', address: pod.ip });
  else notes.push('no free pod address is known on this node (no pod network in the node settings): no probes from a pod');
  const node = defaultSource(before, 'node', '');
  if (node) sources.push({ name: 'node', origin: 'node', address: node.ip });
  const outside = OUTSIDE_CLIENTS[before.emu.node.family].find((ip) => !destinations.has(ip));
  if (outside) sources.push({ name: 'outside', origin: 'external', address: outside });
  if (!before.emu.node.primaryIP) notes.push('the node settings give no node IP: NodePorts are not probed (use --node-config or --node-ip)');
  return sources;
}
