import { readFileSync } from 'node:fs';
import { runCli } from '../src/cli/program.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real command line in-process with captured output. */
export async function kproxy(args: readonly string[], stdin = ''): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    readStdin: () => stdin,
  });
  return { code, stdout, stderr };
}

/** Injected IO for calling a command's run function directly: captured output, files from `files` first. */
export function captureIO(files: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: {
      stdout: (t: string) => void out.push(t),
      stderr: (t: string) => void err.push(t),
      readStdin: () => '',
      readFile: (p: string) => files[p] ?? readFileSync(p, 'utf8'),
    },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}
