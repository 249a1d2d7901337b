/**
 * Ruleset IR → the iptables-restore payload, laid out as kube-proxy writes it: per table `*name`, every chain
 * line, the rules in written order with the `-X` lines at their recorded positions, `COMMIT`.
 * Words are joined with single spaces; a word that would not survive tokenization (a comment with spaces) is
 * double-quoted, the way kube-proxy quotes its comments. parseIptables reads this back to the same IR.
 */
import type { ChainDecl, Counters, IptablesRuleset, MatchPart, Rule, Target } from '../ir/iptables.js';
import { quoteRestoreWord } from '../parse/tokenize.js';
import { SharedTexts } from './shared-texts.js';
import { TextBuffer } from './text-buffer.js';

export function renderRestore(ruleset: IptablesRuleset): string {
  const out = new TextBuffer();
  const shared = new SharedTexts();
  for (const table of ruleset.tables) {
    out.push(`*${table.name}\n`);
    for (const chain of table.chains) out.push(chainLine(chain));
    const deleted = [...table.deletedChains].sort((a, b) => a.beforeRule - b.beforeRule);
    let d = 0;
    for (let r = 0; r <= table.rules.length; r++) {
      while (d < deleted.length && (deleted[d]?.beforeRule as number) <= r) out.push(`-X ${deleted[d++]?.name as string}\n`);
      const rule = table.rules[r];
      if (rule) out.push(ruleLine(rule, shared));
    }
    // A `beforeRule` past the end still belongs to this table.
    while (d < deleted.length) out.push(`-X ${deleted[d++]?.name as string}\n`);
    out.push('COMMIT\n');
  }
  return out.text();
}

/** `:NAME POLICY [packets:bytes]`; user chains (and built-ins without a policy) print `-`. */
export function chainLine(chain: ChainDecl): string {
  return `:${chain.name} ${chain.policy ?? '-'} ${countersText(chain.counters)}\n`;
}

/** `-A CHAIN args...`, with the `[packets:bytes] ` prefix when the rule carries counters. */
export function ruleLine(rule: Rule, shared?: SharedTexts): string {
  // Written straight from the parts (the words of argsOfRule, each quoted when needed): no word arrays for
  // the hundreds of thousands of rules of a large payload.
  let line = rule.counters ? `${countersText(rule.counters)} -A ${rule.chain}` : `-A ${rule.chain}`;
  for (const part of rule.parts) line += shared ? shared.of(part, partText) : partText(part);
  const target = rule.target;
  if (target) line += shared ? shared.of(target, targetText) : targetText(target);
  return `${line}\n`;
}

function targetText(target: Target): string {
  let text = `${target.goto ? ' -g ' : ' -j '}${quoteRestoreWord(target.name)}`;
  for (const option of target.options) text += optionText(option.name, option.args);
  return text;
}

/** One part as ` [!] FLAG VALUE...`, the words argsOfPart gives. */
function partText(part: MatchPart): string {
  if (part.kind === 'module') return ` -m ${quoteRestoreWord(part.name)}`;
  const not = part.negated ? ' !' : '';
  switch (part.kind) {
    case 'source':
      return `${not} -s ${quoteRestoreWord(part.address)}`;
    case 'destination':
      return `${not} -d ${quoteRestoreWord(part.address)}`;
    case 'protocol':
      return `${not} -p ${quoteRestoreWord(part.protocol)}`;
    case 'inInterface':
      return `${not} -i ${quoteRestoreWord(part.name)}`;
    case 'outInterface':
      return `${not} -o ${quoteRestoreWord(part.name)}`;
    case 'option':
      return not + optionText(part.name, part.args);
  }
}

function optionText(name: string, args: readonly string[]): string {
  let text = ` ${quoteRestoreWord(`--${name}`)}`;
  for (const arg of args) text += ` ${quoteRestoreWord(arg)}`;
  return text;
}

function countersText(counters: Counters | undefined): string {
  return counters ? `[${counters.packets}:${counters.bytes}]` : '[0:0]';
}
