/**
 * `kproxy diff` without the command line: two nodes (an emulator, the rules it runs, and the manifests when
 * a side had them) →
 *
 *   collectProbes ──► compareFates (each probe × source class through both emulators) ─┐
 *   diffIptablesRules / diffNftRules (chain by chain) ────────────────────────────────┴► DiffResult ──► renderDiffText / JSON
 */
import type { Cluster } from '../cluster/types.js';
import type { NodeModel } from '../emulate/node.js';
import type { IptablesRuleset } from '../ir/iptables.js';
import type { NftRuleset } from '../ir/nftables.js';
import { compareFates, type FateComparison, type SourceClass, type Tracer } from './fates.js';
import { mergeProbes, probesFromCluster, probesFromIptables, probesFromNft, type Probe } from './probes.js';
import { diffIptablesRules, diffNftRules, type RuleChange, type RuleDiff } from './rules.js';

export type { Fate, FateChange, SourceClass, SourceName, Tracer } from './fates.js';
export type { Probe, ProbeKind } from './probes.js';
export type { RuleChange, RuleDiff } from './rules.js';
export { DiffTooLargeError, pathBudget, PATHS_PER_PACKET } from './fates.js';
export { renderDiffText } from './render.js';

/** One side of the comparison. */
export type DiffSide = {
  trace: Tracer;
  node: NodeModel;
  /** Present when the side was compiled from manifests. */
  cluster?: Cluster;
} & ({ mode: 'iptables'; ruleset: IptablesRuleset } | { mode: 'nftables'; ruleset: NftRuleset });

export interface DiffResult {
  mode: 'iptables' | 'nftables';
  probes: Probe[];
  sources: SourceClass[];
  fates: FateComparison;
  rules: RuleChange[];
  /** Objects that are not kube-proxy's and differ (named only; they do not count as a change). */
  foreign: string[];
  /** A packet changes fate or kube-proxy's rules differ. */
  changed: boolean;
}

/** The probes of both sides: from their manifests first (their names and kinds win), then from their rules. */
export function collectProbes(before: DiffSide, after: DiffSide): Probe[] {
  const fromRules = (side: DiffSide) => (side.mode === 'nftables' ? probesFromNft(side.ruleset, side.node) : probesFromIptables(side.ruleset, side.node));
  const fromCluster = (side: DiffSide) => (side.cluster ? probesFromCluster(side.cluster, side.node) : []);
  return mergeProbes(fromCluster(before), fromCluster(after), fromRules(before), fromRules(after));
}

export function diffNodes(before: DiffSide, after: DiffSide, probes: readonly Probe[], sources: readonly SourceClass[]): DiffResult {
  const fates = compareFates(before.trace, after.trace, probes, sources);
  const rules: RuleDiff =
    before.mode === 'nftables' && after.mode === 'nftables'
      ? diffNftRules(before.ruleset, after.ruleset)
      : before.mode === 'iptables' && after.mode === 'iptables'
        ? diffIptablesRules(before.ruleset, after.ruleset)
        : mixedModes();
  return {
    mode: before.mode,
    probes: [...probes],
    sources: [...sources],
    fates,
    rules: rules.changes,
    foreign: rules.foreign,
    changed: fates.changes.length > 0 || rules.changes.length > 0,
  };
}

function mixedModes(): never {
  throw new Error('diffNodes: both sides must be of the same proxy mode');
}
