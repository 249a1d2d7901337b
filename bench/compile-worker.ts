/**
 * One compile in a fresh process, so its peak RSS is its own: reads a manifest file, compiles it with the
 * bench node settings, writes the payload to a file, prints {ms, bytes, maxRssMB} as JSON.
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { compileToText, loadCluster } from '../src/index.js';
import { readTextFile } from '../src/cli/read-inputs.js';
import { resolveNodeConfig } from '../src/model/node-config.js';

const [input, output] = process.argv.slice(2) as [string, string];
const config = resolveNodeConfig({
  nodeName: 'node-1',
  nodeIP: '192.168.0.2',
  clusterCIDR: '10.128.0.0/9',
  // xt_nfacct refuses rules for counters that do not exist; the load comparison uses a bare netns.
  nfacctCounters: { ct_state_invalid_dropped_pkts: false, localhost_nps_accepted_pkts: false },
});
const start = performance.now();
// Read as the CLI reads its inputs.
const source = readTextFile(input, []);
if (!source) throw new Error(`cannot read ${input}`);
const loaded = loadCluster([source]);
if (!loaded.cluster) throw new Error(`bench input did not load: ${loaded.diagnostics[0]?.message}`);
const payload = compileToText(loaded.cluster, config, { format: 'restore' });
const ms = performance.now() - start;
writeFileSync(output, payload);
process.stdout.write(JSON.stringify({ ms, bytes: Buffer.byteLength(payload), maxRssMB: process.resourceUsage().maxRSS / 1024 }));
