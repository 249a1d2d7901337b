/**
 * Ruleset IR → the iptables-restore payload, laid out as kube-proxy writes it: per table `*name`, every chain
 * line, the rules in written order with the `-X` lines at their recorded positions, `COMMIT`.
 * Words are joined with single spaces; a word that would not survive tokenization (a comment with spaces) is
 * double-quoted, the way kube-proxy quotes its comments. parseIptables reads this back to the same IR.
 */
import { argsOfRule } from '../ir/args.js';
import type { ChainDecl, Counters, IptablesRuleset, Rule } from '../ir/iptables.js';
import { quoteRestoreWord } from '../parse/tokenize.js';

export function renderRestore(ruleset: IptablesRuleset): string {
  const out: string[] = [];
  for (const table of ruleset.tables) {
    out.push(`*${table.name}\n`);
    for (const chain of table.chains) out.push(chainLine(chain));
    const deleted = [...table.deletedChains].sort((a, b) => a.beforeRule - b.beforeRule);
    let d = 0;
    for (let r = 0; r <= table.rules.length; r++) {
      while (d < deleted.length && (deleted[d]?.beforeRule as number) <= r) out.push(`-X ${deleted[d++]?.name as string}\n`);
      const rule = table.rules[r];
      if (rule) out.push(ruleLine(rule));
    }
    // A `beforeRule` past the end still belongs to this table.
    while (d < deleted.length) out.push(`-X ${deleted[d++]?.name as string}\n`);
    out.push('COMMIT\n');
  }
  return out.join('');
}

/** `:NAME POLICY [packets:bytes]`; user chains (and built-ins without a policy) print `-`. */
export function chainLine(chain: ChainDecl): string {
  return `:${chain.name} ${chain.policy ?? '-'} ${countersText(chain.counters)}\n`;
}

/** `-A CHAIN args...`, with the `[packets:bytes] ` prefix when the rule carries counters. */
export function ruleLine(rule: Rule): string {
  const words = argsOfRule(rule);
  let line = rule.counters ? `${countersText(rule.counters)} -A ${rule.chain}` : `-A ${rule.chain}`;
  for (const word of words) line += ` ${quoteRestoreWord(word)}`;
  return `${line}\n`;
}

function countersText(counters: Counters | undefined): string {
  return counters ? `[${counters.packets}:${counters.bytes}]` : '[0:0]';
}
