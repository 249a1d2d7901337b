import { createInterface, type Interface } from 'node:readline';

/** What a command may touch: injected so commands run in-process in tests. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whole standard input, read once (for `-`). */
  readStdin(): string;
  /** One line typed by the user after `prompt` (`kproxy exercises run`); undefined at the end of input. Optional. */
  readLine?(prompt: string): Promise<string | undefined>;
}

/**
 * `readLine` of a real terminal (or pipe): one readline interface, paused between questions so that it keeps
 * the process alive only while a question waits; lines that arrive early (piped input) wait for the next one.
 */
export function terminalLineReader(): (prompt: string) => Promise<string | undefined> {
  let reader: Interface | undefined;
  let ended = false;
  let waiting: ((line: string | undefined) => void) | undefined;
  const early: string[] = [];
  const tty = process.stdin.isTTY === true;
  const answer = (line: string | undefined) => {
    const resolve = waiting;
    waiting = undefined;
    resolve?.(line);
  };
  return (prompt) =>
    new Promise((resolve) => {
      if (!reader) {
        const lines = createInterface({ input: process.stdin, output: process.stdout, terminal: tty });
        lines.on('line', (line) => {
          if (!waiting) early.push(line);
          else {
            lines.pause();
            if (!tty) process.stdout.write(`${line}\n`); // a terminal echoes what was typed; a pipe does not
            answer(line);
          }
        });
        lines.on('close', () => {
          ended = true;
          answer(undefined);
        });
        reader = lines;
      }
      const next = early.shift();
      if (next !== undefined || ended) {
        process.stdout.write(`${prompt}${next ?? ''}\n`);
        resolve(next);
        return;
      }
      waiting = resolve;
      reader.setPrompt(prompt);
      reader.prompt();
    });
}
