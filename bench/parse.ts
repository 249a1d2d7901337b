/**
 * Parse speed of a node-sized `iptables-save` dump (~430,000 lines); target ≥ 500,000 lines/s. The parser
 * checks every line but keeps a rule's parts only once something reads them (a trace reads few); the second
 * figure reads every rule as well, which is what a consumer of the whole dump (diff, save) pays.
 */
import { performance } from 'node:perf_hooks';
import { parseIptables } from '../src/parse/iptables.js';
import { bigSaveDump } from './big-dump.js';

export function runParseBench(): void {
  console.log('\nparse iptables-save dump (best of 3)');
  for (const counters of [false, true]) {
    const text = bigSaveDump(16000, 6, counters);
    const lines = text.split('\n').length - 1;
    let best = Infinity;
    let bestWithRead = Infinity;
    for (let run = 0; run < 3; run++) {
      const start = performance.now();
      const { ruleset, diagnostics } = parseIptables(text, 'big.txt');
      best = Math.min(best, performance.now() - start);
      if (diagnostics.length > 0) throw new Error(`bench dump did not parse: ${diagnostics[0]?.message}`);
      let parts = 0;
      for (const table of ruleset.tables) for (const rule of table.rules) parts += rule.parts.length;
      bestWithRead = Math.min(bestWithRead, performance.now() - start);
      if (parts === 0) throw new Error('bench dump has no rule parts');
    }
    const rate = (ms: number) => `${ms.toFixed(0)} ms = ${Math.round((lines / ms) * 1000)} lines/s`;
    console.log(`  ${lines} lines${counters ? ' (with -c counters)' : ''}: ${rate(best)}; reading every rule too: ${rate(bestWithRead)}`);
  }
}
