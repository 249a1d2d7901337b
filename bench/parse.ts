/** Parse speed of a node-sized `iptables-save` dump (~430,000 lines); target ≥ 500,000 lines/s. */
import { performance } from 'node:perf_hooks';
import { parseIptables } from '../src/parse/iptables.js';
import { bigSaveDump } from './big-dump.js';

export function runParseBench(): void {
  console.log('\nparse iptables-save dump (best of 3)');
  for (const counters of [false, true]) {
    const text = bigSaveDump(16000, 6, counters);
    const lines = text.split('\n').length - 1;
    let best = Infinity;
    for (let run = 0; run < 3; run++) {
      const start = performance.now();
      const { diagnostics } = parseIptables(text, 'big.txt');
      best = Math.min(best, performance.now() - start);
      if (diagnostics.length > 0) throw new Error(`bench dump did not parse: ${diagnostics[0]?.message}`);
    }
    console.log(`  ${lines} lines${counters ? ' (with -c counters)' : ''}: ${best.toFixed(0)} ms = ${Math.round((lines / best) * 1000)} lines/s`);
  }
}
