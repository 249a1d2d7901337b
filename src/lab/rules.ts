/**
 * What the lab loads into the node namespace, exactly as kube-proxy writes it (pure text, loaded by netns.ts):
 *
 * - iptables mode: first the base-chain jumps, as kube-proxy ensures them before each sync (`iptables -N` of
 *   the target chain, then `iptables -I <builtin> 1 ...` for each, here as `-I` lines of one
 *   `iptables-restore --noflush`), then the restore payload with `iptables-restore --noflush`. The backend is
 *   iptables-nft by default (what current distributions ship; `--backend legacy` picks the other); both drive
 *   the same xtables matches, so the emulator must agree with either. The nfacct objects the payload counts
 *   into (`-m nfacct --nfacct-name`) are created first with `nfacct add`, as they exist on a real node.
 * - nftables mode: the `nft -f` text of the compiled table (what `nft list ruleset` prints).
 */
import type { Cluster } from '../cluster/types.js';
import type { NodeConfig } from '../model/node-config.js';
import { BASE_CHAIN_JUMPS, baseJumpArgs } from '../proxy/iptables/base-chains.js';
import { compileIptables } from '../proxy/iptables/compile.js';
import { compileNftables } from '../proxy/nftables/compile.js';
import { renderNftList } from '../render/nft-list.js';
import { rawValue } from '../render/quote.js';
import { renderRestore } from '../render/restore.js';

export interface LabRules {
  mode: 'iptables' | 'nftables';
  /** Texts to load, in order (restore payloads with --noflush, or one nft -f text). */
  texts: string[];
  /** nfacct objects to create before loading (iptables mode). */
  nfacctObjects: string[];
}

export function labRules(cluster: Cluster, config: NodeConfig, mode: 'iptables' | 'nftables'): LabRules {
  if (mode === 'nftables') return { mode, texts: [renderNftList(compileNftables(cluster, config))], nfacctObjects: [] };
  const payload = renderRestore(compileIptables(cluster, config));
  const nfacctObjects = Object.entries(config.nfacctCounters)
    .filter(([name, exists]) => exists && payload.includes(`--nfacct-name ${name}`))
    .map(([name]) => name);
  return { mode, texts: [baseJumpsText(), payload], nfacctObjects };
}

/** `iptables -N TARGET; iptables -I FROM 1 ARGS` for every base-chain jump, as one restore text. */
export function baseJumpsText(): string {
  const lines: string[] = [];
  for (const table of [...new Set(BASE_CHAIN_JUMPS.map((j) => j.table))]) {
    const jumps = BASE_CHAIN_JUMPS.filter((j) => j.table === table);
    lines.push(`*${table}`);
    for (const target of new Set(jumps.map((j) => j.to))) lines.push(`:${target} - [0:0]`);
    for (const jump of jumps) lines.push(`-I ${jump.from} 1 ${baseJumpArgs(jump).map(rawValue).join(' ')}`);
    lines.push('COMMIT');
  }
  return `${lines.join('\n')}\n`;
}
