/** What a command may touch: injected so commands run in-process in tests. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Whole standard input, read once (for `-`). */
  readStdin(): string;
}
