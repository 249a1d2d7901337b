/**
 * kproxy's pipeline, one phase after the other:
 *
 *   sources ──loadManifests──► objects ──buildCluster──► Cluster ──compileIptables──► ruleset IR ──render──► text
 *
 * Each phase is a pure function; diagnostics are collected per phase and the pipeline stops between phases
 * when a phase reported an error.
 */
import { buildCluster } from './cluster/build.js';
import type { Cluster } from './cluster/types.js';
import { hasErrors, type Diagnostic } from './diag/diagnostic.js';
import type { IptablesRuleset } from './ir/iptables.js';
import { loadManifests, type SkippedObject, type Source } from './model/load.js';
import type { NodeConfig } from './model/node-config.js';
import { withBaseChainJumps } from './proxy/iptables/base-chains.js';
import { compileIptables, type PreviousSync } from './proxy/iptables/compile.js';
import { canonicalizeIptables } from './render/canonical.js';
import { renderJson } from './render/json.js';
import { renderRestore } from './render/restore.js';
import { renderSave } from './render/save.js';
import { compileNftables } from './proxy/nftables/compile.js';
import { canonicalizeNftDump } from './render/nft-canonical.js';
import { renderNftDump } from './render/nft-dump.js';
import { renderNftList } from './render/nft-list.js';
import { buildIptablesChainGraph, buildNftChainGraph } from './render/chain-graph.js';
import { renderDot } from './render/dot.js';
import { renderMermaid } from './render/mermaid.js';

export interface ClusterResult {
  /** Undefined when loading reported errors. */
  cluster: Cluster | undefined;
  diagnostics: Diagnostic[];
  skipped: SkippedObject[];
}

/** Manifests → Cluster: validation, API defaults, and the control plane's endpoint derivation. */
export function loadCluster(sources: readonly Source[]): ClusterResult {
  const loaded = loadManifests(sources);
  if (hasErrors(loaded.diagnostics)) return { cluster: undefined, diagnostics: loaded.diagnostics, skipped: loaded.skipped };
  const built = buildCluster(loaded.objects);
  const diagnostics = [...loaded.diagnostics, ...built.diagnostics];
  return { cluster: hasErrors(diagnostics) ? undefined : built.cluster, diagnostics, skipped: loaded.skipped };
}

export type ProxyMode = 'iptables' | 'nftables';
export type IptablesFormat = 'restore' | 'save' | 'json' | 'dot' | 'mermaid';
export type NftablesFormat = 'dump' | 'nft' | 'json' | 'dot' | 'mermaid';
/** What each mode can print; the first is the default (what one compares with on a node). */
export const FORMATS: Record<ProxyMode, readonly string[]> = {
  iptables: ['save', 'restore', 'json', 'dot', 'mermaid'],
  nftables: ['nft', 'dump', 'json', 'dot', 'mermaid'],
};

export interface RenderOptions {
  mode?: ProxyMode;
  format: IptablesFormat | NftablesFormat;
  /** kube-proxy's test sort (iptables restore payload, nftables dump). */
  canonical?: boolean;
  /** iptables-save flavour: table order and header differ between the legacy and nf_tables backends. */
  backend?: 'legacy' | 'nft';
}

/**
 * Cluster → what kube-proxy writes in the chosen mode, in the requested text form. `previous` (iptables mode)
 * is the node before this sync: the restore payload and its JSON then delete stale chains and, on a partial
 * sync, leave out unchanged Services; `save` and the chain graphs show the node afterwards, which is the same
 * as after a full sync.
 */
export function compileToText(cluster: Cluster, config: NodeConfig, options: RenderOptions, previous?: PreviousSync): string {
  if (options.mode === 'nftables') {
    const ruleset = compileNftables(cluster, config);
    switch (options.format) {
      case 'dump': {
        const text = renderNftDump(ruleset);
        return options.canonical ? canonicalizeNftDump(text) : text;
      }
      case 'json':
        return renderJson(ruleset);
      case 'dot':
        return renderDot(buildNftChainGraph(ruleset));
      case 'mermaid':
        return renderMermaid(buildNftChainGraph(ruleset));
      default:
        return renderNftList(ruleset);
    }
  }
  const payloadOnly = options.format === 'restore' || options.format === 'json';
  return renderIptables(compileIptables(cluster, config, payloadOnly ? previous : undefined), options);
}

export function renderIptables(payload: IptablesRuleset, options: RenderOptions): string {
  switch (options.format) {
    case 'restore': {
      const text = renderRestore(payload);
      return options.canonical ? canonicalizeIptables(text) : text;
    }
    case 'json':
      return renderJson(payload);
    case 'dot':
      return renderDot(buildIptablesChainGraph(withBaseChainJumps(payload)));
    case 'mermaid':
      return renderMermaid(buildIptablesChainGraph(withBaseChainJumps(payload)));
    default:
      return renderSave(withBaseChainJumps(payload), { backend: options.backend ?? 'nft' });
  }
}

export { buildCluster, compileIptables, compileNftables, loadManifests, withBaseChainJumps };
export type { Cluster, Diagnostic, IptablesRuleset, NodeConfig, Source };
