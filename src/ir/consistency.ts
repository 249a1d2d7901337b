/**
 * kube-proxy's checkIPTablesRuleJumps (proxier_test.go), the sanity check its tests run on every full
 * payload: per table, every chain that is jumped to or filled must be created, every chain jumped to must have
 * rules (KUBE-NODEPORTS may be empty), and every created chain must be jumped to (the top-level chains excepted).
 * Line-level like the original (fields split on blanks), so it also checks payloads a full parse refuses.
 */
import { fields, splitTables } from '../parse/lenient.js';
import { BUILTIN_CHAINS } from './iptables.js';

/** Targets that are verdicts or extensions, never chains. */
const NOT_CHAINS = ['ACCEPT', 'REJECT', 'DROP', 'MARK', 'RETURN', 'DNAT', 'SNAT', 'MASQUERADE'];

/** Chains kube-proxy creates that are entered from outside the payload (base-chain jumps). */
const TOP_LEVEL = [
  'KUBE-SERVICES', 'KUBE-EXTERNAL-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-FORWARD',
  'KUBE-MARK-MASQ', 'KUBE-PROXY-FIREWALL', 'KUBE-FIREWALL',
];

/**
 * The problems found, one message per table and kind, in the upstream wording (`some chains in nat are used
 * but were not created: [KUBE-SVC-...]`, chain list sorted); empty when the payload is consistent. Upstream
 * stops at the first problem; the first message here is the one it would report for the first table.
 */
export function checkRuleJumps(text: string): string[] {
  const errors: string[] = [];
  for (const table of splitTables(text)) {
    const created = new Set<string>();
    const filled = new Set<string>();
    const jumped = new Set<string>();
    for (const line of table.lines) {
      if (line.startsWith(':')) created.add(line.slice(1).split(' ')[0] as string);
    }
    for (const line of table.lines) {
      const words = fields(line);
      if (words.length === 2 && words[0] === '-X') created.delete(words[1] as string);
      if (words.length > 1 && words[0] === '-A') filled.add(words[1] as string);
      for (let i = 0; i + 1 < words.length; i++) if (words[i] === '-j') jumped.add(words[i + 1] as string);
    }
    for (const name of NOT_CHAINS) jumped.delete(name);

    const missing = [...new Set([...jumped, ...filled])].filter((c) => !created.has(c));
    if (missing.length > 0) {
      errors.push(`some chains in ${table.name} are used but were not created: ${goList(missing)}`);
      continue;
    }
    const empty = [...jumped].filter((c) => !filled.has(c) && c !== 'KUBE-NODEPORTS');
    if (empty.length > 0) {
      errors.push(`some chains in ${table.name} are jumped to but have no rules: ${goList(empty)}`);
      continue;
    }
    // Built-in chains are entered by the kernel (upstream payloads never declare them, so this changes nothing there).
    const builtins = Object.hasOwn(BUILTIN_CHAINS, table.name) ? (BUILTIN_CHAINS[table.name] as readonly string[]) : [];
    const unused = [...created].filter((c) => !jumped.has(c) && !TOP_LEVEL.includes(c) && !builtins.includes(c));
    if (unused.length > 0) errors.push(`some chains in ${table.name} are created but not used: ${goList(unused)}`);
  }
  return errors;
}

/** Go's `%v` of a []string, sorted for a stable message: `[A B C]`. */
function goList(items: string[]): string {
  return `[${[...items].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).join(' ')}]`;
}
