/** `npm run bench`: every benchmark, figures printed (no pass/fail: targets are read by people). */
import { runCompileBench } from './compile.js';
import { runNftBench } from './nft.js';
import { runParseBench } from './parse.js';
import { runTraceBench } from './trace.js';

runCompileBench();
runParseBench();
runTraceBench();
runNftBench();
