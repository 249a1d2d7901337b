/** `kproxy check`: kube-proxy's consistency check of a payload (the one its unit tests run). */
import { readFileSync } from 'node:fs';
import { checkRuleJumps } from '../ir/consistency.js';
import type { CliIO } from './io.js';
import { usage } from './compile.js';

export async function runCheck(file: string, io: CliIO): Promise<number> {
  let text: string;
  try {
    text = file === '-' ? io.readStdin() : readFileSync(file, 'utf8');
  } catch {
    return usage(io, `cannot read ${file}`);
  }
  const problems = checkRuleJumps(text);
  const name = file === '-' ? '<stdin>' : file;
  for (const problem of problems) io.stderr(`${name}: error[E_CHAIN_JUMPS]: ${problem}\n`);
  if (problems.length === 0) io.stdout(`${name}: consistent\n`);
  return problems.length === 0 ? 0 : 1;
}
