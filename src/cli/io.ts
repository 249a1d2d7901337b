import { createInterface } from 'node:readline';

/** What a command may touch: injected so commands run in-process in tests. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whole standard input, read once (for `-`). */
  readStdin(): string;
  /** One line typed by the user after `prompt` (`kproxy exercises run`); undefined at the end of input. Optional. */
  readLine?(prompt: string): Promise<string | undefined>;
}

/** `readLine` of a real terminal (or pipe): a readline interface for one line, closed right after it. */
export function readTerminalLine(prompt: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const reader = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY === true });
    let answered = false;
    reader.once('line', (line) => {
      answered = true;
      reader.close();
      resolve(line);
    });
    reader.once('close', () => {
      if (!answered) resolve(undefined);
    });
    reader.setPrompt(prompt);
    reader.prompt();
  });
}
