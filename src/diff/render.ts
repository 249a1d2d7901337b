/** A diff result as text: the packets that change fate, then the rule changes, then one summary line. */
import { formatProbability } from '../emulate/evaluate.js';
import { hasPorts } from '../emulate/packet.js';
import type { Fate, FateChange } from './fates.js';
import type { DiffResult } from './index.js';
import { probeKey, type Probe } from './probes.js';
import type { RuleChange } from './rules.js';

const ENDED_NORMALLY: ReadonlySet<string> = new Set(['delivered', 'forwarded', 'local']);

export function renderDiffText(result: DiffResult): string {
  const out: string[] = [];
  const { changes, traced } = result.fates;
  if (changes.length > 0) {
    const traceCount = `${traced} traced: ${result.probes.length} destinations × ${result.sources.length} sources`;
    out.push(`Packets that change fate (${changes.length} of ${traceCount}; before → after):`);
    let lastProbe = '';
    for (const change of changes) {
      const key = probeKey(change.probe);
      if (key !== lastProbe) out.push(`  ${probeText(change.probe)}`);
      lastProbe = key;
      out.push(...changeLines(change));
    }
    out.push('');
  }
  if (result.rules.length > 0) {
    const count = (status: RuleChange['status']) => result.rules.filter((r) => r.status === status).length;
    const objects = result.mode === 'nftables' ? 'chains, sets and maps' : 'chains';
    out.push(`Rule changes (${result.mode}; ${objects}: ${count('added')} added, ${count('removed')} removed, ${count('changed')} changed):`);
    for (const change of result.rules) out.push(...ruleChangeLines(change));
    out.push('');
  }
  if (result.foreign.length > 0) {
    out.push(`Also different, but not kube-proxy's (not compared rule by rule, not counted as a change): ${result.foreign.join(', ')}`, '');
  }
  out.push(summary(result));
  return `${out.join('\n')}\n`;
}

function summary(result: DiffResult): string {
  if (!result.changed) return `no change: ${result.fates.traced} probe packets have the same fate, and kube-proxy's rules are the same`;
  const fates = result.fates.changes.length;
  const rules = result.rules.length;
  return `${fates} of ${result.fates.traced} probe packets change fate; ${rules} ${result.mode === 'nftables' ? 'chains, sets or maps' : 'chains'} change`;
}

/** `10.96.0.10:80/tcp (default/kubia, cluster IP)`. */
export function probeText(probe: Probe): string {
  const v6 = probe.destination.includes(':');
  const where = hasPorts(probe.protocol) ? `${v6 ? `[${probe.destination}]` : probe.destination}:${probe.port}/${probe.protocol}` : `${probe.destination} ${probe.protocol}`;
  return `${where} (${probe.service ? `${probe.service}, ` : ''}${probe.kind})`;
}

function changeLines(change: FateChange): string[] {
  const from = `from ${change.source.name} ${change.source.address}`;
  let [before, after] = [distribution(change.before), distribution(change.after)];
  // The short form leaves out what usually goes without saying (delivered here or forwarded); say it when that is the difference.
  if (before === after) [before, after] = [distribution(change.before, true), distribution(change.after, true)];
  const lines = change.firstConnectionChanged ? [`    ${from}: ${before} → ${after}`] : [];
  const again = change.sameEndpointAgain;
  if (again.before !== null && again.after !== null && again.before !== again.after) {
    const first = change.firstConnectionChanged ? '' : ` (first connection unchanged: ${distribution(change.after)})`;
    lines.push(`    ${from}, next connection from the same client: same endpoint ${formatProbability(again.before)} → ${formatProbability(again.after)}${first}`);
  }
  return lines;
}

function distribution(fates: readonly Fate[], detailed = false): string {
  return fates.map((f) => `${fateText(f, detailed)} ${formatProbability(f.probability)}`).join(', ');
}

/**
 * `10.244.1.5:8080`, `10.244.2.7:8080 masqueraded`, `rejected`, `10.96.0.10 untranslated (forwarded)`;
 * `detailed` also names the end of a translated packet and where an untranslated one went.
 */
export function fateText(fate: Fate, detailed = false): string {
  if (fate.error !== undefined) return `not traced (${fate.error})`;
  const ended = ENDED_NORMALLY.has(fate.result) && !detailed;
  let text = fate.dnat ? (ended ? fate.dnat : `${fate.dnat} ${fate.result}`) : ended ? `${fate.finalDestination} untranslated (${fate.result})` : `${detailed ? `${fate.finalDestination} untranslated, ` : ''}${fate.result}`;
  if (fate.masquerade) text += ' masqueraded';
  if (fate.uncertain) text += ' (uncertain)';
  return text;
}

function ruleChangeLines(change: RuleChange): string[] {
  const what = change.kind === 'chain' ? 'rules' : 'elements';
  const count = (n: number, verb: string) => (n > 0 ? `${n} ${n === 1 ? what.slice(0, -1) : what} ${verb}` : '');
  const counts = [count(change.removed, 'removed'), count(change.added, 'added')].filter(Boolean).join(', ');
  const status = change.status === 'changed' ? counts || 'declaration changed' : `${change.kind} ${change.status}${counts ? ` (${counts})` : ''}`;
  const lines = [`  ${change.table} ${change.name}: ${status}`];
  if (change.declaration) lines.push(`    - ${change.declaration.before ?? ''}`, `    + ${change.declaration.after ?? ''}`);
  for (const hunk of change.hunks) {
    if (change.ordered) lines.push(`    @@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`);
    for (const line of hunk.lines) lines.push(`    ${line.op} ${line.text}`);
  }
  return lines;
}
