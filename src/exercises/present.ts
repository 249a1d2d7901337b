/**
 * Exercises in words: the list, the setup (ruleset, node, the manifest lines that matter, the situation), the
 * question, the verdict and the explanation, and the same as JSON for tools.
 */
import { parse } from 'yaml';
import type { Source } from '../model/source.js';
import { answerFormat, formatAnswer, letter, type Answer } from './run.js';
import type { Exercise, ManifestRef, Observation } from './types.js';

/** One exercise that has been run against its ruleset. */
export interface RunContext {
  exercise: Exercise;
  /** 1-based position in the catalog. */
  number: number;
  /** The ruleset folder as the learner would type it (e.g. `rulesets/kubia/`). */
  rulesetLabel: string;
  /** Node name and primary IP, for the setup line. */
  node: { name: string; ip?: string };
  /** The ruleset's manifests (file names as they should be printed). */
  sources: readonly Source[];
  obs: Observation;
  /** `explainTrace` of the traced packet (hop by hop, outcomes, closing remarks); `explainUrlTrace` for a request. */
  traceText: string;
}

export function listLines(catalog: readonly Exercise[]): string[] {
  const slugWidth = Math.max(...catalog.map((e) => e.slug.length));
  const lines = catalog.map((e, i) => `${String(i + 1).padStart(3)}  ${e.slug.padEnd(slugWidth)}  ${e.title} (rulesets/${e.ruleset}/, ${e.mode})`);
  return [...lines, '', 'Run one with `kproxy exercises run N` (or by name); answer interactively or with --answer.'];
}

export function setupLines(ctx: RunContext): string[] {
  const { exercise } = ctx;
  const lines = [
    `Exercise ${ctx.number} · ${exercise.slug} · ${exercise.title}`,
    `Ruleset ${ctx.rulesetLabel}, node ${ctx.node.name || '(unnamed)'}${ctx.node.ip ? ` (${ctx.node.ip})` : ''}, kube-proxy in ${exercise.mode} mode.`,
  ];
  for (const ref of exercise.show) lines.push('', ...manifestExcerpt(ctx.sources, ref));
  lines.push('', ...exercise.situation(ctx.obs));
  return lines;
}

export function questionLines(exercise: Exercise): string[] {
  const ask = exercise.ask;
  const choices = ask.kind === 'choice' ? ask.choices.map((c, i) => `  ${letter(i)}) ${c.text}`) : [];
  return [`Question: ${exercise.question}`, ...choices, `(answer with ${answerFormat(ask)})`];
}

export function verdictLines(expected: Answer, given: string, correct: boolean): string[] {
  return correct ? [`Correct: ${given}.`] : [`Not what the trace shows: you answered ${given}, the trace gives ${formatAnswer(expected)}.`];
}

/** Why the right answer is right: the picked choice's words, the exercise's words, and what the trace printed. */
export function explanationLines(ctx: RunContext, expected: Answer): string[] {
  const { exercise, obs } = ctx;
  const lines: string[] = [];
  if (exercise.ask.kind === 'choice' && expected.kind === 'choice') {
    const choice = exercise.ask.choices[expected.index];
    if (choice) lines.push(`Answer ${letter(expected.index)}: ${choice.text}`, ...choice.why(obs));
  } else lines.push(`Answer: ${formatAnswer(expected)}`);
  if (exercise.explain) lines.push(...exercise.explain(obs));
  const series = exercise.probe.kind === 'packet' && exercise.probe.run.kind !== 'once';
  lines.push('', `What the trace shows (\`${traceCommand(ctx)}\`${series ? ', last connection' : ''}):`);
  lines.push(...outcomeSection(ctx.traceText).map((l) => (l === '' ? l : `  ${l}`)));
  return lines;
}

/** The `kproxy trace` command that shows the same packet (sampled, for connection series) or request. */
export function traceCommand(ctx: RunContext): string {
  const { spec } = ctx.obs;
  const probe = ctx.exercise.probe;
  const mode = ctx.exercise.mode !== 'iptables' ? [`--mode ${ctx.exercise.mode}`] : [];
  if (probe.kind === 'http') {
    const from = probe.origin === 'external' ? 'outside' : probe.origin;
    return ['kproxy trace', ctx.rulesetLabel, `--url ${probe.scheme}://${probe.host}${probe.path}`, `--from ${from}`, `--src ${probe.source}`, ...mode].join(' ');
  }
  const words = ['kproxy trace', ctx.rulesetLabel, `--src ${spec.source}`, `--dst ${spec.destination}`];
  if (spec.destinationPort !== undefined) words.push(`--dport ${spec.destinationPort}`);
  if (spec.protocol !== 'tcp') words.push(`--proto ${spec.protocol}`);
  if (spec.origin) words.push(`--from ${spec.origin}`);
  words.push(...mode);
  const run = probe.run;
  if (run.kind === 'connections') words.push(`--connections ${run.count} --interval ${run.interval} --seed ${run.seed}`);
  if (run.kind === 'reconnect') words.push(`--connections 2 --interval ${run.after}`);
  return words.join(' ');
}

/** From the explanation's `Outcome(s):` line to its end: the outcomes and the closing remarks. */
function outcomeSection(traceText: string): string[] {
  const lines = traceText.trimEnd().split('\n');
  const start = lines.findIndex((l) => /^Outcomes?:$/.test(l));
  return start >= 0 ? lines.slice(start) : lines;
}

/** JSON for tools: the exercise, the question, and (when known) the right answer and the learner's. */
export function exerciseJson(ctx: RunContext, reveal: { expected: Answer } | undefined, given?: { text: string; correct: boolean }): unknown {
  const { exercise, obs } = ctx;
  return {
    number: ctx.number,
    slug: exercise.slug,
    topic: exercise.topic,
    title: exercise.title,
    ruleset: ctx.rulesetLabel,
    mode: exercise.mode,
    situation: exercise.situation(obs),
    question: exercise.question,
    ...(exercise.ask.kind === 'choice' ? { choices: exercise.ask.choices.map((c, i) => ({ key: letter(i), text: c.text })) } : {}),
    answerKind: exercise.ask.kind,
    answerFormat: answerFormat(exercise.ask),
    ...(given ? { answer: given.text, correct: given.correct } : {}),
    ...(reveal ? { expected: formatAnswer(reveal.expected), explanation: explanationLines(ctx, reveal.expected), trace: obs.http?.trace ?? obs.detail.trace } : {}),
    ...(reveal && obs.series ? { connections: obs.series } : {}),
    ...(reveal && obs.first ? { firstConnection: obs.first } : {}),
  };
}

/**
 * The lines of one object's YAML document, numbered as in its file; lines whose key is in `ref.keys` are marked.
 * Leading comments are left out (they explain the example, not this exercise).
 */
export function manifestExcerpt(sources: readonly Source[], ref: ManifestRef): string[] {
  for (const source of sources) {
    for (const doc of yamlDocuments(source.text)) {
      let value: unknown;
      try {
        value = parse(doc.lines.join('\n'));
      } catch {
        continue;
      }
      const object = value as { kind?: unknown; metadata?: { name?: unknown } } | null;
      if (object?.kind !== ref.kind || object.metadata?.name !== ref.name) continue;
      let first = doc.lines.findIndex((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
      let last = doc.lines.length - 1;
      while (last > first && (doc.lines[last] as string).trim() === '') last--;
      if (first < 0) first = 0;
      const width = String(doc.start + last).length;
      const out = [`${source.file}, lines ${doc.start + first}–${doc.start + last}${ref.keys?.length ? ' (▸ marks the lines that matter here)' : ''}:`];
      for (let i = first; i <= last; i++) {
        const line = doc.lines[i] as string;
        const key = /^\s*(?:-\s+)?([\w.-]+):/.exec(line)?.[1];
        const mark = key !== undefined && ref.keys?.includes(key) ? '▸' : ' ';
        out.push(`  ${mark} ${String(doc.start + i).padStart(width)} | ${line}`);
      }
      return out;
    }
  }
  return [`(no ${ref.kind} ${ref.name} in the ruleset's manifests)`];
}

/** Splits a YAML stream at `---` lines; `start` is the 1-based line number of each document's first line. */
function yamlDocuments(text: string): { start: number; lines: string[] }[] {
  const docs: { start: number; lines: string[] }[] = [{ start: 1, lines: [] }];
  text.split(/\r?\n/).forEach((line, i) => {
    if (/^---(\s|$)/.test(line)) docs.push({ start: i + 2, lines: [] });
    else (docs[docs.length - 1] as { lines: string[] }).lines.push(line);
  });
  return docs;
}
