/**
 * `kproxy exercises`: short scenarios on the examples in rulesets/. `list` (the default) names them; `show N`
 * prints the setup and the question (`--solution`: also the answer, derived from the trace); `run N` asks the
 * question, reads the answer (a line from the terminal, or `--answer`), and checks it against the trace.
 * Exit codes: 0 listed / shown / right answer, 1 wrong answer or an exercise that does not fit the rules, 2 usage.
 */
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { explainTrace } from '../emulate/explain.js';
import { nftAfterword } from '../emulate/nft/index.js';
import { EXERCISES } from '../exercises/catalog.js';
import { explainUrlTrace } from '../ingress/explain.js';
import { exerciseJson, explanationLines, listLines, questionLines, setupLines, verdictLines, type RunContext } from '../exercises/present.js';
import { ExerciseError, expectedAnswer, findExercise, isCorrect, observe, parseAnswer, type Answer, type Lab } from '../exercises/run.js';
import type { Exercise } from '../exercises/types.js';
import { usage } from './compile.js';
import type { CliIO } from './io.js';
import { isNftEmulator, prepareNode, traceWith } from './trace.js';

export interface ExercisesOptions {
  /** Folder holding the example rulesets (default: the repository's rulesets/). */
  rulesets?: string;
  json?: boolean;
  /** `run`: the answer, instead of asking. */
  answer?: string;
  /** `show`: also print the answer and its explanation. */
  solution?: boolean;
}

/** Adds `kproxy exercises [list|show|run]` to the program; each action stores its exit code with `setExit`. */
export function registerExercises(program: Command, io: CliIO, setExit: (code: number) => void): void {
  const exercises = program.command('exercises').description('short exercises on the examples in rulesets/: predict a packet, then check by tracing');
  const rulesetsFlag = ['--rulesets <dir>', 'folder with the example rulesets (default: the rulesets/ folder of kproxy)'] as const;
  exercises
    .command('list', { isDefault: true })
    .description('list the exercises')
    .option('--json', 'print the list as JSON')
    .action((options: ExercisesOptions) => setExit(listExercises(options, io)));
  exercises
    .command('show')
    .description('print the setup and the question of an exercise')
    .argument('<exercise>', 'number or name, as listed')
    .option(...rulesetsFlag)
    .option('--solution', 'also print the answer the trace gives, and why')
    .option('--json', 'print as JSON')
    .action((key: string, options: ExercisesOptions) => setExit(showExercise(key, options, io)));
  exercises
    .command('run')
    .description('ask the question of an exercise, then check the answer by tracing')
    .argument('<exercise>', 'number or name, as listed')
    .option(...rulesetsFlag)
    .option('--answer <answer>', 'answer without being asked (a letter, ip:port list, yes/no, an address or a number)')
    .option('--json', 'print the result as JSON (needs --answer)')
    .action(async (key: string, options: ExercisesOptions) => setExit(await runExercise(key, options, io)));
}

export function listExercises(options: ExercisesOptions, io: CliIO): number {
  if (options.json) {
    const list = EXERCISES.map((e, i) => ({ number: i + 1, slug: e.slug, topic: e.topic, title: e.title, ruleset: e.ruleset, mode: e.mode }));
    io.stdout(`${JSON.stringify(list, null, 2)}\n`);
  } else io.stdout(`${listLines(EXERCISES).join('\n')}\n`);
  return 0;
}

export function showExercise(key: string, options: ExercisesOptions, io: CliIO): number {
  const prepared = prepareExercise(key, options, io);
  if (!prepared.ok) return prepared.exitCode;
  const { ctx, expected } = prepared;
  if (options.json) {
    io.stdout(`${JSON.stringify(exerciseJson(ctx, options.solution ? { expected } : undefined), null, 2)}\n`);
    return 0;
  }
  const lines = [...setupLines(ctx), '', ...questionLines(ctx.exercise)];
  if (options.solution) lines.push('', ...explanationLines(ctx, expected));
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}

export async function runExercise(key: string, options: ExercisesOptions, io: CliIO): Promise<number> {
  if (options.json && options.answer === undefined) return usage(io, '--json needs --answer (the question is not asked in JSON mode)');
  const prepared = prepareExercise(key, options, io);
  if (!prepared.ok) return prepared.exitCode;
  const { ctx, expected } = prepared;
  const ask = ctx.exercise.ask;
  let given: { text: string; answer: Answer };
  if (options.answer !== undefined) {
    const parsed = parseAnswer(ask, options.answer);
    if (!parsed.ok) return usage(io, parsed.message);
    given = { text: options.answer.trim(), answer: parsed.answer };
    if (!options.json) io.stdout(`${[...setupLines(ctx), '', ...questionLines(ctx.exercise)].join('\n')}\n`);
  } else {
    io.stdout(`${[...setupLines(ctx), '', ...questionLines(ctx.exercise)].join('\n')}\n`);
    const read = await askForAnswer(ctx.exercise, io);
    if (!read) return usage(io, 'no answer given (type one and press Enter, or use --answer)');
    given = read;
  }
  const correct = isCorrect(expected, given.answer);
  if (options.json) io.stdout(`${JSON.stringify(exerciseJson(ctx, { expected }, { text: given.text, correct }), null, 2)}\n`);
  else io.stdout(`${['', ...verdictLines(expected, given.text, correct), '', ...explanationLines(ctx, expected)].join('\n')}\n`);
  return correct ? 0 : 1;
}

/** Asks until an answer can be read; undefined at the end of the input. */
async function askForAnswer(exercise: Exercise, io: CliIO): Promise<{ text: string; answer: Answer } | undefined> {
  const nextLine = lineSource(io);
  for (;;) {
    const line = await nextLine('Your answer: ');
    if (line === undefined) return undefined;
    if (line.trim() === '') continue;
    const parsed = parseAnswer(exercise.ask, line);
    if (parsed.ok) return { text: line.trim(), answer: parsed.answer };
    io.stdout(`${parsed.message}\n`);
  }
}

/** Lines of input: the terminal's, one at a time, when the IO can read them; otherwise the lines of standard input. */
function lineSource(io: CliIO): (prompt: string) => Promise<string | undefined> {
  const readLine = io.readLine;
  if (readLine) return (prompt) => readLine(prompt);
  let lines: string[] | undefined;
  return async (prompt) => {
    lines ??= io.readStdin().split(/\r?\n/);
    const line = lines.shift();
    io.stdout(`${prompt}${line ?? ''}\n`);
    return line;
  };
}

type PreparedExercise = { ok: true; ctx: RunContext; expected: Answer } | { ok: false; exitCode: number };

/** Finds the exercise, builds its node from the ruleset, traces the probe and derives the answer. */
function prepareExercise(key: string, options: ExercisesOptions, io: CliIO): PreparedExercise {
  const found = findExercise(EXERCISES, key);
  if (!found) return { ok: false, exitCode: usage(io, `no exercise ${JSON.stringify(key)}: \`kproxy exercises\` lists them (1–${EXERCISES.length})`) };
  const { exercise, number } = found;
  const root = options.rulesets ?? defaultRulesetsRoot();
  if (!root) return { ok: false, exitCode: usage(io, 'cannot find the rulesets/ folder of kproxy: give --rulesets DIR') };
  const folder = join(root, exercise.ruleset);
  if (!existsSync(folder)) return { ok: false, exitCode: usage(io, `exercise ${number} needs the ruleset ${folder}, which does not exist`) };
  const prepared = prepareNode([folder], { mode: exercise.mode }, io);
  if (!prepared.ok) return prepared;
  const { emu, cluster, config, sources } = prepared.node;
  if (!cluster) return { ok: false, exitCode: usage(io, `${folder} holds no manifests`) };
  // Printed names: as given with --rulesets, else relative to the folder holding rulesets/ ("rulesets/kubia/...").
  const shown = (file: string) => (options.rulesets ? join(options.rulesets, relative(root, file)) : relative(dirname(root), file));
  const lab: Lab = { node: emu.node, config, cluster, trace: (spec, traceOptions) => traceWith(emu, spec, traceOptions) };
  try {
    const obs = observe(exercise, lab);
    const expected = expectedAnswer(exercise, obs);
    const afterword = isNftEmulator(emu) ? nftAfterword(obs.detail, emu, cluster) : undefined;
    const packetText = explainTrace(obs.detail, emu, { cluster, ...(afterword ? { afterword } : {}) });
    const ctx: RunContext = {
      exercise,
      number,
      rulesetLabel: `${shown(folder)}/`,
      node: { name: emu.node.name, ...(emu.node.primaryIP ? { ip: emu.node.primaryIP.text } : {}) },
      sources: sources.map((s) => ({ ...s, file: shown(s.file) })),
      obs,
      traceText: obs.http ? explainUrlTrace(obs.http, packetText) : packetText,
    };
    return { ok: true, ctx, expected };
  } catch (e) {
    if (!(e instanceof ExerciseError)) throw e;
    io.stderr(`kproxy: exercise ${number} (${exercise.slug}) does not fit the rules of ${folder}: ${e.message}\n`);
    return { ok: false, exitCode: 1 };
  }
}

/** rulesets/ beside package.json, found upwards from this file (src/cli in tests, dist/src/cli when built). */
function defaultRulesetsRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'rulesets'))) return join(dir, 'rulesets');
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
