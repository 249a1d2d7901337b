/** Shared helpers of the nftables tests: a case folder (input.yaml + config.yaml) → ruleset. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildCluster } from '../src/cluster/build.js';
import type { Cluster } from '../src/cluster/types.js';
import { hasErrors } from '../src/diag/diagnostic.js';
import type { NftRuleset } from '../src/ir/nftables.js';
import { loadManifests } from '../src/model/load.js';
import { parseNodeConfig, resolveNodeConfig, type NodeConfig } from '../src/model/node-config.js';
import { compileNftables } from '../src/proxy/nftables/compile.js';

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
