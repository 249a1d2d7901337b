/** `kproxy check`: kube-proxy's consistency check of a payload (the one its unit tests run). */
import { checkRuleJumps } from '../ir/consistency.js';
import { splitTables } from '../parse/lenient.js';
import type { CliIO } from './io.js';
import { usage } from './compile.js';
import { readText } from './read-inputs.js';

export async function runCheck(file: string, io: CliIO): Promise<number> {
  let text: string;
  try {
    text = file === '-' ? io.readStdin() : readText(file);
  } catch {
    return usage(io, `cannot read ${file}`);
  }
  const name = file === '-' ? '<stdin>' : file;
  // Lenient inside a table, as kube-proxy's check is; but text without any table is no payload at all.
  if (splitTables(text).length === 0) {
    const lines = text.split('\n');
    const first = lines.findIndex((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
    const at = first < 0 ? '1:1' : `${first + 1}:${(lines[first] as string).search(/\S/) + 1}`;
    io.stderr(`${name}:${at}: error[E_IPT_NO_TABLE]: no *table line: not an iptables-restore payload or iptables-save dump\n`);
    return 1;
  }
  const problems = checkRuleJumps(text);
  for (const problem of problems) io.stderr(`${name}: error[E_CHAIN_JUMPS]: ${problem}\n`);
  if (problems.length === 0) io.stdout(`${name}: consistent\n`);
  return problems.length === 0 ? 0 : 1;
}
