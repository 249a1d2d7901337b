/** `npm run bench`: every benchmark, figures printed (no pass/fail: targets are read by people). */
import { runCompileBench } from './compile.js';
import { runNftBench } from './nft.js';
import { runParseBench } from './parse.js';
import { runTraceBench } from './trace.js';

runCompileBench();
runParseBench();
runTraceBench();
runNftBench();
// The kernel lab (root, ~15 s) only when asked: npm run bench -- --lab
if (process.argv.includes('--lab')) await (await import('./lab.js')).runLabBench();
