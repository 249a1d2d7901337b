/** Shared helpers of the nftables tests: a case folder (input.yaml + config.yaml) → ruleset. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { buildCluster } from '../src/cluster/build.js';
import type { Cluster } from '../src/cluster/types.js';
import { hasErrors } from '../src/diag/diagnostic.js';
import type { NftRuleset } from '../src/ir/nftables.js';
import { loadManifests } from '../src/model/load.js';
import { parseNodeConfig, resolveNodeConfig, type NodeConfig } from '../src/model/node-config.js';
import { compileNftables } from '../src/proxy/nftables/compile.js';
import { conformancePath, repoRoot } from './helpers.js';

export function loadCase(dir: string): { cluster: Cluster; config: NodeConfig } {
  const inputFile = path.join(dir, 'input.yaml');
  const loaded = loadManifests([{ file: inputFile, text: readFileSync(inputFile, 'utf8') }]);
  if (hasErrors(loaded.diagnostics)) throw new Error(`bad input ${inputFile}: ${JSON.stringify(loaded.diagnostics)}`);
  const { cluster } = buildCluster(loaded.objects);
  const configFile = path.join(dir, 'config.yaml');
  const parsed = parseNodeConfig(readFileSync(configFile, 'utf8'), configFile);
  if (hasErrors(parsed.diagnostics)) throw new Error(`bad config ${configFile}: ${JSON.stringify(parsed.diagnostics)}`);
  return { cluster, config: resolveNodeConfig(parsed.layer) };
}

export function compileCase(dir: string): NftRuleset {
  const { cluster, config } = loadCase(dir);
  return compileNftables(cluster, config);
}

/** Every folder with an input.yaml under the conformance cases and our own fixtures. */
export function nftCaseDirs(): { name: string; dir: string }[] {
  const roots = [conformancePath('nftables'), path.join(repoRoot, 'test', 'fixtures', 'nft')];
  const result: { name: string; dir: string }[] = [];
  for (const root of roots) {
    if (!existsSync(root)) continue;
    for (const name of readdirSync(root).sort()) {
      const dir = path.join(root, name);
      if (existsSync(path.join(dir, 'input.yaml'))) result.push({ name: `${path.basename(root)}/${name}`, dir });
    }
  }
  return result;
}

/**
 * A listing with each `elements = { … }` block reduced to its shape (elements per line) and its sorted
 * elements: the kernel lists hash-set elements in bucket order, so only shape and content can be compared.
 */
export function normalizeListing(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const m = /^(\t+)elements = \{ (.*)$/.exec(line);
    if (!m) {
      out.push(line);
      continue;
    }
    const chunks = [m[2] as string];
    while (!(chunks[chunks.length - 1] as string).endsWith(' }') && i + 1 < lines.length) chunks.push((lines[++i] as string).trim());
    const last = chunks.length - 1;
    chunks[last] = (chunks[last] as string).slice(0, -2);
    const perLine = chunks.map((c) => c.replace(/,$/, '').split(', '));
    out.push(`${m[1]}elements shape=${perLine.map((p) => p.length).join(',')}`);
    for (const element of perLine.flat().sort()) out.push(`${m[1]}\t${element}`);
  }
  return out.join('\n');
}
